//! IP network functions: `cidrhost`, `cidrnetmask`, `cidrsubnet`, `cidrsubnets`, computed as
//! Terraform's (go-cidr) are, on addresses held as 128-bit integers.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use braid_provider::Value;
use ipnet::IpNet;

use super::{Call, FunctionError};

/// A network: its base address as an integer, its prefix length and the address width.
#[derive(Clone, Copy)]
struct Network {
    base: u128,
    prefix: u32,
    bits: u32,
}

impl Network {
    fn host_mask(prefix: u32, bits: u32) -> u128 {
        let host_bits = bits - prefix.min(bits);
        if host_bits == 0 {
            0
        } else {
            u128::MAX >> (128 - host_bits)
        }
    }

    fn address_mask(bits: u32) -> u128 {
        Self::host_mask(0, bits)
    }

    fn masked(addr: u128, prefix: u32, bits: u32) -> u128 {
        addr & !Self::host_mask(prefix, bits) & Self::address_mask(bits)
    }

    fn last(self) -> u128 {
        self.base | Self::host_mask(self.prefix, self.bits)
    }

    fn contains(self, addr: u128) -> bool {
        Self::masked(addr, self.prefix, self.bits) == self.base
    }

    fn address(self, addr: u128) -> String {
        if self.bits == 32 {
            Ipv4Addr::from(u32::try_from(addr).unwrap_or(u32::MAX)).to_string()
        } else {
            Ipv6Addr::from(addr).to_string()
        }
    }

    fn cidr(self) -> String {
        format!("{}/{}", self.address(self.base), self.prefix)
    }
}

fn network(c: &Call<'_>, i: usize) -> Result<Network, FunctionError> {
    let text = c.string(i)?;
    let net: IpNet = text
        .parse()
        .map_err(|_| c.arg_error(i, format!("invalid CIDR expression: {text:?}")))?;
    let (base, bits) = match net.network() {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    };
    Ok(Network {
        base,
        prefix: u32::from(net.prefix_len()),
        bits,
    })
}

pub(super) fn cidrhost(c: &Call<'_>) -> Result<Value, FunctionError> {
    let net = network(c, 0)?;
    let host = c.integer(1)?;
    let max = Network::host_mask(net.prefix, net.bits);
    // A negative host number counts back from the last address.
    let offset = if host < 0 {
        max.checked_sub(u128::from((host + 1).unsigned_abs()))
    } else {
        Some(u128::from(host.unsigned_abs())).filter(|h| *h <= max)
    };
    let offset = offset.ok_or_else(|| {
        c.failed(format!(
            "prefix of {} does not accommodate a host numbered {host}",
            net.prefix
        ))
    })?;
    Ok(Value::String(net.address(net.base | offset)))
}

pub(super) fn cidrnetmask(c: &Call<'_>) -> Result<Value, FunctionError> {
    let net = network(c, 0)?;
    if net.bits != 32 {
        return Err(c.arg_error(0, "IPv6 addresses cannot have a netmask"));
    }
    let mask = !Network::host_mask(net.prefix, 32) & Network::address_mask(32);
    Ok(Value::String(net.address(mask)))
}

/// `cidrsubnet`'s extension of the prefix (0 allowed), checked as Terraform checks it.
fn subnet_bits(c: &Call<'_>, i: usize, net: Network) -> Result<u32, FunctionError> {
    let n = c.integer(i)?;
    let bits = u32::try_from(n)
        .map_err(|_| c.arg_error(i, format!("expected a non-negative number, got {n}")))?;
    if bits > 32 {
        return Err(c.arg_error(i, "may not extend prefix by more than 32 bits"));
    }
    if net.prefix + bits > net.bits {
        return Err(c.failed(format!(
            "insufficient address space to extend prefix of {} by {bits}",
            net.prefix
        )));
    }
    Ok(bits)
}

pub(super) fn cidrsubnet(c: &Call<'_>) -> Result<Value, FunctionError> {
    let net = network(c, 0)?;
    let bits = subnet_bits(c, 1, net)?;
    let num = c.integer(2)?;
    let max = (1u128 << bits) - 1;
    let num = u128::try_from(num)
        .ok()
        .filter(|n| *n <= max)
        .ok_or_else(|| {
            c.failed(format!(
                "prefix extension of {bits} does not accommodate a subnet numbered {num}"
            ))
        })?;
    let prefix = net.prefix + bits;
    let shifted = num.checked_shl(net.bits - prefix).unwrap_or(0);
    let subnet = Network {
        base: net.base | shifted,
        prefix,
        bits: net.bits,
    };
    Ok(Value::String(subnet.cidr()))
}

/// `cidrsubnets(prefix, newbits...)`: consecutive subnets of the given sizes, each aligned to
/// its size, as go-cidr's `PreviousSubnet`/`NextSubnet` allocate them.
pub(super) fn cidrsubnets(c: &Call<'_>) -> Result<Value, FunctionError> {
    let net = network(c, 0)?;
    if c.args.len() == 1 {
        return Ok(Value::List(Vec::new()));
    }
    let first = net.prefix + subnets_bits(c, 1, net)?;
    let space = Network::address_mask(net.bits);
    let mut current = Network {
        base: Network::masked(net.base.wrapping_sub(1) & space, first, net.bits),
        prefix: first,
        bits: net.bits,
    };
    let mut out = Vec::new();
    for i in 1..c.args.len() {
        let prefix = net.prefix + subnets_bits(c, i, net)?;
        let aligned = Network {
            base: Network::masked(current.last(), prefix, net.bits),
            prefix,
            bits: net.bits,
        };
        let next = aligned.last().wrapping_add(1) & space;
        if next == 0 || !net.contains(next) {
            return Err(c.failed(format!(
                "not enough remaining address space for a subnet with a prefix of {prefix} \
                 bits after {}",
                current.cidr()
            )));
        }
        current = Network {
            base: Network::masked(next, prefix, net.bits),
            prefix,
            bits: net.bits,
        };
        out.push(Value::String(current.cidr()));
    }
    Ok(Value::List(out))
}

/// One of `cidrsubnets`' extensions of the prefix: at least one bit, as Terraform requires.
fn subnets_bits(c: &Call<'_>, i: usize, net: Network) -> Result<u32, FunctionError> {
    let n = c.integer(i)?;
    if n < 1 {
        return Err(c.arg_error(i, "must extend prefix by at least one bit"));
    }
    let bits = u32::try_from(n).unwrap_or(u32::MAX);
    if bits > 32 {
        return Err(c.arg_error(i, "may not extend prefix by more than 32 bits"));
    }
    if net.prefix + bits > net.bits {
        return Err(c.arg_error(
            i,
            format!(
                "would extend prefix to {} bits, which is too long for an IPv{} address",
                net.prefix + bits,
                if net.bits == 32 { 4 } else { 6 }
            ),
        ));
    }
    Ok(bits)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{err, n, ok, s, strs};

    #[test]
    fn hosts_and_masks() {
        assert_eq!(
            ok("cidrhost", vec![s("10.12.112.0/20"), n(16)]),
            s("10.12.112.16")
        );
        assert_eq!(
            ok("cidrhost", vec![s("10.12.112.0/20"), n(268)]),
            s("10.12.113.12")
        );
        assert_eq!(
            ok("cidrhost", vec![s("10.0.0.0/24"), n(-1)]),
            s("10.0.0.255")
        );
        assert_eq!(
            ok("cidrhost", vec![s("fd00:fd12:3456:7890:00a2::/72"), n(34)]),
            s("fd00:fd12:3456:7890::22")
        );
        assert!(
            err("cidrhost", vec![s("10.0.0.0/24"), n(256)])
                .to_string()
                .contains("host numbered 256")
        );
        assert_eq!(
            ok("cidrnetmask", vec![s("172.16.0.0/12")]),
            s("255.240.0.0")
        );
        assert!(
            err("cidrnetmask", vec![s("::/64")])
                .to_string()
                .contains("IPv6")
        );
    }

    #[test]
    fn subnets() {
        assert_eq!(
            ok("cidrsubnet", vec![s("172.16.0.0/12"), n(4), n(2)]),
            s("172.18.0.0/16")
        );
        assert_eq!(
            ok("cidrsubnet", vec![s("10.1.2.0/24"), n(4), n(15)]),
            s("10.1.2.240/28")
        );
        assert_eq!(
            ok(
                "cidrsubnet",
                vec![s("fd00:fd12:3456:7890::/56"), n(16), n(162)]
            ),
            s("fd00:fd12:3456:7800:a200::/72")
        );
        assert!(
            err("cidrsubnet", vec![s("10.0.0.0/30"), n(4), n(0)])
                .to_string()
                .contains("insufficient")
        );
        assert_eq!(
            ok(
                "cidrsubnets",
                vec![s("10.1.0.0/16"), n(4), n(4), n(8), n(4)]
            ),
            strs(&[
                "10.1.0.0/20",
                "10.1.16.0/20",
                "10.1.32.0/24",
                "10.1.48.0/20"
            ])
        );
        assert!(
            err("cidrsubnets", vec![s("10.0.0.0/30"), n(1), n(1), n(1)])
                .to_string()
                .contains("not enough")
        );
    }
}

//! The line a go-plugin server prints on stdout once it listens, and what braid reads from it.
//!
//! The format is go-plugin's: `CORE-PROTOCOL-VERSION|APP-PROTOCOL-VERSION|NETWORK-TYPE|
//! NETWORK-ADDR|PROTOCOL|SERVER-CERT`, where the core version is always 1, the app version is
//! the Terraform plugin protocol the plugin chose (5 or 6), the network is `unix` or `tcp`,
//! the protocol is `grpc` for every Terraform provider since 0.12, and the server
//! certificate (present when the host asked for AutoMTLS) is base64 DER without padding.

use std::net::SocketAddr;
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// The go-plugin core protocol version this host speaks.
pub const CORE_PROTOCOL_VERSION: u32 = 1;

/// What a plugin announced in its handshake line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// The Terraform plugin protocol the plugin chose among those the host offered.
    pub protocol_version: u32,
    /// Where the plugin's gRPC server listens.
    pub address: PluginAddress,
    /// The DER of the plugin's self-signed TLS certificate, the only one braid trusts for
    /// this connection.
    pub server_certificate: Vec<u8>,
}

/// Where a plugin's gRPC server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginAddress {
    /// A unix domain socket (what go-plugin uses on Linux and macOS).
    Unix(PathBuf),
    /// A TCP address on the loopback interface (Windows, or `PLUGIN_MIN_PORT` setups).
    Tcp(SocketAddr),
}

impl std::fmt::Display for PluginAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PluginAddress::Unix(path) => write!(f, "unix:{}", path.display()),
            PluginAddress::Tcp(addr) => write!(f, "tcp:{addr}"),
        }
    }
}

/// Why a handshake line was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HandshakeError {
    /// Not the six `|`-separated fields of a go-plugin handshake.
    #[error("expected 6 fields separated by '|', found {found}")]
    FieldCount {
        /// How many fields the line had.
        found: usize,
    },
    /// A core protocol other than go-plugin's version 1.
    #[error("unsupported go-plugin core protocol version {0:?} (braid speaks version 1)")]
    CoreProtocol(String),
    /// The app protocol version is not a number.
    #[error("the plugin protocol version {0:?} is not a number")]
    ProtocolVersion(String),
    /// A network type other than `unix` and `tcp`.
    #[error("unsupported network type {0:?} (expected unix or tcp)")]
    NetworkType(String),
    /// A `tcp` address that does not parse.
    #[error("the tcp address {0:?} is not HOST:PORT")]
    TcpAddress(String),
    /// A net/rpc plugin (pre-0.12 Terraform providers), which braid does not speak.
    #[error("the plugin speaks {0:?}, braid speaks only grpc (Terraform 0.12 and later providers)")]
    NotGrpc(String),
    /// No certificate, although the host asked for AutoMTLS.
    #[error("the plugin sent no TLS certificate although braid asked for AutoMTLS")]
    MissingCertificate,
    /// The certificate field is not base64.
    #[error("the plugin's TLS certificate is not valid base64: {0}")]
    CertificateEncoding(String),
}

/// go-plugin writes the certificate with Go's `RawStdEncoding` (no padding); accept padded
/// text too, in case a plugin framework pads it.
const CERTIFICATE_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Parses a handshake line (without or with its trailing newline).
pub fn parse_handshake(line: &str) -> Result<Handshake, HandshakeError> {
    let fields: Vec<&str> = line.trim().split('|').collect();
    let [core, protocol, network, address, rpc, certificate] = fields[..] else {
        return Err(HandshakeError::FieldCount {
            found: fields.len(),
        });
    };
    if core.parse::<u32>().ok() != Some(CORE_PROTOCOL_VERSION) {
        return Err(HandshakeError::CoreProtocol(core.to_owned()));
    }
    let protocol_version = protocol
        .parse::<u32>()
        .map_err(|_| HandshakeError::ProtocolVersion(protocol.to_owned()))?;
    let address = match network {
        "unix" => PluginAddress::Unix(PathBuf::from(address)),
        "tcp" => PluginAddress::Tcp(
            address
                .parse()
                .map_err(|_| HandshakeError::TcpAddress(address.to_owned()))?,
        ),
        other => return Err(HandshakeError::NetworkType(other.to_owned())),
    };
    if rpc != "grpc" {
        return Err(HandshakeError::NotGrpc(rpc.to_owned()));
    }
    if certificate.is_empty() {
        return Err(HandshakeError::MissingCertificate);
    }
    let server_certificate = CERTIFICATE_BASE64
        .decode(certificate)
        .map_err(|e| HandshakeError::CertificateEncoding(e.to_string()))?;
    Ok(Handshake {
        protocol_version,
        address,
        server_certificate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_socket_handshake() {
        let handshake =
            parse_handshake("1|5|unix|/tmp/plugin123|grpc|AQID\n").expect("a valid line");
        assert_eq!(
            handshake,
            Handshake {
                protocol_version: 5,
                address: PluginAddress::Unix(PathBuf::from("/tmp/plugin123")),
                server_certificate: vec![1, 2, 3],
            }
        );
    }

    #[test]
    fn tcp_handshake_with_padded_certificate() {
        let handshake = parse_handshake("1|6|tcp|127.0.0.1:10001|grpc|AQI=").expect("a valid line");
        assert_eq!(handshake.protocol_version, 6);
        assert_eq!(
            handshake.address,
            PluginAddress::Tcp("127.0.0.1:10001".parse().expect("an address"))
        );
        assert_eq!(handshake.server_certificate, vec![1, 2]);
    }

    #[test]
    fn refusals_name_the_field() {
        let cases = [
            ("hello world", HandshakeError::FieldCount { found: 1 }),
            (
                "2|5|unix|/s|grpc|AQID",
                HandshakeError::CoreProtocol("2".into()),
            ),
            (
                "1|five|unix|/s|grpc|AQID",
                HandshakeError::ProtocolVersion("five".into()),
            ),
            (
                "1|5|udp|/s|grpc|AQID",
                HandshakeError::NetworkType("udp".into()),
            ),
            (
                "1|5|tcp|localhost|grpc|AQID",
                HandshakeError::TcpAddress("localhost".into()),
            ),
            (
                "1|4|unix|/s|netrpc|AQID",
                HandshakeError::NotGrpc("netrpc".into()),
            ),
            ("1|5|unix|/s|grpc|", HandshakeError::MissingCertificate),
        ];
        for (line, expected) in cases {
            assert_eq!(parse_handshake(line), Err(expected), "{line}");
        }
        assert!(matches!(
            parse_handshake("1|5|unix|/s|grpc|!!"),
            Err(HandshakeError::CertificateEncoding(_))
        ));
    }
}

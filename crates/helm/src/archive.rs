//! Chart archives (`.tgz`, as `helm package` and chart repositories serve them): gzip, then
//! tar (ustar names with their prefix, GNU long names, pax `path` records), the top folder
//! (the chart's name) stripped.

use std::collections::BTreeMap;
use std::io::Read as _;

/// The most a chart archive may unpack to (a zip bomb stops here).
const MAX_UNPACKED: u64 = 256 * 1024 * 1024;

/// The files of a packaged chart, paths relative to the chart folder.
pub fn unpack_chart(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(MAX_UNPACKED + 1)
        .read_to_end(&mut tar)
        .map_err(|e| format!("not a gzip archive: {e}"))?;
    if tar.len() as u64 > MAX_UNPACKED {
        return Err(format!(
            "the archive unpacks to more than {} MiB",
            MAX_UNPACKED / 1024 / 1024
        ));
    }
    let mut files = BTreeMap::new();
    let mut offset = 0;
    let mut long_name: Option<String> = None;
    while offset + 512 <= tar.len() {
        let header = &tar[offset..offset + 512];
        if header.iter().all(|b| *b == 0) {
            break;
        }
        let field = |start: usize, len: usize| {
            let raw = &header[start..start + len];
            let end = raw.iter().position(|b| *b == 0).unwrap_or(len);
            String::from_utf8_lossy(&raw[..end]).into_owned()
        };
        let size_text = field(124, 12);
        let size = u64::from_str_radix(size_text.trim(), 8)
            .map_err(|_| format!("bad size {size_text:?} in a tar header"))?
            as usize;
        let kind = header[156];
        let data_start = offset + 512;
        let data_end = data_start
            .checked_add(size)
            .filter(|end| *end <= tar.len())
            .ok_or("the archive is truncated")?;
        let data = &tar[data_start..data_end];
        offset = data_start + size.div_ceil(512) * 512;
        match kind {
            b'L' => {
                long_name = Some(
                    String::from_utf8_lossy(data)
                        .trim_end_matches('\0')
                        .to_string(),
                );
                continue;
            }
            b'x' => {
                // pax records: "LEN key=value\n".
                for record in String::from_utf8_lossy(data).lines() {
                    if let Some((_, kv)) = record.split_once(' ')
                        && let Some(path) = kv.strip_prefix("path=")
                    {
                        long_name = Some(path.to_string());
                    }
                }
                continue;
            }
            b'0' | 0 => {}
            _ => {
                long_name = None;
                continue;
            }
        }
        let name = match long_name.take() {
            Some(name) => name,
            None => {
                let prefix = field(345, 155);
                let name = field(0, 100);
                if prefix.is_empty() {
                    name
                } else {
                    format!("{prefix}/{name}")
                }
            }
        };
        let Some((_, rel)) = name.trim_start_matches("./").split_once('/') else {
            continue;
        };
        if rel.split('/').any(|p| p == "..") || rel.starts_with('/') {
            return Err(format!(
                "the archive holds a path outside the chart: {name}"
            ));
        }
        files.insert(rel.to_string(), data.to_vec());
    }
    Ok(files)
}

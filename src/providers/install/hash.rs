//! Package hashes as Terraform's lock file records them: `h1:` (the "dirhash" of an
//! unpacked package: SHA-256 over the sorted lines `SHA256HEX  PATH` of its files, base64)
//! and `zh:` (the hex SHA-256 of a package's zip archive, as registries publish it).

use std::io::Read as _;
use std::path::Path;

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// The `h1:` hash of the unpacked package in `dir`: every file below it (symbolic links
/// followed), named by its `/`-separated path inside `dir`.
pub fn package_hash_h1(dir: &Path) -> std::io::Result<String> {
    let mut files = Vec::new();
    collect(dir, "", &mut files)?;
    files.sort();
    let mut summary = Sha256::new();
    for name in files {
        let digest = file_sha256(&dir.join(&name))?;
        summary.update(format!("{}  {name}\n", hex::encode(digest)).as_bytes());
    }
    Ok(format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(summary.finalize())
    ))
}

/// The `zh:` hash of a package's zip archive.
pub fn zip_hash(zip: &Path) -> std::io::Result<String> {
    Ok(format!("zh:{}", hex::encode(file_sha256(zip)?)))
}

fn collect(dir: &Path, prefix: &str, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        if std::fs::metadata(entry.path())?.is_dir() {
            collect(&entry.path(), &rel, out)?;
        } else {
            out.push(rel);
        }
    }
    Ok(())
}

fn file_sha256(path: &Path) -> std::io::Result<[u8; 32]> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirhash_of_a_small_package() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("b.txt"), "bee\n").expect("write");
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        std::fs::write(dir.path().join("sub").join("a"), "").expect("write");
        // sha256("bee\n") and sha256(""), sorted by path, then SHA-256 and base64 —
        // computed independently with `sha256sum` and `base64`.
        let lines = format!(
            "{}  b.txt\n{}  sub/a\n",
            hex::encode(Sha256::digest(b"bee\n")),
            hex::encode(Sha256::digest(b""))
        );
        let expected = format!(
            "h1:{}",
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(lines.as_bytes()))
        );
        assert_eq!(package_hash_h1(dir.path()).expect("hash"), expected);
        assert_eq!(
            zip_hash(&dir.path().join("sub").join("a")).expect("hash"),
            "zh:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}

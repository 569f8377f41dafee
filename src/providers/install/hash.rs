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

/// [`package_hash_h1`], remembered in `cache` (a directory of braid's user cache) under
/// what the file system says of every file of the package: its path, size, device, inode,
/// and modification and change times. Rewriting a file, or putting another in its place,
/// changes its change time (which no program can set back), so a changed package is hashed
/// again; an unchanged one is not (hashing a 700 MB provider takes half a second).
pub fn package_hash_h1_cached(dir: &Path, cache: Option<&Path>) -> std::io::Result<String> {
    let Some(cache) = cache else {
        return package_hash_h1(dir);
    };
    let entry = cache.join(fingerprint(dir)?);
    if let Ok(h1) = std::fs::read_to_string(&entry)
        && h1.starts_with("h1:")
    {
        return Ok(h1);
    }
    let h1 = package_hash_h1(dir)?;
    // Written whole or not at all; a cache that cannot be written costs only time.
    let temporary = cache.join(format!(".{}.tmp", std::process::id()));
    let written = std::fs::create_dir_all(cache)
        .and_then(|()| std::fs::write(&temporary, &h1))
        .and_then(|()| std::fs::rename(&temporary, &entry));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    Ok(h1)
}

/// The hex SHA-256 of the package's path and of the metadata of each of its files.
fn fingerprint(dir: &Path) -> std::io::Result<String> {
    use std::os::unix::fs::MetadataExt as _;
    let dir = std::fs::canonicalize(dir)?;
    let mut files = Vec::new();
    collect(&dir, "", &mut files)?;
    files.sort();
    let mut summary = Sha256::new();
    summary.update(dir.to_string_lossy().as_bytes());
    for name in files {
        let meta = std::fs::metadata(dir.join(&name))?;
        summary.update(
            format!(
                "\n{name} {} {} {} {}.{} {}.{}",
                meta.len(),
                meta.dev(),
                meta.ino(),
                meta.mtime(),
                meta.mtime_nsec(),
                meta.ctime(),
                meta.ctime_nsec()
            )
            .as_bytes(),
        );
    }
    Ok(hex::encode(summary.finalize()))
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

    /// The cache answers for an unchanged package (shown by planting an answer in it), and
    /// a package whose file is rewritten — same size, same modification time — is hashed
    /// again.
    #[test]
    fn cached_hashes_follow_the_files() {
        let package = tempfile::tempdir().expect("tempdir");
        let cache = tempfile::tempdir().expect("tempdir");
        let binary = package.path().join("terraform-provider-x");
        std::fs::write(&binary, "version one").expect("write");
        let real = package_hash_h1(package.path()).expect("hash");
        let cached = package_hash_h1_cached(package.path(), Some(cache.path())).expect("hash");
        assert_eq!(cached, real);
        let entries: Vec<_> = std::fs::read_dir(cache.path())
            .expect("the cache directory")
            .map(|e| e.expect("entry").path())
            .collect();
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(std::fs::read_to_string(&entries[0]).expect("read"), real);

        std::fs::write(&entries[0], "h1:planted").expect("plant");
        assert_eq!(
            package_hash_h1_cached(package.path(), Some(cache.path())).expect("hash"),
            "h1:planted",
            "an unchanged package is not hashed again"
        );

        let modified = std::fs::metadata(&binary)
            .and_then(|m| m.modified())
            .expect("mtime");
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&binary, "version two").expect("rewrite");
        std::fs::File::options()
            .write(true)
            .open(&binary)
            .and_then(|f| f.set_modified(modified))
            .expect("set the old modification time back");
        let again = package_hash_h1_cached(package.path(), Some(cache.path())).expect("hash");
        assert_ne!(again, "h1:planted");
        assert_ne!(again, real);
        assert_eq!(again, package_hash_h1(package.path()).expect("hash"));
        assert_eq!(
            package_hash_h1_cached(package.path(), None).expect("hash"),
            again,
            "without a cache the package is hashed"
        );
    }
}

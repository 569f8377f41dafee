//! age identities (private keys) and recipients (public keys).
//!
//! Identities are read from the places SOPS reads them, plus braid's own variable, in this
//! order: `BRAID_AGE_IDENTITY_FILE` (a file), `SOPS_AGE_KEY_FILE` (a file), `SOPS_AGE_KEY`
//! (the keys themselves), and SOPS's default file `$XDG_CONFIG_HOME/sops/age/keys.txt`
//! (`~/.config/sops/age/keys.txt`). A file holds one `AGE-SECRET-KEY-1…` per line; blank
//! lines and `#` comments are skipped, as age-keygen writes them.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::x25519::{Identity, Recipient};

use crate::envelope::KeyError;

/// Where some identities came from, for messages ("SOPS_AGE_KEY_FILE (/home/me/keys.txt)").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentitySource {
    /// The variable or file, as a user would recognise it.
    pub description: String,
    /// How many identities it held.
    pub count: usize,
}

/// The age identities braid can decrypt with.
#[derive(Default, Clone)]
pub struct AgeIdentities {
    identities: Vec<Identity>,
    sources: Vec<IdentitySource>,
}

impl std::fmt::Debug for AgeIdentities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the keys themselves.
        f.debug_struct("AgeIdentities")
            .field("sources", &self.sources)
            .finish()
    }
}

impl AgeIdentities {
    /// The identities of this process's environment (see the module documentation). A file
    /// named by a variable must exist and hold only identities; SOPS's default file is read
    /// when it exists.
    pub fn from_environment() -> Result<AgeIdentities, KeyError> {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        AgeIdentities::from_variables(|name| std::env::var(name).ok(), home.as_deref())
    }

    /// [`from_environment`](Self::from_environment) with the variables given by `lookup`
    /// and the home directory `home`.
    pub fn from_variables(
        lookup: impl Fn(&str) -> Option<String>,
        home: Option<&Path>,
    ) -> Result<AgeIdentities, KeyError> {
        let mut found = AgeIdentities::default();
        let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        for variable in ["BRAID_AGE_IDENTITY_FILE", "SOPS_AGE_KEY_FILE"] {
            if let Some(path) = set(variable) {
                found.add_file(Path::new(&path), &format!("{variable} ({path})"))?;
            }
        }
        if let Some(keys) = set("SOPS_AGE_KEY") {
            found.add_text(&keys, "SOPS_AGE_KEY")?;
        }
        let config_dir = set("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| home.map(|h| h.join(".config")));
        if let Some(dir) = config_dir {
            let default = dir.join("sops").join("age").join("keys.txt");
            if default.is_file() {
                found.add_file(&default, &default.display().to_string())?;
            }
        }
        Ok(found)
    }

    /// Adds the identities of the file at `path`, described as `description` in messages.
    pub fn add_file(&mut self, path: &Path, description: &str) -> Result<(), KeyError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            KeyError::Identity(format!(
                "cannot read the age identities of {description}: {e}"
            ))
        })?;
        self.add_text(&text, description)
    }

    /// Adds the identities in `text` (one per line), described as `description`.
    pub fn add_text(&mut self, text: &str, description: &str) -> Result<(), KeyError> {
        let mut count = 0;
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let identity = Identity::from_str(line).map_err(|_| {
                KeyError::Identity(format!(
                    "{description}, line {}: not an age identity (expected AGE-SECRET-KEY-1…, as age-keygen writes)",
                    number + 1
                ))
            })?;
            self.identities.push(identity);
            count += 1;
        }
        self.sources.push(IdentitySource {
            description: description.to_string(),
            count,
        });
        Ok(())
    }

    /// Whether there is no identity at all.
    pub fn is_empty(&self) -> bool {
        self.identities.is_empty()
    }

    /// Where the identities came from.
    pub fn sources(&self) -> &[IdentitySource] {
        &self.sources
    }

    /// What was tried, for a message: "age identities from X (1), Y (2)" or "no age identity
    /// (set …)".
    pub fn describe(&self) -> String {
        if self.sources.iter().all(|s| s.count == 0) {
            return "no age identity, as none is set (set SOPS_AGE_KEY_FILE, SOPS_AGE_KEY or BRAID_AGE_IDENTITY_FILE)".to_string();
        }
        let list: Vec<String> = self
            .sources
            .iter()
            .filter(|s| s.count > 0)
            .map(|s| {
                format!(
                    "{} ({} identit{})",
                    s.description,
                    s.count,
                    if s.count == 1 { "y" } else { "ies" }
                )
            })
            .collect();
        format!("age identities from {}", list.join(", "))
    }

    /// The public keys of the identities.
    pub fn recipients(&self) -> Vec<Recipient> {
        self.identities.iter().map(Identity::to_public).collect()
    }

    /// Decrypts an age file (binary or ASCII-armored) with these identities: `Ok(None)` when
    /// none of them is a recipient of it.
    pub fn decrypt(&self, file: &[u8]) -> Result<Option<Vec<u8>>, KeyError> {
        if self.identities.is_empty() {
            return Ok(None);
        }
        let reader = age::armor::ArmoredReader::new(file);
        let decryptor = age::Decryptor::new(reader)
            .map_err(|e| KeyError::Damaged(format!("not an age file: {e}")))?;
        let identities = self.identities.iter().map(|i| i as &dyn age::Identity);
        let mut reader = match decryptor.decrypt(identities) {
            Ok(reader) => reader,
            Err(age::DecryptError::NoMatchingKeys) => return Ok(None),
            Err(e) => return Err(KeyError::Damaged(format!("age: {e}"))),
        };
        let mut plaintext = Vec::new();
        reader
            .read_to_end(&mut plaintext)
            .map_err(|e| KeyError::Damaged(format!("age: {e}")))?;
        Ok(Some(plaintext))
    }
}

/// A new age key pair: the identity (`AGE-SECRET-KEY-1…`, as a keys.txt line) and its
/// recipient (`age1…`).
pub fn generate() -> (String, String) {
    let identity = Identity::generate();
    let secret = age::secrecy::ExposeSecret::expose_secret(&identity.to_string()).to_string();
    (secret, identity.to_public().to_string())
}

/// Parses an age recipient (`age1…`), naming it in the error.
pub fn parse_recipient(text: &str) -> Result<Recipient, KeyError> {
    Recipient::from_str(text.trim()).map_err(|e| {
        KeyError::Recipient(format!(
            "{text:?} is not an age recipient ({e}); age-keygen -y KEYFILE prints the recipient of a key"
        ))
    })
}

/// Encrypts `secret` to every recipient as one age file; `armored` writes the ASCII armor
/// (`-----BEGIN AGE ENCRYPTED FILE-----`), as SOPS stores it.
pub fn encrypt(
    recipients: &[Recipient],
    secret: &[u8],
    armored: bool,
) -> Result<Vec<u8>, KeyError> {
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| KeyError::Recipient(format!("age: {e}")))?;
    let io = |e: std::io::Error| KeyError::Recipient(format!("age: {e}"));
    let mut out = Vec::new();
    let format = if armored {
        age::armor::Format::AsciiArmor
    } else {
        age::armor::Format::Binary
    };
    {
        let armor = age::armor::ArmoredWriter::wrap_output(&mut out, format).map_err(io)?;
        let mut writer = encryptor.wrap_output(armor).map_err(io)?;
        writer.write_all(secret).map_err(io)?;
        writer
            .finish()
            .and_then(|armor| armor.finish())
            .map_err(io)?;
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn identities_come_from_the_variables_and_the_default_file() {
        let dir = tempfile_dir();
        let one = Identity::generate();
        let two = Identity::generate();
        let three = Identity::generate();
        let file = dir.join("one.txt");
        std::fs::write(
            &file,
            format!(
                "# created: now\n# public key: {}\n{}\n",
                one.to_public(),
                age::secrecy::ExposeSecret::expose_secret(&one.to_string())
            ),
        )
        .unwrap();
        let default = dir.join(".config/sops/age");
        std::fs::create_dir_all(&default).unwrap();
        std::fs::write(
            default.join("keys.txt"),
            age::secrecy::ExposeSecret::expose_secret(&three.to_string()),
        )
        .unwrap();
        let inline = age::secrecy::ExposeSecret::expose_secret(&two.to_string()).to_string();
        let file_text = file.display().to_string();
        let found = AgeIdentities::from_variables(
            |name| match name {
                "SOPS_AGE_KEY_FILE" => Some(file_text.clone()),
                "SOPS_AGE_KEY" => Some(inline.clone()),
                _ => None,
            },
            Some(&dir),
        )
        .unwrap();
        let publics: Vec<String> = found.recipients().iter().map(|r| r.to_string()).collect();
        assert_eq!(
            publics,
            [one.to_public(), two.to_public(), three.to_public()].map(|r| r.to_string())
        );
        assert!(
            found.describe().contains("SOPS_AGE_KEY_FILE"),
            "{}",
            found.describe()
        );
        assert!(!format!("{found:?}").contains("AGE-SECRET-KEY"));

        let bad = dir.join("bad.txt");
        std::fs::write(&bad, "\nnot-a-key\n").unwrap();
        let bad_text = bad.display().to_string();
        let err = AgeIdentities::from_variables(
            |name| (name == "BRAID_AGE_IDENTITY_FILE").then(|| bad_text.clone()),
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("line 2") && err.contains("BRAID_AGE_IDENTITY_FILE"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn age_files_decrypt_with_a_matching_identity_only() {
        let me = Identity::generate();
        let other = Identity::generate();
        for armored in [false, true] {
            let file = encrypt(&[me.to_public()], b"data key", armored).unwrap();
            let mut mine = AgeIdentities::default();
            mine.add_text(
                age::secrecy::ExposeSecret::expose_secret(&me.to_string()),
                "mine",
            )
            .unwrap();
            assert_eq!(
                mine.decrypt(&file).unwrap().as_deref(),
                Some(&b"data key"[..])
            );
            let mut theirs = AgeIdentities::default();
            theirs
                .add_text(
                    age::secrecy::ExposeSecret::expose_secret(&other.to_string()),
                    "theirs",
                )
                .unwrap();
            assert_eq!(theirs.decrypt(&file).unwrap(), None);
        }
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("braid-keys-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}

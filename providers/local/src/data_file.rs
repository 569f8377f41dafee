//! The `local_file` data source: the content of a file inside the project directory, with
//! the digests Terraform's `local_file` data source offers.

use std::path::Path as FsPath;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use braid_functions::source_read::{max_file_size, read_regular, resolve_inside};
use braid_provider::{
    AttributeSchema, AttributeType, Path, ProviderDiagnostic, ReadDataRequest, ReadDataResponse,
    ResourceSchema, Use, Value,
};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

/// The data source's type name.
pub const TYPE_NAME: &str = "local_file";

/// Digest attributes, each computed over the file's bytes.
const DIGESTS: &[(&str, &str)] = &[
    ("content_md5", "MD5 of the content, hex."),
    ("content_sha1", "SHA-1 of the content, hex."),
    ("content_sha256", "SHA-256 of the content, hex."),
    ("content_sha512", "SHA-512 of the content, hex."),
    ("content_base64sha256", "SHA-256 of the content, base64."),
    ("content_base64sha512", "SHA-512 of the content, base64."),
];

pub(crate) fn schema() -> ResourceSchema {
    let computed =
        |description: &str| AttributeSchema::new(AttributeType::String, Use::Computed, description);
    let mut schema = ResourceSchema::new(
        "Reads a file inside the project directory (symbolic links resolved); a path leading \
         outside it is refused, so configuration from a pull request cannot read the machine's \
         other files.",
    )
    .attribute(
        "filename",
        AttributeSchema::new(
            AttributeType::String,
            Use::Required,
            "The file's path, relative to the project directory.",
        ),
    )
    .attribute(
        "content",
        computed("The file's content as UTF-8 text (invalid bytes replaced)."),
    )
    .attribute(
        "content_base64",
        computed("The file's bytes, base64-encoded."),
    )
    .attribute(
        "id",
        computed("SHA-1 of the content, hex, as Terraform's local_file data source."),
    );
    for (name, description) in DIGESTS {
        schema = schema.attribute(name, computed(description));
    }
    schema
}

pub(crate) fn read(base_dir: Option<&FsPath>, request: &ReadDataRequest) -> ReadDataResponse {
    let fail = |summary: &str, detail: String| ReadDataResponse {
        state: Value::Null,
        diagnostics: vec![ProviderDiagnostic::error(summary, detail).at(Path::key("filename"))],
    };
    let Some(filename) = request.config.attr("filename").and_then(Value::as_str) else {
        return fail(
            "Missing filename",
            "The local_file data source needs filename, a path relative to the project directory."
                .into(),
        );
    };
    let root = base_dir.map_or_else(|| FsPath::new(".").to_path_buf(), FsPath::to_path_buf);
    let real = match resolve_inside(&root, &root, filename) {
        Ok(real) => real,
        Err(error) => {
            return fail(
                "Cannot read file",
                format!(
                    "{error}. The local_file data source reads files inside the project directory only."
                ),
            );
        }
    };
    let bytes = match max_file_size().and_then(|limit| read_regular(&real, filename, limit)) {
        Ok(bytes) => bytes,
        Err(error) if error.is_not_found() => {
            return fail(
                "File not found",
                format!("No file exists at {filename} (relative to the project directory)."),
            );
        }
        Err(error) => return fail("Cannot read file", error.to_string()),
    };
    let mut state = std::collections::BTreeMap::new();
    state.insert("filename".to_string(), Value::from(filename));
    state.insert(
        "content".to_string(),
        Value::from(String::from_utf8_lossy(&bytes).as_ref()),
    );
    state.insert(
        "content_base64".to_string(),
        Value::from(BASE64.encode(&bytes)),
    );
    let sha1 = hex::encode(Sha1::digest(&bytes));
    state.insert("id".to_string(), Value::from(sha1.as_str()));
    state.insert("content_sha1".to_string(), Value::from(sha1.as_str()));
    state.insert(
        "content_md5".to_string(),
        Value::from(hex::encode(Md5::digest(&bytes))),
    );
    let sha256 = Sha256::digest(&bytes);
    let sha512 = Sha512::digest(&bytes);
    state.insert(
        "content_sha256".to_string(),
        Value::from(hex::encode(sha256)),
    );
    state.insert(
        "content_sha512".to_string(),
        Value::from(hex::encode(sha512)),
    );
    state.insert(
        "content_base64sha256".to_string(),
        Value::from(BASE64.encode(sha256)),
    );
    state.insert(
        "content_base64sha512".to_string(),
        Value::from(BASE64.encode(sha512)),
    );
    ReadDataResponse {
        state: Value::Map(state.into()),
        diagnostics: Vec::new(),
    }
}

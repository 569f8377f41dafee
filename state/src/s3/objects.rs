//! The few S3 calls the backend makes: read an object with its ETag, write one only if its
//! ETag is still the one read (or only if it does not exist), delete, list.

use aws_sdk_s3::Client;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::ByteStream;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::store::StateError;

/// What a conditional write expects of the object it replaces.
#[derive(Debug, Clone, Copy)]
pub(super) enum Expect<'a> {
    /// The object must not exist (`If-None-Match: *`).
    Absent,
    /// The object must still have this ETag (`If-Match`).
    ETag(&'a str),
    /// Write whatever is there.
    Anything,
}

/// How a conditional request ended when it did not succeed.
#[derive(Debug)]
pub(super) enum WriteError {
    /// Someone else wrote (or deleted) the object first: read again.
    Conflict,
    Failed(StateError),
}

impl From<StateError> for WriteError {
    fn from(error: StateError) -> Self {
        WriteError::Failed(error)
    }
}

fn backend<E>(operation: &'static str, key: &str, err: SdkError<E>) -> StateError
where
    E: std::error::Error + Send + Sync + 'static,
{
    StateError::Backend {
        operation,
        source: format!("{key}: {}", error_text(&err)).into(),
    }
}

/// The service's message, which `SdkError`'s own `Display` ("service error") leaves out.
fn error_text<E: std::error::Error + Send + Sync + 'static>(err: &SdkError<E>) -> String {
    let mut parts = vec![err.to_string()];
    let mut current = std::error::Error::source(err);
    while let Some(e) = current {
        parts.push(e.to_string());
        current = e.source();
    }
    parts.join(": ")
}

fn status<E>(err: &SdkError<E>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

/// 412 Precondition Failed, or 409 when S3 saw two conditional writes race.
fn is_conflict<E>(err: &SdkError<E>) -> bool {
    matches!(status(err), Some(412 | 409))
}

/// Reads a JSON object and its ETag; `None` when it does not exist.
pub(super) async fn get_json<T: DeserializeOwned>(
    client: &Client,
    bucket: &str,
    key: &str,
    operation: &'static str,
) -> Result<Option<(T, String)>, StateError> {
    let Some((bytes, etag)) = get(client, bucket, key, operation).await? else {
        return Ok(None);
    };
    let value = serde_json::from_slice(&bytes)
        .map_err(|err| StateError::Corrupt(format!("s3 object {key}: {err}")))?;
    Ok(Some((value, etag)))
}

/// Reads an object and its ETag; `None` when it does not exist.
pub(super) async fn get(
    client: &Client,
    bucket: &str,
    key: &str,
    operation: &'static str,
) -> Result<Option<(Vec<u8>, String)>, StateError> {
    let response = match client.get_object().bucket(bucket).key(key).send().await {
        Ok(response) => response,
        Err(err) if status(&err) == Some(404) => return Ok(None),
        Err(err) => return Err(backend(operation, key, err)),
    };
    let etag = response.e_tag().unwrap_or_default().to_string();
    let bytes = response
        .body
        .collect()
        .await
        .map_err(|err| StateError::Backend {
            operation,
            source: format!("{key}: {err}").into(),
        })?
        .into_bytes();
    Ok(Some((bytes.to_vec(), etag)))
}

/// Writes a JSON object under a condition; returns its new ETag.
pub(super) async fn put_json<T: Serialize>(
    client: &Client,
    bucket: &str,
    key: &str,
    value: &T,
    expect: Expect<'_>,
    operation: &'static str,
) -> Result<String, WriteError> {
    let body = serde_json::to_vec(value).map_err(|err| StateError::Backend {
        operation,
        source: Box::new(err),
    })?;
    put(
        client,
        bucket,
        key,
        body,
        "application/json",
        expect,
        operation,
    )
    .await
}

/// Writes an object under a condition; returns its new ETag.
pub(super) async fn put(
    client: &Client,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
    content_type: &str,
    expect: Expect<'_>,
    operation: &'static str,
) -> Result<String, WriteError> {
    put_stream(
        client,
        bucket,
        key,
        ByteStream::from(body),
        content_type,
        expect,
        operation,
    )
    .await
}

/// [`put`] with the body as a stream (from a file).
pub(super) async fn put_stream(
    client: &Client,
    bucket: &str,
    key: &str,
    body: ByteStream,
    content_type: &str,
    expect: Expect<'_>,
    operation: &'static str,
) -> Result<String, WriteError> {
    let mut request = client
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
        .body(body);
    request = match expect {
        Expect::Absent => request.if_none_match("*"),
        Expect::ETag(etag) => request.if_match(etag),
        Expect::Anything => request,
    };
    match request.send().await {
        Ok(output) => Ok(output.e_tag().unwrap_or_default().to_string()),
        // 404 to an `If-Match` write: the object it expected was deleted meanwhile.
        Err(err)
            if is_conflict(&err)
                || (matches!(expect, Expect::ETag(_)) && status(&err) == Some(404)) =>
        {
            Err(WriteError::Conflict)
        }
        Err(err) => Err(WriteError::Failed(backend(operation, key, err))),
    }
}

/// Deletes an object if it still has `etag` (`None`: whatever is there).
pub(super) async fn delete(
    client: &Client,
    bucket: &str,
    key: &str,
    etag: Option<&str>,
    operation: &'static str,
) -> Result<(), WriteError> {
    let mut request = client.delete_object().bucket(bucket).key(key);
    if let Some(etag) = etag {
        request = request.if_match(etag);
    }
    match request.send().await {
        Ok(_) => Ok(()),
        Err(err) if is_conflict(&err) || status(&err) == Some(404) => Err(WriteError::Conflict),
        Err(err) => Err(WriteError::Failed(backend(operation, key, err))),
    }
}

/// Every key under `prefix`, in S3's (lexicographic) order.
pub(super) async fn list(
    client: &Client,
    bucket: &str,
    prefix: &str,
    operation: &'static str,
) -> Result<Vec<String>, StateError> {
    let mut keys = Vec::new();
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|err| backend(operation, prefix, err))?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|object| object.key().map(str::to_string)),
        );
    }
    Ok(keys)
}

/// Reads an object as a stream of chunks, with its ETag; `None` when it does not exist.
pub(super) async fn get_stream(
    client: &Client,
    bucket: &str,
    key: &str,
    operation: &'static str,
) -> Result<Option<ByteStream>, StateError> {
    match client.get_object().bucket(bucket).key(key).send().await {
        Ok(response) => Ok(Some(response.body)),
        Err(err) if status(&err) == Some(404) => Ok(None),
        Err(err) => Err(backend(operation, key, err)),
    }
}

/// Calls `line` with every line of `body` (without its newline) as the chunks arrive, so
/// that no more than a chunk and one line are held at once. `line` returns false to stop.
pub(super) async fn for_each_line(
    mut body: ByteStream,
    key: &str,
    operation: &'static str,
    mut line: impl FnMut(&[u8]) -> Result<bool, StateError>,
) -> Result<(), StateError> {
    let mut pending: Vec<u8> = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|err| StateError::Backend {
            operation,
            source: format!("{key}: {err}").into(),
        })?;
        pending.extend_from_slice(&chunk);
        let mut start = 0;
        while let Some(end) = pending[start..].iter().position(|b| *b == b'\n') {
            if !line(&pending[start..start + end])? {
                return Ok(());
            }
            start += end + 1;
        }
        pending.drain(..start);
    }
    if !pending.is_empty() {
        line(&pending)?;
    }
    Ok(())
}

/// An object written as a sequence of JSON lines without holding all of it in memory: up
/// to `spool_size` bytes are buffered, and a larger object is spooled to a temporary file
/// and uploaded from there in one `PUT` (multipart uploads are not used: not every
/// S3-compatible store answers them as S3 does). The object must not exist yet
/// (`If-None-Match: *`).
pub(super) struct LineUpload<'a> {
    client: &'a Client,
    bucket: &'a str,
    key: &'a str,
    operation: &'static str,
    spool_size: usize,
    buffer: Vec<u8>,
    spool: Option<std::io::BufWriter<tempfile::NamedTempFile>>,
}

impl<'a> LineUpload<'a> {
    pub fn new(
        client: &'a Client,
        bucket: &'a str,
        key: &'a str,
        spool_size: usize,
        operation: &'static str,
    ) -> LineUpload<'a> {
        LineUpload {
            client,
            bucket,
            key,
            operation,
            spool_size,
            buffer: Vec::new(),
            spool: None,
        }
    }

    fn failed(&self, err: impl std::fmt::Display) -> StateError {
        StateError::Backend {
            operation: self.operation,
            source: format!("{}: {err}", self.key).into(),
        }
    }

    /// Appends one value as a line.
    pub fn line<T: Serialize>(&mut self, value: &T) -> Result<(), StateError> {
        use std::io::Write;
        if let Some(spool) = &mut self.spool {
            let written = serde_json::to_writer(&mut *spool, value)
                .map_err(std::io::Error::from)
                .and_then(|()| spool.write_all(b"\n"));
            return written
                .map_err(|err| self.failed(format!("spooling to a temporary file: {err}")));
        }
        serde_json::to_writer(&mut self.buffer, value).map_err(|err| self.failed(err))?;
        self.buffer.push(b'\n');
        if self.buffer.len() > self.spool_size {
            let spooled = tempfile::NamedTempFile::new().and_then(|file| {
                let mut spool = std::io::BufWriter::with_capacity(1 << 20, file);
                spool.write_all(&self.buffer)?;
                Ok(spool)
            });
            let spool = spooled
                .map_err(|err| self.failed(format!("spooling to a temporary file: {err}")))?;
            self.buffer = Vec::new();
            self.spool = Some(spool);
        }
        Ok(())
    }

    /// Uploads the object; returns its size in bytes.
    pub async fn finish(self) -> Result<u64, StateError> {
        let (body, size, _file) = match self.spool {
            None => {
                let size = self.buffer.len() as u64;
                (ByteStream::from(self.buffer), size, None)
            }
            Some(spool) => {
                let file = spool.into_inner().map_err(|err| StateError::Backend {
                    operation: self.operation,
                    source: format!(
                        "{}: spooling to a temporary file: {}",
                        self.key,
                        err.error()
                    )
                    .into(),
                })?;
                let size = file
                    .as_file()
                    .metadata()
                    .map_err(|err| StateError::Backend {
                        operation: self.operation,
                        source: format!("{}: {err}", self.key).into(),
                    })?
                    .len();
                let body = ByteStream::from_path(file.path()).await.map_err(|err| {
                    StateError::Backend {
                        operation: self.operation,
                        source: format!("{}: {err}", self.key).into(),
                    }
                })?;
                // Kept until the upload is done; deleted when dropped.
                (body, size, Some(file))
            }
        };
        match put_stream(
            self.client,
            self.bucket,
            self.key,
            body,
            "application/x-ndjson",
            Expect::Absent,
            self.operation,
        )
        .await
        {
            Ok(_) => Ok(size),
            Err(WriteError::Conflict) => Err(StateError::Backend {
                operation: self.operation,
                source: format!("{} exists already", self.key).into(),
            }),
            Err(WriteError::Failed(e)) => Err(e),
        }
    }
}

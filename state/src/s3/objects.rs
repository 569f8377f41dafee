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
    let mut request = client
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
        .body(ByteStream::from(body));
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

//! Wrapping keys with AWS KMS: `Encrypt` and `Decrypt` of a 32-byte data key under a
//! customer master key, as SOPS and state encryption use it.

use std::collections::BTreeMap;

use aws_sdk_kms::error::DisplayErrorContext;
use aws_sdk_kms::primitives::Blob;

use crate::envelope::KeyError;

/// A KMS key and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KmsKey {
    /// A key id, ARN, alias (`alias/NAME`) or alias ARN.
    pub key_id: String,
    /// The region; else the region of an ARN, else the AWS configuration's
    /// (`AWS_REGION`, profile), else `us-east-1`.
    pub region: Option<String>,
    /// A custom endpoint (moto, LocalStack); else `AWS_ENDPOINT_URL_KMS` /
    /// `AWS_ENDPOINT_URL` as the AWS SDK reads them, else AWS's.
    pub endpoint: Option<String>,
}

impl KmsKey {
    /// The region of `key_id` when it is an ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID`).
    pub fn arn_region(&self) -> Option<&str> {
        let mut parts = self.key_id.split(':');
        (parts.next() == Some("arn"))
            .then(|| parts.nth(2))
            .flatten()
            .filter(|r| !r.is_empty())
    }

    /// A client for this key's region and endpoint, with the credentials of the AWS
    /// configuration (environment, profile, instance role).
    pub async fn client(&self) -> aws_sdk_kms::Client {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(region) = self.region.as_deref().or(self.arn_region()) {
            loader = loader.region(aws_config::Region::new(region.to_string()));
        }
        let shared = loader.load().await;
        let mut builder = aws_sdk_kms::config::Builder::from(&shared);
        if shared.region().is_none() {
            builder = builder.region(aws_config::Region::new("us-east-1"));
        }
        if let Some(endpoint) = &self.endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        aws_sdk_kms::Client::from_conf(builder.build())
    }

    /// Encrypts `plaintext` (a data key) under this key, through `client` (see
    /// [`client`](Self::client)), with the encryption `context`.
    pub async fn encrypt(
        &self,
        client: &aws_sdk_kms::Client,
        plaintext: &[u8],
        context: &BTreeMap<String, String>,
    ) -> Result<Vec<u8>, KeyError> {
        let mut request = client
            .encrypt()
            .key_id(&self.key_id)
            .plaintext(Blob::new(plaintext));
        for (key, value) in context {
            request = request.encryption_context(key, value);
        }
        let out = request.send().await.map_err(|e| KeyError::Kms {
            operation: "Encrypt",
            key_id: self.key_id.clone(),
            message: DisplayErrorContext(&e).to_string(),
        })?;
        out.ciphertext_blob
            .map(Blob::into_inner)
            .ok_or_else(|| KeyError::Kms {
                operation: "Encrypt",
                key_id: self.key_id.clone(),
                message: "the answer holds no ciphertext".to_string(),
            })
    }

    /// Decrypts `blob` (what [`encrypt`](Self::encrypt) returned) under this key with the
    /// same encryption `context`.
    pub async fn decrypt(
        &self,
        client: &aws_sdk_kms::Client,
        blob: &[u8],
        context: &BTreeMap<String, String>,
    ) -> Result<Vec<u8>, KeyError> {
        let mut request = client
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(blob));
        for (key, value) in context {
            request = request.encryption_context(key, value);
        }
        let out = request.send().await.map_err(|e| KeyError::Kms {
            operation: "Decrypt",
            key_id: self.key_id.clone(),
            message: DisplayErrorContext(&e).to_string(),
        })?;
        out.plaintext
            .map(Blob::into_inner)
            .ok_or_else(|| KeyError::Kms {
                operation: "Decrypt",
                key_id: self.key_id.clone(),
                message: "the answer holds no plaintext".to_string(),
            })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_region_of_an_arn() {
        let key = |id: &str| KmsKey {
            key_id: id.to_string(),
            region: None,
            endpoint: None,
        };
        assert_eq!(
            key("arn:aws:kms:eu-west-1:111122223333:key/1234").arn_region(),
            Some("eu-west-1")
        );
        assert_eq!(key("alias/braid").arn_region(), None);
        assert_eq!(key("1234abcd").arn_region(), None);
    }
}

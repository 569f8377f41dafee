//! go-plugin's AutoMTLS, host side: a fresh client certificate per plugin process, and a
//! TLS client that trusts exactly the certificate the plugin announced in its handshake.
//!
//! The host hands its certificate to the plugin as PEM in `PLUGIN_CLIENT_CERT`; the plugin
//! then accepts only TLS clients presenting it, and prints its own self-signed certificate in
//! the handshake line. Both certificates are self-signed CAs for the name `localhost`, so
//! ordinary WebPKI verification (which refuses a CA certificate as the server's) does not
//! apply: the server certificate is pinned by its exact bytes instead, and the handshake
//! signature is checked against it.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// Why the TLS side of a plugin connection could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rcgen could not make the client key or certificate.
    #[error("could not generate the client certificate for AutoMTLS")]
    ClientCertificate(#[source] rcgen::Error),
    /// rustls refused the configuration (e.g. the generated key).
    #[error("could not configure TLS for the plugin connection")]
    Config(#[source] rustls::Error),
}

/// The host's side of AutoMTLS for one plugin process.
pub(crate) struct ClientIdentity {
    /// What goes into `PLUGIN_CLIENT_CERT`.
    pub(crate) certificate_pem: String,
    certificate: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

/// Makes a fresh self-signed client certificate, shaped like the one go-plugin's own host
/// makes: a CA for `localhost` usable for client and server authentication (the plugin puts
/// it in its client-CA pool, so it must verify as its own root).
pub(crate) fn generate_client_identity() -> Result<ClientIdentity, TlsError> {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(TlsError::ClientCertificate)?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned()])
        .map_err(TlsError::ClientCertificate)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "braid");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ClientAuth,
        ExtendedKeyUsagePurpose::ServerAuth,
    ];
    let certificate = params
        .self_signed(&key)
        .map_err(TlsError::ClientCertificate)?;
    Ok(ClientIdentity {
        certificate_pem: certificate.pem(),
        certificate: certificate.der().clone(),
        key: PrivatePkcs8KeyDer::from(key.serialize_der()),
    })
}

/// A rustls client configuration that presents `identity` and trusts only
/// `server_certificate` (DER), speaking HTTP/2 as gRPC needs (grpc-go servers refuse TLS
/// connections without the `h2` ALPN protocol).
pub(crate) fn client_config(
    identity: &ClientIdentity,
    server_certificate: Vec<u8>,
) -> Result<rustls::ClientConfig, TlsError> {
    // aws-lc-rs rather than ring: go-plugin's server key is ECDSA P-521.
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = PinnedServerCertificate {
        certificate: server_certificate,
        provider: provider.clone(),
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Config)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_client_auth_cert(
            vec![identity.certificate.clone()],
            PrivateKeyDer::Pkcs8(identity.key.clone_key()),
        )
        .map_err(TlsError::Config)?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// Accepts exactly one certificate, byte for byte: the one the plugin printed on its stdout,
/// which only the process braid started could have printed.
#[derive(Debug)]
struct PinnedServerCertificate {
    certificate: Vec<u8>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedServerCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.certificate.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_identity_is_pem_and_configures_rustls() {
        let identity = generate_client_identity().expect("rcgen makes a certificate");
        assert!(
            identity
                .certificate_pem
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
        let config =
            client_config(&identity, vec![1, 2, 3]).expect("rustls takes the generated key");
        assert_eq!(config.alpn_protocols, vec![b"h2".to_vec()]);
    }

    #[test]
    fn only_the_announced_certificate_is_trusted() {
        let verifier = PinnedServerCertificate {
            certificate: vec![1, 2, 3],
            provider: Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
        };
        let name = ServerName::try_from("localhost").expect("a DNS name");
        let now = UnixTime::now();
        assert!(
            verifier
                .verify_server_cert(&CertificateDer::from(vec![1, 2, 3]), &[], &name, &[], now)
                .is_ok()
        );
        assert!(
            verifier
                .verify_server_cert(&CertificateDer::from(vec![1, 2, 4]), &[], &name, &[], now)
                .is_err()
        );
    }
}

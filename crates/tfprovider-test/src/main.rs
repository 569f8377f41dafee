//! `terraform-provider-braidtest`: a small Terraform provider that speaks plugin protocol 6,
//! written for braid's tests. No provider on this machine speaks protocol 6, and none can be
//! built here (no Go toolchain), so braid's plugin host is tested against this one — and
//! `terraform` itself runs it too, as the oracle that this provider speaks the protocol as
//! Terraform expects and that braid drives it as Terraform does.
//!
//! It keeps its objects as JSON files in the directory its provider block names, so tests can
//! look at what was created, change it behind the tool's back (drift) or delete it. What it
//! serves is in [`provider`]; this file is go-plugin's server side: the magic cookie, the
//! protocol version, the handshake line, AutoMTLS and the gRPC services.

mod provider;
mod schema;
mod values;

use std::io::Write as _;
use std::sync::Arc;

use base64::Engine as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use tokio::sync::watch;
use tokio_stream::StreamExt as _;

/// The generated protocol code.
#[allow(clippy::all, clippy::pedantic, missing_docs, dead_code)]
mod proto {
    pub mod tfplugin6 {
        tonic::include_proto!("tfplugin6");
    }
    pub mod plugin {
        tonic::include_proto!("plugin");
    }
}

/// go-plugin's magic cookie for Terraform providers.
const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

type Failure = Box<dyn std::error::Error + Send + Sync>;

fn main() {
    if std::env::var(MAGIC_COOKIE_KEY).as_deref() != Ok(MAGIC_COOKIE_VALUE) {
        fail(
            "This binary is a Terraform provider plugin. It is not meant to be run directly: \
             configure it in a required_providers block and let terraform or braid start it.",
        );
    }
    let offered = std::env::var("PLUGIN_PROTOCOL_VERSIONS").unwrap_or_default();
    if !offered.split(',').any(|v| v.trim() == "6") {
        fail(&format!(
            "terraform-provider-braidtest speaks only plugin protocol 6; the host offered {offered:?}"
        ));
    }
    let Ok(client_pem) = std::env::var("PLUGIN_CLIENT_CERT") else {
        fail("PLUGIN_CLIENT_CERT is not set: this provider serves only over AutoMTLS");
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => fail(&format!("cannot start the async runtime: {e}")),
    };
    if let Err(e) = runtime.block_on(serve(client_pem)) {
        fail(&format!("the plugin server failed: {e}"));
    }
}

fn fail(message: &str) -> ! {
    let _ = writeln!(std::io::stderr(), "{message}");
    std::process::exit(1)
}

async fn serve(client_pem: String) -> Result<(), Failure> {
    let client_certificate = CertificateDer::from_pem_slice(client_pem.as_bytes())?;
    let (server_certificate, server_key) = server_identity()?;
    let tls = server_config(client_certificate, server_certificate.clone(), server_key)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));

    let socket_dir = std::env::temp_dir().join(format!("braidtest-plugin-{}", std::process::id()));
    std::fs::create_dir_all(&socket_dir)?;
    let socket = socket_dir.join("plugin.sock");
    let _ = std::fs::remove_file(&socket);
    let listener = tokio::net::UnixListener::bind(&socket)?;

    let (shutdown_tx, mut shutdown_rx) = watch::channel(false);
    let incoming = tokio_stream::wrappers::UnixListenerStream::new(listener).then(move |stream| {
        let acceptor = acceptor.clone();
        async move {
            let stream = stream?;
            let tls = acceptor.accept(stream).await?;
            Ok::<_, std::io::Error>(Connection(tls))
        }
    });
    // A failed TLS handshake (a client without the host's certificate) ends that
    // connection, not the server.
    let incoming = incoming.filter(Result::is_ok);

    let certificate = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&server_certificate);
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "1|6|unix|{}|grpc|{certificate}", socket.display())?;
    stdout.flush()?;
    drop(stdout);

    let result = tonic::transport::Server::builder()
        .add_service(proto::tfplugin6::provider_server::ProviderServer::new(
            provider::BraidTest::default(),
        ))
        .add_service(
            proto::plugin::grpc_controller_server::GrpcControllerServer::new(Controller(
                shutdown_tx,
            )),
        )
        .add_service(proto::plugin::grpc_stdio_server::GrpcStdioServer::new(
            Stdio,
        ))
        .serve_with_incoming_shutdown(incoming, async move {
            let _ = shutdown_rx.wait_for(|stop| *stop).await;
        })
        .await;
    let _ = std::fs::remove_dir_all(&socket_dir);
    result?;
    Ok(())
}

/// A fresh self-signed certificate for `localhost`, as go-plugin's servers make one.
fn server_identity() -> Result<(Vec<u8>, PrivatePkcs8KeyDer<'static>), Failure> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let certificate = params.self_signed(&key)?;
    Ok((
        certificate.der().to_vec(),
        PrivatePkcs8KeyDer::from(key.serialize_der()),
    ))
}

fn server_config(
    client_certificate: CertificateDer<'static>,
    server_certificate: Vec<u8>,
    server_key: PrivatePkcs8KeyDer<'static>,
) -> Result<rustls::ServerConfig, Failure> {
    let crypto = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = PinnedClientCertificate {
        certificate: client_certificate,
        crypto: crypto.clone(),
    };
    let mut config = rustls::ServerConfig::builder_with_provider(crypto)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(
            vec![CertificateDer::from(server_certificate)],
            PrivateKeyDer::Pkcs8(server_key),
        )?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// Only the host that started this process may connect: its certificate came in
/// `PLUGIN_CLIENT_CERT`, and the client must present exactly that one.
#[derive(Debug)]
struct PinnedClientCertificate {
    certificate: CertificateDer<'static>,
    crypto: Arc<rustls::crypto::CryptoProvider>,
}

impl ClientCertVerifier for PinnedClientCertificate {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.certificate.as_ref() {
            Ok(ClientCertVerified::assertion())
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
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.crypto.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.crypto.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.crypto
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A TLS connection, as tonic's server takes connections.
struct Connection(tokio_rustls::server::TlsStream<tokio::net::UnixStream>);

impl tonic::transport::server::Connected for Connection {
    type ConnectInfo = ();
    fn connect_info(&self) {}
}

impl tokio::io::AsyncRead for Connection {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Connection {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// go-plugin's controller: `Shutdown` ends the server, and with it the process.
struct Controller(watch::Sender<bool>);

#[tonic::async_trait]
impl proto::plugin::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(
        &self,
        _request: tonic::Request<proto::plugin::Empty>,
    ) -> Result<tonic::Response<proto::plugin::Empty>, tonic::Status> {
        let _ = self.0.send(true);
        Ok(tonic::Response::new(proto::plugin::Empty {}))
    }
}

/// go-plugin's stdio service. This provider writes nothing to stdout after the handshake
/// and logs straight to stderr, so the stream ends at once.
struct Stdio;

#[tonic::async_trait]
impl proto::plugin::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = tokio_stream::Empty<Result<proto::plugin::StdioData, tonic::Status>>;

    async fn stream_stdio(
        &self,
        _request: tonic::Request<proto::plugin::Empty>,
    ) -> Result<tonic::Response<Self::StreamStdioStream>, tonic::Status> {
        Ok(tonic::Response::new(tokio_stream::empty()))
    }
}

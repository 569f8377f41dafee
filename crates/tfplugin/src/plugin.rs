//! One running provider plugin: start (go-plugin handshake with AutoMTLS), calls over
//! tfplugin5 or tfplugin6, and shutdown.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tonic::transport::{Channel, Endpoint, Uri};

use crate::config::{decode_msgpack, encode_msgpack};
use crate::diagnostics::Diagnostic;
use crate::handshake::{Handshake, HandshakeError, PluginAddress, parse_handshake};
use crate::process::{ChunkLines, FirstLine, Launch, OutputTail, PluginProcess, SharedTail};
use crate::proto::plugin::grpc_controller_client::GrpcControllerClient;
use crate::proto::plugin::grpc_stdio_client::GrpcStdioClient;
use crate::proto::plugin::{Empty, stdio_data};
use crate::proto::{ProviderClient, WireValue, rpc};
use crate::schema::ProviderSchema;
use crate::tls::{TlsError, client_config, generate_client_identity};

/// The plugin protocol versions this host speaks, offered to the plugin in
/// `PLUGIN_PROTOCOL_VERSIONS`.
pub const SUPPORTED_PROTOCOL_VERSIONS: &[u32] = &[5, 6];

/// The Terraform version braid reports to providers in ConfigureProvider: the one whose
/// behaviour braid follows. Providers use it in user agents and to gate old behaviour.
pub const REPORTED_TERRAFORM_VERSION: &str = "1.11.0";

/// Largest message accepted from a plugin. The aws provider's schema alone is several MiB;
/// Terraform allows 256 MiB.
const MAX_MESSAGE_BYTES: usize = 256 << 20;

/// How to start a plugin.
#[derive(Debug, Clone)]
pub struct PluginCommand {
    /// The plugin executable.
    pub program: PathBuf,
    /// Arguments (Terraform passes none).
    pub args: Vec<OsString>,
    /// Extra environment, on top of braid's own (which the plugin inherits, as under
    /// Terraform: credentials and `TF_LOG` reach it).
    pub env: Vec<(OsString, OsString)>,
    /// How long to wait for the handshake line. Large providers take seconds to start.
    pub handshake_timeout: Duration,
    /// How long [`ProviderPlugin::shutdown`] waits for the process to exit before killing it.
    pub shutdown_grace: Duration,
    /// How many lines of the plugin's output to keep for diagnostics.
    pub output_tail_lines: usize,
}

impl PluginCommand {
    /// Runs `program` with no arguments and the defaults Terraform uses (one minute to
    /// start, two seconds to exit).
    pub fn new(program: impl Into<PathBuf>) -> PluginCommand {
        PluginCommand {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            handshake_timeout: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(2),
            output_tail_lines: 40,
        }
    }
}

/// Why a plugin could not be started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The TLS identity or configuration could not be made.
    #[error("could not prepare TLS for plugin {program}")]
    Tls {
        /// The plugin executable.
        program: PathBuf,
        /// What failed.
        #[source]
        source: TlsError,
    },
    /// The executable could not be run.
    #[error("could not run plugin {program}")]
    Spawn {
        /// The plugin executable.
        program: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The process ended (or closed its stdout) before printing a handshake line.
    #[error(
        "plugin {program} exited before its handshake ({status}); is it a Terraform provider? {output}"
    )]
    ExitedBeforeHandshake {
        /// The plugin executable.
        program: PathBuf,
        /// Its exit status, or a note that it is still running with stdout closed.
        status: String,
        /// Its last output lines.
        output: OutputTail,
    },
    /// No handshake line within [`PluginCommand::handshake_timeout`].
    #[error("plugin {program} printed no handshake within {timeout:?}; {output}")]
    HandshakeTimeout {
        /// The plugin executable.
        program: PathBuf,
        /// How long braid waited.
        timeout: Duration,
        /// Its last output lines.
        output: OutputTail,
    },
    /// The first stdout line is not a go-plugin handshake.
    #[error(
        "plugin {program} printed {line:?} instead of a go-plugin handshake: {source}; {output}"
    )]
    InvalidHandshake {
        /// The plugin executable.
        program: PathBuf,
        /// The line it printed.
        line: String,
        /// What is wrong with it.
        #[source]
        source: HandshakeError,
        /// Its last output lines.
        output: OutputTail,
    },
    /// The plugin chose a protocol version braid did not offer.
    #[error(
        "plugin {program} chose plugin protocol {version}, braid offered {offered:?}; {output}"
    )]
    UnsupportedProtocol {
        /// The plugin executable.
        program: PathBuf,
        /// The version it chose.
        version: u32,
        /// The versions braid offered.
        offered: &'static [u32],
        /// Its last output lines.
        output: OutputTail,
    },
    /// The gRPC connection over TLS failed.
    #[error("could not connect to plugin {program} at {address}; {output}")]
    Connect {
        /// The plugin executable.
        program: PathBuf,
        /// Where it said it listens.
        address: PluginAddress,
        /// The transport's error.
        #[source]
        source: tonic::transport::Error,
        /// Its last output lines.
        output: OutputTail,
    },
}

/// Why a call to a running plugin failed (as opposed to the provider answering with error
/// diagnostics, which calls return as data).
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The gRPC call failed; when the process died, `exit` says how.
    #[error("{call} failed: {status}{}; {output}", exit.as_ref().map(|s| format!(" (the plugin process exited: {s})")).unwrap_or_default())]
    Rpc {
        /// The protocol call.
        call: &'static str,
        /// gRPC's status.
        #[source]
        status: Box<tonic::Status>,
        /// The exit status when the process is gone.
        exit: Option<ExitStatus>,
        /// The plugin's last output lines.
        output: OutputTail,
    },
    /// The provider answered with a value that is not valid MessagePack.
    #[error("{call} returned a value that is not valid MessagePack")]
    DecodeValue {
        /// The protocol call.
        call: &'static str,
        /// The decoder's error.
        #[source]
        source: rmpv::decode::Error,
    },
    /// StopProvider answered with an error text.
    #[error("the provider could not stop its operations: {0}")]
    StopFailed(String),
}

/// The answer to PrepareProviderConfig (ValidateProviderConfig in protocol 6).
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedConfig {
    /// The configuration with the provider's defaults filled in (null when the provider
    /// returned none, e.g. after errors).
    pub config: rmpv::Value,
    /// The provider's validation findings.
    pub diagnostics: Vec<Diagnostic>,
}

/// A running provider plugin. One per configured provider instance; calls take `&self` and
/// may run concurrently. Dropping it kills the process; [`ProviderPlugin::shutdown`] asks it
/// to exit first.
pub struct ProviderPlugin {
    process: PluginProcess,
    protocol_version: u32,
    shutdown_grace: Duration,
    provider: ProviderClient,
    controller: GrpcControllerClient<Channel>,
    /// Reads go-plugin's stdio stream into the output tail for the life of the plugin.
    stdio: tokio::task::JoinHandle<()>,
}

impl Drop for ProviderPlugin {
    fn drop(&mut self) {
        self.stdio.abort();
    }
}

impl std::fmt::Debug for ProviderPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderPlugin")
            .field("program", &self.process.program())
            .field("pid", &self.process.pid())
            .field("protocol_version", &self.protocol_version)
            .finish_non_exhaustive()
    }
}

impl ProviderPlugin {
    /// Starts the plugin, reads its handshake and connects to it.
    pub async fn start(command: &PluginCommand) -> Result<ProviderPlugin, StartError> {
        let program = &command.program;
        let tls_error = |source| StartError::Tls {
            program: program.clone(),
            source,
        };
        let identity = generate_client_identity().map_err(tls_error)?;
        let versions = SUPPORTED_PROTOCOL_VERSIONS
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let launch = Launch {
            program,
            args: &command.args,
            env: &command.env,
            protocol_versions: &versions,
            client_certificate_pem: &identity.certificate_pem,
            tail_lines: command.output_tail_lines,
        };
        let (process, first_line) =
            PluginProcess::spawn(&launch).map_err(|source| StartError::Spawn {
                program: program.clone(),
                source,
            })?;
        let handshake = match read_handshake(&process, first_line, command.handshake_timeout).await
        {
            Ok(handshake) => handshake,
            Err(error) => {
                let _ = process.kill();
                return Err(error);
            }
        };
        if !SUPPORTED_PROTOCOL_VERSIONS.contains(&handshake.protocol_version) {
            let _ = process.kill();
            return Err(StartError::UnsupportedProtocol {
                program: program.clone(),
                version: handshake.protocol_version,
                offered: SUPPORTED_PROTOCOL_VERSIONS,
                output: process.final_tail(),
            });
        }
        let tls = client_config(&identity, handshake.server_certificate).map_err(tls_error)?;
        let channel = match connect(&handshake.address, Arc::new(tls)).await {
            Ok(channel) => channel,
            Err(source) => {
                let _ = process.kill();
                return Err(StartError::Connect {
                    program: program.clone(),
                    address: handshake.address,
                    source,
                    output: process.final_tail(),
                });
            }
        };
        let stdio = tokio::spawn(forward_stdio(
            GrpcStdioClient::new(channel.clone()),
            process.shared_tail(),
        ));
        let provider = ProviderClient::new(
            handshake.protocol_version,
            channel.clone(),
            MAX_MESSAGE_BYTES,
        );
        Ok(ProviderPlugin {
            process,
            protocol_version: handshake.protocol_version,
            shutdown_grace: command.shutdown_grace,
            provider,
            controller: GrpcControllerClient::new(channel),
            stdio,
        })
    }

    /// The plugin protocol version in use.
    pub fn protocol_version(&self) -> u32 {
        self.protocol_version
    }

    /// The plugin process's id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The plugin executable.
    pub fn program(&self) -> &Path {
        self.process.program()
    }

    /// The plugin's last output lines so far.
    pub fn output_tail(&self) -> OutputTail {
        self.process.tail()
    }

    /// A handle for one call (tonic clients are cheap clones of the channel).
    pub(crate) fn client(&self) -> ProviderClient {
        self.provider.clone()
    }

    /// GetProviderSchema (`GetSchema` in protocol 5).
    pub async fn get_provider_schema(&self) -> Result<ProviderSchema, CallError> {
        rpc!(
            self,
            "GetProviderSchema",
            get_schema / get_provider_schema,
            |pb| pb::get_provider_schema::Request {},
            |response| Ok(ProviderSchema::from(response))
        )
    }

    /// GetProviderSchema, with the answer's protobuf encoding beside it: the bytes
    /// [`ProviderSchema::from_wire`] reads back, for a cache of schemas across runs.
    pub async fn get_provider_schema_wire(&self) -> Result<(ProviderSchema, Vec<u8>), CallError> {
        rpc!(
            self,
            "GetProviderSchema",
            get_schema / get_provider_schema,
            |pb| pb::get_provider_schema::Request {},
            |response| {
                let wire = prost::Message::encode_to_vec(&response);
                Ok((ProviderSchema::from(response), wire))
            }
        )
    }

    /// PrepareProviderConfig (protocol 6: ValidateProviderConfig) with a configuration
    /// object built by [`crate::config_object`]. Protocol 6 prepares nothing: its answer's
    /// configuration is nil, and the caller configures with its own.
    pub async fn prepare_provider_config(
        &self,
        config: &rmpv::Value,
    ) -> Result<PreparedConfig, CallError> {
        const CALL: &str = "ValidateProviderConfig";
        let (config, diagnostics) = match self.client() {
            ProviderClient::V5(mut client) => {
                use crate::proto::tfplugin5::prepare_provider_config::Request;
                let request = Request {
                    config: Some(msgpack_value(config)),
                };
                let response = self
                    .answer(CALL, client.prepare_provider_config(request).await)
                    .await?;
                (
                    response.prepared_config,
                    response
                        .diagnostics
                        .into_iter()
                        .map(Diagnostic::from)
                        .collect(),
                )
            }
            ProviderClient::V6(mut client) => {
                use crate::proto::tfplugin6::validate_provider_config::Request;
                let request = Request {
                    config: Some(msgpack_value(config)),
                };
                let response = self
                    .answer(CALL, client.validate_provider_config(request).await)
                    .await?;
                (
                    None,
                    response
                        .diagnostics
                        .into_iter()
                        .map(Diagnostic::from)
                        .collect(),
                )
            }
        };
        Ok(PreparedConfig {
            config: decode_dynamic(CALL, config)?,
            diagnostics,
        })
    }

    /// ConfigureProvider (`Configure` in protocol 5); returns the provider's diagnostics,
    /// which say whether it worked ([`Diagnostic::any_error`]).
    pub async fn configure_provider(
        &self,
        config: &rmpv::Value,
    ) -> Result<Vec<Diagnostic>, CallError> {
        rpc!(
            self,
            "ConfigureProvider",
            configure / configure_provider,
            |pb| pb::configure::Request {
                terraform_version: REPORTED_TERRAFORM_VERSION.to_owned(),
                config: Some(msgpack_value(config)),
                // braid handles neither deferred changes nor write-only attributes yet.
                client_capabilities: Some(pb::ClientCapabilities {
                    deferral_allowed: false,
                    write_only_attributes_allowed: false,
                }),
            },
            |response| Ok(response
                .diagnostics
                .into_iter()
                .map(Diagnostic::from)
                .collect())
        )
    }

    /// StopProvider (`Stop` in protocol 5): asks the provider to cancel its operations in
    /// flight (Terraform sends it on interrupt). The process keeps running.
    pub async fn stop_provider(&self) -> Result<(), CallError> {
        rpc!(
            self,
            "StopProvider",
            stop / stop_provider,
            |pb| pb::stop::Request {},
            |response| if response.error.is_empty() {
                Ok(())
            } else {
                Err(CallError::StopFailed(response.error))
            }
        )
    }

    /// Asks the plugin to exit (go-plugin's `GRPCController.Shutdown`), waits up to
    /// [`PluginCommand::shutdown_grace`] for it, then kills it. Returns how it ended.
    pub async fn shutdown(self) -> std::io::Result<ExitStatus> {
        let grace = self.shutdown_grace;
        // The plugin may exit before it answers; either way the wait below decides.
        let _ = tokio::time::timeout(grace, self.controller.clone().shutdown(Empty {})).await;
        if let Some(status) = self.process.wait_exit(grace).await {
            return Ok(status);
        }
        self.process.kill()
    }

    /// The message of a call, or the error that says what happened to the call — and to
    /// the process, when the call failed because it died.
    pub(crate) async fn answer<T>(
        &self,
        call: &'static str,
        result: Result<tonic::Response<T>, tonic::Status>,
    ) -> Result<T, CallError> {
        let status = match result {
            Ok(response) => return Ok(response.into_inner()),
            Err(status) => status,
        };
        let exit = match status.code() {
            // The connection broke: the process may be exiting; the socket closes a moment
            // before the process can be reaped.
            tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Cancelled => {
                self.process.wait_exit(Duration::from_millis(500)).await
            }
            _ => self.process.exit_status(),
        };
        let output = if exit.is_some() {
            self.process.final_tail()
        } else {
            self.process.tail()
        };
        Err(CallError::Rpc {
            call,
            status: Box::new(status),
            exit,
            output,
        })
    }
}

/// Copies what the plugin's code writes to its (swapped) stdout and stderr into the output
/// tail, as go-plugin's own host does; go-plugin blocks the plugin when nobody reads it.
async fn forward_stdio(mut client: GrpcStdioClient<Channel>, tail: SharedTail) {
    // go-plugin before 1.4 has no stdio service; then the plugin writes to its real stderr.
    let Ok(response) = client.stream_stdio(Empty {}).await else {
        return;
    };
    let mut stream = response.into_inner();
    let mut stdout = ChunkLines::default();
    let mut stderr = ChunkLines::default();
    // The stream ends with the process (or the connection).
    while let Ok(Some(data)) = stream.message().await {
        let lines = match data.channel() {
            stdio_data::Channel::Stdout => &mut stdout,
            stdio_data::Channel::Stderr | stdio_data::Channel::Invalid => &mut stderr,
        };
        lines.push(&data.data, |line| tail.push(line));
    }
    stdout.finish(|line| tail.push(line));
    stderr.finish(|line| tail.push(line));
}

/// A value of an answer: its MessagePack, nil when the provider sent none.
pub(crate) fn decode_dynamic(
    call: &'static str,
    value: Option<impl WireValue>,
) -> Result<rmpv::Value, CallError> {
    match value.map(WireValue::into_msgpack) {
        Some(msgpack) if !msgpack.is_empty() => {
            decode_msgpack(&msgpack).map_err(|source| CallError::DecodeValue { call, source })
        }
        _ => Ok(rmpv::Value::Nil),
    }
}

/// A value as the protocol's `DynamicValue` (MessagePack).
pub(crate) fn msgpack_value<D: WireValue>(value: &rmpv::Value) -> D {
    D::from_msgpack(encode_msgpack(value))
}

async fn read_handshake(
    process: &PluginProcess,
    first_line: tokio::sync::oneshot::Receiver<FirstLine>,
    timeout: Duration,
) -> Result<Handshake, StartError> {
    let program = process.program().to_path_buf();
    let line = match tokio::time::timeout(timeout, first_line).await {
        Err(_) => {
            // Killed first, so that the tail holds everything it wrote before it was stopped.
            let _ = process.kill();
            return Err(StartError::HandshakeTimeout {
                program,
                timeout,
                output: process.final_tail(),
            });
        }
        Ok(Ok(FirstLine::Line(line))) => line,
        // The reader thread ends without sending only if it panicked; treat it as EOF.
        Ok(Ok(FirstLine::Eof) | Err(_)) => {
            // stdout closed: the process is exiting; give it a moment to be reaped.
            let status = process.wait_exit(Duration::from_secs(2)).await;
            return Err(StartError::ExitedBeforeHandshake {
                program,
                status: status.map_or_else(
                    || "it closed its stdout and kept running".to_owned(),
                    |s| s.to_string(),
                ),
                output: process.final_tail(),
            });
        }
    };
    parse_handshake(&line).map_err(|source| {
        // Its stderr may still be in flight: stop it, then read what it wrote to the end.
        let _ = process.kill();
        StartError::InvalidHandshake {
            program,
            line,
            source,
            output: process.final_tail(),
        }
    })
}

/// Opens the gRPC channel over TLS to the plugin's socket. The URI is only a label: the
/// connector below decides where the bytes go.
async fn connect(
    address: &PluginAddress,
    tls: Arc<rustls::ClientConfig>,
) -> Result<Channel, tonic::transport::Error> {
    let endpoint = Endpoint::from_static("http://localhost");
    match address.clone() {
        PluginAddress::Unix(path) => {
            endpoint
                .connect_with_connector(tower::service_fn(move |_: Uri| {
                    let path = path.clone();
                    let tls = tls.clone();
                    async move { tls_over(tokio::net::UnixStream::connect(path).await?, tls).await }
                }))
                .await
        }
        PluginAddress::Tcp(addr) => {
            endpoint
                .connect_with_connector(tower::service_fn(move |_: Uri| {
                    let tls = tls.clone();
                    async move { tls_over(tokio::net::TcpStream::connect(addr).await?, tls).await }
                }))
                .await
        }
    }
}

async fn tls_over<S>(
    stream: S,
    tls: Arc<rustls::ClientConfig>,
) -> std::io::Result<TokioIo<tokio_rustls::client::TlsStream<S>>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // go-plugin's certificates are for "localhost"; the pinned verifier ignores the name.
    let name = ServerName::try_from("localhost").map_err(std::io::Error::other)?;
    let stream = tokio_rustls::TlsConnector::from(tls)
        .connect(name, stream)
        .await?;
    Ok(TokioIo::new(stream))
}

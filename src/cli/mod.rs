//! The command line: flags parsed with clap, each subcommand in its own file that parses
//! its flags, calls one operation of [`crate::ops`] and renders the result through the
//! [`Shell`]. The CLI is also where braid's built-in providers are registered.

mod agent;
mod apply;
mod console;
mod drift;
mod fmt;
mod graph;
mod history;
mod import_terraform;
mod init;
mod locking;
mod output;
mod plan;
mod promote;
mod providers;
mod rollback;
mod show;
mod sops;
mod state;
mod state_edit;
mod status;
mod unlock;
mod validate;
mod version;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use crate::apply::CancelToken;
use crate::diag::{Diagnostic, Diagnostics};
use crate::ops::{Prepared, RunOptions};
use crate::providers::ProviderRegistry;
use crate::source::SourceOptions;
use crate::view::{Format, Shell};
use crate::workspace::LoadOptions;

/// Exit code of a command that did what it was asked (with `--detailed-exitcode`: and found
/// nothing to change).
pub const EXIT_OK: i32 = 0;
/// Exit code of a command that failed: diagnostics were shown, or a change failed to apply.
pub const EXIT_ERROR: i32 = 1;
/// Success with changes (or drift) pending, with --detailed-exitcode.
pub const EXIT_CHANGES: i32 = 2;
/// `braid fmt --check` found files that are not formatted (as `terraform fmt -check`).
pub const EXIT_UNFORMATTED: i32 = 3;
/// Interrupted by SIGINT (Ctrl-C): 128 + 2, as shells report it.
pub const EXIT_INTERRUPTED: i32 = 130;
/// Stopped by SIGTERM: 128 + 15.
pub const EXIT_TERMINATED: i32 = 143;

/// The providers built into braid: `local`, `kubernetes`, and `aws` (with the `aws`
/// feature). Callers of the engine build their own registry; this is the CLI's.
pub fn builtin_providers() -> ProviderRegistry {
    let mut registry = ProviderRegistry::new();
    registry
        .register("local", || {
            Arc::new(braid_provider_local::LocalProvider::new())
                as Arc<dyn braid_provider::Provider>
        })
        .register("kubernetes", || {
            Arc::new(braid_provider_kubernetes::KubernetesProvider::new())
                as Arc<dyn braid_provider::Provider>
        });
    #[cfg(feature = "aws")]
    registry.register("aws", || {
        Arc::new(braid_provider_aws::AwsProvider::new()) as Arc<dyn braid_provider::Provider>
    });
    registry
}

/// The command line: global flags and one subcommand, as clap parses them from `argv`.
#[derive(Debug, Parser)]
#[command(
    name = "braid",
    version = version::VERSION,
    long_version = version::LONG_VERSION,
    about = "Plan and apply infrastructure and Kubernetes manifests from git, as one graph"
)]
pub struct Cli {
    /// The flags every subcommand accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The flags every subcommand accepts: project directory, environment, refs, variables, output and locking.
#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Run as if braid was started in DIR.
    #[arg(
        short = 'C',
        long = "dir",
        global = true,
        value_name = "DIR",
        default_value = "."
    )]
    pub dir: PathBuf,
    /// The environment to work on (declared in braid.hcl). `plan` accepts several.
    #[arg(long = "env", global = true, value_name = "NAME")]
    pub envs: Vec<String>,
    /// Override a source's git ref: --ref apps=v1.4.0.
    #[arg(long = "ref", global = true, value_name = "SOURCE=REF")]
    pub refs: Vec<String>,
    /// Never fetch: read remote git sources from the cache in .braid/cache.
    #[arg(long, global = true)]
    pub offline: bool,
    /// Kubernetes: take ownership of fields another field manager owns (server-side apply
    /// with force) instead of failing on the conflict.
    #[arg(long, global = true)]
    pub force_conflicts: bool,
    /// Set an input variable: --var replicas=3.
    #[arg(long = "var", global = true, value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Read input variables from a .tfvars file (NAME = VALUE lines); a later file wins, and
    /// --var wins over every file.
    #[arg(long = "var-file", global = true, value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value = "human")]
    pub format: Format,
    /// Never use colours.
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Print less.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Log what braid does on stderr: -v lock events and commits, -vv also every provider
    /// call with its timing (RUST_LOG sets any other filter).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// How long a write waits for the environment's lock held by someone else (0 = fail
    /// at once; 30s, 5m...).
    #[arg(long, global = true, value_name = "DURATION", default_value = "0")]
    pub lock_timeout: String,
    /// Take over the lock when its holder stopped renewing its heartbeat (it died).
    #[arg(long, global = true)]
    pub steal_stale_lock: bool,
    /// Use the environment's state although it is a new one (empty, or another lineage) where
    /// this machine saw another before; creates it if missing. For starting over knowingly.
    #[arg(long, global = true)]
    pub new_state: bool,
    /// Use the environment's state although its serial is lower than the last one this
    /// machine saw (an older backup put back on purpose).
    #[arg(long, global = true)]
    pub accept_older_state: bool,
}

/// The subcommands of braid; each is parsed and run by its own module of `cli`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Prepare the working directory: install provider plugins and write .braid.lock.hcl,
    /// check the configuration, create the state.
    Init(init::InitArgs),
    /// Check the configuration without touching state or live objects.
    Validate,
    /// Show what apply would change.
    Plan(plan::PlanArgs),
    /// Make the changes: from a saved plan, or plan and confirm.
    Apply(apply::ApplyArgs),
    /// Delete everything this environment manages.
    Destroy(apply::DestroyArgs),
    /// Show a saved plan, or what state holds.
    Show(show::ShowArgs),
    /// Print the dependency graph in Graphviz DOT.
    Graph,
    /// Inspect and edit state.
    #[command(subcommand)]
    State(state::StateCommand),
    /// Encrypt, decrypt and edit SOPS files (YAML, JSON, dotenv) with age, PGP or AWS KMS
    /// keys, as the sops tool does.
    #[command(subcommand)]
    Sops(sops::SopsCommand),
    /// Write the images one environment runs (or a release file pins) into another
    /// environment's overlay, as a commit on a new branch, and show that environment's plan.
    Promote(promote::PromoteArgs),
    /// Remove a stuck lock.
    ForceUnlock(unlock::ForceUnlockArgs),
    /// Compare state with the live objects only; exit 2 when anything drifted.
    Drift(drift::DriftArgs),
    /// The audit log: applies, who ran them, from which commits, and what they changed.
    History(history::HistoryArgs),
    /// Apply again what an earlier apply deployed (its git sources at their recorded commits).
    Rollback(rollback::RollbackArgs),
    /// Print the outputs the last successful apply kept in state.
    Output(output::OutputArgs),
    /// Evaluate expressions read from stdin (one per line) against the environment's
    /// variables, locals and state; `exit` or end of input stops.
    Console,
    /// Rewrite HCL files (.hcl, .tf, .tfvars) in the canonical layout of terraform fmt.
    Fmt(fmt::FmtArgs),
    /// Which provider serves each provider configuration in use: a Terraform provider plugin
    /// (source, version, protocol, executable) or one built into braid, with its types.
    Providers,
    /// Keep environments converged on git: poll their sources (and take push webhooks),
    /// apply where auto_apply allows, report or heal drift, serve the status over HTTP.
    Agent(agent::AgentArgs),
    /// Where each environment stands: synced, out of sync (new commits not applied) or
    /// drifted, with what is deployed, the last apply and the changes pending.
    Status(status::StatusArgs),
    /// Serve the agent's status page, JSON API and metrics read-only: environments are
    /// planned every interval, never applied.
    Serve(agent::ServeArgs),
    /// Print braid's version, build, features and the format versions it reads and writes
    /// (`--format json` for a document).
    Version,
    /// Print the shell completion script for bash, zsh, fish, PowerShell or Elvish.
    Completion(version::CompletionArgs),
    /// Write a man page for braid and each subcommand (what release archives hold).
    #[command(hide = true)]
    Man(version::ManArgs),
    /// The environment names of braid.hcl, one per line, for shell completion.
    #[command(hide = true, name = "__envs")]
    EnvironmentNames,
}

/// Terraform's long flags with one dash that braid also accepts that way (`-target=ADDR`,
/// `-var-file prod.tfvars`), so commands copied from Terraform habits work.
const TERRAFORM_STYLE_FLAGS: &[&str] = &[
    "target",
    "replace",
    "var",
    "var-file",
    "auto-approve",
    "out",
    "refresh",
    "refresh-only",
    "destroy",
    "parallelism",
    "detailed-exitcode",
    "lock-timeout",
    "upgrade",
    "lockfile",
];

/// The command line with Terraform-style `-flag` spellings of [`TERRAFORM_STYLE_FLAGS`]
/// turned into `--flag`; everything after `--` is left as it is.
pub fn terraform_style_args(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Vec<std::ffi::OsString> {
    let mut rest = false;
    args.into_iter()
        .map(|arg| {
            if rest {
                return arg;
            }
            let Some(text) = arg.to_str() else {
                return arg;
            };
            if text == "--" {
                rest = true;
                return arg;
            }
            let Some(flag) = text.strip_prefix('-').filter(|t| !t.starts_with('-')) else {
                return arg;
            };
            let name = flag.split('=').next().unwrap_or(flag);
            if TERRAFORM_STYLE_FLAGS.contains(&name) {
                format!("-{text}").into()
            } else {
                arg
            }
        })
        .collect()
}

/// What a command leaves behind: an exit code, or diagnostics to show (exit 1).
pub type CommandResult = Result<i32, Diagnostics>;

impl GlobalArgs {
    /// The output object for these flags.
    pub fn shell(&self) -> Shell {
        Shell::new(self.format, self.no_color, self.quiet, self.verbose)
    }

    /// Lock and parallelism settings of a writing command.
    pub fn run_options(
        &self,
        refresh: bool,
        parallelism: usize,
        cancel: &CancelToken,
    ) -> Result<RunOptions, Diagnostics> {
        Ok(RunOptions {
            refresh,
            parallelism,
            lock: crate::apply::LockSettings::new(self.lock_policy()?),
            cancel: cancel.clone(),
            ..RunOptions::default()
        })
    }

    /// The one environment a command works on; several `--env` are for `plan` only.
    pub fn single_env(&self) -> Result<Option<String>, Diagnostics> {
        match self.envs.as_slice() {
            [] => Ok(None),
            [one] => match crate::config::plain_name_problem(one) {
                None => Ok(Some(one.clone())),
                Some(problem) => Err(Diagnostic::error(
                    "Invalid environment name",
                    format!(
                        "--env \"{one}\": the name {problem}. {}, as in braid.hcl's environment blocks.",
                        crate::config::PLAIN_NAME_RULE
                    ),
                )
                .into()),
            },
            many => Err(Diagnostic::error(
                "Several environments given",
                format!(
                    "--env was given {} times ({}), but only braid plan works on several environments at once. Run this command once per environment.",
                    many.len(),
                    many.join(", ")
                ),
            )
            .into()),
        }
    }

    /// The same flags for one of several environments.
    pub fn for_env(&self, env: &str) -> GlobalArgs {
        GlobalArgs {
            envs: vec![env.to_string()],
            ..self.clone()
        }
    }

    /// What these flags say about the project to load: directory, the one environment,
    /// `--var` values, `--ref` overrides, `--offline` and `--force-conflicts`. Fails on a
    /// `--var` or `--ref` without `=`, or on several `--env`.
    pub fn load_options(&self) -> Result<LoadOptions, Diagnostics> {
        let mut vars = Vec::new();
        for v in &self.vars {
            let Some((name, value)) = v.split_once('=') else {
                return Err(Diagnostic::error(
                    "Invalid --var",
                    format!("--var takes NAME=VALUE, but got \"{v}\"."),
                )
                .into());
            };
            vars.push((name.trim().to_string(), value.to_string()));
        }
        Ok(LoadOptions {
            dir: self.dir.clone(),
            env: self.single_env()?,
            vars,
            var_files: self.var_files.clone(),
            allow_missing_variables: false,
            fixed_variables: Default::default(),
            force_conflicts: self.force_conflicts,
            sources: SourceOptions {
                refs: self.ref_overrides()?,
                pins: Default::default(),
                offline: self.offline,
            },
            state_acceptance: crate::state_guard::StateAcceptance {
                new_state: self.new_state,
                older_state: self.accept_older_state,
            },
        })
    }

    /// `--ref SOURCE=REF`, once per source (whether the source exists and is a git source
    /// is checked when sources are loaded).
    fn ref_overrides(&self) -> Result<BTreeMap<String, String>, Diagnostics> {
        let mut refs = BTreeMap::new();
        for r in &self.refs {
            let Some((name, reference)) = r
                .split_once('=')
                .map(|(n, v)| (n.trim(), v.trim()))
                .filter(|(n, v)| !n.is_empty() && !v.is_empty())
            else {
                return Err(Diagnostic::error(
                    "Invalid --ref",
                    format!("--ref takes SOURCE=REF (a branch, tag or commit), as in --ref apps=v1.4.0, but got \"{r}\"."),
                )
                .into());
            };
            if refs
                .insert(name.to_string(), reference.to_string())
                .is_some()
            {
                return Err(Diagnostic::error(
                    "Duplicate --ref",
                    format!(
                        "--ref sets the ref of source \"{name}\" more than once; give it once."
                    ),
                )
                .into());
            }
        }
        Ok(refs)
    }
}

/// What every command gets: the flags, the output object, the providers on offer and the
/// token that Ctrl-C / SIGTERM raise.
pub struct Context {
    /// The global flags.
    pub global: GlobalArgs,
    /// Where output goes.
    pub shell: Shell,
    /// The providers commands may use.
    pub registry: ProviderRegistry,
    /// Raised by the first SIGINT or SIGTERM.
    pub cancel: CancelToken,
    /// Which signal raised `cancel`: 2 or 15.
    pub signal: Arc<std::sync::atomic::AtomicI32>,
    /// Whether a signal now stops gracefully (set once state is being written: changes in
    /// flight finish and the lock is released) rather than ending the process at once
    /// (reading, planning: nothing to lose).
    pub graceful: Arc<std::sync::atomic::AtomicBool>,
}

/// The command is over and the process exits next: providers and state shut down as
/// usual, but the configuration's memory is left to the operating system. Freeing the
/// structures of 100,000 resources piece by piece takes half a second that nobody waits
/// for; the workspace holds plain data only (no open files, locks or processes).
pub(crate) fn release(prepared: Prepared) {
    let Prepared {
        ws,
        providers,
        store,
    } = prepared;
    drop(providers);
    drop(store);
    std::mem::forget(ws);
}

/// Like [`release`], for what a command made and has shown (a plan, an apply's outcome):
/// plain data, left to the operating system. Never pass anything that owns a file, a lock,
/// a connection or a process.
pub(crate) fn release_data<T>(value: T) {
    std::mem::forget(value);
}

impl Context {
    /// Loads the configuration, opens state and configures every provider in use;
    /// warnings go to stderr.
    pub async fn prepare(&self) -> Result<Prepared, Diagnostics> {
        self.prepare_with(&self.global.load_options()?).await
    }

    /// [`prepare`](Self::prepare) with load options the command adjusted.
    pub async fn prepare_with(&self, options: &LoadOptions) -> Result<Prepared, Diagnostics> {
        let prepared = crate::ops::prepare(&self.registry, options).await?;
        self.shell.diagnostics(&prepared.ws.warnings);
        Ok(prepared)
    }

    /// From here on a signal lets the work finish cleanly instead of ending the process.
    pub fn stop_gracefully(&self) {
        self.graceful
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// The exit code of a run that was interrupted: 130 for SIGINT, 143 for SIGTERM.
    pub fn interrupted_code(&self) -> i32 {
        match self.signal.load(std::sync::atomic::Ordering::SeqCst) {
            15 => EXIT_TERMINATED,
            _ => EXIT_INTERRUPTED,
        }
    }
}

/// The keys to open an encrypted saved plan with: the state encryption of the environment
/// `--env` selects when braid.hcl can be read, else `None` (the age identities of the
/// process are then tried).
pub fn plan_keyring(cx: &Context) -> Option<std::sync::Arc<braid_keys::Keyring>> {
    let options = cx.global.load_options().ok()?;
    let project = crate::config::load_project(&options.dir).ok()?;
    let env = crate::workspace::select_environment(&project, options.env.as_deref()).ok()?;
    crate::workspace::state_keyring(project.environment(&env)).ok()?
}

/// On SIGINT or SIGTERM: before anything is written, ends the process at once (exit 130 or
/// 143); once state is being written, raises `cancel` so changes in flight finish and are
/// recorded, saying so; a second signal then ends the process at once.
fn watch_signals(cx: &Context) {
    let shell = cx.shell.clone();
    let cancel = cx.cancel.clone();
    let signal = Arc::clone(&cx.signal);
    let graceful = Arc::clone(&cx.graceful);
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal as unix_signal};
            let (Ok(mut interrupt), Ok(mut terminate)) = (
                unix_signal(SignalKind::interrupt()),
                unix_signal(SignalKind::terminate()),
            ) else {
                return;
            };
            loop {
                let number = tokio::select! {
                    _ = interrupt.recv() => 2,
                    _ = terminate.recv() => 15,
                };
                if !graceful.load(std::sync::atomic::Ordering::SeqCst) {
                    shell.err("\nInterrupted: nothing was written.\n");
                    std::process::exit(128 + number);
                }
                if cancel.is_cancelled() {
                    shell.err("\nSecond interrupt: stopping now. Changes in flight may not be recorded; the next plan finds them by refresh.\n");
                    std::process::exit(128 + number);
                }
                signal.store(number, std::sync::atomic::Ordering::SeqCst);
                tracing::warn!(signal = number, "interrupt received");
                shell.err("\nInterrupt received: stopping cleanly. Changes in flight finish and are recorded, nothing new starts, the lock is released. Interrupt again to stop at once.\n");
                cancel.cancel();
            }
        }
        #[cfg(not(unix))]
        {
            let _ = (&shell, &graceful);
            if tokio::signal::ctrl_c().await.is_ok() {
                signal.store(2, std::sync::atomic::Ordering::SeqCst);
                cancel.cancel();
            }
        }
    });
}

/// Runs the parsed command line and returns the process exit code.
pub async fn run(cli: Cli) -> i32 {
    let shell = cli.global.shell();
    shell.init_logging();
    let cx = Context {
        global: cli.global.clone(),
        shell: shell.clone(),
        registry: builtin_providers(),
        cancel: CancelToken::new(),
        signal: Arc::new(std::sync::atomic::AtomicI32::new(0)),
        graceful: Arc::new(std::sync::atomic::AtomicBool::new(false)),
    };
    watch_signals(&cx);
    // The agent's work is to run until stopped: a signal ends it with success.
    let stops_on_signal = matches!(cli.command, Command::Agent(_) | Command::Serve(_));
    let result = match cli.command {
        Command::Init(args) => init::run(&cx, &args).await,
        Command::Validate => validate::run(&cx).await,
        Command::Plan(args) => plan::run(&cx, &args).await,
        Command::Apply(args) => apply::run(&cx, &args).await,
        Command::Destroy(args) => apply::destroy(&cx, &args).await,
        Command::Show(args) => show::run(&cx, &args).await,
        Command::Graph => graph::run(&cx),
        Command::State(command) => state::run(&cx, command).await,
        Command::Sops(command) => sops::run(&cx, command).await,
        Command::Promote(args) => promote::run(&cx, &args).await,
        Command::ForceUnlock(args) => unlock::run(&cx, &args).await,
        Command::Drift(args) => drift::run(&cx, &args).await,
        Command::History(args) => history::run(&cx, &args).await,
        Command::Rollback(args) => rollback::run(&cx, &args).await,
        Command::Output(args) => output::run(&cx, &args).await,
        Command::Console => console::run(&cx).await,
        Command::Fmt(args) => fmt::run(&cx, &args),
        Command::Providers => providers::run(&cx).await,
        Command::Agent(args) => agent::run(&cx, &args).await,
        Command::Status(args) => status::run(&cx, &args).await,
        Command::Serve(args) => agent::serve(&cx, &args).await,
        Command::Version => version::version(&cx),
        Command::Completion(args) => version::completion(&args),
        Command::Man(args) => version::man(&cx, &args),
        Command::EnvironmentNames => version::environment_names(&cx),
    };
    tracing::info!(rss_mb = crate::diag::resident_mb(), "command done");
    match result {
        Ok(code) if stops_on_signal => code,
        Ok(_) if cx.cancel.is_cancelled() => cx.interrupted_code(),
        Ok(code) => code,
        Err(diags) => {
            shell.diagnostics(&diags);
            if cx.cancel.is_cancelled() {
                cx.interrupted_code()
            } else {
                EXIT_ERROR
            }
        }
    }
}

#[cfg(test)]
mod terraform_style_tests {
    use super::terraform_style_args;

    #[test]
    fn one_dash_terraform_flags_become_two_dash_flags() {
        let args = [
            "braid",
            "plan",
            "-target=local_file.a",
            "-var-file",
            "x.tfvars",
            "-v",
            "-C",
            "dir",
            "--",
            "-target",
        ];
        let out: Vec<String> = terraform_style_args(args.iter().map(Into::into))
            .into_iter()
            .map(|a| a.into_string().unwrap_or_default())
            .collect();
        assert_eq!(
            out,
            [
                "braid",
                "plan",
                "--target=local_file.a",
                "--var-file",
                "x.tfvars",
                "-v",
                "-C",
                "dir",
                "--",
                "-target"
            ]
        );
    }
}

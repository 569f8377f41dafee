//! The command line: flags parsed with clap, each subcommand in its own file calling the
//! engine and handing results to `view`.

mod apply;
mod drift;
mod graph;
mod history;
mod init;
mod locking;
mod plan;
mod rollback;
mod show;
mod state;
mod state_edit;
mod unlock;
mod validate;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::diag::{Diagnostic, Diagnostics};
use crate::source::SourceOptions;
use crate::view::{Format, Style, diagnostic};
use crate::workspace::LoadOptions;

/// Exit codes (DESIGN §9).
pub const EXIT_OK: i32 = 0;
pub const EXIT_ERROR: i32 = 1;
/// Success with changes (or drift) pending, with --detailed-exitcode.
pub const EXIT_CHANGES: i32 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "braid",
    version,
    about = "Plan and apply infrastructure and Kubernetes manifests from git, as one graph"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

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
    /// Output format.
    #[arg(long, global = true, value_enum, default_value = "human")]
    pub format: Format,
    /// Never use colours.
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Print less.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print more.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// How long a write waits for the environment's lock held by someone else (0 = fail
    /// at once; 30s, 5m...).
    #[arg(long, global = true, value_name = "DURATION", default_value = "0")]
    pub lock_timeout: String,
    /// Take over the lock when its holder stopped renewing its heartbeat (it died).
    #[arg(long, global = true)]
    pub steal_stale_lock: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Prepare the working directory: check the configuration and create the state.
    Init,
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
    /// Remove a stuck lock.
    ForceUnlock(unlock::ForceUnlockArgs),
    /// Compare state with the live objects only; exit 2 when anything drifted.
    Drift(drift::DriftArgs),
    /// The audit log: applies, who ran them, from which commits, and what they changed.
    History(history::HistoryArgs),
    /// Apply again what an earlier apply deployed (its git sources at their recorded commits).
    Rollback(rollback::RollbackArgs),
}

/// What a command leaves behind: an exit code, or diagnostics to show (exit 1).
pub type CommandResult = Result<i32, Diagnostics>;

impl GlobalArgs {
    pub fn style(&self) -> Style {
        Style::detect(self.no_color)
    }

    /// The one environment a command works on; several `--env` are for `plan` only.
    pub fn single_env(&self) -> Result<Option<String>, Diagnostics> {
        match self.envs.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.clone())),
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
            allow_missing_variables: false,
            fixed_variables: Default::default(),
            force_conflicts: self.force_conflicts,
            sources: SourceOptions {
                refs: self.ref_overrides()?,
                pins: Default::default(),
                offline: self.offline,
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

/// Runs the parsed command line and returns the process exit code.
pub async fn run(cli: Cli) -> i32 {
    let global = cli.global.clone();
    let result = match cli.command {
        Command::Init => init::run(&global).await,
        Command::Validate => validate::run(&global),
        Command::Plan(args) => plan::run(&global, &args).await,
        Command::Apply(args) => apply::run(&global, &args).await,
        Command::Destroy(args) => apply::destroy(&global, &args).await,
        Command::Show(args) => show::run(&global, &args).await,
        Command::Graph => graph::run(&global),
        Command::State(command) => state::run(&global, command).await,
        Command::ForceUnlock(args) => unlock::run(&global, &args).await,
        Command::Drift(args) => drift::run(&global, &args).await,
        Command::History(args) => history::run(&global, &args).await,
        Command::Rollback(args) => rollback::run(&global, &args).await,
    };
    match result {
        Ok(code) => code,
        Err(diags) => {
            print_diagnostics(&global, &diags);
            EXIT_ERROR
        }
    }
}

/// Diagnostics go to stderr: as text, or one JSON object per line with --format json.
pub fn print_diagnostics(global: &GlobalArgs, diags: &Diagnostics) {
    let mut err = std::io::stderr().lock();
    let style = Style::detect(global.no_color);
    for d in &diags.0 {
        if global.quiet && !d.is_error() {
            continue;
        }
        let _ = match global.format {
            Format::Json => writeln!(err, "{}", diagnostic::to_json(d)),
            _ => writeln!(err, "{}", diagnostic::render(d, style)),
        };
    }
}

/// Prints to stdout, ignoring a closed pipe (`braid plan | head`).
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// A workspace with its state store and configured providers: what plan and apply need.
pub struct Prepared {
    pub ws: crate::workspace::Workspace,
    pub providers: crate::providers::Providers,
    pub store: std::sync::Arc<dyn braid_state::StateStore>,
}

/// Loads the configuration, opens state and configures every provider in use.
pub async fn prepare(global: &GlobalArgs) -> Result<Prepared, Diagnostics> {
    prepare_with(global, global.load_options()?).await
}

pub async fn prepare_with(
    global: &GlobalArgs,
    options: LoadOptions,
) -> Result<Prepared, Diagnostics> {
    let ws = crate::workspace::Workspace::load(&options)?;
    print_diagnostics(global, &ws.warnings);
    let store = ws.open_state()?;
    let records = store
        .resources()
        .await
        .map_err(crate::plan::planner::state_error)?;
    let providers = ws.providers(records.into_iter().map(|r| r.provider))?;
    ws.configure(&providers).await?;
    Ok(Prepared {
        ws,
        providers,
        store,
    })
}

/// Asks a yes/no question on the terminal. Without a terminal there is nobody to ask, so
/// the caller's flag (`--auto-approve`) must be used instead.
pub fn confirm(question: &str, flag: &str) -> Result<bool, Diagnostics> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return Err(Diagnostic::error(
            "Confirmation needed",
            format!("{question} needs a yes on a terminal, and there is none (CI?). Pass {flag} to go ahead without asking."),
        )
        .into());
    }
    out(&format!(
        "\n{question}\n  Only 'yes' will be accepted.\n\n  Enter a value: "
    ));
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Diagnostics::from(Diagnostic::error("Cannot read answer", e.to_string())))?;
    Ok(answer.trim() == "yes")
}

//! `braid version`, `braid completion SHELL` and the hidden helpers the release packaging and
//! the completion scripts call: `braid man --out-dir DIR` and `braid __envs`.

use std::path::PathBuf;

use clap::{Args, CommandFactory, ValueEnum};
use serde::Serialize;

use super::{Cli, CommandResult, Context, EXIT_OK};
use crate::diag::Diagnostic;
use crate::view::Format;

/// The version line of `--version`, and its long form.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("BRAID_BUILD_COMMIT"),
    ", built ",
    env!("BRAID_BUILD_DATE"),
    ", ",
    env!("BRAID_BUILD_TARGET"),
    ")"
);

/// The Terraform language version whose semantics braid follows (functions, expressions,
/// meta-arguments), as checked against `terraform` itself.
pub const TERRAFORM_LANGUAGE: &str = "1.11";
/// The Terraform plugin protocol versions braid speaks to provider plugins.
pub const PLUGIN_PROTOCOLS: &[&str] = &["5", "6"];

/// What `braid version` reports.
#[derive(Debug, Serialize)]
pub struct VersionInfo {
    pub version: &'static str,
    pub commit: &'static str,
    pub build_date: &'static str,
    pub target: &'static str,
    /// Cargo features compiled in.
    pub features: Vec<&'static str>,
    /// Providers built into the binary (Terraform provider plugins come on top).
    pub providers: Vec<&'static str>,
    pub terraform_language: &'static str,
    pub plugin_protocols: &'static [&'static str],
    pub formats: Formats,
}

/// The versions of the files and objects braid reads and writes (docs/upgrading.md).
#[derive(Debug, Serialize)]
pub struct Formats {
    pub state_sqlite: i64,
    pub state_postgres: i64,
    pub state_s3: u32,
    pub state_dump: u32,
    pub plan: &'static str,
}

impl VersionInfo {
    pub fn current() -> VersionInfo {
        let versions = braid_state::format_versions();
        let mut features = Vec::new();
        let mut providers = vec!["kubernetes", "local"];
        if cfg!(feature = "aws") {
            features.push("aws");
            providers.insert(0, "aws");
        }
        VersionInfo {
            version: VERSION,
            commit: env!("BRAID_BUILD_COMMIT"),
            build_date: env!("BRAID_BUILD_DATE"),
            target: env!("BRAID_BUILD_TARGET"),
            features,
            providers,
            terraform_language: TERRAFORM_LANGUAGE,
            plugin_protocols: PLUGIN_PROTOCOLS,
            formats: Formats {
                state_sqlite: versions.sqlite,
                state_postgres: versions.postgres,
                state_s3: versions.s3,
                state_dump: versions.dump,
                plan: crate::plan::FORMAT_VERSION,
            },
        }
    }

    fn text(&self) -> String {
        format!(
            "braid {} (commit {}, built {}, {})\nfeatures: {}\nproviders built in: {}\nterraform language {}, plugin protocols {}\nformats: state sqlite {}, postgres {}, s3 {}, dump {}; plan files {}\n",
            self.version,
            self.commit,
            self.build_date,
            self.target,
            if self.features.is_empty() {
                "none".to_string()
            } else {
                self.features.join(", ")
            },
            self.providers.join(", "),
            self.terraform_language,
            self.plugin_protocols.join(" and "),
            self.formats.state_sqlite,
            self.formats.state_postgres,
            self.formats.state_s3,
            self.formats.state_dump,
            self.formats.plan,
        )
    }
}

/// `braid version`.
pub fn version(cx: &Context) -> CommandResult {
    let info = VersionInfo::current();
    match cx.shell.format() {
        Format::Json => cx.shell.json(&info),
        _ => cx.shell.out(&info.text()),
    }
    Ok(EXIT_OK)
}

/// The shells `braid completion` writes scripts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
}

/// `braid completion SHELL`.
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell to write the script for.
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

/// Completes `--env` with the environments of braid.hcl, asked of the braid being completed
/// (`__envs`), in the shells whose completion can call a program.
const BASH_ENVS: &str = r#"
# --env: the environments declared in braid.hcl of the project (-C DIR, else here).
_braid_complete() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"
    if [[ "$prev" == "--env" ]]; then
        local dir="." i
        for ((i = 1; i < COMP_CWORD - 1; i++)); do
            case "${COMP_WORDS[i]}" in
                -C|--dir) dir="${COMP_WORDS[i+1]}" ;;
            esac
        done
        local IFS=$'\n'
        COMPREPLY=($(compgen -W "$(command "${COMP_WORDS[0]}" -C "$dir" __envs 2>/dev/null)" -- "$cur"))
        return 0
    fi
    _braid "$@"
}
if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _braid_complete -o nosort -o bashdefault -o default braid
else
    complete -F _braid_complete -o bashdefault -o default braid
fi
"#;

const FISH_ENVS: &str = r#"
# --env: the environments declared in braid.hcl of the project (-C DIR, else here).
function __braid_envs
    set -l words (commandline -opc)
    set -l dir .
    for i in (seq 2 (math (count $words) - 1))
        if contains -- $words[$i] -C --dir
            set dir $words[(math $i + 1)]
        end
    end
    command $words[1] -C $dir __envs 2>/dev/null
end
complete -c braid -l env -x -a '(__braid_envs)'
"#;

pub fn completion(args: &CompletionArgs) -> CommandResult {
    let mut command = Cli::command();
    let mut script = Vec::new();
    let shell = match args.shell {
        CompletionShell::Bash => clap_complete::Shell::Bash,
        CompletionShell::Zsh => clap_complete::Shell::Zsh,
        CompletionShell::Fish => clap_complete::Shell::Fish,
        CompletionShell::Powershell => clap_complete::Shell::PowerShell,
        CompletionShell::Elvish => clap_complete::Shell::Elvish,
    };
    clap_complete::generate(shell, &mut command, "braid", &mut script);
    let mut script = without_hidden(&String::from_utf8_lossy(&script), args.shell);
    match args.shell {
        CompletionShell::Bash => script.push_str(BASH_ENVS),
        CompletionShell::Fish => script.push_str(FISH_ENVS),
        _ => {}
    }
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), script.as_bytes());
    Ok(EXIT_OK)
}

/// The hidden subcommands, which the completion generator offers like the others.
const HIDDEN: &[&str] = &["man", "__envs"];

/// `script` without the hidden subcommands offered: out of bash's word lists, and without
/// the lines that offer them in the other shells.
fn without_hidden(script: &str, shell: CompletionShell) -> String {
    let offers = |line: &str| {
        HIDDEN.iter().any(|name| match shell {
            CompletionShell::Bash => false,
            CompletionShell::Zsh => line.trim_start().starts_with(&format!("'{name}:")),
            CompletionShell::Fish => {
                line.contains(&format!("-a \"{name}\""))
                    || line.contains(&format!("__fish_braid_using_subcommand {name}"))
            }
            CompletionShell::Powershell => {
                line.contains(&format!("CompletionResult]::new('{name}'"))
            }
            CompletionShell::Elvish => line.trim_start().starts_with(&format!("cand {name} ")),
        })
    };
    let mut out = String::with_capacity(script.len());
    for line in script.lines() {
        if offers(line) {
            continue;
        }
        match line.split_once("opts=\"") {
            Some((indent, words)) if shell == CompletionShell::Bash => {
                let words = words.trim_end_matches('"');
                let kept: Vec<&str> = words
                    .split(' ')
                    .filter(|word| !HIDDEN.contains(word))
                    .collect();
                out.push_str(&format!("{indent}opts=\"{}\"", kept.join(" ")));
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// `braid man --out-dir DIR` (hidden): a man page for braid and each subcommand.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Where to write the pages (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
}

pub fn man(cx: &Context, args: &ManArgs) -> CommandResult {
    let failed = |e: std::io::Error| {
        Diagnostic::error(
            "Cannot write man pages",
            format!("{}: {e}.", args.out_dir.display()),
        )
    };
    std::fs::create_dir_all(&args.out_dir).map_err(failed)?;
    let mut command = Cli::command().version(VERSION);
    command.build();
    let mut written = Vec::new();
    write_pages(&command, "braid", &args.out_dir, &mut written).map_err(failed)?;
    cx.shell.detail(&format!(
        "wrote {} man pages to {}\n",
        written.len(),
        args.out_dir.display()
    ));
    for page in written {
        cx.shell.out(&format!("{page}\n"));
    }
    Ok(EXIT_OK)
}

fn write_pages(
    command: &clap::Command,
    name: &str,
    dir: &std::path::Path,
    written: &mut Vec<String>,
) -> std::io::Result<()> {
    let page = format!("{name}.1");
    let command = command.clone().name(name.to_string());
    let mut text = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut text)?;
    std::fs::write(dir.join(&page), text)?;
    written.push(page);
    // `help` subcommands repeat the pages they point to.
    for sub in command
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        write_pages(sub, &format!("{name}-{}", sub.get_name()), dir, written)?;
    }
    Ok(())
}

/// `braid __envs` (hidden): the environment names of braid.hcl, one per line, for shell
/// completion; nothing (and success) when there is no readable project.
pub fn environment_names(cx: &Context) -> CommandResult {
    if let Ok(project) = crate::config::load_project(&cx.global.dir) {
        for env in &project.environments {
            cx.shell.out(&format!("{}\n", env.name));
        }
    }
    Ok(EXIT_OK)
}

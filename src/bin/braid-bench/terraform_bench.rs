//! braid and `terraform` side by side: the same configuration of N resources served by the
//! same `terraform-provider-aws` against moto, each tool against a fresh `moto_server`.
//! Phases: apply from nothing (one process run each), then a no-op plan (which refreshes
//! every object through the plugin). Both tools run as users run them, from the command line.

use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `moto_server` on a free port, killed when dropped.
struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    fn start() -> Result<Moto, String> {
        let binary = moto_server()?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err("moto_server did not start within 60 s".to_string());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(moto)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `BRAID_MOTO_SERVER`, the venv scripts/test.sh makes, or `moto_server` on PATH.
fn moto_server() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("BRAID_MOTO_SERVER") {
        return Ok(PathBuf::from(path));
    }
    if let Some(home) = std::env::var_os("HOME") {
        let venv = PathBuf::from(home).join(".cache/braid-venv/bin/moto_server");
        if venv.is_file() {
            return Ok(venv);
        }
    }
    Ok(PathBuf::from("moto_server"))
}

/// The filesystem mirror holding hashicorp/aws 5.100.0: `BRAID_TF_PLUGIN_DIR` or
/// `/opt/tf-plugins`.
fn mirror() -> Result<PathBuf, String> {
    let dir = std::env::var_os("BRAID_TF_PLUGIN_DIR")
        .map_or_else(|| PathBuf::from("/opt/tf-plugins"), PathBuf::from);
    if dir
        .join("registry.terraform.io/hashicorp/aws/5.100.0")
        .is_dir()
    {
        Ok(dir)
    } else {
        Err(format!(
            "terraform-provider-aws 5.100.0 is not in a filesystem mirror at {} (set BRAID_TF_PLUGIN_DIR)",
            dir.display()
        ))
    }
}

/// N resources: N/2 log groups and N/2 SSM parameters, each parameter holding its log
/// group's ARN (so half the graph depends on the other half).
fn configuration(n: usize, endpoint: &str) -> String {
    let half = (n / 2).max(1);
    format!(
        r#"terraform {{
  required_providers {{
    aws = {{
      source  = "hashicorp/aws"
      version = "5.100.0"
    }}
  }}
}}

provider "aws" {{
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {{
    logs = "{endpoint}"
    ssm  = "{endpoint}"
    sts  = "{endpoint}"
  }}
}}

resource "aws_cloudwatch_log_group" "bench" {{
  count             = {half}
  name              = "bench-${{count.index}}"
  retention_in_days = 7
  tags              = {{ index = count.index }}
}}

resource "aws_ssm_parameter" "bench" {{
  count = {half}
  name  = "/bench/${{count.index}}"
  type  = "String"
  value = aws_cloudwatch_log_group.bench[count.index].arn
}}
"#
    )
}

fn timed(mut command: Command, what: &str, ok_codes: &[i32]) -> Result<Duration, String> {
    let start = Instant::now();
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: cannot run: {e}"))?;
    let elapsed = start.elapsed();
    let code = out.status.code().unwrap_or(-1);
    if !ok_codes.contains(&code) {
        return Err(format!(
            "{what} exited with {code}:\n{}{}",
            tail(&out.stdout),
            tail(&out.stderr)
        ));
    }
    Ok(elapsed)
}

fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n") + "\n"
}

struct Row {
    tool: String,
    apply: Duration,
    noop: Duration,
}

fn terraform(dir: &Path, rc: &Path, parallelism: usize) -> Result<Row, String> {
    let command = |args: &[&str]| {
        let mut c = Command::new("terraform");
        c.current_dir(dir)
            .env("TF_CLI_CONFIG_FILE", rc)
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .args(args);
        c
    };
    timed(command(&["init", "-input=false"]), "terraform init", &[0])?;
    let p = format!("-parallelism={parallelism}");
    let apply = timed(
        command(&["apply", "-auto-approve", "-input=false", &p]),
        "terraform apply",
        &[0],
    )?;
    let noop = timed(
        command(&["plan", "-detailed-exitcode", "-input=false", &p]),
        "terraform plan (expected no changes)",
        &[0],
    )?;
    Ok(Row {
        tool: format!("terraform 1.11 (-parallelism={parallelism})"),
        apply,
        noop,
    })
}

fn braid(dir: &Path, rc: &Path) -> Result<Row, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let braid = exe.with_file_name("braid");
    if !braid.is_file() {
        return Err(format!(
            "{} is missing: build it first (cargo build --release --bins)",
            braid.display()
        ));
    }
    std::fs::write(
        dir.join("braid.hcl"),
        "source \"infra\" { path = \".\" }\nenvironment \"bench\" {}\n",
    )
    .map_err(|e| e.to_string())?;
    let command = |args: &[&str]| {
        let mut c = Command::new(&braid);
        c.current_dir(dir)
            .env("TF_CLI_CONFIG_FILE", rc)
            .args(["--env", "bench", "--no-color"])
            .args(args);
        c
    };
    timed(command(&["init"]), "braid init", &[0])?;
    let apply = timed(command(&["apply", "--auto-approve"]), "braid apply", &[0])?;
    let noop = timed(
        command(&["plan", "--detailed-exitcode"]),
        "braid plan (expected no changes)",
        &[0],
    )?;
    Ok(Row {
        tool: "braid (--parallelism 16, its default)".to_string(),
        apply,
        noop,
    })
}

/// Runs the comparison at `n` resources and returns a Markdown table; with `check`, fails
/// unless braid is at least 3× faster than terraform's default run in both phases.
pub fn run(n: usize, check: bool) -> Result<String, String> {
    let mirror = mirror()?;
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let rc = work.path().join("terraform.rc");
    std::fs::write(
        &rc,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path = \"{}\"\n  }}\n}}\n",
            mirror.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for run in 0..3 {
        let moto = Moto::start()?;
        let dir = work.path().join(format!("run{run}"));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        std::fs::write(
            dir.join("main.tf"),
            configuration(n, &format!("http://127.0.0.1:{}", moto.port)),
        )
        .map_err(|e| e.to_string())?;
        rows.push(match run {
            0 => terraform(&dir, &rc, 10)?,
            1 => terraform(&dir, &rc, 16)?,
            _ => braid(&dir, &rc)?,
        });
    }
    let mut table = format!(
        "| {n} resources, terraform-provider-aws 5.100.0 against moto | apply | no-op plan |\n|---|---:|---:|\n"
    );
    for row in &rows {
        let _ = writeln!(
            table,
            "| {} | {:.2} s | {:.2} s |",
            row.tool,
            row.apply.as_secs_f64(),
            row.noop.as_secs_f64()
        );
    }
    let (tf, ours) = (&rows[0], &rows[2]);
    let apply_x = tf.apply.as_secs_f64() / ours.apply.as_secs_f64();
    let noop_x = tf.noop.as_secs_f64() / ours.noop.as_secs_f64();
    let _ = writeln!(
        table,
        "\nbraid vs terraform's default: apply {apply_x:.1}× faster, no-op plan {noop_x:.1}× faster"
    );
    if check && (apply_x < 3.0 || noop_x < 3.0) {
        return Err(format!(
            "{table}braid is not 3× faster than terraform in both phases"
        ));
    }
    Ok(table)
}

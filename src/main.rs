use clap::Parser;

/// mimalloc rather than the system allocator: braid allocates many small values (a large
/// plan makes millions), and its threads (configuration parsing, the async runtime) would
/// otherwise each keep an arena of freed memory the others cannot reuse.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = match braid::cli::Cli::try_parse_from(braid::cli::terraform_style_args(
        std::env::args_os(),
    )) {
        Ok(cli) => cli,
        Err(e) => {
            // clap exits 2 on a usage error, but under --detailed-exitcode 2 means "changes
            // pending": a bad flag must never read as that. --help and --version print on
            // stdout and succeed as before.
            let code = if e.use_stderr() {
                braid::cli::EXIT_ERROR
            } else {
                0
            };
            // Printing can fail only if the terminal is gone; the exit code still tells.
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            cli.global
                .shell()
                .err(&format!("error: cannot start the async runtime: {e}\n"));
            std::process::exit(braid::cli::EXIT_ERROR);
        }
    };
    let code = runtime.block_on(braid::cli::run(cli));
    std::process::exit(code);
}

use clap::Parser;

fn main() {
    let cli = braid::cli::Cli::parse();
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

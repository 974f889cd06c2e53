use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = widiag::cli::args::Cli::parse();
    match widiag::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("widiag: {e:#}");
            ExitCode::from(widiag::cli::EXIT_USAGE)
        }
    }
}

use std::process::ExitCode;

use clap::Parser;

// Analysis allocates a report of small strings per pod; mimalloc halves its time (docs/perf.md).
// Set in the binary, not the library: the fuzz targets and other users of the library choose their own.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = widiag::cli::args::Cli::parse();
    match widiag::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            // Errors quote the cluster and services (messages, names): shown, not obeyed.
            eprintln!("widiag: {}", widiag::output::safe::text(&format!("{e:#}")));
            ExitCode::from(widiag::cli::EXIT_USAGE)
        }
    }
}

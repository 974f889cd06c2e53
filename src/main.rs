use std::process::ExitCode;

use clap::Parser;

// Analysis allocates a report of small strings per pod; mimalloc halves its time (docs/perf.md).
// Set here, not in the library, so fuzz targets keep the allocator their sanitizers watch.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

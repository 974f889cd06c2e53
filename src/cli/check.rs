//! `widiag check`: the headless report in text, JSON, JUnit or SARIF, and its exit code.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use super::args::{CheckArgs, ColorWhen, FailOn, OutputFormat};
use super::{EXIT_FINDINGS, EXIT_OK, scope};
use crate::analysis::{self, Catalog, Status};
use crate::output;
use crate::world::manifests::Origins;

pub fn check(args: &CheckArgs) -> Result<ExitCode> {
    if args.all_contexts || !args.contexts.is_empty() {
        return super::fleet::fleet(args);
    }
    let manifests = if args.filenames.is_empty() {
        None
    } else {
        let namespace = super::manifests::namespace(&args.scope)?;
        Some(std::sync::Arc::new(super::manifests::read(
            &args.filenames,
            &namespace,
        )?))
    };
    let a = scope::analyse_with(&args.scope, manifests.as_ref())?;
    let threshold = threshold(args.fail_on);
    let origins = manifests.as_deref().map(|m| &m.origins);
    print_report(
        &a.report,
        &a.catalog,
        args.output,
        args.color,
        threshold,
        origins,
    )?;
    // A bundle's recorded chains are of its own pods, not of manifests applied over it.
    if let Some(recorded) = a.world.recorded.as_ref().filter(|_| manifests.is_none()) {
        let mut err = anstream::stderr();
        for d in crate::bundle::replay::differences(recorded, &a.report) {
            writeln!(err, "note: the bundle's writer saw it otherwise: {d}")?;
        }
    }
    let failed = threshold.is_some_and(|t| a.report.verdict() >= t);
    Ok(ExitCode::from(if failed { EXIT_FINDINGS } else { EXIT_OK }))
}

pub fn print_report(
    report: &analysis::Report,
    catalog: &Catalog,
    output: OutputFormat,
    color: ColorWhen,
    fail_at: Option<Status>,
    origins: Option<&Origins>,
) -> Result<()> {
    let rendered = match output {
        OutputFormat::Json => output::json::render(report),
        OutputFormat::Junit => output::junit::render(report, fail_at),
        OutputFormat::Sarif => output::sarif::render_at(report, catalog, origins),
        OutputFormat::Text => output::text::render(report, &palette(color)),
    };
    std::io::stdout().lock().write_all(rendered.as_bytes())?;
    Ok(())
}

/// Colour on a terminal unless NO_COLOR; `--color` overrides.
pub fn palette(color: ColorWhen) -> output::text::Palette {
    let color = match color {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
        }
    };
    output::text::Palette::new(color)
}

/// `--fail-on` as the status that fails.
pub fn threshold(fail_on: FailOn) -> Option<Status> {
    match fail_on {
        FailOn::Fail => Some(Status::Fail),
        FailOn::Warn => Some(Status::Warn),
        FailOn::Unknown => Some(Status::Unknown),
        FailOn::Never => None,
    }
}

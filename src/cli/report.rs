//! `widiag report`: the support handoff. A bundle (a world file that replays offline),
//! Markdown or HTML, written whole or not at all.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::args::{ReportArgs, ReportFormat};
use super::{EXIT_OK, scope};
use crate::bundle::{self, Bundle};
use crate::output;

pub fn report(args: &ReportArgs) -> Result<ExitCode> {
    let a = scope::analyse(&args.scope)?;
    let b = bundle::build(&a.world, &a.catalog, &a.options, args.redact_names)?;
    let text = render(&b, args.format)?;
    let path = args
        .out
        .clone()
        .unwrap_or_else(|| default_path(&b, args.format));
    if path.as_os_str() == "-" {
        std::io::stdout().lock().write_all(text.as_bytes())?;
        return Ok(ExitCode::from(EXIT_OK));
    }
    write_whole(&path, &text)?;
    let mut err = anstream::stderr();
    writeln!(
        err,
        "wrote {} ({} pod(s){}{})",
        path.display(),
        b.report.pods.len(),
        if b.redacted_names {
            ", names redacted"
        } else {
            ""
        },
        if b.whole_world {
            "; the whole world was kept because the pods' part alone did not replay the same"
        } else {
            ""
        }
    )?;
    Ok(ExitCode::from(EXIT_OK))
}

pub fn render(b: &Bundle, format: ReportFormat) -> Result<String> {
    Ok(match format {
        ReportFormat::Bundle => output::bundle::render(b)?,
        ReportFormat::Markdown => output::markdown::render(&output::handoff::gather(b)),
        ReportFormat::Html => output::html::render(&output::handoff::gather(b)),
    })
}

/// `widiag-report-NS-POD.EXT` for one pod, `widiag-report.EXT` for several.
pub fn default_path(b: &Bundle, format: ReportFormat) -> PathBuf {
    let stem = match b.report.pods.as_slice() {
        [one] => output::bundle::file_stem(&one.pod),
        _ => "widiag-report".into(),
    };
    PathBuf::from(format!("{stem}.{}", format.extension()))
}

/// Writes beside the target and renames, so a failure never leaves half a report.
pub fn write_whole(path: &Path, text: &str) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().context("the report path names no file")?;
    let tmp = dir.join(format!(".{}.partial", name.to_string_lossy()));
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}", path.display())
    })
}

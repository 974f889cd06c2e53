//! `check --all-contexts` / `--contexts a,b`: each cluster read and analysed on its own thread
//! (a few at a time), one fleet report. A cluster that cannot be read is reported, not fatal.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Result, bail};

use super::args::{CheckArgs, OutputFormat};
use super::check::{palette, threshold};
use super::{EXIT_FINDINGS, EXIT_OK, scope};
use crate::analysis::fleet::{ClusterOutcome, Fleet};
use crate::output;

/// Clusters read at once: each has its own runtime and connections.
const AT_ONCE: usize = 4;

pub fn fleet(args: &CheckArgs) -> Result<ExitCode> {
    let contexts = if args.all_contexts {
        crate::collect::kube::contexts(args.scope.live.kubeconfig.as_deref())?
    } else {
        args.contexts.clone()
    };
    if contexts.is_empty() {
        bail!("the kubeconfig names no context");
    }
    let mut clusters = Vec::with_capacity(contexts.len());
    for batch in contexts.chunks(AT_ONCE) {
        let done: Vec<ClusterOutcome> = std::thread::scope(|s| {
            let handles: Vec<_> = batch
                .iter()
                .map(|ctx| {
                    let mut scope_args = args.scope.clone();
                    scope_args.live.context = Some(ctx.clone());
                    let ctx = ctx.clone();
                    s.spawn(move || ClusterOutcome {
                        result: scope::analyse(&scope_args)
                            .map(|a| a.report)
                            .map_err(|e| format!("{e:#}")),
                        context: ctx,
                    })
                })
                .collect();
            handles
                .into_iter()
                .zip(batch)
                .map(|(h, ctx)| {
                    h.join().unwrap_or_else(|_| ClusterOutcome {
                        context: ctx.clone(),
                        result: Err("widiag failed while reading this cluster".into()),
                    })
                })
                .collect()
        });
        clusters.extend(done);
    }
    let fleet = Fleet { clusters };
    let text = match args.output {
        OutputFormat::Json => output::fleet::render_json(&fleet),
        OutputFormat::Text => output::fleet::render_text(&fleet, &palette(args.color)),
        other => bail!("--output {other:?} takes one cluster; use text or json with a fleet"),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    let failed = threshold(args.fail_on).is_some_and(|t| fleet.verdict() >= t);
    Ok(ExitCode::from(if failed { EXIT_FINDINGS } else { EXIT_OK }))
}

//! `check -f`: reads manifest files, directories and stdin for `world::manifests`.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::args::ScopeArgs;
use crate::world::manifests::{self, Manifests};
use crate::world::parse::{MAX_WORLD_BYTES, Source};

/// The namespace objects without one go to: `-n`, else (live) the kubeconfig context's, as
/// `kubectl apply` takes it, else `default`.
pub fn namespace(scope: &ScopeArgs) -> Result<String> {
    if let Some(ns) = &scope.namespace {
        return Ok(ns.clone());
    }
    if !scope.worlds.is_empty() {
        return Ok("default".into());
    }
    let target = crate::collect::KubeTarget {
        kubeconfig: scope.live.kubeconfig.clone(),
        context: scope.live.context.clone(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(rt.block_on(crate::collect::kube::context_namespace(&target))?)
}

/// Every manifest `paths` name, read and parsed; namespaced objects without one get `namespace`.
pub fn read(paths: &[PathBuf], namespace: &str) -> Result<Manifests> {
    let mut files = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            files.push(("<stdin>".to_string(), stdin()?));
        } else if p.is_dir() {
            for f in files_under(p)? {
                files.push((display(&f), text(&f)?));
            }
        } else {
            files.push((display(p), text(p)?));
        }
    }
    if files.is_empty() {
        bail!(
            "-f: no .yaml, .yml or .json file under {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let sources: Vec<Source<'_>> = files
        .iter()
        .map(|(name, text)| Source { name, text })
        .collect();
    let m = manifests::read(&sources, namespace)?;
    if m.subjects().is_empty() {
        bail!(
            "-f: the manifests hold no Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob or ReplicaSet"
        );
    }
    Ok(m)
}

/// Manifest files under `dir`, recursively, in path order. Hidden entries (`.git`, editors'
/// files) and `kustomization.yaml` (kustomize's input, not a manifest) are skipped; only regular
/// files are read: a symbolic link, FIFO or device under a checkout could point anywhere or
/// never end.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d)
            .with_context(|| format!("cannot read directory {}", d.display()))?;
        for e in entries {
            let e = e.with_context(|| format!("cannot read directory {}", d.display()))?;
            let path = e.path();
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.')
                || name.eq_ignore_ascii_case("kustomization.yaml")
                || name.eq_ignore_ascii_case("kustomization.yml")
            {
                continue;
            }
            // file_type() does not follow symbolic links.
            let kind = e
                .file_type()
                .with_context(|| format!("cannot read {}", path.display()))?;
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file()
                && path
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The path as given with `/` separators, relative to the working directory when it lies
/// under it: SARIF takes a relative path as a URI against the checkout.
fn display(p: &Path) -> String {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| p.strip_prefix(cwd).ok().map(Path::to_path_buf));
    let s = relative
        .as_deref()
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

/// A manifest file's text, at most [`MAX_WORLD_BYTES`] of it: a file named on the command line
/// may be anything, so it must be a regular file, and the read is bounded whatever its size says.
fn text(p: &Path) -> Result<String> {
    let file =
        std::fs::File::open(p).with_context(|| format!("cannot read manifest {}", p.display()))?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read manifest {}", p.display()))?;
    if !meta.is_file() {
        bail!("{}: not a regular file", p.display());
    }
    bounded(file, &p.display().to_string())
}

/// Reads at most one byte more than a manifest may have, to tell "too large" apart.
fn bounded(from: impl Read, name: &str) -> Result<String> {
    let mut text = String::new();
    from.take(MAX_WORLD_BYTES as u64 + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read manifest {name} (not UTF-8 text?)"))?;
    if text.len() > MAX_WORLD_BYTES {
        bail!("{name}: more than the {MAX_WORLD_BYTES} bytes a manifest file may have");
    }
    Ok(text)
}

fn stdin() -> Result<String> {
    bounded(std::io::stdin().lock(), "stdin")
}

//! `check -f`: reads manifest files, directories and stdin for `world::manifests`.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::world::manifests::{self, Manifests};
use crate::world::parse::{MAX_WORLD_BYTES, Source};

/// Every manifest `paths` name, read and parsed; namespaced objects without one get `namespace`.
pub fn read(paths: &[PathBuf], namespace: &str) -> Result<Manifests> {
    let mut files = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            files.push(("stdin".to_string(), stdin()?));
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
/// files) are skipped, and symbolic links to directories are not followed (no cycles).
fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d)
            .with_context(|| format!("cannot read directory {}", d.display()))?;
        for e in entries {
            let e = e.with_context(|| format!("cannot read directory {}", d.display()))?;
            let path = e.path();
            let hidden = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if hidden {
                continue;
            }
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path);
            } else if path
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

/// The path as given, with `/` separators: SARIF takes it as a URI relative to the checkout.
fn display(p: &Path) -> String {
    let s = p.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

fn text(p: &Path) -> Result<String> {
    let size = std::fs::metadata(p)
        .with_context(|| format!("cannot read manifest {}", p.display()))?
        .len();
    if size > MAX_WORLD_BYTES as u64 {
        bail!(
            "{}: {size} bytes is more than the {MAX_WORLD_BYTES} bytes a manifest file may have",
            p.display()
        );
    }
    std::fs::read_to_string(p).with_context(|| format!("cannot read manifest {}", p.display()))
}

fn stdin() -> Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .lock()
        .take(MAX_WORLD_BYTES as u64 + 1)
        .read_to_string(&mut text)
        .context("cannot read manifests from stdin")?;
    if text.len() > MAX_WORLD_BYTES {
        bail!("stdin: more than the {MAX_WORLD_BYTES} bytes a manifest file may have");
    }
    Ok(text)
}

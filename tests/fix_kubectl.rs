//! Every `kubectl` step of every fix widiag prints for the embedded worlds, run by the real
//! kubectl against a fresh lab serving that world, for real: the lab keeps writes as
//! kube-apiserver does and refuses what it refuses. So a fix that names an object that is not
//! there, a patch that does not apply (a Pod has no `spec.template`; a JSON patch removing a key
//! that is not there), a change kube-apiserver forbids (a running pod's spec, a Job's template),
//! or a verb kubectl refuses (`rollout restart pod/x`) fails here, with the world, the code and
//! kubectl's words (issue 22).
//!
//! Whether the change turns the chain green is tests/fix_verify.rs's question.
//! `az` and `helm` steps are stood in for by no-ops (tests/fix_verify.rs runs `az`). Fixes that
//! need a value only the user has (a `<placeholder>`), run a diagnostic pod, or are prose are
//! counted by why they are not run.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

/// Why a fix is not run, or None to run it.
fn not_run(fix: &str) -> Option<&'static str> {
    if !fix
        .split("&&")
        .any(|step| step.trim().starts_with("kubectl"))
    {
        return Some("no kubectl step (az, helm or prose)");
    }
    if fix.contains("kubectl run ") {
        return Some("runs a pod to look from inside the cluster (the lab runs no pods)");
    }
    if fix.contains('<') {
        return Some("needs a value only the user has (a placeholder)");
    }
    None
}

/// bash with `az` and `helm` as no-ops, and every step's failure the fix's failure.
const PRELUDE: &str = r#"
az() { :; }
helm() { :; }
set -e -o pipefail
"#;

/// (world, code, fix, kubectl's stderr) for each fix kubectl refused, each fix on a fresh lab.
fn refused_fixes(world: &str, fixes: &BTreeSet<(String, String)>, sa_missing: bool) -> Vec<String> {
    let mut refused = Vec::new();
    for (code, fix) in fixes {
        let lab = common::spawn_lab(world);
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        lab.write_kubeconfig(&kubeconfig).unwrap();
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!("{PRELUDE}{fix}"))
            .env("KUBECONFIG", &kubeconfig)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .current_dir(dir.path())
            .output()
            .expect("bash runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        // A pod whose ServiceAccount is missing is recreated only after WI301's fix makes it;
        // tests/fix_verify.rs runs the two in that order.
        let after_wi301 = stderr.contains("error looking up service account") && sa_missing;
        if !out.status.success() && !after_wi301 {
            refused.push(format!("{world} {code}: {fix}\n    {}", stderr.trim()));
        }
    }
    refused
}

#[test]
#[ignore = "needs kubectl: ./scripts/test checks for it and runs ignored tests"]
fn every_kubectl_step_of_every_fix_applies_to_the_world_it_is_for() {
    let mut refused = Vec::new();
    let mut ran = 0;
    let mut skipped: std::collections::BTreeMap<&str, usize> = Default::default();
    for (name, path) in common::worlds() {
        let report = common::analyze(&common::load(&path));
        let mut fixes = BTreeSet::new();
        let sa_missing = report
            .pods
            .iter()
            .flat_map(|p| &p.links)
            .flat_map(|l| &l.findings)
            .any(|f| &*f.code == "WI301");
        for f in report
            .pods
            .iter()
            .flat_map(|p| &p.links)
            .flat_map(|l| &l.findings)
        {
            let Some(fix) = &f.fix else { continue };
            match not_run(fix) {
                Some(why) => *skipped.entry(why).or_default() += 1,
                None => {
                    fixes.insert((f.code.to_string(), fix.clone()));
                }
            }
        }
        ran += fixes.len();
        if !fixes.is_empty() {
            refused.extend(refused_fixes(&name, &fixes, sa_missing));
        }
    }
    eprintln!("ran {ran} fixes; not run: {skipped:?}");
    assert!(ran > 50, "only {ran} fixes ran");
    assert!(
        refused.is_empty(),
        "kubectl refused:\n{}",
        refused.join("\n")
    );
}

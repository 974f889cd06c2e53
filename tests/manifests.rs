//! `widiag check -f`: manifests (a `helm template` output) analysed as if applied, over a world
//! file and over the lab's live cluster, with SARIF results located at the manifest's lines.

mod common;

use std::io::Write;
use std::process::{Output, Stdio};

use serde_json::Value;

const CHART: &str = "tests/manifests/reports-chart";
const RENDERED: &str = "tests/manifests/reports-chart/rendered.yaml";
const WORLD: &str = "assets/worlds/workload-templates.yaml";

fn run(args: &[&str]) -> Output {
    common::bin()
        .current_dir(common::root())
        .args(args)
        .output()
        .expect("run widiag")
}

/// (workload, verdict, codes of failing links) per chain, and the pods not using workload identity.
type Verdicts = (Vec<(String, String, Vec<String>)>, Vec<String>);

/// `check -f -` of `text` in `apps` against the world, in `format`.
fn from_stdin(format: &str, text: &[u8]) -> Output {
    let mut child = common::bin()
        .current_dir(common::root())
        .args([
            "check", "-f", "-", "-n", "apps", "--world", WORLD, "-o", format,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text).unwrap();
    child.wait_with_output().unwrap()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// (subject, verdict, codes of failing links) of a `check -o json` report, and the pods it
/// lists as not using workload identity.
fn verdicts(report: &Value) -> Verdicts {
    let chains = report["pods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(
                p["templateOnly"], true,
                "nothing of the manifests exists yet"
            );
            let codes = p["links"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|l| l["status"] == "fail")
                .map(|l| l["code"].as_str().unwrap().to_string())
                .collect();
            let w = &p["workload"];
            (
                format!(
                    "{}/{}",
                    w["kind"].as_str().unwrap(),
                    w["name"].as_str().unwrap()
                ),
                p["verdict"].as_str().unwrap().to_string(),
                codes,
            )
        })
        .collect();
    let unused = report["notUsingWorkloadIdentity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap().to_string())
        .collect();
    (chains, unused)
}

fn expected() -> Verdicts {
    let v = |w: &str, verdict: &str, codes: &[&str]| {
        (
            w.to_string(),
            verdict.to_string(),
            codes.iter().map(ToString::to_string).collect(),
        )
    };
    (
        vec![
            // The cluster's pods are refused for the " 3600" expiration; the chart drops it.
            v("Deployment/reports", "pass", &[]),
            v("CronJob/reports-cleanup", "fail", &["WI401", "WI604"]),
            v("Deployment/reports-worker", "fail", &["WI301", "WI604"]),
        ],
        vec!["reports-web".to_string()],
    )
}

fn sorted(mut v: Verdicts) -> Verdicts {
    v.0.sort();
    v
}

/// (rule, file, line) of each SARIF result, and the run validated against SARIF 2.1.0.
fn sarif_places(text: &[u8]) -> Vec<(String, String, i64)> {
    let sarif: Value = serde_json::from_slice(text).unwrap();
    let schema: Value = serde_json::from_str(include_str!("schemas/sarif-2.1.0.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let mut places: Vec<(String, String, i64)> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let p = &r["locations"][0]["physicalLocation"];
            let text = r["message"]["text"].as_str().unwrap();
            assert!(text.contains("(rendered from reports/templates/"), "{text}");
            assert!(text.contains("Change it in this manifest"), "{text}");
            assert_eq!(p["artifactLocation"]["uriBaseId"], "%SRCROOT%");
            (
                r["ruleId"].as_str().unwrap().to_string(),
                p["artifactLocation"]["uri"].as_str().unwrap().to_string(),
                p["region"]["startLine"].as_i64().unwrap(),
            )
        })
        .collect();
    places.sort();
    places
}

fn expected_places() -> Vec<(String, String, i64)> {
    let at = |rule: &str, line: i64| (rule.to_string(), RENDERED.to_string(), line);
    let mut v = vec![
        // reports-worker: the ServiceAccount it names (line 75), the template's metadata (70).
        at("WI301", 75),
        at("WI604", 70),
        // reports-cleanup: its job template's pod metadata, where the label goes.
        at("WI401", 90),
        at("WI604", 90),
    ];
    v.sort();
    v
}

#[test]
fn a_helm_rendered_chart_is_checked_as_if_applied_to_a_world() {
    let o = run(&[
        "check", "-f", CHART, "-n", "apps", "--world", WORLD, "-o", "json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(sorted(verdicts(&json(&o))), sorted(expected()));
    // The chart's Secret is never read: its value reaches no output.
    assert!(!String::from_utf8_lossy(&o.stdout).contains("not-read-by-widiag"));
    let o = run(&[
        "check", "-f", CHART, "-n", "apps", "--world", WORLD, "-o", "sarif",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(sarif_places(&o.stdout), expected_places());
    // The world alone: the cluster's Deployment is refused today; the manifests fix it.
    let o = run(&[
        "check",
        "--world",
        WORLD,
        "--workload",
        "deploy/reports",
        "-n",
        "apps",
    ]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn manifests_come_from_files_directories_and_stdin_alike() {
    let text = std::fs::read(common::root().join(RENDERED)).unwrap();
    let o = from_stdin("json", &text);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(sorted(verdicts(&json(&o))), sorted(expected()));
    let o = run(&[
        "check", "-f", RENDERED, "-n", "apps", "--world", WORLD, "-o", "json",
    ]);
    assert_eq!(sorted(verdicts(&json(&o))), sorted(expected()));
    // From stdin there is no file to point at: the results keep their logical locations only.
    let o = from_stdin("sarif", &text);
    let sarif: Value = serde_json::from_slice(&o.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert!(results.iter().all(|r| {
        r["locations"][0].get("physicalLocation").is_none()
            && r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].is_string()
    }));
}

#[test]
fn bad_manifests_are_named_errors_and_nothing_is_judged() {
    let dir = tempfile::tempdir().unwrap();
    let arm = dir.path().join("identity.yaml");
    std::fs::write(
        &arm,
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\n---\nid: /subscriptions/x\ntype: Microsoft.ManagedIdentity/userAssignedIdentities\nname: x\n",
    )
    .unwrap();
    let o = run(&["check", "-f", arm.to_str().unwrap(), "--world", WORLD]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("identity.yaml:5: document 2"), "{err}");
    assert!(err.contains("not a Kubernetes object"), "{err}");
    assert!(o.stdout.is_empty(), "nothing half-reported");
    let only_sa = dir.path().join("sa.yaml");
    std::fs::write(
        &only_sa,
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\n",
    )
    .unwrap();
    let o = run(&["check", "-f", only_sa.to_str().unwrap(), "--world", WORLD]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no Pod, Deployment"));
    let empty = tempfile::tempdir().unwrap();
    let o = run(&[
        "check",
        "-f",
        empty.path().to_str().unwrap(),
        "--world",
        WORLD,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no .yaml, .yml or .json file"));
    // Only regular files: a link in a checkout to a device that never ends is not followed,
    // and a device named on the command line is refused, both without reading it.
    let linked = tempfile::tempdir().unwrap();
    std::fs::copy(
        common::root().join(RENDERED),
        linked.path().join("rendered.yaml"),
    )
    .unwrap();
    std::os::unix::fs::symlink("/dev/zero", linked.path().join("zero.yaml")).unwrap();
    let o = run(&[
        "check",
        "-f",
        linked.path().to_str().unwrap(),
        "-n",
        "apps",
        "--world",
        WORLD,
        "-o",
        "json",
    ]);
    assert_eq!(sorted(verdicts(&json(&o))), sorted(expected()));
    let o = run(&["check", "-f", "/dev/zero", "--world", WORLD]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a regular file"));
    let o = run(&["check", "-f", RENDERED, "--pod", "x", "--world", WORLD]);
    assert_eq!(o.status.code(), Some(2), "-f and --pod exclude each other");
}

/// The same chart against the lab serving the same world, read live through kube-rs and the
/// Azure SDK: the same verdicts and SARIF places, and no token is requested for pods that do
/// not exist.
#[test]
fn a_helm_rendered_chart_is_checked_as_if_applied_to_the_live_cluster() {
    let lab = common::spawn_lab("workload-templates");
    let kubeconfig = lab.kubeconfig();
    let chart = common::root().join(CHART);
    let args = ["check", "-f", chart.to_str().unwrap(), "-n", "apps"];
    let o = common::widiag_against(
        &lab,
        &kubeconfig,
        &[&args[..], &["-o", "json"]].concat(),
        &[],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(sorted(verdicts(&json(&o))), sorted(expected()));
    assert_eq!(
        token_requests(&lab),
        0,
        "no TokenRequest for pods that do not exist"
    );
    let o = common::widiag_against(
        &lab,
        &kubeconfig,
        &[&args[..], &["-o", "sarif"]].concat(),
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    // Given as an absolute path under the working directory, the URI is relative to it.
    assert_eq!(sarif_places(&o.stdout), expected_places());
    // Without -n the objects go to the kubeconfig context's namespace, as kubectl apply puts them.
    let in_apps = kubeconfig.replace("    namespace: default\n", "    namespace: apps\n");
    assert_ne!(in_apps, kubeconfig);
    let o = common::widiag_against(
        &lab,
        &in_apps,
        &["check", "-f", chart.to_str().unwrap(), "-o", "json"],
        &[],
    );
    assert_eq!(sorted(verdicts(&json(&o))), sorted(expected()));
    // A manifest Pod named like a running one is not created yet: nothing asks for its token.
    let dir = tempfile::tempdir().unwrap();
    let pod = dir.path().join("ledger-0.yaml");
    std::fs::write(
        &pod,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: ledger-0, namespace: apps, labels: {azure.workload.identity/use: \"true\"}}\nspec:\n  serviceAccountName: ledger\n  containers: [{name: app, image: contoso.azurecr.io/ledger:2.0}]\n",
    )
    .unwrap();
    let before = token_requests(&lab);
    let o = common::widiag_against(
        &lab,
        &kubeconfig,
        &["check", "-f", pod.to_str().unwrap(), "-o", "json"],
        &[],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(json(&o)["pods"][0]["templateOnly"], true);
    assert_eq!(
        token_requests(&lab),
        before,
        "no TokenRequest for a pod not yet created"
    );
    // The same pod asked for as it runs: its token is requested (the assertion can fail).
    let o = common::widiag_against(&lab, &kubeconfig, &["check", "--pod", "apps/ledger-0"], &[]);
    assert!(o.status.code().is_some());
    assert!(
        token_requests(&lab) > before,
        "the running pod's token is requested"
    );
}

fn token_requests(lab: &widiag::lab::LabHandle) -> usize {
    lab.requests()
        .iter()
        .filter(|r| {
            r.method == "POST" && r.path.ends_with("/token") && r.path.contains("serviceaccounts")
        })
        .count()
}

//! The `widiag` binary: exit codes, selection forms, output formats, colour rules, redaction.

mod common;

use std::process::Output;

fn run(args: &[&str]) -> Output {
    common::bin().args(args).output().expect("run widiag")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const HEALTHY: &str = "assets/worlds/seed-004-healthy.yaml";
const RBAC: &str = "assets/worlds/seed-004-rbac-vault.yaml";
const WARN: &str = "assets/worlds/seed-002-pre-v1-webhook.yaml";

#[test]
fn exit_codes_follow_fail_on() {
    assert_eq!(run(&["check", "--world", HEALTHY]).status.code(), Some(0));
    assert_eq!(run(&["check", "--world", RBAC]).status.code(), Some(1));
    assert_eq!(
        run(&["check", "--world", RBAC, "--fail-on", "never"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(run(&["check", "--world", WARN]).status.code(), Some(0));
    assert_eq!(
        run(&["check", "--world", WARN, "--fail-on", "warn"])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn severity_overrides_change_the_verdict() {
    let o = run(&[
        "check",
        "--world",
        RBAC,
        "--severity",
        "WI1102=warning",
        "-o",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["pods"][0]["verdict"], "warn");
    assert_eq!(v["pods"][0]["brokenLink"], "access");

    let o = run(&["check", "--world", RBAC, "--severity", "WI1102=loud"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("WI1102=loud"), "{}", stderr(&o));
}

#[test]
fn design_card_form_and_namespace_defaulting() {
    let a = run(&[
        "--pod",
        "default/wi-kv-test",
        "--check",
        "--world",
        RBAC,
        "-o",
        "json",
    ]);
    let b = run(&[
        "--pod",
        "wi-kv-test",
        "--check",
        "--world",
        RBAC,
        "-o",
        "json",
    ]);
    let c = run(&[
        "check",
        "--pod",
        "wi-kv-test",
        "-n",
        "default",
        "--world",
        RBAC,
        "-o",
        "json",
    ]);
    assert_eq!(a.status.code(), Some(1), "{}", stderr(&a));
    assert_eq!(stdout(&a), stdout(&b));
    assert_eq!(stdout(&a), stdout(&c));
    let v: serde_json::Value = serde_json::from_str(&stdout(&a)).unwrap();
    assert_eq!(v["pods"].as_array().unwrap().len(), 1);
    assert_eq!(v["pods"][0]["links"][10]["link"], "access");
    assert_eq!(v["pods"][0]["links"][10]["code"], "WI1102");

    let o = run(&["check", "--pod", "kube-system/wi-kv-test", "--world", RBAC]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("pod kube-system/wi-kv-test is not in the world"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn namespace_selection_and_all() {
    let world = "assets/worlds/edge-cases.yaml";
    let all = run(&["check", "--world", world, "-A", "-o", "json"]);
    let ns = run(&["check", "--world", world, "-n", "kube-system", "-o", "json"]);
    let count = |o: &Output| {
        serde_json::from_str::<serde_json::Value>(&stdout(o)).unwrap()["pods"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(count(&all), 20);
    assert_eq!(count(&ns), 1);
}

#[test]
fn bad_usage_and_missing_input_exit_2() {
    assert_eq!(
        run(&["check", "--world", HEALTHY, "--bogus"]).status.code(),
        Some(2)
    );
    let o = run(&["check", "--world", "does/not/exist.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("does/not/exist.yaml"), "{}", stderr(&o));
    // Without --world, check reads the cluster the kubeconfig names: a missing one is named.
    let o = common::bin()
        .args(["check", "--azure-auth", "none"])
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/nonexistent/kubeconfig"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn malformed_world_names_file_line_and_field_and_prints_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.yaml");
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n  annotations:\n    x: [1]\n",
    )
    .unwrap();
    let o = common::bin()
        .args(["check", "--world"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("w.yaml:6:") && e.contains("document 1") && e.contains("metadata.annotations.x"),
        "{e}"
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn colour_only_on_request_or_terminal_and_never_with_no_color() {
    let esc = |o: &Output| stdout(o).contains('\u{1b}');
    assert!(
        !esc(&run(&["check", "--world", RBAC])),
        "piped output is plain"
    );
    assert!(esc(&run(&["check", "--world", RBAC, "--color", "always"])));
    let forced = common::bin()
        .args(["check", "--world", RBAC])
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(esc(&forced));
    let no_color = common::bin()
        .args(["check", "--world", RBAC])
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!esc(&no_color), "NO_COLOR wins");
}

#[test]
fn codes_lists_the_whole_catalogue() {
    let o = run(&["codes"]);
    assert_eq!(o.status.code(), Some(0));
    let lines = stdout(&o).lines().count();
    assert_eq!(lines, widiag::analysis::Catalog::builtin().entries().len());
    assert!(stdout(&o).contains("WI902   federation"));
}

/// Secret data in a world (a Kubernetes Secret) and token signatures never reach any output.
#[test]
fn no_secret_value_or_signature_in_any_output() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let signature = "c2lnbmF0dXJlLW5ldmVyLXByaW50ZWQ";
    let claims = b64(
        r#"{"iss":"https://eastus.oic.prod-aks.azure.com/x/","sub":"system:serviceaccount:default:wi-demo-sa","aud":["api://AzureADTokenExchange"],"exp":1900000000,"iat":1899996400}"#,
    );
    let jwt = format!(
        "{}.{claims}.{signature}",
        b64(r#"{"alg":"RS256","kid":"k"}"#)
    );
    let dir = tempfile::tempdir().unwrap();
    let extra = dir.path().join("extra.yaml");
    std::fs::write(
        &extra,
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: creds, namespace: default}}\ndata: {{password: aHVudGVyMi1zdXBlci1zZWNyZXQ=}}\nstringData: {{plain: hunter2-super-secret}}\n---\n\
             apiVersion: widiag.io/v1\nkind: CapturedToken\npod: {{namespace: default, name: wi-kv-test}}\nsource: exec\ntoken: {jwt}\n"
        ),
    )
    .unwrap();
    for (name, path) in common::worlds() {
        for format in ["text", "json"] {
            let o = common::bin()
                .args(["check", "--world"])
                .arg(&path)
                .args(["--world"])
                .arg(&extra)
                .args(["-o", format, "--fail-on", "never", "--color", "always"])
                .output()
                .unwrap();
            assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
            let out = stdout(&o) + &stderr(&o);
            for needle in [
                "aHVudGVyMi1zdXBlci1zZWNyZXQ=",
                "hunter2-super-secret",
                signature,
                &jwt,
                &claims,
            ] {
                assert!(!out.contains(needle), "{name} {format}: leaked {needle}");
            }
            // The world's own Secret data (seed 000) is never printed either.
            assert!(
                !out.contains("aHR0cHM6Ly9ha3MtMTU3MzQta3YudmF1bHQuYXp1cmUubmV0Lw=="),
                "{name} {format}"
            );
        }
    }
}

/// `demo` takes the analysis flags `check` takes: the TUI's hint "pass --keyvault or --blob"
/// can be followed there, and severities can be overridden.
#[test]
fn demo_accepts_the_analysis_flags_check_accepts() {
    let base = ["demo", "--headless", "--color", "never", "--world"];
    let o = run(&[
        &base[..],
        &["seed-004-rbac-vault", "--severity", "WI1102=warning"],
    ]
    .concat());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("! access WI1102"), "{}", stdout(&o));
    let o = run(&[&base[..], &["workload-templates"]].concat());
    assert!(
        stdout(&o).contains("pass --keyvault or --blob"),
        "{}",
        stdout(&o)
    );
    let o = run(&[
        &base[..],
        &["workload-templates", "--keyvault", "nosuchvault"],
    ]
    .concat());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !stdout(&o).contains("pass --keyvault or --blob"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("? access WI1101"), "{}", stdout(&o));
    let o = run(&[&base[..], &["seed-002-healthy", "--severity", "nope"]].concat());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn demo_embeds_every_shipped_world_and_runs_offline() {
    let embedded: Vec<&str> = widiag::cli::demo::WORLDS.iter().map(|(n, _)| *n).collect();
    let shipped: Vec<String> = common::worlds().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        embedded, shipped,
        "src/cli/demo.rs must embed every assets/worlds file, in order"
    );
    for (name, text) in widiag::cli::demo::WORLDS {
        let on_disk =
            std::fs::read_to_string(common::root().join(format!("assets/worlds/{name}.yaml")))
                .unwrap();
        assert_eq!(*text, on_disk);
    }
    let o = run(&["demo", "--color", "never"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("FAIL at access") && stdout(&o).contains("WI1102"),
        "{}",
        stdout(&o)
    );
    let o = run(&["demo", "--world", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("widiag demo --list"));
}

#[test]
fn findings_doc_is_the_generated_catalogue() {
    let generated = widiag::output::catalog_markdown(&widiag::analysis::Catalog::builtin());
    let doc = std::fs::read_to_string(common::root().join("docs/findings.md")).unwrap();
    assert!(
        doc == generated,
        "docs/findings.md is stale: run `widiag codes --markdown > docs/findings.md`"
    );
}

/// A pod asked for by name that shows no sign of workload identity is not a failure: `not-used`
/// in JSON, exit 0, and what enabling it would take. With a target on the command line it is
/// meant to reach Azure, so it is diagnosed.
#[test]
fn a_pod_that_does_not_use_workload_identity_is_not_used_not_failed() {
    const W: &str = "assets/worlds/workload-templates.yaml";
    let pod = ["check", "--world", W, "--pod", "apps/web-5c8d7f9b4-x2k9q"];
    let o = run(&[&pod[..], &["-o", "json"]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verdict"], "not-used");
    assert_eq!(v["pods"].as_array().unwrap().len(), 0);
    let unused = &v["notUsingWorkloadIdentity"][0];
    assert_eq!(unused["verdict"], "not-used");
    assert_eq!(unused["workload"]["name"], "web");
    let steps: Vec<&str> = unused["enable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["WI302", "WI401", "WI604"]);
    let o = run(&pod);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("NOT USED"), "{text}");
    assert!(text.contains("Nothing is broken."), "{text}");
    assert!(!text.contains("FAIL"), "{text}");
    // Named targets make it a subject: it is meant to reach that vault.
    let o = run(&[&pod[..], &["--keyvault", "web-kv", "-o", "json"]].concat());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verdict"], "fail");
    assert_eq!(v["pods"][0]["brokenLink"], "service-account");
}

/// The not-used rule by workload and under -A: a sweep lists such pods without judging them,
/// and a vault in env is a sign only for a pod asked for by name.
#[test]
fn not_used_by_workload_and_in_a_sweep() {
    const W: &str = "assets/worlds/workload-templates.yaml";
    // By workload; and -A lists it as not using, without judging it.
    let o = run(&[
        "check",
        "--world",
        W,
        "--workload",
        "deploy/web",
        "-n",
        "apps",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("NOT USED"), "{}", stdout(&o));
    let o = run(&["check", "--world", W, "-A", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["verdict"], "fail",
        "not-used is for what was asked for by name"
    );
    let web = v["notUsingWorkloadIdentity"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "web-5c8d7f9b4-x2k9q")
        .unwrap();
    assert!(web.get("enable").is_none());
    assert!(
        v["pods"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["workload"]["name"] != "web"),
        "not a subject of -A"
    );
    // A vault in its env is a sign only for a pod asked for by name: -A lists it, --pod
    // diagnoses it.
    assert!(
        v["notUsingWorkloadIdentity"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["name"] == "billing")
    );
    let o = run(&["check", "--world", W, "--pod", "apps/billing", "-o", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["pods"][0]["brokenLink"], "service-account");
    // A workload asked for whose pods never appeared and show no sign: not-used too.
    let o = run(&[
        "check",
        "--world",
        W,
        "--workload",
        "cronjob/cleanup",
        "-n",
        "apps",
        "-o",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verdict"], "not-used");
    assert_eq!(
        v["notUsingWorkloadIdentity"][0]["workload"]["name"],
        "cleanup"
    );
}

/// `--workload KIND/NAME` (kubectl's form): the workload's pods, or its template's would-be pod
/// when none exists; JSON marks the latter.
#[test]
fn workload_selects_one_workload_with_or_without_pods() {
    const W: &str = "assets/worlds/workload-templates.yaml";
    let o = run(&[
        "check",
        "--world",
        W,
        "--workload",
        "deploy/reports",
        "-n",
        "apps",
        "-o",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["pods"], 1);
    assert_eq!(v["summary"]["workloadsWithoutPods"], 1);
    assert_eq!(v["pods"][0]["name"], "reports");
    assert_eq!(v["pods"][0]["templateOnly"], true);
    assert_eq!(v["pods"][0]["brokenLink"], "pod");
    let o = run(&[
        "check",
        "--world",
        W,
        "--workload",
        "statefulset/ledger",
        "-n",
        "apps",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("apps/ledger-0  PASS"), "{}", stdout(&o));
    assert!(
        !stdout(&o).contains("reports"),
        "only the workload asked for: {}",
        stdout(&o)
    );
    let o = run(&[
        "check",
        "--world",
        W,
        "--workload",
        "deploy/nope",
        "-n",
        "apps",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("Deployment apps/nope is not in the world"),
        "{}",
        stderr(&o)
    );
    let o = run(&["check", "--world", W, "--workload", "pod/x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--workload \"pod/x\": expected KIND/NAME"),
        "{}",
        stderr(&o)
    );
}

/// A cluster whose webhook has no endpoints blocks a Deployment: never an empty pass.
#[test]
fn a_blocked_deployment_fails_instead_of_an_empty_pass() {
    let o = run(&[
        "check",
        "--world",
        "assets/worlds/workload-blocked-deployment.yaml",
        "-A",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(!out.contains("No pod in the selection"), "{out}");
    assert!(
        out.contains("apps/deploy/checkout (no pod)  FAIL at webhook"),
        "{out}"
    );
    assert!(out.contains("no endpoints available for service"), "{out}");
    assert!(
        out.contains("0 pod(s) and 1 workload(s) without pods: 1 fail"),
        "{out}"
    );
}

#[test]
fn webhook_doc_is_the_generated_release_table() {
    let generated = widiag::output::webhook_markdown();
    let doc = std::fs::read_to_string(common::root().join("docs/webhook.md")).unwrap();
    assert!(
        doc == generated,
        "docs/webhook.md is stale: run `widiag webhook --markdown > docs/webhook.md`"
    );
}

#[test]
fn webhook_command_prints_one_release_with_sources() {
    let o = run(&["webhook", "--release", "v1.2.2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("webhook v1.2.2\n"), "{out}");
    assert!(
        out.contains("drops `restartPolicy` from init containers"),
        "{out}"
    );
    assert!(
        out.contains(
            "token volume mounted at `/var/run/secrets/azure/tokens` (since v0.8.0; v0.8.0:C:35"
        ),
        "{out}"
    );
    assert!(!out.contains("custom token endpoint (`use-"), "{out}");
    let bad = run(&["webhook", "--release", "latest"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(
        stderr(&bad).contains("--release \"latest\""),
        "{}",
        stderr(&bad)
    );
}

#[test]
#[ignore = "needs kubectl: ./scripts/test checks for it and runs ignored tests"]
fn lab_command_serves_kubectl_and_stops_on_ctrl_c() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("lab.kubeconfig");
    let mut child = common::bin()
        .args(["lab", "--demo", "seed-001-healthy", "--kubeconfig"])
        .arg(&kubeconfig)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(
        first.starts_with("Kubernetes API and OIDC issuer: http://127.0.0.1:"),
        "{first}"
    );
    for _ in 0..3 {
        lines.next();
    }
    assert!(dir.path().join("lab.env").exists() && dir.path().join("ca.pem").exists());
    let pods = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .arg("--cache-dir")
        .arg(dir.path().join("cache"))
        .args(["get", "pods", "-A", "-o", "name"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&pods.stdout).trim(),
        "pod/cats-api-deployment-6d9c7b5f4d-x2k9p"
    );
    let int = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(int.success());
    assert_eq!(
        child.wait().unwrap().code(),
        Some(0),
        "Ctrl-C stops the lab cleanly"
    );
}

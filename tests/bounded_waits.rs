//! Every wait is bounded by `--timeout` (docs/security.md §5): a kubeconfig exec plugin that
//! hangs is stopped and killed, one that fails is named, and an Azure that never answers costs
//! bounded time. The wall-clock limits here only tell a hang from an answer: each is many times
//! what the run needs, and far below what the unbounded waits cost before (84-131 s, forever).

mod common;

use std::io::Read;
use std::process::Output;
use std::time::{Duration, Instant};

use widiag::lab::LabHandle;

/// The lab's kubeconfig with its user's credential coming from an exec plugin (`sh -c script`).
fn with_exec_plugin(lab: &LabHandle, script: &str) -> String {
    lab.kubeconfig().replace(
        "  user: {}\n",
        &format!(
            "  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n      args: [\"-c\", {script:?}]\n      interactiveMode: Never\n"
        ),
    )
}

/// `widiag ARGS --kubeconfig K` with the lab's client env plus `env`; the output and how long.
fn run(
    lab: &LabHandle,
    kubeconfig: &str,
    args: &[&str],
    env: &[(&str, String)],
) -> (Output, Duration) {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let started = Instant::now();
    let out = common::widiag_against(lab, kubeconfig, args, &env);
    (out, started.elapsed())
}

#[test]
fn an_exec_plugins_credential_is_what_widiag_presents() {
    let lab = common::lab_with(
        "kubeUsers:\n- name: plugin-token\n  allow:\n  - verbs: [get, list, watch]\n    resources: ['*']\n",
    );
    let kubeconfig = with_exec_plugin(
        &lab,
        r#"printf '%s' '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"plugin-token"}}'"#,
    );
    let (out, _) = run(
        &lab,
        &kubeconfig,
        &[
            "check",
            "-A",
            "--offline",
            "--azure-auth",
            "none",
            "-o",
            "json",
            "--fail-on",
            "never",
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["pods"], 1, "{report}");
}

#[test]
fn a_hanging_exec_plugin_is_stopped_at_the_timeout_and_killed() {
    let lab = common::spawn_lab("seed-004-healthy");
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("plugin.pid");
    let kubeconfig = with_exec_plugin(
        &lab,
        &format!("echo $$ > {}; exec sleep 300", pidfile.display()),
    );
    let (out, took) = run(&lab, &kubeconfig, &["check", "-A", "--timeout", "2"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(took < Duration::from_secs(30), "took {took:?}: {stderr}");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("exec plugin /bin/sh gave no credential within 2s"),
        "{stderr}"
    );
    // The plugin is gone (or a zombie awaiting its new parent), not left sleeping.
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    let mut state = String::new();
    if let Ok(mut f) = std::fs::File::open(format!("/proc/{}/stat", pid.trim())) {
        f.read_to_string(&mut state).unwrap();
    }
    let alive = state
        .rsplit(')')
        .next()
        .and_then(|rest| rest.split_whitespace().next())
        .is_some_and(|s| s != "Z" && s != "X");
    assert!(!alive, "the plugin {} still runs: {state}", pid.trim());
}

#[test]
fn a_failing_exec_plugin_is_named_by_its_status_and_first_stderr_line() {
    let lab = common::spawn_lab("seed-004-healthy");
    let kubeconfig = with_exec_plugin(&lab, "echo 'boom: refresh token expired' >&2; exit 3");
    let (out, _) = run(&lab, &kubeconfig, &["check", "-A", "--timeout", "5"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("exec plugin /bin/sh exited with status 3: boom: refresh token expired"),
        "{stderr}"
    );
    assert!(!stderr.contains("Output {"), "{stderr}");
}

/// A proxy that accepts connections and never answers: Entra, ARM and Graph all hang.
fn hanging_proxy() -> (std::net::TcpListener, String) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    (l, url)
}

#[test]
fn an_azure_that_never_answers_costs_bounded_time_with_a_client_secret() {
    let lab = common::spawn_lab("seed-004-healthy");
    let (_held, proxy) = hanging_proxy();
    let (out, took) = run(
        &lab,
        &lab.kubeconfig(),
        &[
            "check",
            "-A",
            "--azure-auth",
            "secret",
            "--timeout",
            "2",
            "--fail-on",
            "never",
            "--transcript",
        ],
        &[("HTTPS_PROXY", proxy.clone()), ("https_proxy", proxy)],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(took < Duration::from_secs(75), "took {took:?}:\n{stderr}");
    assert!(stderr.contains("no token within 4s"), "{stderr}");
}

#[test]
fn pods_that_cannot_be_read_end_the_run_before_any_azure_wait() {
    let lab = common::lab_with("kubeDelays:\n- resources: [pods]\n  millis: 120000\n");
    let (_held, proxy) = hanging_proxy();
    let (out, took) = run(
        &lab,
        &lab.kubeconfig(),
        &["check", "-A", "--azure-auth", "secret", "--timeout", "2"],
        &[("HTTPS_PROXY", proxy.clone()), ("https_proxy", proxy)],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot read the pods"), "{stderr}");
    // A list that got no answer needs an answer, not a role.
    assert!(
        stderr.contains("needs an answer from the API server") && !stderr.contains("list pods"),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(20), "took {took:?}: {stderr}");
}

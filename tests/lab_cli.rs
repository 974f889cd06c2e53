//! `widiag lab` as a user runs it: the files it writes let a program we did not write (seed 004's
//! own Python app, as written) run "as the pod" against the lab, then Ctrl-C-style shutdown.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

/// The lab process, stopped however the test ends.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn env_file(path: &std::path::Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| {
            l.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

#[test]
#[ignore = "needs python3 with the Azure SDKs: ./scripts/test installs them and runs ignored tests"]
fn the_lab_command_writes_what_a_program_needs_to_run_as_the_pod() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("lab.kubeconfig");
    let _lab = Running(
        common::bin()
            .args([
                "lab",
                "--demo",
                "seed-004-healthy",
                "--pod",
                "default/wi-kv-test",
                "--kubeconfig",
            ])
            .arg(&kubeconfig)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let pod_env = dir.path().join("pod.env");
    for _ in 0..300 {
        if pod_env.exists() && dir.path().join("lab.env").exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let pod = env_file(&pod_env);
    let get = |k: &str| pod.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(
        get("AZURE_CLIENT_ID").as_deref(),
        Some("5e2a8c1d-3b7f-4a9e-b0c6-d4f1e8a2b975")
    );
    let token = std::fs::read_to_string(get("AZURE_FEDERATED_TOKEN_FILE").unwrap()).unwrap();
    let claims: serde_json::Value =
        jsonwebtoken::dangerous::insecure_decode_claims(&token).unwrap();
    assert_eq!(claims["kubernetes.io"]["pod"]["name"], "wi-kv-test");

    let out = Command::new("python3")
        .arg(common::root().join("tests/apps/run_once.py"))
        .arg(common::root().join("tests/apps/seed004_secrets.py"))
        .envs(env_file(&dir.path().join("lab.env")))
        .envs(pod)
        .env("KEY_VAULT_NAME", "wilab4521")
        .env("SECRET_NAME", "Secret")
        .output()
        .expect("python3 with azure-identity (scripts/test installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Secret value: lab-value-of-wilab4521-Secret"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `widiag lab --request-log FILE` (issue 21): a user checks widiag's read-only promise from the
/// lab's own record. After `widiag check` ran against the lab, the log holds one JSON line per
/// request (method, URL, status, the bearer's subject); the only writes are the TokenRequest and
/// Entra's token endpoint; no token, secret or query string is in it. Ctrl-C flushes the rest.
#[test]
fn the_request_log_shows_what_widiag_asked() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("lab.kubeconfig");
    let log = dir.path().join("requests.jsonl");
    let lab = Running(
        common::bin()
            .args(["lab", "--demo", "seed-004-healthy", "--kubeconfig"])
            .arg(&kubeconfig)
            .arg("--request-log")
            .arg(&log)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    for _ in 0..300 {
        if dir.path().join("reader.env").exists() && kubeconfig.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut env = env_file(&dir.path().join("lab.env"));
    env.extend(env_file(&dir.path().join("reader.env")));
    let check = common::bin()
        .args(["check", "-o", "json", "--fail-on", "never", "--kubeconfig"])
        .arg(&kubeconfig)
        .env_remove("KUBECONFIG")
        .envs(env)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    // Ctrl-C, as a user stops it: the writer flushes what is left.
    let pid = lab.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut lab = lab;
    for _ in 0..100 {
        if lab.0.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let url = |l: &serde_json::Value| l["url"].as_str().unwrap_or_default().to_string();
    assert!(
        lines
            .iter()
            .any(|l| url(l).ends_with("/pods") && l["status"] == 200),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| url(l).starts_with("https://management.azure.com/")
                && !l["principal"].as_str().unwrap_or_default().is_empty()),
        "{text}"
    );
    for l in &lines {
        if l["method"] != "GET" {
            let u = url(l);
            assert!(
                u.ends_with("/token")
                    && (u.contains("/serviceaccounts/") || u.contains("/oauth2/v2.0/")),
                "widiag wrote something: {l}"
            );
        }
    }
    assert!(!text.contains("eyJ") && !text.contains('?'), "{text}");
}

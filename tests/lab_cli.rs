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

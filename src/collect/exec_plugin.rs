//! kubeconfig `exec` credential plugins (kubelogin, aws-iam-authenticator, ...), run by widiag
//! itself instead of kube-rs: kube-rs runs them with `std::process` inside `Client::try_from`,
//! unbounded and unkillable, so a plugin that hangs kept widiag forever. Here the plugin is
//! bounded by `--timeout`, killed and reaped when the bound passes or the run is cancelled, and
//! a failure is named by its exit status and first line of stderr.
//!
//! The protocol follows client-go's `ExecCredential` (client.authentication.k8s.io): the request
//! in `KUBERNETES_EXEC_INFO`, the credential on stdout. The credential is used for this run
//! only; a run that outlives it (following in the TUI for hours) sees 401 and says so.

use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use kube::Config;
use kube::config::{ExecConfig, ExecInteractiveMode};
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use super::CollectError;

/// More than any credential; what a plugin prints beyond it is not read.
const MAX_OUTPUT: u64 = 1024 * 1024;

/// How long a person gets to sign in when the plugin asks them to (kubelogin's device code:
/// open a browser, type a code). Still a bound; Ctrl-C ends it sooner.
const INTERACTIVE_SIGN_IN: Duration = Duration::from_secs(300);

#[derive(Deserialize)]
struct ExecCredential {
    status: Option<Status>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    token: Option<String>,
    client_certificate_data: Option<String>,
    client_key_data: Option<String>,
}

/// Runs the kubeconfig's exec plugin, if it has one, and puts the credential it returns in
/// `config` in its place.
pub async fn resolve(config: &mut Config, timeout: Duration) -> Result<(), CollectError> {
    let Some(exec) = config.auth_info.exec.take() else {
        return Ok(());
    };
    let name = exec.command.clone().unwrap_or_default();
    // A plugin that may ask the person at the terminal gets the time a sign-in takes.
    let interactive = exec.interactive_mode != Some(ExecInteractiveMode::Never)
        && std::io::IsTerminal::is_terminal(&std::io::stdin());
    let bound = if interactive {
        timeout.max(INTERACTIVE_SIGN_IN)
    } else {
        timeout
    };
    let status = tokio::time::timeout(bound, run(&exec, &name))
        .await
        .map_err(|_| {
            CollectError::Kube(format!(
                "exec plugin {name} gave no credential within {}s (stopped)",
                bound.as_secs()
            ))
        })??;
    match status {
        Status { token: Some(t), .. } => config.auth_info.token = Some(t.into()),
        Status {
            client_certificate_data: Some(cert),
            client_key_data: Some(key),
            ..
        } => {
            // The kubeconfig fields hold base64 of the PEM the plugin returns.
            let b64 = base64::engine::general_purpose::STANDARD;
            config.auth_info.client_certificate_data = Some(b64.encode(cert));
            config.auth_info.client_key_data = Some(b64.encode(key).into());
        }
        _ => {
            return Err(CollectError::Kube(format!(
                "exec plugin {name} returned neither a token nor a client certificate and key"
            )));
        }
    }
    Ok(())
}

async fn run(exec: &ExecConfig, name: &str) -> Result<Status, CollectError> {
    let fail = |why: String| CollectError::Kube(format!("exec plugin {name} {why}"));
    let program = exec
        .command
        .as_deref()
        .ok_or_else(|| fail("has no command".into()))?;
    let interactive = exec.interactive_mode != Some(ExecInteractiveMode::Never);
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(exec.args.iter().flatten())
        .env("KUBERNETES_EXEC_INFO", exec_info(exec, interactive))
        .stdin(if interactive {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Dropped on timeout or Ctrl-C: the child is killed, and tokio reaps it.
        .kill_on_drop(true);
    for pair in exec.env.iter().flatten() {
        if let (Some(k), Some(v)) = (pair.get("name"), pair.get("value")) {
            cmd.env(k, v);
        }
    }
    for k in exec.drop_env.iter().flatten() {
        cmd.env_remove(k);
    }
    let mut child = cmd.spawn().map_err(|e| match &exec.install_hint {
        Some(hint) => fail(format!("could not start: {e} ({})", hint.trim())),
        None => fail(format!("could not start: {e}")),
    })?;
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let mut out = Vec::new();
    let mut stdout = stdout.take(MAX_OUTPUT);
    let (read, first_err, status) = tokio::join!(
        stdout.read_to_end(&mut out),
        relay_stderr(stderr),
        child.wait(),
    );
    read.map_err(|e| fail(format!("output could not be read: {e}")))?;
    let status = status.map_err(|e| fail(format!("could not be waited for: {e}")))?;
    if !status.success() {
        let how = match status.code() {
            Some(c) => format!("exited with status {c}"),
            None => "was killed by a signal".to_string(),
        };
        let why = first_err.map(|l| format!(": {l}")).unwrap_or_default();
        return Err(fail(format!("{how}{why}")));
    }
    let cred: ExecCredential = serde_json::from_slice(&out)
        .map_err(|e| fail(format!("printed no ExecCredential: {e}")))?;
    cred.status
        .ok_or_else(|| fail("printed an ExecCredential without a status".into()))
}

/// Passes the plugin's stderr on (sign-in prompts such as kubelogin's device code must reach
/// the user), with control characters made visible, and keeps its first non-empty line.
async fn relay_stderr(stderr: tokio::process::ChildStderr) -> Option<String> {
    let mut lines = BufReader::new(stderr.take(MAX_OUTPUT)).lines();
    let mut first = None;
    while let Ok(Some(line)) = lines.next_line().await {
        let shown = crate::untrusted::visible::visible(&line).into_owned();
        eprintln!("{shown}");
        if first.is_none() && !shown.trim().is_empty() {
            first = Some(shown.trim().to_string());
        }
    }
    first
}

/// `KUBERNETES_EXEC_INFO`, as client-go sets it.
fn exec_info(exec: &ExecConfig, interactive: bool) -> String {
    let mut spec = serde_json::json!({ "interactive": interactive });
    if exec.provide_cluster_info
        && let Some(c) = &exec.cluster
    {
        spec["cluster"] = serde_json::to_value(c).unwrap_or_default();
    }
    serde_json::json!({
        "apiVersion": exec.api_version.clone().unwrap_or_else(|| "client.authentication.k8s.io/v1".into()),
        "kind": "ExecCredential",
        "spec": spec,
    })
    .to_string()
}

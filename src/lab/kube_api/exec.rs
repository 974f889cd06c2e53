//! `pods/exec` over WebSocket (`v5.channel.k8s.io`, `v4.channel.k8s.io`), enough to read a
//! pod's projected token file as kubectl and kube-rs do: `cat <AZURE_FEDERATED_TOKEN_FILE>`
//! answers a fresh token for the pod's ServiceAccount with its volume's audience, bound to the
//! pod, as the kubelet would have written it. Frames: a channel byte, then data; channel 3
//! carries the final Status (wire-protocols.md §1.8).

use axum::extract::FromRequestParts;
use axum::extract::Request;
use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::resources::{find, name_of, namespace_of};
use super::status::{not_found, status};
use crate::lab::server::State;

/// `/api/v1/namespaces/{ns}/pods/{name}/exec`, as (namespace, pod).
pub fn target(path: &str) -> Option<(String, String)> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        ["api", "v1", "namespaces", ns, "pods", name, "exec"] => {
            Some((ns.to_string(), name.to_string()))
        }
        _ => None,
    }
}

pub async fn handle(state: State, req: Request, ns: String, pod_name: String) -> Response {
    let query = req.uri().query().unwrap_or_default().to_string();
    let (mut parts, _) = req.into_parts();
    // A `LabBehaviour` user needs `create pods/exec`, as RBAC asks of a real one.
    if let Some(token) = crate::lab::bearer::token(&parts.headers) {
        let allowed = state
            .kube_users()
            .iter()
            .find(|u| u.name == token)
            .is_some_and(|u| u.allows("create", "pods/exec", Some(&ns)));
        if !allowed {
            return status(
                StatusCode::FORBIDDEN,
                "Forbidden",
                format!(
                    "pods \"{pod_name}\" is forbidden: User \"{token}\" cannot create resource \"pods/exec\" in API group \"\" in the namespace \"{ns}\""
                ),
                Some("pods"),
                None,
            );
        }
    }
    let Ok(ws) = WebSocketUpgrade::from_request_parts(&mut parts, &()).await else {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Upgrade request required".into(),
            None,
            None,
        );
    };
    let Some(pod) = find("", "v1", "pods").and_then(|r| state.find_object(r, Some(&ns), &pod_name))
    else {
        return not_found("pods", &pod_name);
    };
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let command: Vec<String> = params
        .iter()
        .filter(|(k, _)| k == "command")
        .map(|(_, v)| v.clone())
        .collect();
    let (stdout, exit) = run(&state, &pod, &command);
    ws.protocols(["v5.channel.k8s.io", "v4.channel.k8s.io"])
        .on_upgrade(move |mut socket| async move {
            let frame = |channel: u8, data: &[u8]| {
                let mut f = vec![channel];
                f.extend_from_slice(data);
                Message::Binary(f.into())
            };
            // client-go registers its streams after the upgrade; a frame that arrives first is
            // dropped ("Unknown stream id 3") and kubectl reports no exit status. A process takes
            // a moment to start in a real container; the lab waits as long before answering.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            if !stdout.is_empty() {
                let _ = socket.send(frame(1, &stdout)).await;
            }
            let done = match exit {
                0 => json!({"metadata": {}, "status": "Success"}),
                code => json!({
                    "metadata": {}, "status": "Failure",
                    "message": format!("command terminated with non-zero exit code: error executing command {command:?}, exit code {code}"),
                    "reason": "NonZeroExitCode",
                    "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
                }),
            };
            let _ = socket.send(frame(3, done.to_string().as_bytes())).await;
            // A normal closure (1000): clients treat a close without a code as an error.
            let _ = socket
                .send(Message::Close(Some(axum::extract::ws::CloseFrame {
                    code: axum::extract::ws::close_code::NORMAL,
                    reason: "".into(),
                })))
                .await;
        })
        .into_response()
}

/// What the container would print: a projected service-account token file, the hostname, else
/// exit 127.
fn run(state: &State, pod: &Value, command: &[String]) -> (Vec<u8>, i32) {
    match command {
        [cat, path] if cat == "cat" && projected_audience(state, pod, path).is_some() => {
            match token_for(state, pod, path) {
                Some(t) => (t.into_bytes(), 0),
                None => (b"cat: token: No such file or directory\n".to_vec(), 1),
            }
        }
        [cat, path] if cat == "cat" && path == "/etc/hostname" => {
            (format!("{}\n", name_of(pod)).into_bytes(), 0)
        }
        _ => (Vec::new(), 127),
    }
}

/// The projected token of pod `ns/name` at the path its AZURE_FEDERATED_TOKEN_FILE names, as
/// the kubelet would write it now.
pub fn pod_token(state: &State, ns: &str, name: &str) -> Option<String> {
    let pod = find("", "v1", "pods").and_then(|r| state.find_object(r, Some(ns), name))?;
    let path = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["env"].as_array().into_iter().flatten())
        .find(|e| e["name"] == "AZURE_FEDERATED_TOKEN_FILE")
        .and_then(|e| e["value"].as_str())?
        .to_string();
    token_for(state, &pod, &path)
}

/// The audience of the `serviceAccountToken` projection the kubelet writes at `path`, read as
/// the kubelet reads the pod: a container's volumeMount whose mountPath holds the file, its
/// projected volume, the source whose `path` is the rest. Without `audience` the kubelet asks for
/// the API server's own audiences, which default to its issuer (Kubernetes API reference,
/// ServiceAccountTokenProjection.audience; kube-apiserver `--api-audiences`).
fn projected_audience(state: &State, pod: &Value, path: &str) -> Option<String> {
    let spec = &pod["spec"];
    let (volume, file) = spec["containers"]
        .as_array()?
        .iter()
        .flat_map(|c| c["volumeMounts"].as_array().into_iter().flatten())
        .find_map(|m| {
            let dir = m["mountPath"].as_str()?.trim_end_matches('/');
            let file = path.strip_prefix(dir)?.strip_prefix('/')?;
            Some((m["name"].as_str()?, file))
        })?;
    let sources = spec["volumes"]
        .as_array()?
        .iter()
        .find(|v| v["name"] == volume)?["projected"]["sources"]
        .as_array()?;
    let projection = sources
        .iter()
        .map(|s| &s["serviceAccountToken"])
        .find(|t| t["path"] == file)?;
    Some(
        projection["audience"]
            .as_str()
            .map_or_else(|| state.issuer().to_string(), str::to_string),
    )
}

/// A token as the kubelet writes it at `path`: the pod's ServiceAccount, the projection's
/// audience, bound to the pod.
fn token_for(state: &State, pod: &Value, path: &str) -> Option<String> {
    let audience = projected_audience(state, pod, path)?;
    let ns = namespace_of(pod);
    let sa_name = pod["spec"]["serviceAccountName"]
        .as_str()
        .unwrap_or("default");
    let sa =
        find("", "v1", "serviceaccounts").and_then(|r| state.find_object(r, Some(ns), sa_name))?;
    let pods = find("", "v1", "pods")
        .map(|r| state.objects_of(r))
        .unwrap_or_default();
    let bound = Some(("Pod".to_string(), name_of(pod).to_string()));
    super::token::mint(
        state.issuer_key(),
        state.issuer(),
        &sa,
        &pods,
        vec![audience],
        3600,
        bound,
    )
    .ok()
    .map(|m| m.token)
}

//! `--in-pod`: widiag runs inside the workload and presents the pod's own token, the file the
//! webhook points `AZURE_FEDERATED_TOKEN_FILE` at, instead of asking the API server for one.
//! The pod is the one the token is bound to (its `kubernetes.io` claims), or `--pod`.

use std::path::PathBuf;

use super::CollectError;
pub use crate::probe::token::OwnToken;
use crate::world::ObjRef;

/// Reads `AZURE_FEDERATED_TOKEN_FILE` (or `path`) and works out which pod it belongs to.
pub fn read(path: Option<PathBuf>, pod: Option<&ObjRef>) -> Result<OwnToken, CollectError> {
    let path = path
        .or_else(|| std::env::var_os("AZURE_FEDERATED_TOKEN_FILE").map(PathBuf::from))
        .ok_or_else(|| {
            CollectError::InPod(
                "AZURE_FEDERATED_TOKEN_FILE is not set: the webhook did not mutate this pod, or \
                 widiag is not running inside it"
                    .into(),
            )
        })?;
    let jwt = std::fs::read_to_string(&path)
        .map_err(|e| CollectError::InPod(format!("{}: {e}", path.display())))?
        .trim()
        .to_string();
    let (_, claims) = crate::world::facts::decode_unverified(&jwt)
        .map_err(|e| CollectError::InPod(format!("{}: {e}", path.display())))?;
    let bound = claims.kubernetes.as_ref().and_then(|k| {
        Some(ObjRef::new(
            k["namespace"].as_str()?,
            k["pod"]["name"].as_str()?,
        ))
    });
    let pod = pod.cloned().or(bound).ok_or_else(|| {
        CollectError::InPod(format!(
            "{} is not bound to a pod; name it with --pod NAMESPACE/NAME",
            path.display()
        ))
    })?;
    Ok(OwnToken { pod, path, jwt })
}

//! The caller's Azure credential, from azure_identity: a service principal or workload identity
//! from the environment, else the developer's `az login` / `azd auth login`.

use std::ffi::OsStr;
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{ClientOptions, ExponentialRetryOptions, RetryOptions};
use azure_identity::{
    ClientSecretCredential, DeveloperToolsCredential, ManagedIdentityCredential,
    WorkloadIdentityCredential,
};

use super::CollectError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AzureAuth {
    /// Environment service principal or workload identity if set, else `az`/`azd` login.
    #[default]
    Auto,
    /// `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`.
    Secret,
    /// `AZURE_CLIENT_ID`, `AZURE_TENANT_ID`, `AZURE_FEDERATED_TOKEN_FILE` (widiag in a pod).
    WorkloadIdentity,
    /// The VM's or pod's managed identity (IMDS).
    ManagedIdentity,
    /// `az login` or `azd auth login`.
    Cli,
    /// Do not read Azure; identities and their credentials stay unknown.
    None,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn failed(what: &str, e: azure_core::Error) -> CollectError {
    CollectError::Credential(format!("{what}: {e}"))
}

/// A service principal given explicitly rather than through `AZURE_*` variables.
#[derive(Clone)]
pub struct SecretLogin {
    pub tenant_id: String,
    pub client_id: String,
    pub secret: String,
}

impl std::fmt::Debug for SecretLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretLogin")
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// The SDK pipeline every credential uses: widiag's HTTP client (its proxy, CA and
/// `--timeout` per request) and widiag's retry bound (3 attempts, waits capped at 5 s, all
/// within `timeout`) instead of azure_core's default (8 retries over up to a minute, which
/// made a 502ing or hanging Entra cost 84-131 s whatever `--timeout` said).
fn client_options(http: reqwest::Client, timeout: Duration) -> ClientOptions {
    let seconds = i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX);
    ClientOptions {
        transport: Some(azure_core::http::Transport::new(Arc::new(http))),
        retry: RetryOptions::exponential(ExponentialRetryOptions {
            initial_delay: azure_core::time::Duration::milliseconds(500),
            max_retries: crate::net::retry::ATTEMPTS - 1,
            max_total_elapsed: azure_core::time::Duration::seconds(seconds),
            max_delay: azure_core::time::Duration::seconds(5),
        }),
        ..Default::default()
    }
}

/// The credential `auth` names; `None` when Azure is not to be read. Token requests go
/// through `http`, so they share widiag's proxy and CA settings, and are bounded by `timeout`.
pub fn credential(
    auth: AzureAuth,
    login: Option<&SecretLogin>,
    http: reqwest::Client,
    timeout: Duration,
) -> Result<Option<Arc<dyn TokenCredential>>, CollectError> {
    let client_options = || client_options(http.clone(), timeout);
    if let Some(l) = login {
        let options = azure_identity::ClientSecretCredentialOptions {
            client_options: client_options(),
        };
        let cred = ClientSecretCredential::new(
            &l.tenant_id,
            l.client_id.clone(),
            Secret::new(l.secret.clone()),
            Some(options),
        )
        .map_err(|e| failed("client secret credential", e))?;
        return Ok(Some(cred));
    }
    let auth = match auth {
        AzureAuth::Auto if env("AZURE_CLIENT_SECRET").is_some() => AzureAuth::Secret,
        AzureAuth::Auto if env("AZURE_FEDERATED_TOKEN_FILE").is_some() => {
            AzureAuth::WorkloadIdentity
        }
        AzureAuth::Auto => AzureAuth::Cli,
        a => a,
    };
    let cred: Arc<dyn TokenCredential> = match auth {
        AzureAuth::None => return Ok(None),
        AzureAuth::Secret => {
            let need = |n: &str| {
                env(n).ok_or_else(|| {
                    CollectError::Credential(format!("--azure-auth secret needs {n}"))
                })
            };
            let (tenant, client, secret) = (
                need("AZURE_TENANT_ID")?,
                need("AZURE_CLIENT_ID")?,
                need("AZURE_CLIENT_SECRET")?,
            );
            let options = azure_identity::ClientSecretCredentialOptions {
                client_options: client_options(),
            };
            ClientSecretCredential::new(&tenant, client, Secret::new(secret), Some(options))
                .map_err(|e| failed("client secret credential", e))?
        }
        AzureAuth::WorkloadIdentity => {
            let options = azure_identity::WorkloadIdentityCredentialOptions {
                credential_options: azure_identity::ClientAssertionCredentialOptions {
                    client_options: client_options(),
                },
                ..Default::default()
            };
            WorkloadIdentityCredential::new(Some(options))
                .map_err(|e| failed("workload identity credential", e))?
        }
        AzureAuth::ManagedIdentity => {
            let options = azure_identity::ManagedIdentityCredentialOptions {
                client_options: client_options(),
                ..Default::default()
            };
            ManagedIdentityCredential::new(Some(options))
                .map_err(|e| failed("managed identity credential", e))?
        }
        AzureAuth::Cli | AzureAuth::Auto => {
            let options = azure_identity::DeveloperToolsCredentialOptions {
                executor: Some(Arc::new(KillOnDrop)),
            };
            DeveloperToolsCredential::new(Some(options))
                .map_err(|e| failed("developer tools credential (az, azd)", e))?
        }
    };
    Ok(Some(cred))
}

/// Runs `az`/`azd` for the developer-tools credential as a child that is killed (and reaped)
/// when widiag stops waiting for it; azure_identity's own executors run it to the end, so a
/// hung `az` outlived `--timeout` and Ctrl-C.
#[derive(Debug)]
struct KillOnDrop;

#[async_trait::async_trait]
impl azure_identity::Executor for KillOnDrop {
    async fn run(&self, program: &OsStr, args: &[&OsStr]) -> std::io::Result<Output> {
        tokio::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
    }
}

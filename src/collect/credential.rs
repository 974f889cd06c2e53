//! The caller's Azure credential, from azure_identity: a service principal or workload identity
//! from the environment, else the developer's `az login` / `azd auth login`.

use std::sync::Arc;

use azure_core::credentials::{Secret, TokenCredential};
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

/// The credential `auth` names; `None` when Azure is not to be read. Token requests go
/// through `http`, so they share widiag's proxy and CA settings.
pub fn credential(
    auth: AzureAuth,
    login: Option<&SecretLogin>,
    http: reqwest::Client,
) -> Result<Option<Arc<dyn TokenCredential>>, CollectError> {
    if let Some(l) = login {
        let options = azure_identity::ClientSecretCredentialOptions {
            client_options: azure_core::http::ClientOptions {
                transport: Some(azure_core::http::Transport::new(Arc::new(http))),
                ..Default::default()
            },
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
            ClientSecretCredential::new(&tenant, client, Secret::new(secret), None)
                .map_err(|e| failed("client secret credential", e))?
        }
        AzureAuth::WorkloadIdentity => WorkloadIdentityCredential::new(None)
            .map_err(|e| failed("workload identity credential", e))?,
        AzureAuth::ManagedIdentity => ManagedIdentityCredential::new(None)
            .map_err(|e| failed("managed identity credential", e))?,
        AzureAuth::Cli | AzureAuth::Auto => DeveloperToolsCredential::new(None)
            .map_err(|e| failed("developer tools credential (az, azd)", e))?,
    };
    Ok(Some(cred))
}

//! `AZURE_ENVIRONMENT` as the webhook resolves it: go-autorest's `azure.EnvironmentFromName`
//! (the webhook's `getAzureAuthorityHost`, pkg/webhook/webhook.go@v1.6.0:554-565). An empty name
//! is the public cloud; any other name is looked up upper-cased, so case does not matter;
//! `AzureStackCloud` is read from the file `AZURE_ENVIRONMENT_FILEPATH` names; anything else is
//! an error, and the webhook does not start (webhook.go@v1.6.0:121-126).

/// (name as go-autorest's map spells it, ActiveDirectoryEndpoint, whether it is an alias added in
/// autorest/v0.11.27). Source: Azure/go-autorest autorest/v0.11.30:autorest/azure/environments.go
/// (map at :33-40; endpoints at :102, :151, :200, :249; lookup at :293-311), aliases from commit
/// 7525a9b. The webhook uses v0.11.30 since v1.5.0, v0.11.27 or newer since v0.10.0.
const NAMES: [(&str, &str, bool); 6] = [
    ("AZURECHINACLOUD", "https://login.chinacloudapi.cn/", false),
    (
        "AZUREGERMANCLOUD",
        "https://login.microsoftonline.de/",
        false,
    ),
    ("AZURECLOUD", "https://login.microsoftonline.com/", true),
    (
        "AZUREPUBLICCLOUD",
        "https://login.microsoftonline.com/",
        false,
    ),
    (
        "AZUREUSGOVERNMENT",
        "https://login.microsoftonline.us/",
        true,
    ),
    (
        "AZUREUSGOVERNMENTCLOUD",
        "https://login.microsoftonline.us/",
        false,
    ),
];

/// go-autorest's name for the environment read from a file.
pub const STACK: &str = "AzureStackCloud";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cloud {
    Known(&'static str),
    /// Azure Stack: the authority is in the file `AZURE_ENVIRONMENT_FILEPATH` names.
    FromFile,
    /// The webhook fails to start with this message.
    Unknown(String),
}

/// A name as the current go-autorest resolves it.
pub fn resolve(name: &str) -> Cloud {
    resolve_with(name, true)
}

/// A name as a go-autorest with (or, before autorest/v0.11.27, without) the aliases resolves it.
pub fn resolve_with(name: &str, aliases: bool) -> Cloud {
    if name.is_empty() {
        return Cloud::Known("https://login.microsoftonline.com/");
    }
    if name.eq_ignore_ascii_case(STACK) {
        return Cloud::FromFile;
    }
    let upper = name.to_ascii_uppercase();
    match NAMES
        .iter()
        .find(|(n, _, alias)| *n == upper && (aliases || !alias))
    {
        Some((_, host, _)) => Cloud::Known(host),
        None => Cloud::Unknown(format!(
            "failed to get AAD endpoint: autorest/azure: There is no cloud environment matching the name {}",
            super::go::quote(&upper)
        )),
    }
}

/// The cloud name a mistyped one most likely meant, for the fix: a sovereign cloud's word in it
/// wins, since pointing such a cluster at the public authority would fail another way.
pub fn nearest(name: &str) -> &'static str {
    let n = name.to_ascii_lowercase();
    if n.contains("china") || n.ends_with("cn") {
        "AzureChinaCloud"
    } else if n.contains("gov") || n.contains("usg") {
        "AzureUSGovernmentCloud"
    } else if n.contains("german") {
        "AzureGermanCloud"
    } else if n.contains("stack") {
        STACK
    } else {
        "AzurePublicCloud"
    }
}

/// The authority host the webhook injects for a cloud name, when it is one go-autorest knows.
pub fn authority_for(name: &str) -> Option<&'static str> {
    match resolve(name) {
        Cloud::Known(host) => Some(host),
        _ => None,
    }
}

/// Cloud name for an authority host, the reverse of [`authority_for`]; only an exact, bare
/// origin of a known authority counts (`https://login.microsoftonline.com.evil/` is none).
pub fn cloud_of_authority(url: &str) -> Option<&'static str> {
    crate::untrusted::destinations::known(url).map(|a| a.cloud)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_as_go_autorest_does() {
        assert_eq!(
            authority_for(""),
            Some("https://login.microsoftonline.com/")
        );
        assert_eq!(
            authority_for("azurecloud"),
            Some("https://login.microsoftonline.com/")
        );
        assert_eq!(
            authority_for("AzureUSGovernment"),
            Some("https://login.microsoftonline.us/")
        );
        assert_eq!(
            authority_for("AZURECHINACLOUD"),
            Some("https://login.chinacloudapi.cn/")
        );
        assert_eq!(resolve("azurestackcloud"), Cloud::FromFile);
        assert!(matches!(resolve("Public"), Cloud::Unknown(_)));
        assert!(matches!(resolve(" AzureCloud"), Cloud::Unknown(_)));
        assert!(matches!(
            resolve_with("AzureCloud", false),
            Cloud::Unknown(_)
        ));
        assert_eq!(
            resolve("nope"),
            Cloud::Unknown(
                "failed to get AAD endpoint: autorest/azure: There is no cloud environment matching the name \"NOPE\"".into()
            )
        );
    }
}

//! Where a service-account token may go. A token minted for a pod (TokenRequest, the pod's own
//! file, or read over exec) is presented only to an Entra authority of a known cloud, or to one
//! the user named on the command line; never to a host a pod's env or a world names.

/// One Entra authority host and the cloud it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authority {
    pub host: &'static str,
    /// go-autorest's environment name, as the webhook's `AZURE_ENVIRONMENT` uses it.
    pub cloud: &'static str,
    /// Whether widiag sends tokens there (the German cloud closed in 2021).
    pub live: bool,
}

const fn authority(host: &'static str, cloud: &'static str, live: bool) -> Authority {
    Authority { host, cloud, live }
}

/// Microsoft's authority hosts: "National clouds" (learn.microsoft.com/entra/identity-platform/
/// authentication-national-cloud) and azure-sdk-for-go's `cloud.AzurePublic/AzureGovernment/
/// AzureChina` `ActiveDirectoryAuthorityHost`; login.windows.net and login.microsoft.com are
/// the public cloud's older and alternative hosts.
pub const AUTHORITIES: [Authority; 7] = [
    authority("login.microsoftonline.com", "AzurePublicCloud", true),
    authority("login.windows.net", "AzurePublicCloud", true),
    authority("login.microsoft.com", "AzurePublicCloud", true),
    authority("login.microsoftonline.us", "AzureUSGovernmentCloud", true),
    authority("login.chinacloudapi.cn", "AzureChinaCloud", true),
    authority("login.partner.microsoftonline.cn", "AzureChinaCloud", true),
    authority("login.microsoftonline.de", "AzureGermanCloud", false),
];

/// The host of an authority URL when it is one origin (`https://host[:443][/]`), lower case.
fn origin_host(url: &str) -> Option<String> {
    let u = url::Url::parse(url.trim()).ok()?;
    let bare = u.scheme() == "https"
        && u.username().is_empty()
        && u.password().is_none()
        && u.port().is_none()
        && matches!(u.path(), "" | "/")
        && u.query().is_none()
        && u.fragment().is_none();
    bare.then(|| u.host_str().map(str::to_ascii_lowercase))?
}

/// `scheme://host:port` of a URL, to tell whether two URLs reach the same service (a paging
/// `nextLink` must not carry a bearer token elsewhere).
pub fn origin(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    Some(format!(
        "{}://{}:{}",
        u.scheme(),
        u.host_str()?.to_ascii_lowercase(),
        u.port_or_known_default()?
    ))
}

/// The known authority `url` names exactly, if it does (no substring or suffix matching:
/// `https://login.microsoftonline.com.evil.example/` is not one).
pub fn known(url: &str) -> Option<Authority> {
    let host = origin_host(url)?;
    AUTHORITIES.into_iter().find(|a| a.host == host)
}

/// Whether a token may be presented at `url`: a live known authority, or exactly the origin
/// the user passed (`--authority-host`).
pub fn may_receive_token(url: &str, user_allowed: Option<&str>) -> bool {
    if known(url).is_some_and(|a| a.live) {
        return true;
    }
    // The user's own authority may listen on any port; it is https and exactly that origin.
    let https = |u: &str| url::Url::parse(u).is_ok_and(|u| u.scheme() == "https");
    match user_allowed {
        Some(user) if https(url) && https(user) => {
            origin(url).is_some() && origin(url) == origin(user)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_compare_services_not_paths() {
        let arm = origin("https://management.azure.com/subscriptions?api-version=1");
        assert_eq!(
            arm,
            origin("https://MANAGEMENT.azure.com:443/x?skiptoken=2")
        );
        assert_ne!(arm, origin("https://management.azure.com.evil.example/x"));
        assert_ne!(
            arm,
            origin("https://evil.example/?https://management.azure.com")
        );
        assert_eq!(origin("not a url"), None);
    }

    #[test]
    fn only_exact_known_origins_receive_tokens() {
        for ok in [
            "https://login.microsoftonline.com/",
            "https://LOGIN.microsoftonline.com",
            "https://login.microsoftonline.us/",
            "https://login.chinacloudapi.cn/",
        ] {
            assert!(may_receive_token(ok, None), "{ok}");
        }
        for bad in [
            "https://attacker.example/",
            "http://login.microsoftonline.com/",
            "https://login.microsoftonline.com.evil.example/",
            "https://evil.example/login.microsoftonline.com/",
            "https://login.microsoftonline.com@evil.example/",
            "https://login.microsoftonline.com:8443/",
            "https://login.microsoftonline.com/x/",
            "https://login.microsoftonline.de/",
            "",
        ] {
            assert!(!may_receive_token(bad, None), "{bad}");
        }
        assert!(may_receive_token(
            "https://login.contoso.local/",
            Some("https://login.contoso.local")
        ));
        assert!(!may_receive_token(
            "https://login.contoso.local.evil/",
            Some("https://login.contoso.local")
        ));
        assert!(may_receive_token(
            "https://adfs.contoso.local:8443/",
            Some("https://adfs.contoso.local:8443")
        ));
        assert!(!may_receive_token(
            "https://adfs.contoso.local:9443/",
            Some("https://adfs.contoso.local:8443")
        ));
    }
}

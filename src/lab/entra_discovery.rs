//! Entra's discovery endpoints, which MSAL and the Azure CLI read before any token request
//! (learn.microsoft.com/entra/identity-platform/v2-protocols-oidc): the tenant's OpenID
//! configuration (v2.0 and v1), instance discovery, and the token-signing keys. The lab's own
//! reading of those documents; no client's code is shared.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::entra::{Directory, aadsts};
use super::keys::SigningKey;

const HOST: &str = "https://login.microsoftonline.com";
/// Tenant names Entra resolves itself rather than a tenant id.
const META_TENANTS: &[&str] = &["common", "organizations", "consumers"];

/// A discovery GET, or None for any other request.
pub fn handle(
    dir: &Directory,
    entra_key: &SigningKey,
    method: &Method,
    path: &str,
    query: &str,
) -> Option<Response> {
    if method != Method::GET {
        return None;
    }
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (tenant, rest) = segs.split_first()?;
    let known = || META_TENANTS.contains(tenant) || dir.knows_tenant(tenant);
    Some(match rest {
        ["v2.0", ".well-known", "openid-configuration"] if known() => ok(&v2_config(tenant)),
        [".well-known", "openid-configuration"] if known() => ok(&v1_config(tenant)),
        ["discovery", "instance"] => ok(&instance(query)),
        ["discovery", "keys"] | ["discovery", "v2.0", "keys"] if known() => {
            ok(&json!({ "keys": [entra_key.jwk()] }))
        }
        ["v2.0", ".well-known", "openid-configuration"]
        | [".well-known", "openid-configuration"]
        | ["discovery", "keys"]
        | ["discovery", "v2.0", "keys"] => unknown_tenant(tenant),
        _ => return None,
    })
}

/// `{tenant}/v2.0/.well-known/openid-configuration`, the fields Entra publishes; a meta tenant
/// names its issuer with the `{tenantid}` template, as Entra does.
fn v2_config(tenant: &str) -> Value {
    let tid = issuer_tenant(tenant);
    json!({
        "token_endpoint": format!("{HOST}/{tenant}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{HOST}/{tenant}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{HOST}/{tid}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": format!("{HOST}/{tenant}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{HOST}/{tenant}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{HOST}/{tenant}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": format!("{HOST}/{tenant}/kerberos"),
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    })
}

/// `{tenant}/.well-known/openid-configuration`: the v1 endpoints and the `sts.windows.net` issuer.
fn v1_config(tenant: &str) -> Value {
    let tid = issuer_tenant(tenant);
    json!({
        "token_endpoint": format!("{HOST}/{tenant}/oauth2/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{HOST}/common/discovery/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
        "scopes_supported": ["openid"],
        "issuer": format!("https://sts.windows.net/{tid}/"),
        "authorization_endpoint": format!("{HOST}/{tenant}/oauth2/authorize"),
        "end_session_endpoint": format!("{HOST}/{tenant}/oauth2/logout"),
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
    })
}

fn issuer_tenant(tenant: &str) -> String {
    if META_TENANTS.contains(&tenant) {
        "{tenantid}".into()
    } else {
        tenant.to_ascii_lowercase()
    }
}

/// `common/discovery/instance`: the aliases of the public cloud's authority, and where the
/// tenant named in `authorization_endpoint` publishes its configuration.
fn instance(query: &str) -> Value {
    let endpoint = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "authorization_endpoint")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let tenant = endpoint
        .strip_prefix(HOST)
        .and_then(|rest| rest.trim_start_matches('/').split('/').next())
        .filter(|t| !t.is_empty())
        .unwrap_or("common")
        .to_string();
    json!({
        "tenant_discovery_endpoint": format!("{HOST}/{tenant}/v2.0/.well-known/openid-configuration"),
        "api-version": "1.1",
        "metadata": [{
            "preferred_network": "login.microsoftonline.com",
            "preferred_cache": "login.windows.net",
            "aliases": ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"],
        }],
    })
}

fn unknown_tenant(tenant: &str) -> Response {
    aadsts(
        StatusCode::BAD_REQUEST,
        "invalid_tenant",
        90002,
        &format!(
            "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
        ),
    )
}

fn ok(body: &Value) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

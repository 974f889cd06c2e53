//! The lab's Key Vault data plane (`https://{vault}.vault.azure.net/secrets/{name}`): the 401
//! bearer challenge, then 200 or the 403 a real vault gives, decided from the world: its
//! firewall (ForbiddenByFirewall), RBAC role assignments (ForbiddenByRbac) or access policies
//! (ForbiddenByPolicy). World files never hold secret values; the lab answers with a value it
//! makes up from the vault and secret name (wire-protocols.md §4).

use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::data::DataPlane;
use super::keys::SigningKey;
use crate::world::World;
use crate::world::azure::KeyVault;

fn error(status: StatusCode, code: &str, message: String, inner: Option<&str>) -> Response {
    let mut e = json!({"code": code, "message": message});
    if let Some(i) = inner {
        e["innererror"] = json!({"code": i});
    }
    (
        status,
        [("content-type", "application/json; charset=utf-8")],
        json!({"error": e}).to_string(),
    )
        .into_response()
}

fn challenge(tenant: &str) -> Response {
    let mut r = error(
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        "AKV10000: Request is missing a Bearer or PoP token.".into(),
        None,
    );
    let value = format!(
        "Bearer authorization=\"https://login.microsoftonline.com/{tenant}\", resource=\"https://vault.azure.net\""
    );
    if let Ok(v) = value.parse() {
        r.headers_mut().insert("www-authenticate", v);
    }
    r
}

pub fn handle(
    world: &World,
    data: &DataPlane,
    entra_key: &SigningKey,
    host: &str,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Response {
    let vault_name = host.split('.').next().unwrap_or_default();
    let Some(vault) = world
        .azure
        .vaults
        .iter()
        .find(|v| v.name.eq_ignore_ascii_case(vault_name))
    else {
        return error(
            StatusCode::NOT_FOUND,
            "VaultNotFound",
            format!("The vault {vault_name} does not exist in the lab's world."),
            None,
        );
    };
    let tenant = vault
        .tenant_id
        .clone()
        .or_else(|| world.info.tenant_id.clone())
        .unwrap_or_default();
    let claims = match super::bearer::access_claims(entra_key, headers, "https://vault.azure.net") {
        Ok(c) => c,
        Err(rejected) => return unauthenticated(&rejected, &tenant),
    };
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let oid = claims["oid"].as_str().unwrap_or_default();
    let caller = format!(
        "appid={};oid={oid};iss=https://sts.windows.net/{tenant}/",
        claims["appid"].as_str().unwrap_or_default()
    );
    if let (&Method::GET, ["secrets"]) = (method, segs.as_slice()) {
        if let Some(denied) = deny(world, vault, oid, &caller, None) {
            return denied;
        }
        return list_secrets(data, vault);
    }
    let (name, version) = match (method, segs.as_slice()) {
        (&Method::GET, ["secrets", name]) => (*name, None),
        (&Method::GET, ["secrets", name, version]) => (*name, Some(*version)),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "BadParameter",
                format!(
                    "The lab's vault serves GET /secrets and /secrets/{{name}}, not {method} {path}."
                ),
                None,
            );
        }
    };
    if let Some(denied) = deny(world, vault, oid, &caller, Some(name)) {
        return denied;
    }
    // Authorised first, looked up second, as Key Vault does: widiag's probe relies on it.
    get_secret(data, vault, name, version)
}

/// A request without a usable bearer token: the challenge when there is none, else Key Vault's
/// AKV code for what is wrong with it.
fn unauthenticated(rejected: &super::bearer::Rejected, tenant: &str) -> Response {
    use super::bearer::Rejected;
    let unauthorized = |m: &str| error(StatusCode::UNAUTHORIZED, "Unauthorized", m.into(), None);
    match rejected {
        Rejected::Missing => challenge(tenant),
        Rejected::Signature => {
            unauthorized("AKV10032: Invalid issuer. The token was not issued by the lab's Entra.")
        }
        Rejected::Malformed | Rejected::Audience => unauthorized("AKV10022: Invalid audience."),
        Rejected::Expired => unauthorized("AKV10021: The token is expired."),
    }
}

/// `GET /secrets`: the vault's secrets by id and attributes only; a list never carries values.
fn list_secrets(data: &DataPlane, vault: &KeyVault) -> Response {
    let value: Vec<_> = data
        .secret_names(&vault.name)
        .iter()
        .map(|n| {
            json!({
                "id": format!("https://{}.vault.azure.net/secrets/{n}", vault.name),
                "attributes": {"enabled": true, "created": 1_763_460_000, "updated": 1_763_460_000, "recoveryLevel": "Recoverable+Purgeable"},
                "tags": {}})
        })
        .collect();
    (
        StatusCode::OK,
        [("content-type", "application/json; charset=utf-8")],
        json!({"value": value, "nextLink": null}).to_string(),
    )
        .into_response()
}

/// `GET /secrets/{name}[/{version}]` once authorised: `SecretNotFound` for a name the vault does
/// not hold (widiag's access probe asks for one), else a value made up from the names.
fn get_secret(data: &DataPlane, vault: &KeyVault, name: &str, version: Option<&str>) -> Response {
    if !data.holds_secret(&vault.name, name) {
        return error(
            StatusCode::NOT_FOUND,
            "SecretNotFound",
            format!(
                "A secret with (name/id) {name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
            ),
            None,
        );
    }
    let version = version
        .map(str::to_string)
        .unwrap_or_else(|| format!("{:032x}", fnv(&format!("{}/{name}", vault.name))));
    let body = json!({
        "value": super::data::secret_value(&vault.name, name),
        "id": format!("https://{}.vault.azure.net/secrets/{name}/{version}", vault.name),
        "attributes": {"enabled": true, "created": 1_763_460_000, "updated": 1_763_460_000, "recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90},
        "tags": {},
    });
    (
        StatusCode::OK,
        [("content-type", "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

/// The 403 a real vault gives this caller for getting secret `name`, or listing when `None`.
fn deny(
    world: &World,
    vault: &KeyVault,
    oid: &str,
    caller: &str,
    name: Option<&str>,
) -> Option<Response> {
    let (action, resource, permission) = match name {
        Some(n) => ("getSecret/action", format!("/secrets/{n}"), "get"),
        None => ("readMetadata/action", "/secrets".to_string(), "list"),
    };
    let location = vault.location.as_deref().unwrap_or("unknown");
    let acls_deny = vault.network_acls.as_ref().is_some_and(|a| {
        a.default_action.eq_ignore_ascii_case("Deny")
            && !a.ip_rules.iter().any(|r| r.starts_with("127."))
    });
    if crate::lab::network::shut(
        acls_deny,
        vault.public_network_access.as_deref(),
        &vault.private_endpoints,
    ) {
        return Some(error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!(
                "Client address is not authorized and caller is not a trusted service.\r\nClient address: 127.0.0.1\r\nCaller: {caller}\r\nVault: {};location={location}",
                vault.name
            ),
            Some("ForbiddenByFirewall"),
        ));
    }
    if vault.rbac_authorization {
        let data_action = format!("Microsoft.KeyVault/vaults/secrets/{action}");
        let granted = crate::lab::rbac::allowed(
            world,
            oid,
            &vault.id,
            crate::lab::rbac::Operation::DataAction(&data_action),
        );
        return (!granted).then(|| {
            error(
                StatusCode::FORBIDDEN,
                "Forbidden",
                format!(
                    "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: {caller}\r\nAction: 'Microsoft.KeyVault/vaults/secrets/{action}'\r\nResource: '{}{resource}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: 'DeniedWithNoValidRBAC' \r\nVault: {};location={location}\r\n",
                    vault.id.to_ascii_lowercase(),
                    vault.name
                ),
                Some("ForbiddenByRbac"),
            )
        });
    }
    // The lab's tokens are app-only: an entry for a compound identity (applicationId set)
    // grants only calls made on behalf of a user through that application.
    let allowed = vault.access_policies.iter().any(|p| {
        p.object_id.eq_ignore_ascii_case(oid)
            && p.application_id.is_none()
            && p.secrets
                .iter()
                .any(|s| s.eq_ignore_ascii_case(permission) || s.eq_ignore_ascii_case("all"))
    });
    (!allowed).then(|| {
        error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!(
                "The user, group or application '{caller}' does not have secrets {permission} permission on key vault '{};location={location}'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
                vault.name
            ),
            Some("ForbiddenByPolicy"),
        )
    })
}

/// A stable version id for a secret (FNV-1a).
fn fnv(s: &str) -> u128 {
    s.bytes()
        .fold(0x6c62272e07bb014262b821756295c58d_u128, |h, b| {
            (h ^ u128::from(b)).wrapping_mul(0x0000000001000000000000000000013B)
        })
}

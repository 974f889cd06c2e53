//! The lab's Entra token endpoint (`POST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`)
//! for client assertions: the validation sequence Entra runs for workload identity federation,
//! with its error bodies and AADSTS codes (workload-identity.md §4 and §H, wire-protocols.md §3).
//! Decisions come from the world: its tenant, identities, applications and federated credentials.

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::keys::SigningKey;
use crate::world::World;
use crate::world::azure::CredentialOwner;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Entra's limit on an external assertion's lifetime: 1 day and 1 hour.
const MAX_ASSERTION_SECS: i64 = 25 * 3600;

/// What the token endpoint needs to know about the world.
pub struct Directory {
    tenants: Vec<String>,
    /// The principal widiag (or `az`) reads ARM and Graph as, with a client secret.
    pub reader: Reader,
    /// The principal fix tests make Azure writes as, with a client secret.
    pub operator: Reader,
    /// client ID (lower case) -> (object/principal id, FICs as (issuer, subject, audiences)).
    clients: HashMap<String, Client>,
}

struct Client {
    principal: String,
    /// The display name Entra quotes in errors about the client.
    name: String,
    /// The service principal's `accountEnabled` is false.
    disabled: bool,
    /// (issuer, subject, audiences, still propagating).
    fics: Vec<(String, Option<String>, Vec<String>, bool)>,
}

/// A service principal the lab makes per run, allowed to read everything in the world.
#[derive(Debug, Clone)]
pub struct Reader {
    pub tenant_id: String,
    pub client_id: String,
    pub secret: String,
    pub principal_id: String,
}

impl Reader {
    pub fn generate(tenant_id: String) -> Reader {
        Reader {
            tenant_id,
            client_id: uuid_v4(),
            secret: format!("lab~{}", uuid_v4().replace('-', "")),
            principal_id: uuid_v4(),
        }
    }
}

impl Directory {
    /// Whether Entra knows this tenant id (the world's tenants and the reader's).
    pub fn knows_tenant(&self, tenant: &str) -> bool {
        self.tenants.contains(&tenant.to_ascii_lowercase())
    }

    /// The tenant the lab's own principals live in: the world's first, else a new one.
    pub fn home_tenant(world: &World) -> String {
        Self::tenants(world)
            .first()
            .cloned()
            .unwrap_or_else(uuid_v4)
    }

    fn tenants(world: &World) -> Vec<String> {
        let mut tenants: Vec<String> = world.info.tenant_id.iter().cloned().collect();
        tenants.extend(
            world
                .azure
                .identities
                .iter()
                .filter_map(|i| i.tenant_id.clone()),
        );
        tenants.extend(
            world
                .azure
                .service_principals
                .iter()
                .filter_map(|s| s.app_owner_organization_id.clone()),
        );
        tenants.iter_mut().for_each(|t| *t = t.to_ascii_lowercase());
        tenants.sort();
        tenants.dedup();
        tenants
    }

    pub fn new(
        world: &World,
        behaviour: &crate::lab::behaviour::LabBehaviour,
        reader: &Reader,
        operator: &Reader,
    ) -> Directory {
        let mut tenants = Self::tenants(world);
        let fics_of = |owner: &dyn Fn(&CredentialOwner) -> bool| {
            world
                .azure
                .federated_credentials
                .iter()
                .filter(|f| owner(&f.owner))
                .map(|f| {
                    let propagating = behaviour.propagating.iter().any(|n| n == &f.name);
                    (
                        f.issuer.clone(),
                        f.subject.clone(),
                        f.audiences.clone(),
                        propagating,
                    )
                })
                .collect::<Vec<_>>()
        };
        let mut clients = HashMap::new();
        for i in &world.azure.identities {
            let Some(cid) = &i.client_id else { continue };
            let fics = fics_of(
                &|o| matches!(o, CredentialOwner::Identity(id) if id.eq_ignore_ascii_case(&i.id)),
            );
            clients.insert(
                cid.to_ascii_lowercase(),
                Client {
                    principal: i.principal_id.clone().unwrap_or_default(),
                    name: i.name.clone(),
                    disabled: false,
                    fics,
                },
            );
        }
        for a in &world.azure.applications {
            let fics = fics_of(
                &|o| matches!(o, CredentialOwner::Application(r) if r.eq_ignore_ascii_case(&a.app_id) || r.eq_ignore_ascii_case(&a.id)),
            );
            let sp = world
                .azure
                .service_principals
                .iter()
                .find(|s| s.app_id.eq_ignore_ascii_case(&a.app_id));
            clients.insert(
                a.app_id.to_ascii_lowercase(),
                Client {
                    principal: sp.map(|s| s.id.clone()).unwrap_or_default(),
                    name: a.display_name.clone().unwrap_or_default(),
                    disabled: sp.is_some_and(|s| s.account_enabled == Some(false)),
                    fics,
                },
            );
        }
        if !tenants.contains(&reader.tenant_id) {
            tenants.push(reader.tenant_id.clone());
        }
        Directory {
            tenants,
            clients,
            reader: reader.clone(),
            operator: operator.clone(),
        }
    }
}

/// Entra's OAuth error body: the message, then the trace and correlation IDs and timestamp
/// repeated in `error_description`, as Entra writes them.
fn error_response(status: StatusCode, error: &str, codes: &[u32], message: &str) -> Response {
    let timestamp = jiff::Timestamp::now()
        .strftime("%Y-%m-%d %H:%M:%SZ")
        .to_string();
    let (trace, correlation) = (uuid_v4(), uuid_v4());
    let mut body = json!({
        "error": error,
        "error_description": format!("{message} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {timestamp}"),
        "error_codes": codes,
        "timestamp": timestamp,
        "trace_id": trace,
        "correlation_id": correlation,
    });
    if let Some(code) = codes.first() {
        body["error_uri"] = json!(format!(
            "https://login.microsoftonline.com/error?code={code}"
        ));
    }
    (
        status,
        [("content-type", "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

/// An Entra error response: status, `error`, and the AADSTS code with its message.
pub(crate) fn aadsts(status: StatusCode, error: &str, code: u32, message: &str) -> Response {
    error_response(status, error, &[code], &format!("AADSTS{code}: {message}"))
}

/// A throttled or failing token endpoint (`LabBehaviour.entra`): the status with
/// `Retry-After`, and an OAuth error body whose text says the lab made it.
pub fn unavailable(t: &crate::lab::behaviour::Throttle) -> Response {
    let code = StatusCode::from_u16(t.status).unwrap_or(StatusCode::TOO_MANY_REQUESTS);
    let r = error_response(
        code,
        "temporarily_unavailable",
        &[],
        &t.message.clone().unwrap_or_else(|| {
            format!(
                "The lab's Entra is unavailable ({}, LabBehaviour.entra).",
                t.status
            )
        }),
    );
    super::throttle::with_retry_after(r, t)
}

fn form(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// The cluster issuer as Entra sees it when it fetches discovery and JWKS.
pub struct Issuer<'a> {
    pub url: &'a str,
    pub key: &'a SigningKey,
    pub behaviour: Option<&'a crate::lab::behaviour::IssuerBehaviour>,
}

/// `POST /{tenant}/oauth2/v2.0/token`.
pub fn token(
    dir: &Directory,
    issuer: &Issuer<'_>,
    entra_key: &SigningKey,
    tenant: &str,
    body: &[u8],
) -> Response {
    let f = form(body);
    if let Err(rejected) = check_request(dir, tenant, &f) {
        return rejected.answer();
    }
    let client_id = f["client_id"].to_ascii_lowercase();
    if let Some(secret) = f.get("client_secret") {
        return secret_grant(dir, entra_key, tenant, &client_id, secret, &f["scope"]);
    }
    match assertion_principal(dir, issuer, tenant, &client_id, &f) {
        Ok(principal) => grant(entra_key, tenant, &f["client_id"], principal, &f["scope"]),
        Err(rejected) => rejected.answer(),
    }
}

/// The checks Entra makes before it looks at the client: parameters, grant type, tenant.
fn check_request(
    dir: &Directory,
    tenant: &str,
    f: &HashMap<String, String>,
) -> Result<(), Rejection> {
    for p in ["client_id", "grant_type", "scope"] {
        if f.get(p).is_none_or(|v| v.is_empty()) {
            return Err(Rejection::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                &format!("The request body must contain the following parameter: '{p}'."),
            ));
        }
    }
    if f["grant_type"] != "client_credentials" {
        return Err(Rejection::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        ));
    }
    let valid_tenant = tenant
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !valid_tenant {
        return Err(Rejection::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900023,
            &format!(
                "Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a valid external domain."
            ),
        ));
    }
    if !dir.tenants.contains(&tenant.to_ascii_lowercase()) {
        return Err(Rejection::new(
            StatusCode::BAD_REQUEST,
            "invalid_tenant",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        ));
    }
    Ok(())
}

/// The client-assertion grant: the client, its assertion, a federated credential that matches
/// it, then the issuer's keys and the assertion's times. The principal the token is for.
fn assertion_principal<'d>(
    dir: &'d Directory,
    issuer: &Issuer<'_>,
    tenant: &str,
    client_id: &str,
    f: &HashMap<String, String>,
) -> Result<&'d str, Rejection> {
    let Some(client) = dir.clients.get(client_id) else {
        return Err(Rejection::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                f["client_id"]
            ),
        ));
    };
    if f.get("client_assertion_type").map(String::as_str) != Some(ASSERTION_TYPE)
        || f.get("client_assertion").is_none_or(|a| a.is_empty())
    {
        return Err(Rejection::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ));
    }
    let assertion = &f["client_assertion"];
    let Ok((header, claims)) = crate::world::facts::decode_unverified(assertion) else {
        return Err(Rejection::new(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            50027,
            "JWT token is invalid or malformed.",
        ));
    };
    match_federated_credential(client, &f["client_id"], &claims)?;
    verify_assertion(issuer, assertion, header.kid.as_deref(), &claims)?;
    if client.disabled {
        return Err(Rejection::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            7000112,
            &format!(
                "Application '{}'({}) is disabled.",
                f["client_id"], client.name
            ),
        ));
    }
    Ok(&client.principal)
}

/// Entra's federated-credential match, narrowing by issuer, then subject, then audience, each
/// step with its own AADSTS code so the caller learns which field did not match.
fn match_federated_credential(
    client: &Client,
    shown_client_id: &str,
    claims: &crate::world::facts::TokenClaims,
) -> Result<(), Rejection> {
    if client.fics.is_empty() {
        return Err(Rejection::new(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            70025,
            &format!(
                "The client '{shown_client_id}' has no configured federated identity credentials."
            ),
        ));
    }
    let by_issuer: Vec<_> = client
        .fics
        .iter()
        .filter(|(i, ..)| *i == claims.iss)
        .collect();
    if by_issuer.is_empty() {
        return Err(Rejection::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700211,
            &format!(
                "No matching federated identity record found for presented assertion issuer '{}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
                claims.iss
            ),
        ));
    }
    let by_subject: Vec<_> = by_issuer
        .iter()
        .filter(|(_, s, ..)| s.as_deref() == Some(claims.sub.as_str()))
        .collect();
    if by_subject.is_empty() {
        return Err(subject_mismatch(&by_issuer, &claims.sub));
    }
    let matching: Vec<_> = by_subject
        .iter()
        .filter(|(_, _, auds, _)| auds.iter().any(|a| claims.aud.contains(a)))
        .collect();
    if matching.is_empty() {
        return Err(Rejection::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700212,
            &format!(
                "No matching federated identity record found for presented assertion audience '{}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
                claims.aud.join(",")
            ),
        ));
    }
    // A credential created moments ago is not yet visible to every Entra front end.
    if matching.iter().all(|(.., propagating)| *propagating) {
        // 400 invalid_request until early 2023; 401 invalid_client since, as for the 7002xx
        // codes that replaced it for plain mismatches (external-secrets#2783,
        // azure-workload-identity#1200).
        return Err(Rejection::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            70021,
            "No matching federated identity record found for presented assertion. Assertion Issuer: '{iss}'. Assertion Subject: '{sub}'. Assertion Audience: '{aud}'. https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
                .replace("{iss}", &claims.iss)
                .replace("{sub}", &claims.sub)
                .replace("{aud}", &claims.aud.join(","))
                .as_str(),
        ));
    }
    Ok(())
}

/// What Entra checks once a credential matches: the issuer's published key signed the
/// assertion, and the assertion is within its times and lifetime.
fn verify_assertion(
    issuer: &Issuer<'_>,
    assertion: &str,
    kid: Option<&str>,
    claims: &crate::world::facts::TokenClaims,
) -> Result<(), Rejection> {
    // Entra now fetches the issuer's discovery and JWKS. The lab serves only its own issuer.
    // Entra gives up on an issuer that does not answer as on one that is down.
    let unreachable = issuer
        .behaviour
        .is_some_and(|b| b.unreachable || b.hang_millis.is_some());
    if claims.iss != issuer.url || unreachable {
        return Err(Rejection::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90061,
            "Request to External OIDC endpoint failed.",
        ));
    }
    let issuer_key = issuer.key;
    let key_published = !issuer.behaviour.is_some_and(|b| b.jwks_missing_key);
    if !key_published || kid != Some(issuer_key.kid()) || issuer_key.verify(assertion).is_err() {
        return Err(Rejection::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700027,
            "Client assertion failed signature validation.",
        ));
    }
    let now = jiff::Timestamp::now().as_second();
    let nbf = claims.nbf.or(claims.iat).unwrap_or(i64::MIN);
    if now >= claims.exp || now < nbf {
        return Err(Rejection::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700024,
            &format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}.",
                stamp(now),
                stamp(nbf),
                stamp(claims.exp)
            ),
        ));
    }
    if claims.exp - claims.iat.unwrap_or(nbf) > MAX_ASSERTION_SECS {
        return Err(Rejection::new(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            70023,
            "External OIDC Provider token must have a lifetime of less than or equal to 1.01:00:00.",
        ));
    }
    Ok(())
}

/// No credential of the assertion's issuer names its subject. Entra says so differently when
/// only the letter case differs.
fn subject_mismatch(
    by_issuer: &[&(String, Option<String>, Vec<String>, bool)],
    sub: &str,
) -> Rejection {
    let case_only = by_issuer
        .iter()
        .any(|(_, s, ..)| s.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(sub)));
    if case_only {
        return Rejection::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7002138,
            &format!(
                "No matching federated identity record found for presented assertion subject '{sub}'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison."
            ),
        );
    }
    Rejection::new(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        700213,
        &format!(
            "No matching federated identity record found for presented assertion subject '{sub}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
        ),
    )
}

/// An AADSTS rejection, written as Entra's error body only when it is answered: a `Response`
/// is too large to pass back in every `Err`.
struct Rejection {
    status: StatusCode,
    error: &'static str,
    code: u32,
    message: String,
}

impl Rejection {
    fn new(status: StatusCode, error: &'static str, code: u32, message: &str) -> Rejection {
        Rejection {
            status,
            error,
            code,
            message: message.to_owned(),
        }
    }

    fn answer(&self) -> Response {
        aadsts(self.status, self.error, self.code, &self.message)
    }
}

/// A client secret is only ever right for the lab's reader and operator.
fn secret_grant(
    dir: &Directory,
    entra_key: &SigningKey,
    tenant: &str,
    client_id: &str,
    secret: &str,
    scope: &str,
) -> Response {
    let r = if client_id == dir.operator.client_id {
        &dir.operator
    } else {
        &dir.reader
    };
    if client_id != r.client_id {
        if !dir.clients.contains_key(client_id) {
            return aadsts(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                700016,
                &format!(
                    "Application with identifier '{client_id}' was not found in the directory '{tenant}'."
                ),
            );
        }
    } else if secret == r.secret {
        return grant(entra_key, tenant, &r.client_id, &r.principal_id, scope);
    }
    aadsts(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        7000215,
        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app.",
    )
}

/// The access token for `scope`, as Entra's v1 tokens carry it.
fn grant(
    entra_key: &SigningKey,
    tenant: &str,
    client_id: &str,
    principal: &str,
    scope: &str,
) -> Response {
    let Some(resource) = scope.strip_suffix("/.default").filter(|r| !r.contains(' ')) else {
        return aadsts(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            &format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        );
    };
    let now = jiff::Timestamp::now().as_second();
    let exp = now + 3599;
    let tid = tenant.to_ascii_lowercase();
    let access = json!({
        "aud": resource.trim_end_matches('/'),
        "iss": format!("https://sts.windows.net/{tid}/"),
        "iat": now, "nbf": now, "exp": exp,
        "appid": client_id, "appidacr": "2", "idp": format!("https://sts.windows.net/{tid}/"),
        "oid": principal, "sub": principal, "tid": tid, "ver": "1.0",
    });
    let Ok(token) = entra_key.sign(&access) else {
        return aadsts(
            StatusCode::INTERNAL_SERVER_ERROR,
            "temporarily_unavailable",
            50001,
            "The lab could not sign the token.",
        );
    };
    let body = json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token});
    (
        StatusCode::OK,
        [("content-type", "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn stamp(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.strftime("%m/%d/%Y %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// A random version-4 UUID, as Entra's trace and correlation IDs (and Storage's request IDs) are.
pub(crate) fn uuid_v4() -> String {
    let n: u128 =
        (rand::random::<u128>() & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
    let h = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn trace_ids_are_version_4_uuids() {
        let id = super::uuid_v4();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        assert_ne!(id, super::uuid_v4());
    }
}

//! The lab's Blob data plane (`https://{account}.blob.core.windows.net`): the 401 bearer
//! challenge, then what a real account answers, decided from the world: its firewall
//! (AuthorizationFailure), the data roles that reach the container (AuthorizationPermissionMismatch)
//! and, for a user delegation key, the account-scope rule (a role on a container cannot mint one).
//! Every container exists and holds one blob whose content the lab makes up.

use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::keys::SigningKey;
use crate::lab::rbac::{self, Operation};
use crate::world::World;
use crate::world::azure::StorageAccount;

// What each Blob operation asks of Azure RBAC, from "Authorize access to blobs using Microsoft
// Entra ID" (learn.microsoft.com/rest/api/storageservices/authorize-with-azure-active-directory):
// listing containers and the user delegation key are actions, reading blobs a data action.
const DELEGATION_KEY: &str =
    "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action";
const LIST_CONTAINERS: &str = "Microsoft.Storage/storageAccounts/blobServices/containers/read";
const READ_BLOBS: Operation<'static> =
    Operation::DataAction("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read");

const VERSION: &str = "2025-01-05";
const RESOURCE: &str = "https://storage.azure.com";

fn xml_response(
    status: StatusCode,
    headers: &HeaderMap,
    body: String,
    code: Option<&str>,
) -> Response {
    let version = headers
        .get("x-ms-version")
        .and_then(|v| v.to_str().ok())
        .unwrap_or(VERSION)
        .to_string();
    let mut r = (status, [("content-type", "application/xml")], body).into_response();
    let h = r.headers_mut();
    let id = crate::lab::entra::uuid_v4();
    for (k, v) in [
        ("x-ms-request-id", id.as_str()),
        ("x-ms-version", version.as_str()),
    ] {
        if let Ok(v) = v.parse() {
            h.insert(k, v);
        }
    }
    if let Some(c) = code.and_then(|c| c.parse().ok()) {
        h.insert("x-ms-error-code", c);
    }
    r
}

fn error(status: StatusCode, headers: &HeaderMap, code: &str, message: &str) -> Response {
    let body = format!(
        "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>{message}\nRequestId:{}\nTime:{}</Message></Error>",
        crate::lab::entra::uuid_v4(),
        jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%.7fZ")
    );
    xml_response(status, headers, body, Some(code))
}

/// One request to a storage account's Blob endpoint.
pub struct Request<'a> {
    pub host: &'a str,
    pub method: &'a Method,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

pub fn handle(world: &World, entra_key: &SigningKey, request: Request<'_>) -> Response {
    let Request {
        host,
        method,
        path,
        query,
        headers,
        body,
    } = request;
    let name = host.split('.').next().unwrap_or_default();
    let Some(account) = world
        .azure
        .storage_accounts
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(name))
    else {
        return error(
            StatusCode::NOT_FOUND,
            headers,
            "ResourceNotFound",
            "The specified resource does not exist.",
        );
    };
    let tenant = world.info.tenant_id.clone().unwrap_or_default();
    let claims = match super::bearer::access_claims(entra_key, headers, RESOURCE) {
        Ok(c) => c,
        Err(rejected) => return unauthenticated(&rejected, headers, &tenant),
    };
    if let Some(refused) = refused_before_rbac(account, headers) {
        return refused;
    }
    let oid = claims["oid"].as_str().unwrap_or_default();
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let container_id = |c: &str| format!("{}/blobServices/default/containers/{c}", account.id);
    match (method, segs.as_slice(), param("restype"), param("comp")) {
        (&Method::POST, [], Some("service"), Some("userdelegationkey")) => {
            // An action at the account or above, not a data action.
            if !rbac::allowed(world, oid, &account.id, Operation::Action(DELEGATION_KEY)) {
                return permission_mismatch(headers);
            }
            user_delegation_key(headers, oid, &tenant, body)
        }
        (&Method::GET, [], None, Some("list")) => {
            if !rbac::allowed(world, oid, &account.id, Operation::Action(LIST_CONTAINERS)) {
                return permission_mismatch(headers);
            }
            list_containers(headers, host)
        }
        (&Method::GET, [container], Some("container"), Some("list")) => {
            if !rbac::allowed(world, oid, &container_id(container), READ_BLOBS) {
                return permission_mismatch(headers);
            }
            list_blobs(headers, host, &account.name, container)
        }
        (&Method::GET, [container, blob @ ..], None, None) if !blob.is_empty() => {
            if !rbac::allowed(world, oid, &container_id(container), READ_BLOBS) {
                return permission_mismatch(headers);
            }
            get_blob(headers, &account.name, container, &blob.join("/"))
        }
        _ => error(
            StatusCode::BAD_REQUEST,
            headers,
            "UnsupportedHttpVerb",
            "The resource doesn't support specified Http Verb.",
        ),
    }
}

/// What the service refuses before it looks at roles: a request without its version header, or
/// one the account's firewall does not let through.
fn refused_before_rbac(account: &StorageAccount, headers: &HeaderMap) -> Option<Response> {
    if headers.get("x-ms-version").is_none() {
        return Some(error(
            StatusCode::BAD_REQUEST,
            headers,
            "MissingRequiredHeader",
            "An HTTP header that's mandatory for this request is not specified.",
        ));
    }
    firewalled(account).then(|| {
        error(
            StatusCode::FORBIDDEN,
            headers,
            "AuthorizationFailure",
            "This request is not authorized to perform this operation.",
        )
    })
}

/// A request without a usable bearer token. Only a missing one gets the challenge that tells
/// the client where to get a token.
fn unauthenticated(
    rejected: &super::bearer::Rejected,
    headers: &HeaderMap,
    tenant: &str,
) -> Response {
    use super::bearer::Rejected;
    if !matches!(rejected, Rejected::Missing) {
        return error(
            StatusCode::UNAUTHORIZED,
            headers,
            "InvalidAuthenticationInfo",
            "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.",
        );
    }
    let mut r = error(
        StatusCode::UNAUTHORIZED,
        headers,
        "NoAuthenticationInformation",
        "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.",
    );
    let challenge = format!(
        "Bearer authorization_uri=https://login.microsoftonline.com/{tenant}/oauth2/authorize resource_id={RESOURCE}"
    );
    if let Ok(v) = challenge.parse() {
        r.headers_mut().insert("www-authenticate", v);
    }
    r
}

/// A signed-in caller whose roles do not allow the operation.
fn permission_mismatch(headers: &HeaderMap) -> Response {
    error(
        StatusCode::FORBIDDEN,
        headers,
        "AuthorizationPermissionMismatch",
        "This request is not authorized to perform this operation using this permission.",
    )
}

/// `POST /?restype=service&comp=userdelegationkey`: a fresh random key for the asked times.
fn user_delegation_key(headers: &HeaderMap, oid: &str, tenant: &str, body: &[u8]) -> Response {
    let text = String::from_utf8_lossy(body);
    let (Some(start), Some(expiry)) = (element(&text, "Start"), element(&text, "Expiry")) else {
        return error(
            StatusCode::BAD_REQUEST,
            headers,
            "InvalidXmlDocument",
            "XML specified is not syntactically valid.",
        );
    };
    let value: [u8; 32] = rand::random();
    use base64::Engine;
    let key = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><UserDelegationKey><SignedOid>{oid}</SignedOid><SignedTid>{tenant}</SignedTid><SignedStart>{start}</SignedStart><SignedExpiry>{expiry}</SignedExpiry><SignedService>b</SignedService><SignedVersion>{VERSION}</SignedVersion><Value>{}</Value></UserDelegationKey>",
        base64::engine::general_purpose::STANDARD.encode(value)
    );
    xml_response(StatusCode::OK, headers, key, None)
}

/// `GET /?comp=list`: every account has the one container `lab`.
fn list_containers(headers: &HeaderMap, host: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"https://{host}/\"><Containers><Container><Name>lab</Name><Properties><Last-Modified>Tue, 18 Nov 2025 10:00:00 GMT</Last-Modified><Etag>\"0x8DE0000000000001\"</Etag></Properties></Container></Containers><NextMarker /></EnumerationResults>"
    );
    xml_response(StatusCode::OK, headers, body, None)
}

/// `GET /{container}?restype=container&comp=list`: every container holds `lab-blob.txt`.
fn list_blobs(headers: &HeaderMap, host: &str, account: &str, container: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"https://{host}/\" ContainerName=\"{container}\"><Blobs><Blob><Name>lab-blob.txt</Name><Properties><Content-Length>{}</Content-Length><Content-Type>text/plain</Content-Type><BlobType>BlockBlob</BlobType></Properties></Blob></Blobs><NextMarker /></EnumerationResults>",
        content(account, container, "lab-blob.txt").len()
    );
    xml_response(StatusCode::OK, headers, body, None)
}

/// `GET /{container}/{blob}`: the made-up content, whole or the asked range.
fn get_blob(headers: &HeaderMap, account: &str, container: &str, blob: &str) -> Response {
    let data = content(account, container, blob);
    let total = data.len();
    // SDKs download in ranges (`x-ms-range: bytes=0-33554431`) and expect 206.
    let range = headers
        .get("x-ms-range")
        .or_else(|| headers.get("range"))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("bytes="))
        .and_then(|v| v.split_once('-'))
        .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok())));
    let (status, body, content_range) = match range {
        Some((start, _)) if start >= total => {
            return error(
                StatusCode::RANGE_NOT_SATISFIABLE,
                headers,
                "InvalidRange",
                "The range specified is invalid for the current size of the resource.",
            );
        }
        Some((start, end)) => {
            let end = end.map_or(total - 1, |e| e.min(total - 1));
            (
                StatusCode::PARTIAL_CONTENT,
                data[start..=end].to_string(),
                Some(format!("bytes {start}-{end}/{total}")),
            )
        }
        None => (StatusCode::OK, data, None),
    };
    let mut r = (status, [("content-type", "text/plain")], body).into_response();
    let h = r.headers_mut();
    if let Some(v) = content_range.and_then(|c| c.parse().ok()) {
        h.insert("content-range", v);
    }
    for (k, v) in [
        ("x-ms-blob-type", "BlockBlob".to_string()),
        ("x-ms-request-id", crate::lab::entra::uuid_v4()),
        ("x-ms-version", VERSION.to_string()),
        ("etag", "\"0x8DE0000000000002\"".to_string()),
        ("last-modified", "Tue, 18 Nov 2025 10:00:00 GMT".to_string()),
    ] {
        if let Ok(v) = v.parse() {
            h.insert(k, v);
        }
    }
    r
}

/// Made-up content: worlds never hold data, and tests look for this marker in outputs.
fn content(account: &str, container: &str, blob: &str) -> String {
    format!("lab-value-of-{account}-{container}-{blob}")
}

fn firewalled(a: &StorageAccount) -> bool {
    let acls_deny = a.network_acls.as_ref().is_some_and(|n| {
        n.default_action.eq_ignore_ascii_case("Deny")
            && !n.ip_rules.iter().any(|r| r.starts_with("127."))
    });
    crate::lab::network::shut(
        acls_deny,
        a.public_network_access.as_deref(),
        &a.private_endpoints,
    )
}

/// The text of the first `<tag>` element of a request body (the lab reads its own requests; it
/// shares no parser with the client it serves).
fn element<'d>(doc: &'d str, tag: &str) -> Option<&'d str> {
    let start = doc.find(&format!("<{tag}>"))? + tag.len() + 2;
    let len = doc[start..].find(&format!("</{tag}>"))?;
    Some(&doc[start..start + len])
}

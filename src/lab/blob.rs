//! The lab's Blob data plane (`https://{account}.blob.core.windows.net`): the 401 bearer
//! challenge, then what a real account answers, decided from the world: its firewall
//! (AuthorizationFailure), the data roles that reach the container (AuthorizationPermissionMismatch)
//! and, for a user delegation key, the account-scope rule (a role on a container cannot mint one).
//! Authorised first, looked up second: the containers and blobs are `lab::data`'s, with the
//! 404s Storage gives (`ContainerNotFound`, `BlobNotFound`); PUT keeps block blobs in memory.

use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::data::{DataPlane, StoredBlob};
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
const WRITE_BLOBS: Operation<'static> =
    Operation::DataAction("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write");

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

pub fn handle(
    world: &World,
    data: &DataPlane,
    entra_key: &SigningKey,
    request: Request<'_>,
) -> Response {
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
    let call = Call {
        world,
        data,
        account,
        oid,
        tenant: &tenant,
        host,
        headers,
    };
    call.route(method, path, query, body)
}

/// One authenticated caller's request to one account.
struct Call<'a> {
    world: &'a World,
    data: &'a DataPlane,
    account: &'a StorageAccount,
    oid: &'a str,
    tenant: &'a str,
    host: &'a str,
    headers: &'a HeaderMap,
}

impl Call<'_> {
    fn route(&self, method: &Method, path: &str, query: &str, body: &[u8]) -> Response {
        let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let segs: Vec<String> = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        let headers = self.headers;
        match (method, segs.as_slice(), param("restype"), param("comp")) {
            (&Method::POST, [], Some("service"), Some("userdelegationkey")) => {
                // An action at the account or above, not a data action.
                self.allowed(&self.account.id, Operation::Action(DELEGATION_KEY))
                    .unwrap_or_else(|| user_delegation_key(headers, self.oid, self.tenant, body))
            }
            (&Method::GET, [], None, Some("list")) => self
                .allowed(&self.account.id, Operation::Action(LIST_CONTAINERS))
                .unwrap_or_else(|| self.list_containers()),
            (&Method::GET | &Method::HEAD, [c], Some("container"), None) => self
                .allowed(&self.container_id(c), Operation::Action(LIST_CONTAINERS))
                .or_else(|| self.missing_container(c))
                .unwrap_or_else(|| container_properties(headers, method)),
            (&Method::GET, [c], Some("container"), Some("list")) => self
                .allowed(&self.container_id(c), READ_BLOBS)
                .or_else(|| self.missing_container(c))
                .unwrap_or_else(|| self.list_blobs(c)),
            (&Method::GET | &Method::HEAD, [c, blob @ ..], None, None) if !blob.is_empty() => {
                let name = blob.join("/");
                self.allowed(&self.container_id(c), READ_BLOBS)
                    .or_else(|| self.missing_container(c))
                    .unwrap_or_else(|| self.read_blob(method, c, &name))
            }
            (&Method::PUT, [c, blob @ ..], None, None) if !blob.is_empty() => {
                let name = blob.join("/");
                self.allowed(&self.container_id(c), WRITE_BLOBS)
                    .or_else(|| self.missing_container(c))
                    .unwrap_or_else(|| self.put_blob(c, &name, body))
            }
            _ => error(
                StatusCode::BAD_REQUEST,
                headers,
                "UnsupportedHttpVerb",
                "The resource doesn't support specified Http Verb.",
            ),
        }
    }

    fn container_id(&self, c: &str) -> String {
        format!("{}/blobServices/default/containers/{c}", self.account.id)
    }

    /// `Some(403)` when the caller's roles do not allow `op` at `scope`.
    fn allowed(&self, scope: &str, op: Operation<'_>) -> Option<Response> {
        (!rbac::allowed(self.world, self.oid, scope, op)).then(|| permission_mismatch(self.headers))
    }

    fn missing_container(&self, c: &str) -> Option<Response> {
        (!self.data.has_container(&self.account.name, c)).then(|| {
            error(
                StatusCode::NOT_FOUND,
                self.headers,
                "ContainerNotFound",
                "The specified container does not exist.",
            )
        })
    }

    /// `GET /?comp=list`: the account's containers.
    fn list_containers(&self) -> Response {
        let items: String = self
            .data
            .containers(&self.account.name)
            .iter()
            .map(|c| {
                format!(
                    "<Container><Name>{}</Name><Properties><Last-Modified>Tue, 18 Nov 2025 10:00:00 GMT</Last-Modified><Etag>\"0x8DE0000000000001\"</Etag><LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState></Properties></Container>",
                    xml_escape(c)
                )
            })
            .collect();
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"https://{}/\"><Containers>{items}</Containers><NextMarker /></EnumerationResults>",
            self.host
        );
        xml_response(StatusCode::OK, self.headers, body, None)
    }

    /// `GET /{container}?restype=container&comp=list`: the container's blobs.
    fn list_blobs(&self, container: &str) -> Response {
        let items: String = self
            .data
            .blobs(&self.account.name, container)
            .unwrap_or_default()
            .iter()
            .map(|(name, b)| {
                format!(
                    "<Blob><Name>{}</Name><Properties><Creation-Time>{}</Creation-Time><Last-Modified>{}</Last-Modified><Etag>{}</Etag><Content-Length>{}</Content-Length><Content-Type>{}</Content-Type><BlobType>BlockBlob</BlobType><LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState><ServerEncrypted>true</ServerEncrypted></Properties></Blob>",
                    xml_escape(name),
                    http_date(b.created),
                    http_date(b.modified),
                    b.etag,
                    b.data.len(),
                    xml_escape(&b.content_type)
                )
            })
            .collect();
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"https://{}/\" ContainerName=\"{}\"><Blobs>{items}</Blobs><NextMarker /></EnumerationResults>",
            self.host,
            xml_escape(container)
        );
        xml_response(StatusCode::OK, self.headers, body, None)
    }

    /// `GET`/`HEAD /{container}/{blob}`: the blob, whole or the asked range, or its properties.
    fn read_blob(&self, method: &Method, container: &str, name: &str) -> Response {
        let Some(blob) = self.data.blob(&self.account.name, container, name) else {
            return error(
                StatusCode::NOT_FOUND,
                self.headers,
                "BlobNotFound",
                "The specified blob does not exist.",
            );
        };
        if method == Method::HEAD {
            let mut r = StatusCode::OK.into_response();
            blob_headers(&mut r, &blob, blob.data.len());
            return r;
        }
        get_blob(self.headers, &blob)
    }

    /// `PUT /{container}/{blob}` (Put Blob): a block blob, kept for the lab's lifetime.
    fn put_blob(&self, container: &str, name: &str, body: &[u8]) -> Response {
        let header = |k: &str| self.headers.get(k).and_then(|v| v.to_str().ok());
        match header("x-ms-blob-type") {
            Some("BlockBlob") => {}
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    self.headers,
                    "MissingRequiredHeader",
                    "An HTTP header that's mandatory for this request is not specified.",
                );
            }
            Some(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    self.headers,
                    "InvalidHeaderValue",
                    "The value for one of the HTTP headers is not in the correct format.",
                );
            }
        }
        // `If-None-Match: *` is how clients say "do not overwrite".
        if header("if-none-match") == Some("*")
            && self
                .data
                .blob(&self.account.name, container, name)
                .is_some()
        {
            return error(
                StatusCode::CONFLICT,
                self.headers,
                "BlobAlreadyExists",
                "The specified blob already exists.",
            );
        }
        let content_type = header("x-ms-blob-content-type").unwrap_or("application/octet-stream");
        let Some(blob) = self.data.put_blob(
            &self.account.name,
            container,
            name,
            body.to_vec(),
            content_type,
        ) else {
            return self.missing_container(container).unwrap_or_else(|| {
                error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    self.headers,
                    "InternalError",
                    "The lab could not store the blob.",
                )
            });
        };
        let mut r = StatusCode::CREATED.into_response();
        blob_headers(&mut r, &blob, 0);
        r.headers_mut().remove("content-length");
        r.headers_mut().remove("x-ms-blob-type");
        if let Ok(v) = "true".parse() {
            r.headers_mut().insert("x-ms-request-server-encrypted", v);
        }
        r
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

/// `GET`/`HEAD /{container}?restype=container`: the container's properties.
fn container_properties(headers: &HeaderMap, method: &Method) -> Response {
    let mut r = xml_response(StatusCode::OK, headers, String::new(), None);
    for (k, v) in [
        ("etag", "\"0x8DE0000000000001\""),
        ("last-modified", "Tue, 18 Nov 2025 10:00:00 GMT"),
        ("x-ms-lease-status", "unlocked"),
        ("x-ms-lease-state", "available"),
        ("x-ms-has-immutability-policy", "false"),
        ("x-ms-has-legal-hold", "false"),
    ] {
        if let Ok(v) = v.parse() {
            r.headers_mut().insert(k, v);
        }
    }
    if method == Method::HEAD {
        r.headers_mut().remove("content-type");
    }
    r
}

/// A blob's bytes, whole or the asked range (SDKs download in ranges, `x-ms-range:
/// bytes=0-33554431`, and expect 206).
fn get_blob(headers: &HeaderMap, blob: &StoredBlob) -> Response {
    let total = blob.data.len();
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
                blob.data[start..=end].to_vec(),
                Some(format!("bytes {start}-{end}/{total}")),
            )
        }
        None => (StatusCode::OK, blob.data.clone(), None),
    };
    let len = body.len();
    let mut r = (status, body).into_response();
    blob_headers(&mut r, blob, len);
    if let Some(v) = content_range.and_then(|c| c.parse().ok()) {
        r.headers_mut().insert("content-range", v);
    }
    r
}

/// The properties Get Blob and Get Blob Properties return as headers.
fn blob_headers(r: &mut Response, blob: &StoredBlob, content_length: usize) {
    let h = r.headers_mut();
    for (k, v) in [
        ("content-length", content_length.to_string()),
        ("content-type", blob.content_type.clone()),
        ("x-ms-blob-type", "BlockBlob".to_string()),
        ("x-ms-request-id", crate::lab::entra::uuid_v4()),
        ("x-ms-version", VERSION.to_string()),
        ("x-ms-creation-time", http_date(blob.created)),
        ("x-ms-lease-status", "unlocked".into()),
        ("x-ms-lease-state", "available".into()),
        ("x-ms-server-encrypted", "true".into()),
        ("accept-ranges", "bytes".into()),
        ("etag", blob.etag.clone()),
        ("last-modified", http_date(blob.modified)),
    ] {
        if let Ok(v) = v.parse() {
            h.insert(k, v);
        }
    }
}

fn http_date(t: jiff::Timestamp) -> String {
    t.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
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

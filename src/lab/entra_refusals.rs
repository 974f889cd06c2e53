//! How real Entra refuses a token request with a given AADSTS code: HTTP status, OAuth `error`
//! and message. The lab's own transcription (`LabBehaviour.entraRefuses` plays it), kept apart
//! from the analysis's table of meanings so one mistake cannot pass both sides. Statuses and
//! `error` values come from observed bodies where public ones exist (401 `invalid_client` for the
//! federation mismatches since 2023, external-secrets#2783, azure-workload-identity#1200;
//! 400 `invalid_grant` for Conditional Access; 400 `invalid_request` for the issuer's endpoints,
//! azure-workload-identity docs/book/src/troubleshooting.md); the others follow the family
//! their code belongs to in Microsoft's error-code reference.

use axum::http::StatusCode;

/// (code, status, error, message without the trace and correlation IDs Entra appends).
const REFUSALS: &[(u32, u16, &str, &str)] = &[
    (
        70011,
        400,
        "invalid_scope",
        "The provided value for the input parameter 'scope' is not valid.",
    ),
    (
        1002012,
        400,
        "invalid_scope",
        "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
    ),
    (
        700027,
        401,
        "invalid_client",
        "Client assertion contains an invalid signature. [Reason - The key was not found.]",
    ),
    (
        53003,
        400,
        "invalid_grant",
        "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
    ),
    (
        500011,
        400,
        "invalid_resource",
        "The resource principal named https://vault.azure.net was not found in the tenant. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
    ),
    (
        50027,
        400,
        "invalid_request",
        "JWT token is invalid or malformed.",
    ),
    (
        50020,
        400,
        "invalid_request",
        "User account from identity provider does not exist in tenant and cannot access the application in that tenant.",
    ),
    (
        7000215,
        401,
        "invalid_client",
        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app.",
    ),
    (
        7000222,
        401,
        "invalid_client",
        "The provided client secret keys for app are expired. Visit the Azure portal to create new keys for your app.",
    ),
    (
        700222,
        401,
        "invalid_client",
        "AAD-issued tokens may not be used for federated identity flows.",
    ),
    (
        700226,
        401,
        "invalid_client",
        "Only MSI tokens may be used as Federated Identity Credentials for AAD issuer.",
    ),
    (700227, 401, "invalid_client", "Forbidden token audience."),
    (
        700229,
        401,
        "invalid_client",
        "Only app-only tokens can be used as Federated Identity Credentials for AAD issuer.",
    ),
    (
        700236,
        401,
        "invalid_client",
        "Entra ID tokens issued by this issuer may not be used for federated identity credential flows for applications or managed identities registered in this tenant.",
    ),
    (
        7002121,
        401,
        "invalid_client",
        "No matching federated identity record found for presented assertion audience 'api://AzureADTokenExchange'.",
    ),
    (
        70021,
        401,
        "invalid_client",
        "No matching federated identity record found for presented assertion.",
    ),
    (
        700211,
        401,
        "invalid_client",
        "No matching federated identity record found for presented assertion issuer.",
    ),
    (
        700212,
        401,
        "invalid_client",
        "No matching federated identity record found for presented assertion audience.",
    ),
    (
        700213,
        401,
        "invalid_client",
        "No matching federated identity record found for presented assertion subject. Please note that matching is done using a case-sensitive comparison.",
    ),
    (
        7002138,
        401,
        "invalid_client",
        "No matching federated identity record found for presented assertion subject. The subject matches with case-insensitive comparison, but not with case-sensitive comparison.",
    ),
    (
        70025,
        400,
        "invalid_client",
        "The client has no configured federated identity credentials.",
    ),
    (
        700016,
        400,
        "unauthorized_client",
        "Application with identifier was not found in the directory.",
    ),
    (
        90002,
        400,
        "invalid_tenant",
        "Tenant not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.",
    ),
    (
        900023,
        400,
        "invalid_request",
        "Specified tenant identifier is neither a valid DNS name, nor a valid external domain.",
    ),
    (
        90061,
        400,
        "invalid_request",
        "Request to External OIDC endpoint failed.",
    ),
    (
        50166,
        400,
        "invalid_request",
        "Request to External OIDC endpoint failed.",
    ),
    (
        501661,
        400,
        "invalid_request",
        "Request to External OIDC endpoint failed.",
    ),
    (
        900612,
        400,
        "invalid_request",
        "Failed to parse provider signing keys.",
    ),
    (
        700024,
        401,
        "invalid_client",
        "Client assertion is not within its valid time range.",
    ),
    (
        70023,
        400,
        "invalid_client",
        "External OIDC Provider token must have a lifetime of less than or equal to 1.01:00:00.",
    ),
    (
        7000112,
        400,
        "unauthorized_client",
        "Application is disabled.",
    ),
];

/// Entra's answer for `code`, or None for a code the lab has no transcription of.
pub fn refusal(code: u32) -> Option<axum::response::Response> {
    let (_, status, error, message) = REFUSALS.iter().find(|r| r.0 == code)?;
    let status = StatusCode::from_u16(*status).ok()?;
    Some(super::entra::aadsts(status, error, code, message))
}

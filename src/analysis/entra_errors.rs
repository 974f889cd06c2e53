//! Entra's AADSTS codes as the exchange link explains them, as data: for each code, what
//! Microsoft says it means (quoted or closely paraphrased from the page its row cites) and the
//! finding whose fix applies. A code not in the table is reported verbatim with its trace and
//! correlation IDs (WI1002). Microsoft warns that codes and texts change over time
//! (reference-error-codes, "Handling error codes in your application"), so the exchange decides
//! by the code number only and quotes Entra's own description beside the table's meaning.

use crate::analysis::codes::Code;

/// Microsoft Entra's error-code reference (MicrosoftDocs/entra-docs
/// docs/identity-platform/reference-error-codes.md).
const ERR: &str = "learn.microsoft.com/entra/identity-platform/reference-error-codes";
/// Workload identity federation considerations (MicrosoftDocs/entra-docs
/// docs/workload-id/workload-identity-federation-considerations.md).
const CONS: &str =
    "learn.microsoft.com/entra/workload-id/workload-identity-federation-considerations";
/// Troubleshooting workload identity service connections (MicrosoftDocs/azure-devops-docs
/// docs/pipelines/release/troubleshoot-workload-identity.md): Microsoft's widest list of
/// federation codes.
const ADO: &str =
    "learn.microsoft.com/azure/devops/pipelines/release/troubleshoot-workload-identity";
/// "August 2024: Federated Identity Credentials now use case-sensitive matching".
const BRK: &str = "learn.microsoft.com/entra/identity-platform/reference-breaking-changes";
/// The webhook project's troubleshooting page (Azure/azure-workload-identity
/// docs/book/src/troubleshooting.md).
const AWI: &str = "azure.github.io/azure-workload-identity/docs/troubleshooting.html";
/// Azure SDK for JS identity troubleshooting (Azure/azure-sdk-for-js
/// sdk/identity/identity/TROUBLESHOOTING.md).
const JSSDK: &str =
    "github.com/Azure/azure-sdk-for-js/blob/main/sdk/identity/identity/TROUBLESHOOTING.md";
/// Configure an application to trust a managed identity (MicrosoftDocs/entra-docs
/// docs/workload-id/workload-identity-federation-config-app-trust-managed-identity.md).
const MITRUST: &str = "learn.microsoft.com/entra/workload-id/workload-identity-federation-config-app-trust-managed-identity";

/// One AADSTS code: its number, what it means, which finding carries its fix, and where the
/// meaning was read.
pub struct EntraCode {
    pub code: u64,
    pub meaning: &'static str,
    pub finding: Code,
    pub source: &'static str,
}

const fn row(code: u64, finding: Code, meaning: &'static str, source: &'static str) -> EntraCode {
    EntraCode {
        code,
        meaning,
        finding,
        source,
    }
}

pub const TABLE: &[EntraCode] = &[
    row(
        70021,
        Code::WI1003,
        "No matching federated identity record found for presented assertion: no federated credential was created, or its issuer or subject does not match; right after a credential is created, it may not have propagated yet",
        CONS,
    ),
    row(
        700211,
        Code::WI1005,
        "No matching federated identity record found for presented assertion issuer: no federated credential was created or the issuer URL is not correct",
        ADO,
    ),
    row(
        700212,
        Code::WI1005,
        "No matching federated identity record found for presented assertion audience: the credential's audience is not the token's aud (api://AzureADTokenExchange); with audience api://AKSIdentityBinding, an identity-binding token went to Entra directly because the SDK was not told to use the identity binding proxy (enableAzureProxy)",
        MITRUST,
    ),
    row(
        7002121,
        Code::WI1005,
        "No matching federated identity record found for presented assertion audience",
        MITRUST,
    ),
    row(
        700213,
        Code::WI1005,
        "No matching federated identity record found for presented assertion subject; matching is a case-sensitive comparison",
        BRK,
    ),
    row(
        7002138,
        Code::WI1005,
        "The subject matches only with a case-insensitive comparison; credentials are matched case-sensitively since August 2024",
        BRK,
    ),
    row(
        70025,
        Code::WI1006,
        "Client application has no configured federated identity credentials",
        ADO,
    ),
    row(
        700016,
        Code::WI1007,
        "UnauthorizedClient_DoesNotMatchRequest: the application wasn't found in the directory/tenant; the identifier may be misconfigured or the request sent to the wrong tenant",
        ERR,
    ),
    row(
        90002,
        Code::WI1007,
        "InvalidTenantName: the tenant name wasn't found; check the tenant ID, or a cross-cloud app was used against the wrong cloud",
        ERR,
    ),
    row(
        900023,
        Code::WI1007,
        "Specified tenant identifier is neither a valid DNS name, nor a valid external domain: the tenant ID passed to the credential is invalid",
        JSSDK,
    ),
    row(
        50020,
        Code::WI1007,
        "UserUnauthorized: the account does not exist in the tenant the request was sent to",
        ERR,
    ),
    row(
        90061,
        Code::WI1008,
        "Request to External OIDC endpoint failed: the issuer's discovery document or JWKS is not exposed to the internet or is inaccessible",
        AWI,
    ),
    row(
        50166,
        Code::WI1008,
        "ExternalClaimsProviderThrottled: failed to send the request to the claims provider (the issuer's OIDC endpoints)",
        ERR,
    ),
    row(
        501661,
        Code::WI1008,
        "Request to External OIDC endpoint failed: the issuer's discovery document or keys could not be fetched or read",
        AWI,
    ),
    row(
        900612,
        Code::WI1008,
        "Failed to parse provider signing keys: the issuer's JWKS is not one Entra can read",
        ERR,
    ),
    row(
        70023,
        Code::WI1009,
        "External OIDC Provider token must have a lifetime of less than or equal to 1.01:00:00: a token living longer than a day and an hour (a legacy secret-based service-account token) is refused",
        "github.com/MicrosoftDocs/azure-docs/issues/116275",
    ),
    row(
        700024,
        Code::WI1009,
        "Client assertion is not within its valid time range: the token expired or is not yet valid",
        ADO,
    ),
    row(
        7000112,
        Code::WI1013,
        "UnauthorizedClientApplicationDisabled: the application is disabled",
        ERR,
    ),
    row(
        700027,
        Code::WI1014,
        "Client assertion failed signature validation: the key that signed the token is not in the issuer's JWKS, or the signature does not verify",
        ERR,
    ),
    row(
        53003,
        Code::WI1015,
        "BlockedByConditionalAccess: access has been blocked by Conditional Access policies; the access policy does not allow token issuance",
        ERR,
    ),
    row(
        70011,
        Code::WI1016,
        "InvalidScope: the scope requested by the app is invalid; client credentials need <resource>/.default",
        ERR,
    ),
    row(
        1002012,
        Code::WI1016,
        "The provided value for scope is not valid: client credential flows must have a scope value with /.default suffixed to the resource identifier",
        ERR,
    ),
    row(
        500011,
        Code::WI1017,
        "InvalidResourceServicePrincipalNotFound: the resource principal wasn't found in the tenant; the resource is not provisioned there or the request went to the wrong tenant",
        ERR,
    ),
    row(
        700222,
        Code::WI1018,
        "AAD-issued tokens may not be used for federated identity flows: a credential's issuer is an Entra issuer, which only the documented application-trusts-managed-identity setup allows",
        CONS,
    ),
    row(
        700226,
        Code::WI1018,
        "Only managed identity tokens may be used as federated identity credentials for an Entra issuer",
        MITRUST,
    ),
    row(
        700229,
        Code::WI1018,
        "ForbiddenTokenType: only app-only tokens can be used as federated identity credentials for an Entra issuer",
        ERR,
    ),
    row(
        700236,
        Code::WI1018,
        "Entra tokens from this tenant's issuer may not be used for federated identity credential flows here: the managed identity must be in the same tenant as the application",
        MITRUST,
    ),
    row(
        700227,
        Code::WI1018,
        "Forbidden token audience: a managed identity used as a credential must request the audience api://AzureADTokenExchange",
        MITRUST,
    ),
    row(
        50027,
        Code::WI1019,
        "InvalidJwtToken: the assertion is not a well-formed JWT, or a claim (sub, iss, aud, times) is missing or malformed",
        ERR,
    ),
    row(
        7000215,
        Code::WI1020,
        "Invalid client secret is provided: a client secret was sent instead of the federated assertion",
        ERR,
    ),
    row(
        7000222,
        Code::WI1020,
        "InvalidClientSecretExpiredKeysProvided: the client secret sent has expired",
        ERR,
    ),
];

/// The row for an AADSTS code.
pub fn lookup(code: u64) -> Option<&'static EntraCode> {
    TABLE.iter().find(|r| r.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_once_and_every_row_cites_a_page() {
        let catalog = crate::analysis::Catalog::builtin();
        let mut seen = std::collections::BTreeSet::new();
        for r in TABLE {
            assert!(seen.insert(r.code), "AADSTS{} twice", r.code);
            assert!(!r.meaning.is_empty() && !r.source.is_empty());
            let entry = catalog
                .entries()
                .iter()
                .find(|e| *e.code == *r.finding.as_str())
                .unwrap();
            assert_eq!(entry.link.name(), "exchange", "AADSTS{}", r.code);
        }
    }
}

//! Secrets found by what they look like, wherever they stand: a connection string in an env
//! value, a SAS in a URL, a JWT in an annotation, a key in a ConfigMap. Names alone miss these
//! (`BLOB_URL=https://...&sig=...`). docs/report.md lists exactly what is detected.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Captures, Regex};

/// What a redacted part is replaced with.
pub const REDACTED: &str = "<redacted>";

struct Rule {
    /// Named in docs/report.md.
    what: &'static str,
    re: Regex,
    /// Replacement (regex syntax: `$1` keeps a group).
    with: &'static str,
}

fn rule(what: &'static str, re: &str, with: &'static str) -> Rule {
    Rule {
        what,
        re: Regex::new(re).expect("secret patterns are tested"),
        with,
    }
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        // Whole PEM private keys, armour included (an unterminated one to the end).
        rule(
            "PEM private key",
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\z)",
            "<redacted private key>",
        ),
        // JWTs (JWS compact form): header and payload are base64url JSON objects (`eyJ`).
        rule(
            "JWT",
            r"eyJ[A-Za-z0-9_-]{2,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*",
            "<redacted JWT>",
        ),
        // A SAS is the query string that carries `sig=`: all of it goes, the URL's path stays.
        rule(
            "SAS query string",
            r"(?i)\?([^\s#?]*&)?sig=[^\s#]*",
            "?<redacted SAS>",
        ),
        // Connection strings (Storage, Service Bus, SQL, Redis) and key=value credentials.
        rule(
            "connection-string secret",
            r#"(?i)\b(AccountKey|SharedAccessKey|SharedAccessSignature|Password|Pwd|ClientSecret|client_secret|ApiKey|api_key|AccessKey)(\s*=\s*)("[^"]*"|'[^']*'|[^;&\s,"']+)"#,
            "$1$2<redacted>",
        ),
        // Credentials in a URL's user info: `scheme://user:password@host`.
        rule("URL password", r"(://[^/\s:@]+:)[^/\s@]+@", "$1<redacted>@"),
        // Entra client secrets (the `Q~` marker of secrets issued since 2021).
        rule(
            "Entra client secret",
            r"\b[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}",
            "<redacted client secret>",
        ),
        // Storage account keys and other 512-bit base64 keys: 86 characters and `==`.
        // Standing alone: the tail of a longer base64 value (a CA bundle) is not a key.
        rule(
            "Azure storage key",
            r"(^|[^A-Za-z0-9+/=])[A-Za-z0-9+/]{86}==($|[^A-Za-z0-9+/=])",
            "$1<redacted key>$2",
        ),
    ]
});

/// `s` with every secret-shaped part replaced; borrowed when nothing matched.
pub fn redact(s: &str) -> Cow<'_, str> {
    // The common case, text with none of the markers any rule needs, costs one scan.
    if !might_hold_secret(s) {
        return Cow::Borrowed(s);
    }
    let mut out = Cow::Borrowed(s);
    for r in RULES.iter() {
        if let Cow::Owned(o) = r.re.replace_all(&out, |c: &Captures<'_>| {
            let mut dst = String::new();
            c.expand(r.with, &mut dst);
            dst
        }) {
            out = Cow::Owned(o);
        }
    }
    out
}

/// The names of the rules that match `s` (for tests and docs).
pub fn detected(s: &str) -> Vec<&'static str> {
    RULES
        .iter()
        .filter(|r| r.re.is_match(s))
        .map(|r| r.what)
        .collect()
}

/// What every rule needs to match: `=` (SAS, connection strings, keys), `eyJ` (JWT),
/// `-----BEGIN` (PEM), `@` (URL password), `Q~` (client secret).
fn might_hold_secret(s: &str) -> bool {
    s.len() >= 8
        && (s.contains('=')
            || s.contains("eyJ")
            || s.contains("-----BEGIN")
            || s.contains('@')
            || s.contains("Q~"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planted_secrets_do_not_survive() {
        let key = "A".repeat(86) + "==";
        let cases = [
            format!(
                "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={key};EndpointSuffix=core.windows.net"
            ),
            "Server=db;User Id=app;Password=CANARY-pw;".into(),
            "https://a.blob.core.windows.net/c?sp=r&sig=CANARY&se=1".into(),
            "postgres://app:CANARY-pw@db:5432/x".into(),
            "https://acct.blob.core.windows.net/c?sv=2022-11-02&ss=b&sig=CANARY%2Bsig%3D".into(),
            "https://acct.blob.core.windows.net/c?sig=CANARY".into(),
            "token: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJDQU5BUlkifQ.CANARYsig_-".into(),
            "-----BEGIN RSA PRIVATE KEY-----\nCANARY\n-----END RSA PRIVATE KEY-----".into(),
            "secret abc8Q~CANARYCANARYCANARYCANARYCANARY12 here".into(),
            "password=CANARY".into(),
            "Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=CANARY"
                .into(),
        ];
        for c in &cases {
            let r = redact(c);
            assert!(!r.contains("CANARY") && !r.contains(&key), "{c} -> {r}");
        }
    }

    #[test]
    fn ordinary_values_stay() {
        for s in [
            "https://wilab4521.vault.azure.net/",
            "https://acct.blob.core.windows.net/cats?restype=container",
            "system:serviceaccount:default:workload-sa",
            "0c7f3e2a-9d1b-4a6c-8e5f-2b4d6a8c0e19",
            "azure.workload.identity/use=true",
            "AZURE_AUTHORITY_HOST=https://login.microsoftonline.com/",
            // Namespaces and words that look like keys are data, not secrets.
            "system:serviceaccount:sig:web",
            "password: see the vault",
        ] {
            assert_eq!(redact(s), s);
        }
    }

    #[test]
    fn long_base64_values_are_not_keys() {
        let ca = "QUJD".repeat(100) + "==";
        assert_eq!(redact(&ca), ca);
        let key = "k".repeat(86) + "==";
        assert_eq!(redact(&format!("key {key} end")), "key <redacted key> end");
    }

    #[test]
    fn a_sas_url_keeps_account_container_and_blob() {
        assert_eq!(
            redact("https://acct.blob.core.windows.net/c/b.txt?sv=2022&sig=abc&se=x"),
            "https://acct.blob.core.windows.net/c/b.txt?<redacted SAS>"
        );
    }
}

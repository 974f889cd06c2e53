//! The kubeconfig's client certificate, read on this machine. Over TLS 1.3 the API server judges
//! a client certificate after the client has finished its handshake, so its refusal can reach
//! kube-rs as a closed connection ("client error (Canceled)") instead of a TLS alert; the
//! certificate's own dates are then what names the cause.

use base64::Engine;
use x509_cert::Certificate;
use x509_cert::der::DecodePem;

/// When the client certificate the kubeconfig presents stops being valid, if it presents one
/// that parses (a certificate that does not parse is kube-rs's error to report, not this note's).
pub fn not_after(auth: &kube::config::AuthInfo) -> Option<jiff::Timestamp> {
    let pem = match (&auth.client_certificate_data, &auth.client_certificate) {
        (Some(data), _) => base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .ok()?,
        (None, Some(path)) => std::fs::read(path).ok()?,
        (None, None) => return None,
    };
    let cert = Certificate::from_pem(&pem).ok()?;
    let end = cert.tbs_certificate.validity.not_after.to_unix_duration();
    jiff::Timestamp::from_second(i64::try_from(end.as_secs()).ok()?).ok()
}

/// What to add to a failed connection's error when the certificate had expired by `now`.
pub fn expired_note(not_after: Option<jiff::Timestamp>, now: jiff::Timestamp) -> Option<String> {
    let end = not_after.filter(|end| *end <= now)?;
    Some(format!(
        "the kubeconfig's client certificate expired at {end} (renew it, e.g. az aks get-credentials, or ask the cluster's admin)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_past_end_is_a_note() {
        let end: jiff::Timestamp = "2021-01-01T00:00:00Z".parse().unwrap();
        let before: jiff::Timestamp = "2020-06-01T00:00:00Z".parse().unwrap();
        let after: jiff::Timestamp = "2026-12-06T00:00:00Z".parse().unwrap();
        assert_eq!(expired_note(Some(end), before), None);
        assert_eq!(expired_note(None, after), None);
        assert_eq!(
            expired_note(Some(end), after).unwrap(),
            "the kubeconfig's client certificate expired at 2021-01-01T00:00:00Z (renew it, e.g. az aks get-credentials, or ask the cluster's admin)"
        );
    }

    #[test]
    fn data_that_is_not_a_certificate_is_no_date() {
        let auth = kube::config::AuthInfo {
            client_certificate_data: Some("bm90IGEgY2VydA==".into()),
            ..Default::default()
        };
        assert_eq!(not_after(&auth), None);
    }
}

//! Kubernetes API calls as widiag makes them, shared by the collector and the probes: the
//! bounded retry of throttled calls, and errors in plain words.

/// Calls again, with widiag's bounded policy (`net::retry`), while the API server throttles
/// (429, API Priority and Fairness) or is briefly unavailable (503, 504); the last result and
/// the attempts it took.
pub async fn retrying<T, Fut>(call: impl FnMut() -> Fut) -> (Result<T, kube::Error>, u32)
where
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
{
    super::retry::retrying(call, |r| match r {
        // A Status may carry `retryAfterSeconds`; APF's plain-text 429 does not reach here with
        // its header, so the exponential step stands in.
        Err(kube::Error::Api(s)) if matches!(s.code, 429 | 503 | 504) => Some(
            s.details
                .as_ref()
                .map(|d| u64::from(d.retry_after_seconds))
                .filter(|&secs| secs > 0),
        ),
        _ => None,
    })
    .await
}

/// An API server's refusal as widiag reports it: code, reason, message, and how often it was asked.
pub fn api_error(s: &kube::core::Status, attempts: u32) -> String {
    // kube-rs names a body that was not a Status (APF's plain-text 429) by its own parse failure;
    // the HTTP reason phrase says more.
    let reason = match s.reason.as_str() {
        "" | "Failed to parse error data" => reqwest::StatusCode::from_u16(s.code)
            .ok()
            .and_then(|c| c.canonical_reason())
            .unwrap_or("error"),
        r => r,
    };
    format!(
        "{} {reason}: {}{}",
        s.code,
        s.message,
        super::retry::after_attempts(attempts, None)
    )
}

/// A kube-rs error in plain words: hyper's "client error (SendRequest)" hides the TLS cause
/// (an expired or refused client certificate, an API server certificate that expired), which
/// is what the user has to act on.
pub fn plain_error(e: &kube::Error) -> String {
    match tls_cause(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

fn tls_cause(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur = Some(e);
    while let Some(x) = cur {
        // io::Error's `source` skips the error it wraps; rustls's sits inside it.
        let inner = x
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|i| i.downcast_ref::<rustls::Error>());
        if let Some(r) = x.downcast_ref::<rustls::Error>().or(inner) {
            use rustls::{AlertDescription, CertificateError, Error as Tls};
            return Some(match r {
                Tls::AlertReceived(AlertDescription::CertificateExpired) => {
                    "the API server rejected the kubeconfig's client certificate: it has expired"
                        .into()
                }
                Tls::AlertReceived(
                    AlertDescription::BadCertificate | AlertDescription::CertificateUnknown,
                ) => "the API server rejected the kubeconfig's client certificate".into(),
                Tls::InvalidCertificate(
                    CertificateError::Expired | CertificateError::ExpiredContext { .. },
                ) => format!("the API server's certificate has expired ({r})"),
                other => format!("TLS: {other}"),
            });
        }
        cur = x.source();
    }
    None
}

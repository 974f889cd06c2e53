//! One HTTP client for every Azure and issuer call: reqwest with rustls, which honours
//! `HTTPS_PROXY`/`NO_PROXY` and `SSL_CERT_FILE` as the Azure SDKs do, with timeouts on
//! everything, and a transcript entry per request that never holds a header or a body.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;

use crate::world::live::Step;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("HTTP client: {0}")]
    Build(String),
    #[error("{method} {url}: {reason}")]
    Send {
        method: &'static str,
        url: String,
        reason: String,
    },
}

/// A response, read whole (bodies here are small JSON documents).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
    /// Throttled (429) or failing on the server's side (5xx): worth asking again.
    pub fn transient(&self) -> bool {
        self.status == 429 || self.status >= 500
    }
    /// `Retry-After` in seconds, when the server gave one.
    pub fn retry_after(&self) -> Option<u64> {
        self.header("retry-after")
            .and_then(|v| v.trim().parse().ok())
    }
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Requests made so far, in order; shared by the tasks of one run.
#[derive(Debug, Clone, Default)]
pub struct Transcript(Arc<Mutex<Vec<Step>>>);

impl Transcript {
    pub fn push(&self, step: Step) {
        if let Ok(mut v) = self.0.lock() {
            v.push(step);
        }
    }
    /// A request that began at `start` and ended now: its step, with the time it took.
    pub fn record(
        &self,
        what: impl Into<String>,
        (method, url): (&str, String),
        start: Instant,
        status: Option<u16>,
        note: Option<String>,
    ) {
        self.push(Step {
            what: what.into(),
            method: method.to_string(),
            url,
            status,
            millis: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
            note,
        });
    }
    pub fn steps(&self) -> Vec<Step> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    pub transcript: Transcript,
}

/// Everything after `?` except the keys that are safe and useful to show.
pub fn redact_url(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_string();
    };
    let kept: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, v))
                if matches!(
                    k,
                    "api-version"
                        | "$filter"
                        | "$skiptoken"
                        | "$top"
                        | "maxresults"
                        | "comp"
                        | "restype"
                ) =>
            {
                format!("{k}={v}")
            }
            Some((k, _)) => format!("{k}=<redacted>"),
            None => kv.to_string(),
        })
        .collect();
    format!("{base}?{}", kept.join("&"))
}

/// The Blob service version widiag speaks (OAuth needs 2017-11-09 or later).
pub const STORAGE_VERSION: &str = crate::net::api_versions::STORAGE_DATA;

/// Explicit network settings, beside the environment's (`HTTPS_PROXY`, `SSL_CERT_FILE`): how
/// the demo reaches its in-process lab without touching the process environment.
#[derive(Debug, Clone, Default)]
pub struct Network {
    /// `http://host:port` of an HTTPS CONNECT proxy for every https request.
    pub proxy: Option<String>,
    /// An extra CA to trust, PEM.
    pub ca_pem: Option<String>,
}

impl Http {
    pub fn new(timeout: Duration, network: &Network) -> Result<Http, HttpError> {
        // reqwest is built without a provider of its own: the process's (ring) must be in place.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder();
        if let Some(p) = &network.proxy {
            builder = builder
                .proxy(reqwest::Proxy::https(p).map_err(|e| HttpError::Build(e.to_string()))?);
        }
        if let Some(pem) = &network.ca_pem {
            let ca = reqwest::Certificate::from_pem(pem.as_bytes())
                .map_err(|e| HttpError::Build(format!("CA: {e}")))?;
            builder = builder.add_root_certificate(ca);
        }
        let client = builder
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("widiag/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpError::Build(e.to_string()))?;
        Ok(Http {
            client,
            transcript: Transcript::default(),
        })
    }

    /// The underlying client, for azure_identity's pipeline (one TLS and proxy setup).
    pub fn client(&self) -> reqwest::Client {
        self.client.clone()
    }

    /// The same connection pool with a transcript of its own, for one step's record.
    pub fn with_own_transcript(&self) -> Http {
        Http {
            client: self.client.clone(),
            transcript: Transcript::default(),
        }
    }

    pub async fn get(
        &self,
        what: &str,
        url: &str,
        bearer: Option<&str>,
    ) -> Result<Reply, HttpError> {
        let mut req = self.client.get(url);
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        self.send(what, "GET", url, req).await
    }

    /// A read that is asked again, with bounded backoff, while it meets 429 or a 5xx; the last
    /// reply and the attempts it took. A request that fails outright is not repeated (its
    /// timeout was already spent).
    pub async fn get_retrying(
        &self,
        what: &str,
        url: &str,
        bearer: Option<&str>,
    ) -> Result<(Reply, u32), HttpError> {
        let (reply, attempts) = super::retry::retrying(
            || self.get(what, url, bearer),
            |r| match r {
                Ok(reply) if reply.transient() => Some(reply.retry_after()),
                _ => None,
            },
        )
        .await;
        Ok((reply?, attempts))
    }

    /// An Azure Storage data-plane call: the service version header, a bearer token and an
    /// optional XML body. Bodies are never recorded.
    pub async fn storage(
        &self,
        what: &str,
        method: &'static str,
        url: &str,
        bearer: &str,
        body: Option<String>,
    ) -> Result<Reply, HttpError> {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let date = jiff::Timestamp::now()
            .strftime("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        let mut req = self
            .client
            .request(m, url)
            .bearer_auth(bearer)
            .header("x-ms-version", STORAGE_VERSION)
            .header("x-ms-date", date);
        if let Some(b) = body {
            req = req.header("content-type", "application/xml").body(b);
        }
        self.send(what, method, url, req).await
    }

    /// A form POST; the form is never recorded (it holds the client assertion).
    pub async fn post_form(
        &self,
        what: &str,
        url: &str,
        form: &[(&str, &str)],
    ) -> Result<Reply, HttpError> {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let req = self
            .client
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(what, "POST", url, req).await
    }

    async fn send(
        &self,
        what: &str,
        method: &'static str,
        url: &str,
        req: reqwest::RequestBuilder,
    ) -> Result<Reply, HttpError> {
        let start = Instant::now();
        let result = async {
            let resp = req.send().await?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = resp.bytes().await?.to_vec();
            Ok::<_, reqwest::Error>(Reply {
                status,
                headers,
                body,
            })
        }
        .await;
        let note = result.as_ref().err().map(error_chain);
        self.transcript.record(
            what,
            (method, redact_url(url)),
            start,
            result.as_ref().ok().map(|r| r.status),
            note.clone(),
        );
        result.map_err(|_| HttpError::Send {
            method,
            url: redact_url(url),
            reason: note.unwrap_or_default(),
        })
    }
}

/// reqwest's top-level message says little ("error sending request"); the sources say why.
fn error_chain(e: &reqwest::Error) -> String {
    let mut parts = vec![if e.is_timeout() {
        "timed out".to_string()
    } else {
        e.to_string()
    }];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn unknown_query_values_are_redacted() {
        assert_eq!(
            super::redact_url("https://v.vault.azure.net/secrets?api-version=7.5&sig=abc"),
            "https://v.vault.azure.net/secrets?api-version=7.5&sig=<redacted>"
        );
    }
}

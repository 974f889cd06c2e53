//! The live probes: take each planned pod's token, read its issuer as Entra does, exchange
//! the token at Entra, and call the pod's Key Vaults and Blob storage with access tokens. Exchanges run once
//! per (client ID, ServiceAccount, tenant), at most `concurrency` at a time. Tokens live only
//! in memory; the world keeps claims, status codes and messages.

pub mod blob;
pub mod exchange;
pub mod issuer;
pub mod keyvault;
pub mod token;

use std::collections::{BTreeMap, BTreeSet};

use futures_util::stream;
use futures_util::{FutureExt, StreamExt};

use crate::analysis::plan::ExchangePlan;
use crate::analysis::targets::Target;
use crate::net::cloud::Cloud;
use crate::net::http::Http;
use crate::untrusted::destinations;
use crate::world::World;
use crate::world::facts::{CapturedToken, IssuerCapture, TokenClaims, TokenHeader};
use crate::world::live::{ExchangeOutcome, ExchangeRecord, Gap, ProbeRecord};

#[derive(Debug, Clone)]
pub struct ProbeOptions {
    pub cloud: Cloud,
    pub concurrency: usize,
    /// Storage account (lower case) -> its blob endpoint as ARM reports it (`primaryEndpoints.blob`),
    /// which custom domains and DNS-zone endpoints make different from `{account}.{blob suffix}`.
    pub blob_endpoints: BTreeMap<String, String>,
    /// `--in-pod`: the pod's own token, presented instead of a TokenRequest for its plan.
    pub own_token: Option<token::OwnToken>,
    /// `--authority-host`: the one authority besides the known clouds' that may get a token.
    pub authority_host: Option<String>,
    /// The cluster's issuer as ARM reports it: a token read inside a pod (exec) names its own
    /// issuer, so only these, and those of tokens the API server minted, are fetched.
    pub cluster_issuers: BTreeSet<String>,
    /// `--timeout`: the bound of a TokenRequest and of a whole read over exec (a container
    /// that prints one byte at a time must not hold the run).
    pub timeout: std::time::Duration,
}

/// What one run of the probes learned, ready to add to the world.
#[derive(Debug, Default)]
pub struct LiveFacts {
    pub tokens: Vec<CapturedToken>,
    pub issuers: Vec<IssuerCapture>,
    pub exchanges: Vec<ExchangeRecord>,
    pub probes: Vec<ProbeRecord>,
    pub gaps: Vec<Gap>,
}

impl LiveFacts {
    pub fn add_to(self, world: &mut World) {
        let f = &mut world.facts;
        // Live observations replace what the world held for the same pods and issuers.
        let pods: BTreeSet<_> = self.tokens.iter().map(|t| t.pod.clone()).collect();
        f.tokens.retain(|t| !pods.contains(&t.pod));
        f.tokens.extend(self.tokens);
        let issuers: BTreeSet<_> = self.issuers.iter().map(|i| i.issuer.clone()).collect();
        f.issuers.retain(|i| !issuers.contains(&i.issuer));
        f.issuers.extend(self.issuers);
        f.exchanges.extend(self.exchanges);
        f.probes.extend(self.probes);
        f.gaps.extend(self.gaps);
        world.info.probed = true;
    }
}
struct Taken<'p> {
    plan: &'p ExchangePlan,
    jwt: Result<token::PodToken, String>,
    /// `token-request`, or `in-pod` for the pod's own token file.
    source: &'static str,
}

pub async fn run(
    client: &kube::Client,
    http: &Http,
    plans: &[ExchangePlan],
    opts: &ProbeOptions,
) -> LiveFacts {
    let mut facts = LiveFacts::default();
    let n = opts.concurrency.max(1);
    // Boxed as `Send` futures where they are made: rustc cannot prove a stream of borrowing
    // closures' futures `Send` by itself, and the TUI spawns this read so `x` can abort it.
    let taking: Vec<_> = plans
        .iter()
        .map(|plan| take_token(client, http, plan, opts).boxed())
        .collect();
    let taken: Vec<Taken<'_>> = stream::iter(taking).buffer_unordered(n).collect().await;
    // Decoded once: the issuer to fetch, then the claims every pod of the plan carries.
    let mut decoded = Vec::new();
    for t in &taken {
        match &t.jwt {
            Ok(jwt) => {
                if let Ok(parts) = crate::world::facts::decode_unverified(&jwt.0) {
                    decoded.push((t, jwt, parts));
                }
            }
            Err(e) => facts.gaps.push(token_gap(t.plan, e)),
        }
    }
    facts.issuers = fetch_issuers(http, &decoded, opts, n).await;
    facts.tokens = captured_tokens(&decoded, &facts.issuers);
    let exchanging: Vec<_> = taken
        .iter()
        .filter_map(|t| t.jwt.as_ref().ok().map(|jwt| (t.plan, jwt)))
        .map(|(plan, jwt)| exchange_and_probe(http, plan, jwt, opts).boxed())
        .collect();
    let results: Vec<(ExchangeRecord, Vec<ProbeRecord>)> =
        stream::iter(exchanging).buffer_unordered(n).collect().await;
    for (record, probes) in results {
        facts.exchanges.push(record);
        facts.probes.extend(probes);
    }
    facts
}

/// A taken token with its header and claims, decoded once.
type Decoded<'t, 'p> = (
    &'t Taken<'p>,
    &'t token::PodToken,
    (TokenHeader, TokenClaims),
);

fn token_gap(plan: &ExchangePlan, e: &str) -> Gap {
    Gap {
        resource: "serviceaccounts/token".into(),
        namespace: Some(plan.namespace.clone()),
        needed: format!(
            "create serviceaccounts/token for {} in namespace {}",
            plan.service_account, plan.namespace
        ),
        error: e.to_owned(),
    }
}

/// The issuers the tokens name, fetched as Entra would fetch them, or why one was not.
async fn fetch_issuers(
    http: &Http,
    decoded: &[Decoded<'_, '_>],
    opts: &ProbeOptions,
    n: usize,
) -> Vec<IssuerCapture> {
    // A token read inside a pod names whatever issuer the pod wrote: widiag fetches only the
    // issuers of tokens the API server minted and the cluster's own as ARM reports it.
    let named: BTreeSet<&str> = decoded
        .iter()
        .map(|(_, _, (_, claims))| claims.iss.as_str())
        .collect();
    let vouched: BTreeSet<&str> = decoded
        .iter()
        .filter(|(t, _, (_, c))| t.source != "exec" || opts.cluster_issuers.contains(&c.iss))
        .map(|(_, _, (_, claims))| claims.iss.as_str())
        .collect();
    let fetching: Vec<_> = vouched
        .iter()
        .map(|iss| issuer::fetch(http, iss).boxed())
        .collect();
    let mut issuers: Vec<IssuerCapture> =
        stream::iter(fetching).buffer_unordered(n).collect().await;
    issuers.extend(named.difference(&vouched).map(|iss| {
        IssuerCapture {
            issuer: iss.to_string(),
            error: Some(
                "not fetched: this issuer comes only from a token read inside the pod, and \
                     is not the cluster's issuer as ARM reports it"
                    .into(),
            ),
            ..Default::default()
        }
    }));
    issuers
}

/// Each pod's token as captured: the plan's claims for every pod of the plan, and whether the
/// signature verifies against its issuer's keys.
fn captured_tokens(decoded: &[Decoded<'_, '_>], issuers: &[IssuerCapture]) -> Vec<CapturedToken> {
    let by_issuer: BTreeMap<&str, &IssuerCapture> =
        issuers.iter().map(|i| (i.issuer.as_str(), i)).collect();
    let mut tokens = Vec::new();
    for (t, jwt, (header, claims)) in decoded {
        let signature = by_issuer
            .get(claims.iss.as_str())
            .and_then(|cap| issuer::verify(&jwt.0, cap));
        tokens.extend(t.plan.pods.iter().map(|pod| CapturedToken {
            pod: pod.clone(),
            container: None,
            source: t.source.into(),
            header: header.clone(),
            claims: claims.clone(),
            signature: signature.clone(),
        }));
    }
    tokens
}

/// The pod's own token (widiag runs inside it), a TokenRequest, else the token file over exec.
async fn take_token<'p>(
    client: &kube::Client,
    http: &Http,
    plan: &'p ExchangePlan,
    opts: &ProbeOptions,
) -> Taken<'p> {
    let taken = |jwt, source| Taken { plan, jwt, source };
    if let Some(own) = opts
        .own_token
        .as_ref()
        .filter(|o| plan.pods.contains(&o.pod))
    {
        return taken(Ok(token::PodToken(own.jwt.clone())), "in-pod");
    }
    let requested = step(
        http,
        ("token request", "POST", token_url(plan)),
        201,
        opts.timeout,
        token::request(client, plan),
    )
    .await;
    let denied = match requested {
        Ok(jwt) => return taken(Ok(jwt), "token-request"),
        Err(failed) if failed.status != Some(403) => {
            return taken(Err(failed.message), "token-request");
        }
        Err(denied) => denied,
    };
    // Not allowed to mint one: read the one the pod has.
    let read = step(
        http,
        ("read the token file over exec", "GET", exec_url(plan)),
        101,
        opts.timeout,
        token::exec(client, plan),
    )
    .await;
    match read {
        Ok(jwt) => taken(Ok(jwt), "exec"),
        Err(e) => taken(
            Err(format!("{}; {}", denied.message, e.message)),
            "token-request",
        ),
    }
}

/// Runs a Kubernetes call bounded by `--timeout` (a container printing one byte at a time must
/// not hold the run) and leaves a transcript step for it: the status the API server answered
/// (also when it refused), the error, never the token.
async fn step<T>(
    http: &Http,
    (what, method, url): (&str, &str, String),
    ok_status: u16,
    timeout: std::time::Duration,
    call: impl std::future::Future<Output = Result<T, token::Refused>>,
) -> Result<T, token::Refused> {
    let start = std::time::Instant::now();
    let result = tokio::time::timeout(timeout, call)
        .await
        .unwrap_or_else(|_| {
            Err(token::Refused {
                message: format!("no answer within {}s", timeout.as_secs()),
                status: None,
            })
        });
    http.transcript.record(
        what,
        (method, url),
        start,
        match &result {
            Ok(_) => Some(ok_status),
            Err(r) => r.status,
        },
        result.as_ref().err().map(|r| r.message.clone()),
    );
    result
}

fn token_url(plan: &ExchangePlan) -> String {
    format!(
        "/api/v1/namespaces/{}/serviceaccounts/{}/token",
        plan.namespace, plan.service_account
    )
}

fn exec_url(plan: &ExchangePlan) -> String {
    format!(
        "/api/v1/namespaces/{}/pods/{}/exec",
        plan.namespace, plan.bind_to.0
    )
}

fn vaults(plan: &ExchangePlan) -> BTreeSet<&str> {
    plan.targets
        .values()
        .flatten()
        .filter_map(|t| match t {
            Target::KeyVault { name, .. } => Some(name.as_str()),
            Target::Blob { .. } => None,
        })
        .collect()
}

/// (account, container, user delegation) of every Blob target of the plan.
type BlobKey<'p> = (&'p str, Option<&'p str>, bool);

fn blobs(plan: &ExchangePlan) -> BTreeSet<BlobKey<'_>> {
    plan.targets
        .values()
        .flatten()
        .filter_map(|t| match t {
            Target::Blob {
                account,
                container,
                user_delegation,
                ..
            } => Some((account.as_str(), container.as_deref(), *user_delegation)),
            Target::KeyVault { .. } => None,
        })
        .collect()
}

/// Storage takes tokens for this resource in every cloud.
const STORAGE_SCOPE: &str = "https://storage.azure.com/.default";
/// One plan's exchange, then the probes of its targets with the access token it got.
async fn exchange_and_probe(
    http: &Http,
    plan: &ExchangePlan,
    jwt: &token::PodToken,
    opts: &ProbeOptions,
) -> (ExchangeRecord, Vec<ProbeRecord>) {
    let http = http.with_own_transcript();
    let pod = PodExchange::new(plan, jwt, opts);
    let (vaults, blobs) = (vaults(plan), blobs(plan));
    // The first resource the pod calls decides the scope; ARM when it names none.
    let scope = if !vaults.is_empty() {
        format!("https://{}/.default", opts.cloud.vault_suffix)
    } else if !blobs.is_empty() {
        STORAGE_SCOPE.to_string()
    } else {
        opts.cloud.arm_scope()
    };
    let at = jiff::Timestamp::now();
    let done = pod.exchange(&http, &scope).await;
    let mut probes = Vec::new();
    if let (Some(access), ExchangeOutcome::Granted { .. }) = (&done.access, &done.outcome) {
        probes.extend(probe_vaults(&http, plan, opts, vaults, &access.0).await);
        if !blobs.is_empty() {
            // A token is for one resource: Storage needs its own unless it was the first.
            let storage = if scope == STORAGE_SCOPE {
                Ok(access.0.clone())
            } else {
                pod.storage_token(&http).await
            };
            probes.extend(probe_blobs(&http, plan, opts, blobs, &storage).await);
        }
    }
    let record = ExchangeRecord {
        pods: plan.pods.clone(),
        client_id: plan.client_id.clone(),
        tenant_id: plan.tenant_id.clone(),
        endpoint: done.endpoint,
        scope,
        at: Some(at),
        attempts: done.attempts,
        outcome: done.outcome,
        transcript: http.transcript.steps(),
    };
    (record, probes)
}

/// The pod's token exchange as its plan makes it: the authority it may go to, its tenant,
/// client ID and token.
struct PodExchange<'a> {
    authority: String,
    allowed: Option<&'a str>,
    plan: &'a ExchangePlan,
    jwt: &'a token::PodToken,
}

impl<'a> PodExchange<'a> {
    fn new(plan: &'a ExchangePlan, jwt: &'a token::PodToken, opts: &'a ProbeOptions) -> Self {
        // The pod's AZURE_AUTHORITY_HOST is a claim, not a destination (analysis: WI511).
        let allowed = opts.authority_host.as_deref();
        let authority = plan
            .authority
            .as_deref()
            .filter(|a| destinations::may_receive_token(a, allowed))
            .or(allowed)
            .unwrap_or(opts.cloud.authority)
            .to_string();
        PodExchange {
            authority,
            allowed,
            plan,
            jwt,
        }
    }

    async fn exchange(&self, http: &Http, scope: &str) -> exchange::Exchanged {
        exchange::exchange(
            http,
            (&self.authority, self.allowed),
            &self.plan.tenant_id,
            &self.plan.client_id,
            scope,
            &self.jwt.0,
        )
        .await
    }

    /// A token for Storage, or why there is none.
    async fn storage_token(&self, http: &Http) -> Result<String, String> {
        let storage_http = http.with_own_transcript();
        let d = self.exchange(&storage_http, STORAGE_SCOPE).await;
        match (d.access, d.outcome) {
            (Some(a), ExchangeOutcome::Granted { .. }) => Ok(a.0),
            (_, ExchangeOutcome::Rejected(e)) => Err(format!(
                "no token for Storage: {} {}",
                e.status, e.description
            )),
            (_, other) => Err(format!("no token for Storage: {other:?}")),
        }
    }
}

/// Each vault probed once, as the first pod that wants it, and recorded for every such pod.
async fn probe_vaults(
    http: &Http,
    plan: &ExchangePlan,
    opts: &ProbeOptions,
    vaults: BTreeSet<&str>,
    access: &str,
) -> Vec<ProbeRecord> {
    let mut probes = Vec::new();
    for vault in vaults {
        let vault_http = http.with_own_transcript();
        let wants = |t: &Target| matches!(t, Target::KeyVault { name, .. } if name == vault);
        let Some(first) = first_pod(plan, wants) else {
            continue;
        };
        let mut record =
            keyvault::probe(&vault_http, first, vault, opts.cloud.vault_suffix, access).await;
        record.transcript = vault_http.transcript.steps();
        probes.extend(for_each_pod(plan, wants, std::slice::from_ref(&record)));
    }
    probes
}

/// Each Blob target probed once, as the first pod that wants it, with the Storage token (or
/// recorded unprobed with why there is none).
async fn probe_blobs(
    http: &Http,
    plan: &ExchangePlan,
    opts: &ProbeOptions,
    blobs: BTreeSet<BlobKey<'_>>,
    storage: &Result<String, String>,
) -> Vec<ProbeRecord> {
    let mut probes = Vec::new();
    for (account, container, user_delegation) in blobs {
        let wants = |t: &Target| {
            matches!(t, Target::Blob { account: a, container: c, .. }
                if a == account && c.as_deref() == container)
        };
        let Some(first) = first_pod(plan, wants) else {
            continue;
        };
        let endpoint = opts
            .blob_endpoints
            .get(account)
            .cloned()
            .unwrap_or_else(|| format!("https://{account}.{}", opts.cloud.blob_suffix));
        let target = blob::BlobTarget {
            account,
            endpoint,
            container,
            user_delegation,
        };
        let records = match storage {
            Ok(token) => {
                let blob_http = http.with_own_transcript();
                let mut rs = blob::probe(&blob_http, first, &target, token).await;
                let steps = blob_http.transcript.steps();
                rs.iter_mut().for_each(|r| r.transcript.clone_from(&steps));
                rs
            }
            Err(e) => vec![blob::unprobed(first, &target, e)],
        };
        probes.extend(for_each_pod(plan, wants, &records));
    }
    probes
}

/// The first pod of the plan that wants a target: the probe runs once, as that pod.
fn first_pod(
    plan: &ExchangePlan,
    wants: impl Fn(&Target) -> bool,
) -> Option<&crate::world::ObjRef> {
    plan.targets
        .iter()
        .find(|(_, ts)| ts.iter().any(&wants))
        .map(|(pod, _)| pod)
}

/// The records of one probe, once for every pod of the plan that wants the target.
fn for_each_pod(
    plan: &ExchangePlan,
    wants: impl Fn(&Target) -> bool,
    records: &[ProbeRecord],
) -> Vec<ProbeRecord> {
    plan.targets
        .iter()
        .filter(|(_, ts)| ts.iter().any(&wants))
        .flat_map(|(pod, _)| {
            records.iter().map(move |r| ProbeRecord {
                pod: pod.clone(),
                ..r.clone()
            })
        })
        .collect()
}

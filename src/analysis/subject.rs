//! Everything the links need to know about one pod, derived once: its ServiceAccount, owning
//! workload, the client ID it will use, the identity that resolves to, and its token's claims.

use std::borrow::Cow;

use k8s_openapi::api::core::v1::{Container, Pod, PodSpec, PodTemplateSpec, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::chain::Workload;
use super::index::{Index, lower};
use super::webhook::{self, Install};
use crate::world::ObjRef;
use crate::world::azure::{Application, FederatedCredential, ManagedIdentity, ServicePrincipal};

pub struct Subject<'w> {
    pub pod: &'w Pod,
    pub at: ObjRef,
    pub spec: Option<&'w PodSpec>,
    pub sa_name: String,
    pub sa: Option<&'w ServiceAccount>,
    pub workload: Workload,
    /// The owner's own metadata and its pod template (where the label belongs).
    pub owner_meta: Option<&'w ObjectMeta>,
    pub template_meta: Option<&'w ObjectMeta>,
    pub template_spec: Option<&'w PodSpec>,
    /// The client ID the app will use: the pod's AZURE_CLIENT_ID, else the annotation.
    pub client_id: Option<String>,
    pub client_id_source: &'static str,
    pub tenant_id: Option<String>,
    pub resolved: Option<Resolved<'w>>,
    pub token: TokenView,
    /// Why the installed webhook would refuse a pod like this one now, in its order (empty when
    /// it admits it, or cannot start: the webhook link says why).
    pub denials: Vec<webhook::Denial>,
    /// The audience of the webhook's custom token endpoint, when the pod asks for it (v1.6: the
    /// token then goes to `AZURE_KUBERNETES_TOKEN_PROXY`, not to Entra).
    pub custom_endpoint: Option<String>,
    /// No pod of the workload exists: this is the pod its template would make.
    pub template_only: bool,
    /// For a would-be pod: the `FailedCreate` messages its controller recorded.
    pub failed_creates: Vec<&'w str>,
}

#[derive(Clone, Copy)]
pub enum Resolved<'w> {
    Identity(&'w ManagedIdentity),
    Application(&'w Application, Option<&'w ServicePrincipal>),
}

impl<'w> Resolved<'w> {
    pub fn name(&self) -> String {
        match self {
            Resolved::Identity(i) => i.name.clone(),
            Resolved::Application(a, _) => {
                a.display_name.clone().unwrap_or_else(|| a.app_id.clone())
            }
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Resolved::Identity(_) => "user-assigned managed identity",
            Resolved::Application(..) => "application",
        }
    }

    pub fn client_id(&self) -> Option<&'w str> {
        match self {
            Resolved::Identity(i) => i.client_id.as_deref(),
            Resolved::Application(a, _) => Some(&a.app_id),
        }
    }

    /// The object id role assignments and access policies name.
    pub fn principal_id(&self) -> Option<&'w str> {
        match self {
            Resolved::Identity(i) => i.principal_id.as_deref(),
            Resolved::Application(_, sp) => sp.map(|s| s.id.as_str()),
        }
    }

    pub fn tenant_id(&self) -> Option<&'w str> {
        match self {
            Resolved::Identity(i) => i.tenant_id.as_deref(),
            Resolved::Application(_, sp) => sp.and_then(|s| s.app_owner_organization_id.as_deref()),
        }
    }

    pub fn fics<'a>(&self, ix: &'a Index<'w>) -> &'a [&'w FederatedCredential] {
        let found = match self {
            Resolved::Identity(i) => ix.fics_by_identity.get(i.id.as_str()),
            Resolved::Application(a, _) => ix.fics_by_owner.get(lower(&a.app_id).as_ref()),
        };
        found.map(Vec::as_slice).unwrap_or_default()
    }
}

/// The claims the pod's token carries: observed when captured, predicted otherwise.
#[derive(Clone, Default)]
pub struct TokenView {
    pub observed: bool,
    pub iss: Option<String>,
    pub sub: String,
    pub aud: Vec<String>,
    pub kid: Option<String>,
    pub alg: Option<String>,
    pub iat: Option<i64>,
    pub nbf: Option<i64>,
    pub exp: Option<i64>,
    pub source: Option<String>,
}

impl<'w> Subject<'w> {
    /// The `sub` a token for the pod's ServiceAccount carries, which a credential must name.
    pub fn sa_subject(&self) -> String {
        format!(
            "system:serviceaccount:{}:{}",
            self.at.namespace, self.sa_name
        )
    }

    pub fn new(ix: &Index<'w>, install: &Install<'w>, pod: &'w Pod) -> Subject<'w> {
        let at = ObjRef::new(
            pod.metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".into()),
            pod.metadata.name.clone().unwrap_or_default(),
        );
        let spec = pod.spec.as_ref();
        let sa_name = spec
            .and_then(|s| {
                s.service_account_name
                    .clone()
                    .or_else(|| s.service_account.clone())
            })
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "default".into());
        let sa = ix.service_account(&at.namespace, &sa_name);
        let owner = owner_of(ix, pod, &at);
        let annotation = |key: &str| {
            sa.and_then(|s| s.metadata.annotations.as_ref()?.get(key))
                .map(|v| v.trim().to_string())
        };
        let env_client = first_env(pod, "AZURE_CLIENT_ID").map(str::to_string);
        let (client_id, client_id_source) = match (env_client, annotation(webhook::CLIENT_ID)) {
            (Some(v), _) => (Some(v), "from the pod env AZURE_CLIENT_ID"),
            (None, Some(a)) if !a.is_empty() => (Some(a), "from the ServiceAccount annotation"),
            _ => (None, "from nowhere"),
        };
        let tenant_id = first_env(pod, "AZURE_TENANT_ID")
            .map(str::to_string)
            .or_else(|| annotation(webhook::TENANT_ID).filter(|t| !t.is_empty()))
            .or_else(|| install.settings.tenant_id.clone())
            .or_else(|| ix.world.info.tenant_id.clone());
        let resolved = client_id.as_deref().and_then(|c| resolve(ix, c));
        let token = token_view(ix, install, pod, &at, &sa_name);
        let denials = install
            .admitting()
            .map(|started| {
                let req = webhook::admission::Request {
                    pod,
                    service_account: sa,
                };
                if webhook::admission::reaches(&install.profile, pod) {
                    webhook::admission::denials(&install.profile, started, &req)
                } else {
                    Vec::new()
                }
            })
            .unwrap_or_default();
        let custom_endpoint = custom_endpoint(install, pod);
        Subject {
            pod,
            at,
            spec,
            sa_name,
            sa,
            workload: owner.workload,
            owner_meta: owner.meta,
            template_meta: owner.template_meta,
            template_spec: owner.template_spec,
            client_id,
            client_id_source,
            tenant_id,
            resolved,
            token,
            denials,
            custom_endpoint,
            template_only: false,
            failed_creates: Vec::new(),
        }
    }

    /// The pod as the webhook receives it, with its ServiceAccount.
    pub fn request(&self) -> webhook::admission::Request<'w> {
        webhook::admission::Request {
            pod: self.pod,
            service_account: self.sa,
        }
    }

    pub fn containers(&self) -> impl Iterator<Item = (&'w Container, bool)> + '_ {
        let spec = self.spec;
        spec.into_iter().flat_map(|s| {
            s.init_containers
                .iter()
                .flatten()
                .map(|c| (c, true))
                .chain(s.containers.iter().map(|c| (c, false)))
        })
    }

    pub fn pod_annotation(&self, key: &str) -> Option<&'w str> {
        self.pod
            .metadata
            .annotations
            .as_ref()?
            .get(key)
            .map(String::as_str)
    }

    pub fn sa_annotation(&self, key: &str) -> Option<&'w str> {
        self.sa?
            .metadata
            .annotations
            .as_ref()?
            .get(key)
            .map(String::as_str)
    }

    pub fn pod_label(&self, key: &str) -> Option<&'w str> {
        self.pod
            .metadata
            .labels
            .as_ref()?
            .get(key)
            .map(String::as_str)
    }

    /// The value a fix template's `{name}` stands for, computed only when a finding renders.
    pub fn var<'a>(
        &'a self,
        ix: &'a Index<'w>,
        install: &'a Install<'w>,
        name: &str,
    ) -> Option<Cow<'a, str>> {
        let borrowed = |s: &'a str| Some(Cow::Borrowed(s));
        let v = match name {
            "namespace" => borrowed(&self.at.namespace),
            "pod" => borrowed(&self.at.name),
            "sa" => borrowed(&self.sa_name),
            "workload" => Some(Cow::Owned(self.workload.kubectl_ref())),
            "subject" => Some(Cow::Owned(self.sa_subject())),
            "audience" => borrowed(&install.assumed.audience),
            // Credential names take no dots; ServiceAccount names may have them.
            "fic_name" => Some(Cow::Owned(
                format!("{}-{}", self.at.namespace, self.sa_name).replace('.', "-"),
            )),
            "cluster" => ix.cluster().and_then(|c| borrowed(&c.name)),
            "cluster_rg" => ix
                .cluster()
                .and_then(|c| crate::world::azure::arm_segment(&c.id, "resourcegroups"))
                .map(Cow::Borrowed),
            "issuer" => self.token.iss.as_deref().map(Cow::Borrowed),
            "issuer_no_slash" => self
                .token
                .iss
                .as_deref()
                .map(|i| Cow::Borrowed(i.trim_end_matches('/'))),
            "tenant_id" => self
                .tenant_id
                .as_deref()
                .or(ix.world.info.tenant_id.as_deref())
                .map(Cow::Borrowed),
            "webhook_namespace" => install.namespace.as_deref().map(Cow::Borrowed),
            "client_id" => match &self.resolved {
                Some(r) => r.client_id().map(Cow::Borrowed),
                None => self.client_id.as_deref().map(Cow::Borrowed),
            },
            "principal_id" => self
                .resolved
                .and_then(|r| r.principal_id())
                .map(Cow::Borrowed),
            "identity_name" => self.resolved.map(|r| Cow::Owned(r.name())),
            "identity_tenant" => self.resolved.and_then(|r| r.tenant_id()).map(Cow::Borrowed),
            "identity_rg" => match self.resolved {
                Some(Resolved::Identity(i)) => i.resource_group().map(Cow::Borrowed),
                _ => None,
            },
            _ => None,
        };
        v.filter(|s| !s.is_empty())
    }
}

/// Value of the first literal `name` env var in any container.
pub fn first_env<'p>(pod: &'p Pod, name: &str) -> Option<&'p str> {
    let spec = pod.spec.as_ref()?;
    spec.init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .flat_map(|c| c.env.iter().flatten())
        .find(|e| e.name == name)
        .and_then(|e| e.value.as_deref())
}

fn resolve<'w>(ix: &Index<'w>, client_id: &str) -> Option<Resolved<'w>> {
    let key = lower(client_id);
    if let Some(i) = ix.identities_by_client.get(key.as_ref()) {
        return Some(Resolved::Identity(i));
    }
    ix.apps_by_app_id
        .get(key.as_ref())
        .map(|a| Resolved::Application(a, ix.sps_by_app_id.get(key.as_ref()).copied()))
}

struct Owner<'w> {
    workload: Workload,
    meta: Option<&'w ObjectMeta>,
    template_meta: Option<&'w ObjectMeta>,
    template_spec: Option<&'w PodSpec>,
}

impl<'w> Owner<'w> {
    /// The owner named `kind`/`name`, with its metadata and pod template when the world has them.
    fn new(
        kind: impl Into<Cow<'static, str>>,
        name: &str,
        meta: Option<&'w ObjectMeta>,
        template: Option<&'w PodTemplateSpec>,
    ) -> Self {
        Owner {
            workload: Workload {
                kind: kind.into(),
                name: name.into(),
            },
            meta,
            template_meta: template.and_then(|t| t.metadata.as_ref()),
            template_spec: template.and_then(|t| t.spec.as_ref()),
        }
    }
}

/// The name of `meta`'s owner of kind `kind`.
fn owner_named<'m>(meta: &'m ObjectMeta, kind: &str) -> Option<&'m str> {
    meta.owner_references
        .iter()
        .flatten()
        .find(|r| r.kind == kind)
        .map(|r| r.name.as_str())
}

/// Follows controller references up to the object a user edits (Deployment, CronJob, ...).
fn owner_of<'w>(ix: &Index<'w>, pod: &'w Pod, at: &ObjRef) -> Owner<'w> {
    let ns = at.namespace.as_str();
    let refs = pod.metadata.owner_references.as_deref().unwrap_or_default();
    let Some(o) = refs
        .iter()
        .find(|o| o.controller == Some(true))
        .or(refs.first())
    else {
        return Owner::new("Pod", &at.name, None, None);
    };
    let k = (ns, o.name.as_str());
    match o.kind.as_str() {
        "ReplicaSet" => replica_set_owner(ix, pod, ns, &o.name),
        "Job" => {
            let job = ix.jobs.get(&k);
            match job.and_then(|j| owner_named(&j.metadata, "CronJob")) {
                Some(c) => {
                    let cj = ix.cron_jobs.get(&(ns, c));
                    let template = cj
                        .and_then(|x| Some(&x.spec.as_ref()?.job_template.spec.as_ref()?.template));
                    Owner::new("CronJob", c, cj.map(|x| &x.metadata), template)
                }
                None => Owner::new(
                    "Job",
                    &o.name,
                    job.map(|x| &x.metadata),
                    job.and_then(|x| Some(&x.spec.as_ref()?.template)),
                ),
            }
        }
        "StatefulSet" => {
            let s = ix.stateful_sets.get(&k);
            Owner::new(
                "StatefulSet",
                &o.name,
                s.map(|x| &x.metadata),
                s.and_then(|x| Some(&x.spec.as_ref()?.template)),
            )
        }
        "DaemonSet" => {
            let s = ix.daemon_sets.get(&k);
            Owner::new(
                "DaemonSet",
                &o.name,
                s.map(|x| &x.metadata),
                s.and_then(|x| Some(&x.spec.as_ref()?.template)),
            )
        }
        // Only a would-be pod (`workloads::without_pods`) names these directly.
        "Deployment" => {
            let d = ix.deployments.get(&k);
            Owner::new(
                "Deployment",
                &o.name,
                d.map(|x| &x.metadata),
                d.and_then(|x| Some(&x.spec.as_ref()?.template)),
            )
        }
        "CronJob" => {
            let cj = ix.cron_jobs.get(&k);
            let template =
                cj.and_then(|x| Some(&x.spec.as_ref()?.job_template.spec.as_ref()?.template));
            Owner::new("CronJob", &o.name, cj.map(|x| &x.metadata), template)
        }
        other => Owner::new(other.to_string(), &o.name, None, None),
    }
}

/// A ReplicaSet's owner: its Deployment (found through the ReplicaSet, or by its name less the
/// pod-template-hash when the ReplicaSet is not in the world), else the ReplicaSet itself.
fn replica_set_owner<'w>(ix: &Index<'w>, pod: &'w Pod, ns: &str, name: &str) -> Owner<'w> {
    let k = (ns, name);
    let rs = ix.replica_sets.get(&k);
    let dep_name = rs
        .and_then(|rs| owner_named(&rs.metadata, "Deployment"))
        .or_else(|| {
            // The ReplicaSet may be missing from the world: strip its pod-template-hash.
            let hash = pod.metadata.labels.as_ref()?.get("pod-template-hash")?;
            name.strip_suffix(hash.as_str())?.strip_suffix('-')
        });
    match dep_name {
        Some(d) => {
            let dep = ix.deployments.get(&(ns, d));
            Owner::new(
                "Deployment",
                d,
                dep.map(|x| &x.metadata),
                dep.and_then(|x| Some(&x.spec.as_ref()?.template)),
            )
        }
        None => Owner::new(
            "ReplicaSet",
            name,
            rs.map(|x| &x.metadata),
            rs.and_then(|x| x.spec.as_ref()?.template.as_ref()),
        ),
    }
}

fn token_view(
    ix: &Index<'_>,
    install: &Install<'_>,
    pod: &Pod,
    at: &ObjRef,
    sa: &str,
) -> TokenView {
    if let Some(t) = ix.tokens.get(at) {
        return TokenView {
            observed: true,
            iss: Some(t.claims.iss.clone()),
            sub: t.claims.sub.clone(),
            aud: t.claims.aud.clone(),
            kid: t.header.kid.clone(),
            alg: Some(t.header.alg.clone()),
            iat: t.claims.iat,
            nbf: t.claims.nbf,
            exp: Some(t.claims.exp),
            source: Some(t.source.clone()),
        };
    }
    let iss = ix.cluster().and_then(|c| c.issuer_url.clone()).or_else(|| {
        (ix.world.facts.issuers.len() == 1).then(|| ix.world.facts.issuers[0].issuer.clone())
    });
    // The audience of the projected volume the pod mounts, else what the webhook would request.
    let aud = projected_audience(pod).unwrap_or_else(|| install.assumed.audience.clone());
    TokenView {
        observed: false,
        iss,
        sub: format!("system:serviceaccount:{}:{sa}", at.namespace),
        aud: vec![aud],
        ..Default::default()
    }
}

/// The custom token endpoint's audience, when the pod uses it: the webhook's configuration
/// says so, or, when its Deployment was not captured (a managed add-on), the pod carries a
/// `use-<suffix>: "true"` annotation and the endpoint's AZURE_KUBERNETES_TOKEN_PROXY.
fn custom_endpoint(install: &Install<'_>, pod: &Pod) -> Option<String> {
    if let Some(c) = &install.assumed.custom {
        return c.asked_by(pod).then(|| c.audience.clone());
    }
    if !install.deployments.is_empty() {
        return None;
    }
    let asks = pod.metadata.annotations.as_ref().is_some_and(|a| {
        a.iter().any(|(k, v)| {
            k.strip_prefix(webhook::USE_PREFIX)
                .is_some_and(|s| !s.is_empty())
                && v.eq_ignore_ascii_case("true")
        })
    });
    let proxied = first_env(pod, "AZURE_KUBERNETES_TOKEN_PROXY").is_some();
    (asks && proxied).then(|| projected_audience(pod).unwrap_or_default())
}

/// Whether `path` is `mount` or lies under it, by whole path segments.
pub fn under_mount(path: &str, mount: &str) -> bool {
    let mount = mount.trim_end_matches('/');
    path == mount
        || path
            .strip_prefix(mount)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Audience of the token the pod's AZURE_FEDERATED_TOKEN_FILE points into.
pub fn projected_audience(pod: &Pod) -> Option<String> {
    projected_token_volume(pod).map(|(_, aud)| aud)
}

/// The projected volume the pod's AZURE_FEDERATED_TOKEN_FILE reads, and the audience its
/// token is requested for.
pub fn projected_token_volume(pod: &Pod) -> Option<(&str, String)> {
    let spec = pod.spec.as_ref()?;
    let path = first_env(pod, "AZURE_FEDERATED_TOKEN_FILE")?;
    let container = spec.containers.iter().find(|c| {
        c.env
            .iter()
            .flatten()
            .any(|e| e.name == "AZURE_FEDERATED_TOKEN_FILE")
    })?;
    // The deepest mount holding the path is the one the file is read from.
    let mount = container
        .volume_mounts
        .iter()
        .flatten()
        .filter(|m| under_mount(path, &m.mount_path))
        .max_by_key(|m| m.mount_path.trim_end_matches('/').len())?;
    let volume = spec
        .volumes
        .iter()
        .flatten()
        .find(|v| v.name == mount.name)?;
    let rel = path
        .strip_prefix(mount.mount_path.trim_end_matches('/'))?
        .trim_start_matches('/');
    volume
        .projected
        .as_ref()?
        .sources
        .iter()
        .flatten()
        .filter_map(|s| s.service_account_token.as_ref())
        .find(|t| t.path == rel)
        .map(|t| (volume.name.as_str(), t.audience.clone().unwrap_or_default()))
}

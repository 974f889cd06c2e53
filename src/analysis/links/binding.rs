//! AKS identity bindings (preview) at the federation link: a pod annotated
//! `azure.workload.identity/use-identity-binding: "true"` presents a token for
//! `api://AKSIdentityBinding` to the cluster's identity binding proxy, not to Entra. What it needs
//! (learn.microsoft.com/azure/aks/identity-bindings, identity-bindings-concepts): an identity
//! binding of its user-assigned identity on the cluster; the identity's AKS-managed credential
//! `aks-identity-binding` with the binding's issuer; a ClusterRole granting its ServiceAccount
//! `use-managed-identity` on `cid.wi.aks.azure.com/<client id>`; a cluster without API server
//! VNet integration; and an SDK told to use the proxy, which no cluster object shows.

use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule};

use super::{LinkBuilder, PodCx};
use crate::analysis::chain::Evidence;
use crate::analysis::codes::Code;
use crate::analysis::subject::Resolved;
use crate::world::azure::{IdentityBinding, ManagedCluster, ManagedIdentity};

/// The name AKS gives the credential it manages on a bound identity.
pub const BINDING_CREDENTIAL: &str = "aks-identity-binding";
const VERB: &str = "use-managed-identity";
const GROUP: &str = "cid.wi.aks.azure.com";

/// What the app's SDK must be told, with the first versions that take it (identity-bindings-concepts).
const SDK_OPT_IN: &str = "WorkloadIdentityCredential with the Azure proxy enabled: .NET IsAzureProxyEnabled (Azure.Identity 1.18.0-beta.3), Go EnableAzureProxy (azidentity 1.14.0-beta.3), Java enableAzureProxy() (1.19.0-beta.2), JavaScript enableAzureProxy (4.14.0-beta.2), Python enable_azure_proxy=True (1.26.0b2); otherwise the token goes to Entra directly and fails with AADSTS700212 (audience api://AKSIdentityBinding)";

pub fn check(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>) {
    let Some(resolved) = cx.subject.resolved else {
        b.skip("no resolved identity (see the identity link)");
        return;
    };
    let Some(cluster) = cx.ix.cluster() else {
        b.skip("the pod uses an identity binding, but the world holds no managed cluster");
        return;
    };
    if cluster.api_server_vnet_integration {
        vnet_integration(cx, b, cluster, &resolved);
    }
    let Resolved::Identity(mi) = resolved else {
        b.raise(
            Code::WI909,
            format!(
                "{} is an application; identity bindings bind user-assigned managed identities",
                resolved.name()
            ),
        )
        .variant("application");
        return;
    };
    let Some(binding) = binding_of(cx, cluster, mi) else {
        b.raise(
            Code::WI909,
            format!(
                "no identity binding binds {} to cluster {}",
                mi.name, cluster.name
            ),
        )
        .var("identity_id", &mi.id)
        .variant("identity");
        return;
    };
    b.fact(
        Evidence::fact("identity binding", &binding.name)
            .with_note(binding.issuer_url.clone().unwrap_or_default()),
    );
    credential(cx, b, binding, mi);
    allowed(cx, b, mi);
    b.fact(Evidence::fact("SDK", SDK_OPT_IN));
    b.ok(format!(
        "identity binding {} binds {} to cluster {}",
        binding.name, mi.name, cluster.name
    ));
}

fn binding_of<'w>(
    cx: &PodCx<'_, 'w>,
    cluster: &ManagedCluster,
    mi: &ManagedIdentity,
) -> Option<&'w IdentityBinding> {
    cx.ix.world.azure.identity_bindings.iter().find(|ib| {
        ib.cluster_id.eq_ignore_ascii_case(&cluster.id)
            && ib.identity_id.eq_ignore_ascii_case(&mi.id)
    })
}

/// WI912: the pod must leave the binding (its annotation, on the pod template or the recreated
/// pod) and federate as ordinary workload identity, with a credential for its ServiceAccount
/// made first unless the identity already has one (Entra takes no second credential with the
/// same issuer and subject).
fn vnet_integration(
    cx: &PodCx<'_, '_>,
    b: &mut LinkBuilder<'_>,
    cluster: &ManagedCluster,
    resolved: &Resolved<'_>,
) {
    let subject = cx.subject.sa_subject();
    let federated = cluster.issuer_url.as_deref().is_some_and(|issuer| {
        resolved
            .fics(cx.ix)
            .iter()
            .any(|f| f.issuer == issuer && f.subject.as_deref() == Some(subject.as_str()))
    });
    let r = b.raise(
        Code::WI912,
        format!(
            "cluster {} uses API server VNet integration, which identity bindings do not support yet",
            cluster.name
        ),
    );
    r.evidence(Evidence::fact(
        "apiServerAccessProfile.enableVnetIntegration",
        "true",
    ));
    super::pod::remove_annotation(cx.subject, r, USE_BINDING);
    let variant = match (federated, cx.subject.workload.template_variant()) {
        (true, "cronjob") => "cronjob",
        (true, "job") => "job",
        (true, "pod") => "pod",
        (true, _) => "workload",
        (false, "cronjob") => "federate-cronjob",
        (false, "job") => "federate-job",
        (false, "pod") => "federate-pod",
        (false, _) => "federate-workload",
    };
    r.variant(variant);
}

/// The pod annotation that sends its token to the identity binding proxy.
const USE_BINDING: &str = "azure.workload.identity/use-identity-binding";

/// The identity's AKS-managed credential, with the binding's issuer. AKS creates it with the
/// first binding and never removes it; someone deleting it breaks every binding of the identity.
fn credential(
    cx: &PodCx<'_, '_>,
    b: &mut LinkBuilder<'_>,
    binding: &IdentityBinding,
    mi: &ManagedIdentity,
) {
    let fics = Resolved::Identity(mi).fics(cx.ix);
    let Some(f) = fics.iter().find(|f| f.name == BINDING_CREDENTIAL) else {
        b.raise(
            Code::WI910,
            format!(
                "{} has no federated credential {BINDING_CREDENTIAL}, which AKS creates for its bindings",
                mi.name
            ),
        )
        .var("binding", &binding.name)
        .var("identity_id", &mi.id);
        return;
    };
    if let Some(want) = binding.issuer_url.as_deref()
        && f.issuer != want
    {
        b.raise(
            Code::WI910,
            format!(
                "{BINDING_CREDENTIAL} on {} names another issuer than the binding",
                mi.name
            ),
        )
        .evidence(Evidence::compared("issuer", &f.issuer, want))
        .var("binding", &binding.name)
        .var("identity_id", &mi.id);
    }
}

/// Whether a ClusterRoleBinding lets the pod's ServiceAccount use the identity.
fn allowed(cx: &PodCx<'_, '_>, b: &mut LinkBuilder<'_>, mi: &ManagedIdentity) {
    let ns = &cx.subject.at.namespace;
    let sa = cx.subject.sa_name.as_str();
    let client_id = mi.client_id.as_deref().unwrap_or_default();
    let unread = ["clusterroles", "clusterrolebindings"]
        .into_iter()
        .find_map(|r| cx.ix.gap(r, ns));
    if let Some(g) = unread {
        b.raise(
            Code::WI913,
            format!(
                "cluster roles could not be read, so whether {sa} may use {} is unknown",
                mi.name
            ),
        )
        .evidence(Evidence::fact("not read", &g.error).with_note(format!("needs {}", g.needed)));
        return;
    }
    let kube = &cx.ix.world.kube;
    let grant = kube.cluster_role_bindings.iter().find(|crb| {
        binds(crb, ns, sa)
            && kube
                .cluster_roles
                .iter()
                .find(|cr| cr.metadata.name.as_deref() == Some(crb.role_ref.name.as_str()))
                .is_some_and(|cr| grants(cr, client_id))
    });
    match grant {
        Some(crb) => {
            b.fact(
                Evidence::fact(
                    "ClusterRoleBinding",
                    crb.metadata.name.clone().unwrap_or_default(),
                )
                .with_note(format!("lets {ns}/{sa} use {client_id}")),
            );
        }
        None => {
            b.raise(
                Code::WI911,
                format!(
                    "no ClusterRole bound to ServiceAccount {ns}/{sa} grants {VERB} on {GROUP}/{client_id}"
                ),
            )
            .var("client_id", client_id);
        }
    }
}

/// A binding of the ClusterRole kind whose subjects take in the ServiceAccount (by name, or as
/// one of all service accounts of its namespace or of the cluster).
fn binds(crb: &ClusterRoleBinding, ns: &str, sa: &str) -> bool {
    crb.role_ref.kind == "ClusterRole"
        && crb
            .subjects
            .iter()
            .flatten()
            .any(|s| match s.kind.as_str() {
                "ServiceAccount" => s.name == sa && s.namespace.as_deref() == Some(ns),
                "Group" => {
                    s.name == "system:serviceaccounts"
                        || s.name == format!("system:serviceaccounts:{ns}")
                }
                _ => false,
            })
}

/// A rule granting the verb on the identity, as the authorizer matches it (`*` stands for any).
fn grants(cr: &ClusterRole, client_id: &str) -> bool {
    let has = |list: &Vec<String>, want: &str| {
        list.iter()
            .any(|v| v == "*" || v.eq_ignore_ascii_case(want))
    };
    cr.rules.iter().flatten().any(|r: &PolicyRule| {
        has(&r.verbs, VERB)
            && r.api_groups.as_ref().is_some_and(|g| has(g, GROUP))
            && r.resources.as_ref().is_some_and(|res| has(res, client_id))
    })
}

//! widiag's own documents (`apiVersion: widiag.io/v1`).

use serde::Deserialize;
use serde_json::Value;

use super::{Cx, LoadError};
use crate::world::azure::{CredentialOwner, FederatedCredential};
use crate::world::facts::{CapturedToken, IssuerCapture, SignatureCheck, TokenClaims, TokenHeader};
use crate::world::{ObjRef, World, WorldInfo};

pub(super) fn add(
    cx: &Cx<'_>,
    world: &mut World,
    kind: &str,
    mut item: Value,
) -> Result<(), LoadError> {
    strip_type_meta(&mut item);
    match kind {
        "WorldInfo" => {
            let info: WorldInfo = cx.typed("WorldInfo", &item)?;
            merge_info(&mut world.info, info);
        }
        "IssuerDiscovery" => {
            let capture: IssuerCapture = cx.typed("IssuerDiscovery", &item)?;
            world.facts.issuers.push(capture);
        }
        "CapturedToken" => {
            let doc: TokenDoc = cx.typed("CapturedToken", &item)?;
            let token = doc
                .into_token()
                .map_err(|m| cx.field_error("CapturedToken", "token", m))?;
            world.facts.tokens.push(token);
        }
        "TokenExchange" => world
            .facts
            .exchanges
            .push(cx.typed("TokenExchange", &item)?),
        "ResourceProbe" => world.facts.probes.push(cx.typed("ResourceProbe", &item)?),
        "CollectionGap" => world.facts.gaps.push(cx.typed("CollectionGap", &item)?),
        "Diagnosis" => {
            let report = item
                .get("report")
                .filter(|r| r.get("pods").is_some_and(serde_json::Value::is_array))
                .cloned()
                .ok_or_else(|| {
                    cx.field_error(
                        "Diagnosis",
                        "report",
                        "expected a `check -o json` report with `pods`".into(),
                    )
                })?;
            world.recorded = Some(report);
        }
        kept if crate::world::extension::KINDS.contains(&kept) => {
            world.extensions.push(crate::world::extension::Extension {
                kind: kept.into(),
                at: *cx.location(&[]),
                value: item,
            });
        }
        "FederatedCredentialList" => {
            let list: FicList = cx.typed("FederatedCredentialList", &item)?;
            for f in list.items {
                let owner = CredentialOwner::Application(list.application.clone());
                world
                    .azure
                    .federated_credentials
                    .push(f.into_credential(owner));
            }
        }
        other => {
            return Err(cx.shape(format!(
                "unknown widiag kind `{other}` (known: WorldInfo, IssuerDiscovery, CapturedToken, \
                 TokenExchange, ResourceProbe, CollectionGap, LabBehaviour, FederatedCredentialList, Diagnosis)"
            )));
        }
    }
    Ok(())
}

fn strip_type_meta(item: &mut Value) {
    if let Some(map) = item.as_object_mut() {
        map.remove("apiVersion");
        map.remove("kind");
    }
}

fn merge_info(into: &mut WorldInfo, from: WorldInfo) {
    let WorldInfo {
        captured_at,
        cluster_name,
        context,
        tenant_id,
        cloud,
        kubernetes_version,
        probed,
        targets,
        widiag_version,
        redacted,
    } = from;
    into.probed |= probed;
    into.redacted |= redacted;
    into.widiag_version = widiag_version.or(into.widiag_version.take());
    into.captured_at = captured_at.or(into.captured_at);
    into.cluster_name = cluster_name.or(into.cluster_name.take());
    into.context = context.or(into.context.take());
    into.tenant_id = tenant_id.or(into.tenant_id.take());
    into.cloud = cloud.or(into.cloud.take());
    into.kubernetes_version = kubernetes_version.or(into.kubernetes_version.take());
    into.targets.extend(targets);
}

/// A captured token: either decoded `header` + `claims`, or a compact JWT in `token` whose
/// signature is dropped on load.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TokenDoc {
    pod: ObjRef,
    #[serde(default)]
    container: Option<String>,
    #[serde(default = "default_source")]
    source: String,
    #[serde(default)]
    header: Option<TokenHeader>,
    #[serde(default)]
    claims: Option<TokenClaims>,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    signature: Option<SignatureCheck>,
}

fn default_source() -> String {
    "file".into()
}

impl TokenDoc {
    fn into_token(self) -> Result<CapturedToken, String> {
        let (header, claims) = match (self.header, self.claims, self.token) {
            (Some(h), Some(c), None) => (h, c),
            (None, None, Some(jwt)) => crate::world::facts::decode_unverified(&jwt)?,
            _ => {
                return Err("give either `header` and `claims`, or `token` (a compact JWT)".into());
            }
        };
        Ok(CapturedToken {
            pod: self.pod,
            container: self.container,
            source: self.source,
            header,
            claims,
            signature: self.signature,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FicList {
    /// appId or object id of the application.
    application: String,
    items: Vec<GraphFic>,
}

/// A federated credential as Microsoft Graph (and `az ad app federated-credential list`) prints it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GraphFic {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    pub issuer: String,
    #[serde(default)]
    pub subject: Option<String>,
    pub audiences: Vec<String>,
    #[serde(default)]
    pub claims_matching_expression: Option<Expression>,
}

impl GraphFic {
    pub(super) fn into_credential(self, owner: CredentialOwner) -> FederatedCredential {
        FederatedCredential {
            id: self.id.unwrap_or_default(),
            name: self.name,
            owner,
            issuer: self.issuer,
            subject: self.subject,
            audiences: self.audiences,
            claims_matching_expression: self.claims_matching_expression.map(|c| c.value),
        }
    }
}

#[derive(Deserialize)]
pub(super) struct Expression {
    pub value: String,
}

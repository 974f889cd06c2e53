//! Whether the resource's network rules let a pod in at all. Key Vault and Storage both take
//! traffic through the public endpoint (governed by `publicNetworkAccess` and `networkAcls`) or
//! through an approved private endpoint, which the firewall does not govern
//! (learn.microsoft.com/azure/key-vault/general/network-security, /azure/storage/common/
//! storage-network-security). With `SecuredByPerimeter` a network security perimeter's access
//! rules decide for the public endpoint (learn.microsoft.com/azure/private-link/
//! network-security-perimeter-concepts).

use super::super::LinkBuilder;
use crate::analysis::chain::Evidence;
use crate::analysis::codes::Code;
use crate::world::azure::NetworkAcls;

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Vault,
    Storage,
}

impl Kind {
    fn variant(self, public_disabled: bool) -> &'static str {
        match (self, public_disabled) {
            (Kind::Vault, false) => "vault",
            (Kind::Vault, true) => "vault-disabled",
            (Kind::Storage, false) => "storage",
            (Kind::Storage, true) => "storage-disabled",
        }
    }
}

/// A resource's ways in, as ARM describes them.
pub struct Door<'a> {
    pub kind: Kind,
    pub name: &'a str,
    pub public: Option<&'a str>,
    pub acls: Option<&'a NetworkAcls>,
    pub private_endpoints: &'a [String],
    /// The data-plane host the pod calls (`<vault>.vault.azure.net`).
    pub host: Option<String>,
}

pub fn firewall(b: &mut LinkBuilder<'_>, door: Door<'_>) {
    let Door {
        kind,
        name,
        public,
        acls,
        private_endpoints,
        host,
    } = door;
    let is = |v: &str| public.is_some_and(|p| p.eq_ignore_ascii_case(v));
    let (disabled, perimeter) = (is("Disabled"), is("SecuredByPerimeter"));
    let deny = acls.is_some_and(|a| a.default_action.eq_ignore_ascii_case("Deny"));
    let rules = acls.map_or(0, |a| a.ip_rules.len() + a.virtual_network_rules.len());
    let endpoints = private_endpoints.len();
    let facts = [
        Evidence::fact("publicNetworkAccess", public.unwrap_or("Enabled")),
        Evidence::fact(
            "networkAcls.defaultAction",
            acls.map_or("Allow", |a| a.default_action.as_str()),
        )
        .with_note(format!("{rules} IP or virtual network rules")),
        Evidence::fact("approved private endpoints", endpoints.to_string()),
    ];
    let raised = if perimeter {
        b.raise(
            Code::WI1118,
            format!("{name} is secured by a network security perimeter, whose access rules widiag does not read"),
        )
    } else if (disabled || (deny && rules == 0)) && endpoints == 0 {
        let why = if disabled {
            "public network access is disabled"
        } else {
            "the firewall denies by default and lists no network"
        };
        let r = b.raise(
            Code::WI1117,
            format!("no network can reach {name}: {why}, and no private endpoint is approved"),
        );
        r.variant(kind.variant(disabled));
        r
    } else if disabled {
        // Only private endpoints lead in: what matters is that the pod resolves the host to one.
        let r = b.raise(
            Code::WI1107,
            format!("{name} is reached only through its {endpoints} approved private endpoint(s): public network access is disabled"),
        );
        r.variant("private")
            .var("host", host.unwrap_or_else(|| name.to_string()));
        r
    } else if deny {
        let r = b.raise(
            Code::WI1107,
            format!(
                "{name} admits only listed networks ({rules} rules, {endpoints} private endpoints)"
            ),
        );
        r.variant(kind.variant(false));
        r
    } else {
        return;
    };
    for f in facts {
        raised.evidence(f);
    }
    raised.var("target", name);
}

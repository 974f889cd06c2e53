//! The Azure API versions widiag calls (issue 20): none is past a retirement Azure announced, and
//! docs/architecture.md lists every one, so the choice stays deliberate and visible.

use widiag::net::api_versions::{RETIREMENTS, USED};

#[test]
fn no_version_in_use_is_past_an_announced_retirement() {
    let today = jiff::Zoned::now().date();
    for r in RETIREMENTS {
        let on: jiff::civil::Date = r.on.parse().unwrap();
        for api in USED.iter().filter(|a| a.surface == r.surface) {
            // Date-shaped versions compare as text; a preview suffix sorts after its date.
            if api.version < r.before {
                assert!(
                    today < on,
                    "{} {} retired on {} ({})",
                    api.surface,
                    api.version,
                    r.on,
                    r.source
                );
            }
        }
    }
    // The retirement that prompted the table: Key Vault's control plane before 2026-02-01.
    let kv = USED
        .iter()
        .find(|a| a.surface == "Microsoft.KeyVault")
        .unwrap();
    assert!(kv.version >= "2026-02-01", "{}", kv.version);
}

#[test]
fn the_architecture_doc_lists_every_version() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/architecture.md"),
    )
    .unwrap();
    for api in USED {
        let row = format!("| {} | `{}` |", api.surface, api.version);
        assert!(doc.contains(&row), "docs/architecture.md lacks {row}");
    }
    for r in RETIREMENTS {
        assert!(
            doc.contains(r.on),
            "docs/architecture.md lacks the {} retirement",
            r.surface
        );
    }
}

/// Key Vault API 2026-02-01 (issue 20): new vaults default to RBAC, but a vault whose
/// `enableRbacAuthorization` is null (or absent) keeps access policies, and is read so.
#[test]
fn a_vault_whose_rbac_setting_is_null_keeps_access_policies() {
    for setting in ["  enableRbacAuthorization: null\n", ""] {
        let doc = format!(
            "id: /subscriptions/2b6d9c4e-1f3a-4e8b-b7c5-0d9a8e6f4c21/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1\nname: kv1\ntype: Microsoft.KeyVault/vaults\nproperties:\n  vaultUri: https://kv1.vault.azure.net/\n{setting}  accessPolicies: []\n"
        );
        let world = widiag::world::parse::parse_str("vault.yaml", &doc).unwrap();
        assert!(!world.azure.vaults[0].rbac_authorization, "{setting:?}");
    }
    let doc = "id: /subscriptions/2b6d9c4e-1f3a-4e8b-b7c5-0d9a8e6f4c21/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv2\nname: kv2\ntype: Microsoft.KeyVault/vaults\nproperties:\n  enableRbacAuthorization: true\n";
    let world = widiag::world::parse::parse_str("vault.yaml", doc).unwrap();
    assert!(world.azure.vaults[0].rbac_authorization);
}

//! The analysis's built-in roles (`analysis::roles`, read from the permission tables of
//! Microsoft's generated pages) against the lab's dump of the same roles (assets/azure/
//! builtin-roles.json, read from the json blocks under those tables): two readings of one
//! source, held equal here, so a slip in either fails instead of passing both sides. And every
//! published role that grants one of the operations the access link asks about is in the
//! analysis's table, so a Key Vault or Blob verdict never rests on a row nobody checked.

use widiag::analysis::roles::{BUILTIN, Known, Need};
use widiag::lab::rbac::{self, Operation};

const GET_SECRET: Operation<'static> =
    Operation::DataAction("Microsoft.KeyVault/vaults/secrets/getSecret/action");
const READ_BLOBS: Operation<'static> =
    Operation::DataAction("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read");
const DELEGATION_KEY: Operation<'static> = Operation::Action(
    "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
);

#[test]
fn the_tables_and_the_json_blocks_say_the_same() {
    for row in BUILTIN {
        let published = rbac::builtin(row.id)
            .unwrap_or_else(|| panic!("{} ({}) is not in the published dump", row.name, row.id));
        assert_eq!(published.role_name, row.name, "{}", row.id);
        for (list, table, json) in [
            ("actions", row.actions, &published.actions),
            ("notActions", row.not_actions, &published.not_actions),
            ("dataActions", row.data_actions, &published.data_actions),
            (
                "notDataActions",
                row.not_data_actions,
                &published.not_data_actions,
            ),
        ] {
            assert_eq!(table, json.as_slice(), "{}: {list}", row.name);
        }
        assert!(
            published.source.ends_with(row.source),
            "{}: the table was read at {}, the json block at {}",
            row.name,
            row.source,
            published.source
        );
    }
}

#[test]
fn the_analysis_and_the_lab_decide_alike() {
    for row in BUILTIN {
        let published = rbac::builtin(row.id).unwrap();
        let known = Known::Builtin(row);
        for (need, op) in [
            (Need::ReadSecrets, GET_SECRET),
            (Need::ReadBlobs, READ_BLOBS),
            (Need::DelegationKey, DELEGATION_KEY),
        ] {
            assert_eq!(
                known.grants(need),
                published.permits(op),
                "{}: {need:?}",
                row.name
            );
        }
    }
}

#[test]
fn every_published_role_that_grants_access_is_known() {
    for d in rbac::BUILTIN.iter() {
        if [GET_SECRET, READ_BLOBS, DELEGATION_KEY]
            .into_iter()
            .any(|op| d.permits(op))
        {
            assert!(
                BUILTIN.iter().any(|r| r.id.eq_ignore_ascii_case(&d.id)),
                "{} ({}) grants Key Vault or Blob access but the analysis does not know it",
                d.role_name,
                d.id
            );
        }
    }
}

#[test]
fn the_dump_is_whole_and_cites_its_source() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/azure/builtin-roles.json"),
    )
    .unwrap();
    let dump: serde_json::Value = serde_json::from_str(&text).unwrap();
    let roles = dump["roles"].as_array().unwrap();
    assert_eq!(roles.len(), rbac::BUILTIN.len());
    let mut ids = std::collections::BTreeSet::new();
    for r in roles {
        let id = r["id"].as_str().unwrap();
        assert!(widiag::untrusted::grammar::guid(id), "{id}");
        assert!(ids.insert(id.to_ascii_lowercase()), "{id} twice");
        let source = r["source"].as_str().unwrap_or_default();
        assert!(
            source.starts_with("MicrosoftDocs/azure-docs/articles/role-based-access-control/"),
            "{id}: {source}"
        );
    }
}

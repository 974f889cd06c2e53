//! The analysis's built-in role table (`analysis::roles`) against the role definitions Microsoft
//! publishes (assets/azure/builtin-roles.json, read through the lab's own RBAC): each row's
//! flags are what the published permissions grant, and every published role that grants one of
//! them is in the table, so a Key Vault or Blob verdict never rests on a row nobody checked.

use widiag::analysis::roles::BUILTIN;
use widiag::lab::rbac::{self, Operation};

const GET_SECRET: Operation<'static> =
    Operation::DataAction("Microsoft.KeyVault/vaults/secrets/getSecret/action");
const READ_BLOBS: Operation<'static> =
    Operation::DataAction("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read");
const DELEGATION_KEY: Operation<'static> = Operation::Action(
    "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
);

#[test]
fn every_row_says_what_the_published_role_grants() {
    for row in BUILTIN {
        let published = rbac::builtin(row.id)
            .unwrap_or_else(|| panic!("{} ({}) is not in the published dump", row.name, row.id));
        assert_eq!(published.role_name, row.name, "{}", row.id);
        assert_eq!(
            (row.reads_secrets, row.reads_blobs, row.delegation_key),
            (
                published.permits(GET_SECRET),
                published.permits(READ_BLOBS),
                published.permits(DELEGATION_KEY)
            ),
            "{}: (reads secrets, reads blobs, user delegation key)",
            row.name
        );
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

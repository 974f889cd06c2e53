//! Entra's answers as the exchange link reads them (issue 20): every AADSTS code in the
//! analysis's table (`analysis::entra_errors`, each row citing Microsoft's page) is named with
//! its finding and meaning when Entra returns it, whatever `error` string and status come with
//! it; a code outside the table is shown verbatim with its trace and correlation IDs.

mod common;

use widiag::analysis::Link;
use widiag::analysis::entra_errors::TABLE;

/// seed 004 with a recorded exchange for its pod that Entra refused with `code`.
fn refused_with(code: u64, status: u16, error: &str) -> widiag::world::World {
    let text = std::fs::read_to_string(common::root().join("assets/worlds/seed-004-healthy.yaml"))
        .unwrap()
        + &format!(
            r#"
---
apiVersion: widiag.io/v1
kind: TokenExchange
pods:
- namespace: default
  name: wi-kv-test
clientId: 5e2a8c1d-3b7f-4a9e-b0c6-d4f1e8a2b975
tenantId: 8f3c2a10-5b7e-4c1d-9a2f-6e4b1d0c7a93
endpoint: https://login.microsoftonline.com/8f3c2a10-5b7e-4c1d-9a2f-6e4b1d0c7a93/oauth2/v2.0/token
scope: https://vault.azure.net/.default
at: "2026-11-20T10:00:00Z"
outcome:
  result: rejected
  status: {status}
  error: {error}
  errorCodes: [{code}]
  description: "AADSTS{code}: what Entra said this time. Trace ID: 0f1e2d3c-aaaa-bbbb-cccc-000000000001 Correlation ID: 9e8d7c6b-aaaa-bbbb-cccc-000000000002 Timestamp: 2026-11-20 10:00:00Z"
  traceId: 0f1e2d3c-aaaa-bbbb-cccc-000000000001
  correlationId: 9e8d7c6b-aaaa-bbbb-cccc-000000000002
"#
        );
    widiag::world::parse::parse_str("refused.yaml", &text).unwrap()
}

fn exchange(world: &widiag::world::World) -> widiag::analysis::LinkResult {
    let report = common::analyze(world);
    report.pods[0]
        .links
        .iter()
        .find(|l| l.link == Link::Exchange)
        .unwrap()
        .clone()
}

#[test]
fn every_code_in_the_table_is_named_with_its_finding_and_meaning() {
    for row in TABLE {
        // The same code under either of the shapes Entra has used for it.
        for (status, error) in [(400, "invalid_request"), (401, "invalid_client")] {
            let link = exchange(&refused_with(row.code, status, error));
            let f = &link.findings[0];
            // The healthy world's credential matches the token: a 70021 there is propagation.
            let want = if row.code == 70021 {
                "WI1004"
            } else {
                row.finding.as_str()
            };
            assert_eq!(&*f.code, want, "AADSTS{}", row.code);
            let meaning = f
                .evidence
                .iter()
                .find(|e| e.label == format!("AADSTS{}", row.code))
                .unwrap_or_else(|| panic!("AADSTS{}: no meaning in {:?}", row.code, f.evidence));
            assert_eq!(meaning.value, row.meaning);
            assert!(f.fix.is_some(), "AADSTS{}: a fix", row.code);
        }
    }
}

#[test]
fn an_unknown_code_is_shown_verbatim_with_its_ids() {
    let link = exchange(&refused_with(9999999, 400, "invalid_request"));
    let f = &link.findings[0];
    assert_eq!(&*f.code, "WI1002");
    assert!(
        f.message
            .starts_with("AADSTS9999999: what Entra said this time."),
        "{}",
        f.message
    );
    for (label, value) in [
        ("trace_id", "0f1e2d3c-aaaa-bbbb-cccc-000000000001"),
        ("correlation_id", "9e8d7c6b-aaaa-bbbb-cccc-000000000002"),
    ] {
        assert!(
            f.evidence
                .iter()
                .any(|e| e.label == label && e.value == value),
            "{label}: {:?}",
            f.evidence
        );
    }
}

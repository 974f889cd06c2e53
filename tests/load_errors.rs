//! Bad world files: every error names the file, document, item, line and field; nothing is
//! half-loaded; nothing panics.

mod common;

use widiag::world::parse::{LoadError, Source, parse_str, parse_world};

fn err(text: &str) -> LoadError {
    parse_str("bad.yaml", text).expect_err("must not load")
}

#[test]
fn yaml_syntax_error_names_line_and_document() {
    let e = err(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata: [unclosed\n",
    );
    let LoadError::Syntax { at, format, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(*format, "YAML");
    assert_eq!(at.document, 2, "{e}");
    assert!(at.line.is_some_and(|l| l >= 7), "{e}");
    assert!(e.to_string().starts_with("bad.yaml:"), "{e}");
}

#[test]
fn wrong_type_names_field_path_and_line() {
    let text = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  containers:
  - name: app
    env:
    - name: A
      value: x
    - name: B
      value: [1, 2]
";
    let e = err(text);
    let LoadError::Field {
        at, what, field, ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(what, "Pod shop/web");
    assert_eq!(field, "spec.containers[0].env[1].value");
    assert_eq!((at.document, at.line), (1, Some(13)), "{e}");
    assert_eq!(
        e.to_string().split(": invalid").next().unwrap(),
        "bad.yaml:13:7: document 1: Pod shop/web: field `spec.containers[0].env[1].value`"
    );
}

#[test]
fn unquoted_boolean_label_is_a_located_error() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    azure.workload.identity/use: true\nspec:\n  containers: []\n";
    let e = err(text);
    let LoadError::Field { at, field, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(field, "metadata.labels[\"azure.workload.identity/use\"]");
    assert_eq!(at.line, Some(6), "{e}");
}

#[test]
fn list_items_are_counted() {
    let text = "\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ServiceAccount
  metadata: {name: a, namespace: x}
- apiVersion: v1
  kind: ServiceAccount
  metadata: {name: b, namespace: x, annotations: {k: 7}}
";
    let e = err(text);
    let LoadError::Field { at, field, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!((at.document, at.item), (1, Some(2)), "{e}");
    assert_eq!(field, "metadata.annotations.k");
    assert_eq!(at.line, Some(9), "{e}");
    assert!(e.to_string().contains("document 1, item 2"), "{e}");
}

#[test]
fn json_syntax_and_type_errors_are_located() {
    let e = parse_str(
        "w.json",
        "{\n  \"kind\": \"Pod\",\n  \"apiVersion\": \"v1\",\n  \"metadata\": {\"name\": }\n}",
    )
    .unwrap_err();
    let LoadError::Syntax { at, format, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!((*format, at.line), ("JSON", Some(4)));

    let arm = r#"{"value": [
  {"id": "/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a",
   "name": "a", "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
   "properties": {"clientId": 5}}
]}"#;
    let e = parse_str("ids.json", arm).unwrap_err();
    let LoadError::Field { at, field, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(field, "properties.clientId");
    assert_eq!((at.item, at.line), (Some(1), Some(4)), "{e}");
}

#[test]
fn objects_of_unknown_shape_are_errors_and_unknown_kinds_are_ignored() {
    let e = err("name: x\nvalue: 3\n");
    assert!(matches!(e, LoadError::Shape { .. }), "{e:?}");
    assert!(e.to_string().contains("no `kind`"), "{e}");

    let fic = "- audiences: [api://AzureADTokenExchange]\n  issuer: https://x/\n  name: f\n  subject: system:serviceaccount:a:b\n";
    let e = err(fic);
    assert!(e.to_string().contains("FederatedCredentialList"), "{e}");

    let e = err("- 3\n");
    assert!(e.to_string().contains("found a number"), "{e}");

    let world = parse_str(
        "ok.yaml",
        "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: c, namespace: x}\n---\n\
         apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: x}\ndata: {password: aHVudGVyMg==}\n",
    )
    .unwrap();
    let ignored: Vec<(&str, &str)> = world
        .ignored
        .iter()
        .map(|i| (i.kind.as_str(), i.name.as_str()))
        .collect();
    assert_eq!(ignored, [("Certificate", "x/c"), ("Secret", "x/s")]);
}

#[test]
fn a_fic_whose_id_has_no_parent_is_rejected() {
    let text = "id: /subscriptions/s/federatedIdentityCredentials\nname: f\ntype: Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials\n\
                properties: {issuer: https://i/, subject: s, audiences: [a]}\n";
    let e = err(text);
    let LoadError::Field { field, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(field, "id");
}

#[test]
fn nothing_is_half_loaded_when_a_later_file_is_bad() {
    let good = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n";
    let bad = "apiVersion: v1\nkind: Namespace\nmetadata: {name: [}\n";
    let r = parse_world(&[
        Source {
            name: "good.yaml",
            text: good,
        },
        Source {
            name: "bad.yaml",
            text: bad,
        },
    ]);
    let e = r.expect_err("the whole load fails");
    assert!(e.to_string().starts_with("bad.yaml"), "{e}");
}

#[test]
fn captured_jwt_keeps_claims_and_drops_the_signature() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let header = b64(r#"{"alg":"RS256","kid":"k1"}"#);
    let claims = b64(
        r#"{"iss":"https://i/","sub":"system:serviceaccount:a:b","aud":["api://AzureADTokenExchange"],"exp":2000000000,"iat":1999996400}"#,
    );
    let signature = "SIGNATURE-MUST-NOT-SURVIVE-Zm9vYmFy";
    let text = format!(
        "apiVersion: widiag.io/v1\nkind: CapturedToken\npod: {{namespace: a, name: p}}\nsource: exec\ntoken: {header}.{claims}.{signature}\n"
    );
    let world = parse_str("t.yaml", &text).unwrap();
    let t = &world.facts.tokens[0];
    assert_eq!(
        (t.claims.sub.as_str(), t.header.kid.as_deref()),
        ("system:serviceaccount:a:b", Some("k1"))
    );
    assert!(!format!("{world:?}").contains(signature));
    assert!(
        !format!("{world:?}").contains(&claims),
        "the raw token is not kept either"
    );

    let e = parse_str("t.yaml", "apiVersion: widiag.io/v1\nkind: CapturedToken\npod: {namespace: a, name: p}\ntoken: nope\n").unwrap_err();
    assert!(e.to_string().contains("field `token`"), "{e}");
}

#[test]
fn garbage_annotations_become_findings_not_crashes() {
    let text = "\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: sa
  namespace: x
  annotations:
    azure.workload.identity/client-id: \"\\u0000\\u202e{{ .Values.clientId }}\"
    azure.workload.identity/tenant-id: \"ten ant\"
    azure.workload.identity/service-account-token-expiration: \"99999999999999999999999\"
---
apiVersion: v1
kind: Pod
metadata:
  name: p
  namespace: x
  labels: {azure.workload.identity/use: \"TRUE\"}
  annotations:
    azure.workload.identity/skip-containers: \";;;,,,\"
    azure.workload.identity/proxy-sidecar-port: \"eighty\"
    azure.workload.identity/inject-proxy-sidecar: \"\"
spec:
  serviceAccountName: sa
  containers: [{name: c, env: [{name: AZURE_FEDERATED_TOKEN_FILE, value: \"\"}]}]
---
apiVersion: v1
kind: Pod
metadata:
  name: q
  namespace: x
  labels: {azure.workload.identity/use: \"true\"}
  annotations:
    azure.workload.identity/proxy-sidecar-port: \"eighty\"
    azure.workload.identity/inject-proxy-sidecar: \"\"
spec:
  serviceAccountName: sa
  containers: [{name: c}]
";
    // The port is parsed only because inject-proxy-sidecar is present (its value is ignored):
    // pkg/webhook/webhook.go@v1.6.0:198-211, 339-345. Pod p is labelled "TRUE", so the API server
    // never sends it to the webhook: its refusals are q's, which is labelled "true".
    let world = parse_str("g.yaml", text).unwrap();
    let report = widiag::analysis::analyze(
        &world,
        &widiag::analysis::Catalog::builtin(),
        &widiag::analysis::Options {
            selection: widiag::analysis::Selection::All,
            now: "2026-01-01T00:00:00Z".parse().unwrap(),
            targets: vec![],
        },
    );
    let codes = report.pods[0].codes();
    for c in ["WI305", "WI306", "WI403", "WI508"] {
        assert!(codes.contains(&c), "{c} missing from p's {codes:?}");
    }
    assert!(
        !codes.contains(&"WI404"),
        "p never reaches the webhook: {codes:?}"
    );
    let codes = report.pods[1].codes();
    for c in ["WI305", "WI306", "WI307", "WI404"] {
        assert!(codes.contains(&c), "{c} missing from q's {codes:?}");
    }
}

/// About 50 MB of real-looking YAML: loads and analyses without trouble.
#[test]
fn a_fifty_megabyte_world_loads() {
    let mut text = String::with_capacity(52 << 20);
    let mut i = 0;
    while text.len() < 50 << 20 {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\n  namespace: ns{}\n  labels: {{azure.workload.identity/use: \"true\", app: a{i}}}\n\
             spec:\n  serviceAccountName: sa{}\n  containers:\n  - name: app\n    image: example.azurecr.io/app:{i}\n    env:\n",
            i % 50,
            i % 200
        ));
        for e in 0..40 {
            text.push_str(&format!(
                "    - name: VAR_{e}\n      value: \"value-{i}-{e}-0123456789abcdef\"\n"
            ));
        }
        i += 1;
    }
    let world = parse_str("big.yaml", &text).expect("50 MB world loads");
    assert_eq!(world.kube.pods.len(), i);
    let report = common::analyze(&{
        let mut w = world;
        w.info.captured_at = Some("2026-01-01T00:00:00Z".parse().unwrap());
        w
    });
    assert_eq!(report.pods.len(), i);
}

#[test]
fn binary_garbage_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.yaml");
    std::fs::write(&path, [0xff_u8, 0xfe, 0x00, 0x9f, 0x92, 0x96]).unwrap();
    let out = common::bin()
        .args(["check", "--world"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("junk.yaml") && stderr.contains("cannot read world file"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn empty_documents_still_count_when_a_later_one_is_wrong() {
    // `---` twice is one empty document; the pod is the second, its bad field on line 9.
    let text = "---\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  namespace: x\nspec:\n  containers: 7\n";
    let e = err(text);
    let LoadError::Field { at, field, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(
        (at.document, at.line, field.as_str()),
        (2, Some(9), "spec.containers"),
        "{e}"
    );
}

#[test]
fn json_duplicate_keys_are_refused_as_yaml_refuses_them() {
    let e = parse_str(
        "dup.json",
        r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","name":"b"}}"#,
    )
    .expect_err("a repeated key means two things");
    assert!(e.to_string().contains("duplicate key `name`"), "{e}");
    assert!(e.to_string().starts_with("dup.json:1:"), "{e}");
    let yaml = err("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n");
    assert!(yaml.to_string().contains("bad.yaml:"), "{yaml}");
}

#[test]
fn a_json_file_with_a_byte_order_mark_loads() {
    let w = parse_str(
        "bom.json",
        "\u{feff}{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\"}}",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.kube.namespaces.len(), 1);
}

//! `widiag demo`: the shipped worlds, embedded in the binary so the demo needs no files, no
//! cluster and no cloud. In a terminal the lab serves one and the TUI reads it live; headless
//! (or built without the lab) the world is analysed offline.

/// (name, YAML) of every world in assets/worlds; a test keeps this list complete.
pub const WORLDS: &[(&str, &str)] = &[
    (
        "edge-cases",
        include_str!("../../assets/worlds/edge-cases.yaml"),
    ),
    (
        "edge-no-oidc-no-webhook",
        include_str!("../../assets/worlds/edge-no-oidc-no-webhook.yaml"),
    ),
    (
        "edge-self-managed-china",
        include_str!("../../assets/worlds/edge-self-managed-china.yaml"),
    ),
    (
        "seed-000-fic-issuer-slash",
        include_str!("../../assets/worlds/seed-000-fic-issuer-slash.yaml"),
    ),
    (
        "seed-000-healthy",
        include_str!("../../assets/worlds/seed-000-healthy.yaml"),
    ),
    (
        "seed-000-stale-client-id",
        include_str!("../../assets/worlds/seed-000-stale-client-id.yaml"),
    ),
    (
        "seed-001-container-scope",
        include_str!("../../assets/worlds/seed-001-container-scope.yaml"),
    ),
    (
        "seed-001-empty-client-id",
        include_str!("../../assets/worlds/seed-001-empty-client-id.yaml"),
    ),
    (
        "seed-001-healthy",
        include_str!("../../assets/worlds/seed-001-healthy.yaml"),
    ),
    (
        "seed-001-label-on-deployment",
        include_str!("../../assets/worlds/seed-001-label-on-deployment.yaml"),
    ),
    (
        "seed-001-principal-id",
        include_str!("../../assets/worlds/seed-001-principal-id.yaml"),
    ),
    (
        "seed-002-healthy",
        include_str!("../../assets/worlds/seed-002-healthy.yaml"),
    ),
    (
        "seed-002-label-on-sa",
        include_str!("../../assets/worlds/seed-002-label-on-sa.yaml"),
    ),
    (
        "seed-002-pre-v1-webhook",
        include_str!("../../assets/worlds/seed-002-pre-v1-webhook.yaml"),
    ),
    (
        "seed-003-app-object-id",
        include_str!("../../assets/worlds/seed-003-app-object-id.yaml"),
    ),
    (
        "seed-003-as-written",
        include_str!("../../assets/worlds/seed-003-as-written.yaml"),
    ),
    (
        "seed-003-duplicate-webhook",
        include_str!("../../assets/worlds/seed-003-duplicate-webhook.yaml"),
    ),
    (
        "seed-003-healthy",
        include_str!("../../assets/worlds/seed-003-healthy.yaml"),
    ),
    (
        "seed-004-fic-namespace",
        include_str!("../../assets/worlds/seed-004-fic-namespace.yaml"),
    ),
    (
        "seed-004-healthy",
        include_str!("../../assets/worlds/seed-004-healthy.yaml"),
    ),
    (
        "seed-004-rbac-vault",
        include_str!("../../assets/worlds/seed-004-rbac-vault.yaml"),
    ),
    (
        "webhook-cannot-start",
        include_str!("../../assets/worlds/webhook-cannot-start.yaml"),
    ),
    (
        "webhook-partial-capture",
        include_str!("../../assets/worlds/webhook-partial-capture.yaml"),
    ),
    (
        "webhook-v0.15",
        include_str!("../../assets/worlds/webhook-v0.15.yaml"),
    ),
    (
        "webhook-v1.2-native-sidecar",
        include_str!("../../assets/worlds/webhook-v1.2-native-sidecar.yaml"),
    ),
    (
        "webhook-v1.3-native-sidecar",
        include_str!("../../assets/worlds/webhook-v1.3-native-sidecar.yaml"),
    ),
    (
        "webhook-v1.5.1",
        include_str!("../../assets/worlds/webhook-v1.5.1.yaml"),
    ),
    (
        "webhook-v1.6.0",
        include_str!("../../assets/worlds/webhook-v1.6.0.yaml"),
    ),
    (
        "webhook-v1.6.0-custom-endpoint",
        include_str!("../../assets/worlds/webhook-v1.6.0-custom-endpoint.yaml"),
    ),
];

/// The world the demo opens by default: a broken chain worth reading.
pub const DEFAULT: &str = "seed-004-rbac-vault";

pub fn world(name: &str) -> Option<&'static str> {
    WORLDS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

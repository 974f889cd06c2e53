//! The webhook's patch: [`apply`] makes a [`Mutation`] to a pod as the webhook does
//! (webhook.go@v1.6.0:213-239, 249-337, 468-552; the release table for older lines). Used to hold
//! the model to the webhook's own tests; the analysis compares with the [`Mutation`] itself.

use k8s_openapi::api::core::v1::{
    Capabilities, ClusterTrustBundleProjection, ConfigMapProjection, Container, ContainerPort,
    EnvVar, ExecAction, KeyToPath, Lifecycle, LifecycleHandler, Pod, PodSpec,
    ProjectedVolumeSource, SecurityContext, ServiceAccountTokenProjection, Volume, VolumeMount,
    VolumeProjection,
};
use sha2::{Digest, Sha256};
use std::fmt::Write;

use super::admission::{CA_FILE, Mutation, PROXY_INIT_NAME, PROXY_NAME, Proxy};
use super::releases::{ProxyPlacement, VolumeNaming};
use super::startup::{CustomEndpoint, Started};

const FIXED_VOLUME: &str = "azure-identity-token";
const RESERVED_PREFIX: &str = "azure-workload-identity-reserved-";

/// `buildVolumeName` (webhook.go@v1.6.0:597-601): the prefix and the SHA-256 of the pod's name
/// (or `generateName + " (prefix)"`), cut to 63 characters.
pub fn volume_name(naming: VolumeNaming, pod: &Pod) -> String {
    if naming == VolumeNaming::Fixed {
        return FIXED_VOLUME.into();
    }
    let name = match pod.metadata.name.as_deref().filter(|n| !n.is_empty()) {
        Some(n) => n.to_string(),
        None => format!(
            "{} (prefix)",
            pod.metadata.generate_name.as_deref().unwrap_or_default()
        ),
    };
    let mut out = String::with_capacity(63);
    out.push_str(RESERVED_PREFIX);
    for b in Sha256::digest(name.as_bytes()) {
        let _ = write!(out, "{b:02x}");
    }
    out.truncate(63);
    out
}

/// The pod after the webhook's patch (webhook.go@v1.6.0:213-239).
pub fn apply(m: &Mutation, started: &Started, pod: &Pod) -> Pod {
    let volume_name = volume_name(m.naming, pod);
    let mut pod = pod.clone();
    let spec = pod.spec.get_or_insert_with(Default::default);
    if m.strips_native_sidecars {
        for c in spec.init_containers.iter_mut().flatten() {
            c.restart_policy = None;
        }
    }
    if let Some(p) = &m.proxy {
        add_proxy(started, p, spec);
    }
    if m.init_containers {
        for c in spec.init_containers.iter_mut().flatten() {
            mutate_container(m, &volume_name, c);
        }
    }
    for c in &mut spec.containers {
        mutate_container(m, &volume_name, c);
    }
    let volume = token_volume(m, &volume_name);
    let volumes = spec.volumes.get_or_insert_with(Vec::new);
    match m.naming {
        VolumeNaming::Reserved => match volumes.iter_mut().find(|v| v.name == volume_name) {
            Some(v) => *v = volume,
            None => volumes.push(volume),
        },
        // Before v1.6 any projected token at the webhook's path counted as its volume
        // (W@v1.5.1:424-460).
        VolumeNaming::Fixed => {
            let has_token = volumes.iter().any(|v| {
                v.projected
                    .iter()
                    .flat_map(|p| p.sources.iter().flatten())
                    .filter_map(|s| s.service_account_token.as_ref())
                    .any(|t| t.path == FIXED_VOLUME)
            });
            if !has_token {
                volumes.push(volume);
            }
        }
    }
    pod
}

fn mutate_container(m: &Mutation, volume_name: &str, c: &mut Container) {
    if m.skips(&c.name) {
        return;
    }
    let env = c.env.get_or_insert_with(Vec::new);
    for (name, value) in &m.env {
        let present = env.iter().any(|e| e.name == *name);
        if !present && (m.injects_empty || !value.is_empty()) {
            env.push(EnvVar {
                name: name.to_string(),
                value: Some(value.clone()),
                value_from: None,
            });
        }
    }
    let mount = VolumeMount {
        name: volume_name.to_string(),
        mount_path: m.mount_path.into(),
        read_only: Some(true),
        ..Default::default()
    };
    let mounts = c.volume_mounts.get_or_insert_with(Vec::new);
    match mounts.iter_mut().find(|v| v.name == volume_name) {
        Some(v) if m.naming == VolumeNaming::Reserved => *v = mount,
        Some(_) => {}
        None => mounts.push(mount),
    }
}

fn token_volume(m: &Mutation, name: &str) -> Volume {
    let token_file = m
        .token_path
        .strip_prefix(m.mount_path)
        .unwrap_or(&m.token_path)
        .trim_start_matches('/');
    let mut sources = vec![VolumeProjection {
        service_account_token: Some(ServiceAccountTokenProjection {
            path: token_file.into(),
            expiration_seconds: Some(m.expiration),
            audience: Some(m.audience.clone()),
        }),
        ..Default::default()
    }];
    if let Some(c) = &m.custom {
        sources.extend(ca_sources(c));
    }
    Volume {
        name: name.to_string(),
        projected: Some(ProjectedVolumeSource {
            sources: Some(sources),
            default_mode: None,
        }),
        ..Default::default()
    }
}

/// The custom token endpoint's CA in the token volume (webhook.go@v1.6.0:509-541).
fn ca_sources(c: &CustomEndpoint) -> Vec<VolumeProjection> {
    let mut out = Vec::new();
    if !c.ca_config_map.is_empty() {
        out.push(VolumeProjection {
            config_map: Some(ConfigMapProjection {
                name: c.ca_config_map.clone(),
                items: Some(vec![KeyToPath {
                    key: "ca.crt".into(),
                    path: CA_FILE.into(),
                    mode: None,
                }]),
                optional: Some(false),
            }),
            ..Default::default()
        });
    }
    if !c.ca_signer_name.is_empty() {
        out.push(VolumeProjection {
            cluster_trust_bundle: Some(ClusterTrustBundleProjection {
                signer_name: Some(c.ca_signer_name.clone()),
                label_selector: c.label_selector(),
                path: CA_FILE.into(),
                optional: Some(false),
                name: None,
            }),
            ..Default::default()
        });
    }
    out
}

/// The proxy's init container (appended unless present) and sidecar (placed as the release
/// does unless present) (webhook.go@v1.6.0:266-337).
fn add_proxy(m: &Started, p: &Proxy, spec: &mut PodSpec) {
    let present = |c: &Container, name: &str, image: &str| {
        c.name == name
            || (p.found_by_image
                && !image.is_empty()
                && c.image.as_deref().is_some_and(|i| i.starts_with(image)))
    };
    let init_image = image_repo(&m.proxy_init_image);
    let image = image_repo(&m.proxy_image);
    let inits = spec.init_containers.get_or_insert_with(Vec::new);
    if !inits
        .iter()
        .any(|c| present(c, PROXY_INIT_NAME, init_image))
    {
        inits.push(proxy_init(m, p));
    }
    let sidecar = |restart: Option<String>| proxy_sidecar(m, p, restart);
    if p.native {
        if !inits.iter().any(|c| c.name == PROXY_NAME) {
            inits.insert(0, sidecar(Some("Always".into())));
        }
        return;
    }
    if spec
        .containers
        .iter()
        .any(|c| present(c, PROXY_NAME, image))
    {
        return;
    }
    match p.placement {
        ProxyPlacement::Appended => spec.containers.push(sidecar(None)),
        _ => spec.containers.insert(0, sidecar(None)),
    }
}

/// `<registry>/proxy` of `<registry>/proxy:<tag>`: what releases before v1.4 matched images by.
fn image_repo(image: &str) -> &str {
    image.rsplit_once(':').map_or(image, |(repo, _)| repo)
}

fn proxy_init(m: &Started, p: &Proxy) -> Container {
    Container {
        name: PROXY_INIT_NAME.into(),
        image: Some(m.proxy_init_image.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        security_context: Some(SecurityContext {
            capabilities: Some(Capabilities {
                add: Some(vec!["NET_ADMIN".into()]),
                drop: Some(vec!["ALL".into()]),
            }),
            privileged: Some(true),
            run_as_non_root: p.init_root_explicit.then_some(false),
            run_as_user: Some(0),
            ..Default::default()
        }),
        env: Some(vec![EnvVar {
            name: "PROXY_PORT".into(),
            value: Some(p.port.to_string()),
            value_from: None,
        }]),
        ..Default::default()
    }
}

fn proxy_sidecar(m: &Started, p: &Proxy, restart_policy: Option<String>) -> Container {
    let port = p.port;
    let level = format!("--log-level={}", m.log_level);
    let mut args = vec![format!("--proxy-port={port}")];
    let mut probe = vec![
        "/proxy".to_string(),
        format!("--proxy-port={port}"),
        "--probe".into(),
    ];
    if p.log_level {
        args.push(level.clone());
        probe.push(level);
    }
    let lifecycle = p.probe.then(|| Lifecycle {
        post_start: Some(LifecycleHandler {
            exec: Some(ExecAction {
                command: Some(probe),
            }),
            ..Default::default()
        }),
        ..Default::default()
    });
    let security_context = p.hardened.then(|| SecurityContext {
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities {
            add: None,
            drop: Some(vec!["ALL".into()]),
        }),
        privileged: Some(false),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        ..Default::default()
    });
    Container {
        name: PROXY_NAME.into(),
        image: Some(m.proxy_image.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        args: Some(args),
        ports: Some(vec![ContainerPort {
            container_port: port,
            ..Default::default()
        }]),
        lifecycle,
        security_context,
        restart_policy,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// buildVolumeName (W@v1.6.0:597-601): the pod's name, or for a controller's pod, which has
    /// none yet, its generateName and " (prefix)"; `printf %s p | sha256sum` gives 148de9c5….
    #[test]
    fn reserved_volume_names_hash_the_pod_name() {
        let mut p = Pod::default();
        p.metadata.name = Some("p".into());
        assert_eq!(
            volume_name(VolumeNaming::Reserved, &p),
            "azure-workload-identity-reserved-148de9c5a7a44d19e56cd9ae1a554b"
        );
        p.metadata.name = None;
        p.metadata.generate_name = Some("web-7d9f-".into());
        let expected: String = Sha256::digest(b"web-7d9f- (prefix)")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            volume_name(VolumeNaming::Reserved, &p),
            format!("{RESERVED_PREFIX}{}", &expected[..30])
        );
        assert_eq!(volume_name(VolumeNaming::Fixed, &p), "azure-identity-token");
    }
}

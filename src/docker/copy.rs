//! Copy mode: artifacts delivered through the archive API instead of bind mounts, for engines
//! that cannot see this machine's paths (a remote engine, docker-in-docker, lambda-ci itself in
//! a container). Each source is copied into a volume of its own through a helper container that
//! is created, filled and removed without ever starting; the function's container then mounts
//! the volumes read-only, so the function sees exactly what a bind mount would show it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bollard::models::{
    ContainerCreateBody, HostConfig, Mount, MountType, MountVolumeOptions, VolumeCreateRequest,
};
use bollard::query_parameters::{CreateContainerOptions, UploadToContainerOptions};

use super::owned::{OwnedContainers, remove};
use super::{ContainerSpec, Delivery, Engine, StartError};

/// Fills one volume per source of `spec`'s copied artifacts and returns the read-only mounts
/// of those volumes for the function's container, with the volumes' names.
pub(super) async fn copy_artifacts(
    engine: &Engine,
    owned: &OwnedContainers,
    spec: &ContainerSpec,
) -> Result<(Vec<Mount>, Vec<String>), StartError> {
    let copied: Vec<_> = spec
        .artifacts
        .iter()
        .filter(|a| a.delivery == Delivery::Copy)
        .collect();
    if copied.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    // A source mounted at several places (a custom runtime's code) is copied once.
    let mut volumes: HashMap<&PathBuf, String> = HashMap::new();
    let mut helper_mounts = Vec::new();
    let mut uploads = Vec::new();
    for artifact in &copied {
        if volumes.contains_key(&artifact.source) {
            continue;
        }
        let name = format!("{}-{}", spec.name, volumes.len());
        let request = VolumeCreateRequest {
            name: Some(name.clone()),
            labels: Some(super::owned_by_me(&spec.labels)),
            ..Default::default()
        };
        engine
            .docker
            .create_volume(request)
            .await
            .map_err(|source| StartError::Copy {
                what: format!("cannot create volume {name}"),
                source,
            })?;
        owned.insert_volume(&name);
        helper_mounts.push(volume_mount(&name, &artifact.target, false));
        uploads.push((artifact.source.clone(), artifact.target.clone()));
        volumes.insert(&artifact.source, name);
    }
    let names: Vec<String> = volumes.values().cloned().collect();
    fill(engine, owned, spec, helper_mounts, &uploads).await?;
    let mounts = copied
        .iter()
        .map(|a| volume_mount(&volumes[&a.source], &a.target, true))
        .collect();
    Ok((mounts, names))
}

/// Uploads each source into its volume through a helper container that never starts.
async fn fill(
    engine: &Engine,
    owned: &OwnedContainers,
    spec: &ContainerSpec,
    mounts: Vec<Mount>,
    uploads: &[(PathBuf, String)],
) -> Result<(), StartError> {
    let helper = format!("{}-copy", spec.name);
    let body = ContainerCreateBody {
        image: Some(spec.image.clone()),
        labels: Some(super::owned_by_me(&spec.labels)),
        host_config: Some(HostConfig {
            mounts: Some(mounts),
            ..Default::default()
        }),
        ..Default::default()
    };
    let options = CreateContainerOptions {
        name: Some(helper.clone()),
        platform: spec.platform.clone().unwrap_or_default(),
    };
    let created = engine
        .docker
        .create_container(Some(options), body)
        .await
        .map_err(|source| StartError::Copy {
            what: format!("cannot create the helper container {helper}"),
            source,
        })?;
    owned.insert(&created.id);
    let mut result = Ok(());
    for (source, target) in uploads {
        if let Err(e) = upload(engine, &created.id, source, target).await {
            result = Err(e);
            break;
        }
    }
    let _ = remove(engine, &created.id).await;
    owned.forget(&created.id);
    result
}

async fn upload(engine: &Engine, id: &str, source: &Path, target: &str) -> Result<(), StartError> {
    let tar = tar_of(source).map_err(|e| StartError::Read {
        path: source.to_path_buf(),
        source: e,
    })?;
    let options = UploadToContainerOptions {
        path: target.to_string(),
        ..Default::default()
    };
    engine
        .transfers()
        .upload_to_container(id, Some(options), bollard::body_full(tar.into()))
        .await
        .map_err(|e| StartError::Copy {
            what: format!("cannot copy {} to {target}", source.display()),
            source: e,
        })
}

/// The tree under `dir` as a tar, modes and symlinks as they are.
fn tar_of(dir: &Path) -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    tar.follow_symlinks(false);
    tar.mode(tar::HeaderMode::Complete);
    tar.append_dir_all(".", dir)?;
    tar.into_inner()
}

fn volume_mount(name: &str, target: &str, read_only: bool) -> Mount {
    Mount {
        target: Some(target.to_string()),
        source: Some(name.to_string()),
        typ: Some(MountType::VOLUME),
        read_only: Some(read_only),
        // An empty volume would otherwise be filled with what the image holds at `target`
        // (a container image's own /var/task), which a bind mount hides.
        volume_options: Some(MountVolumeOptions {
            no_copy: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    }
}

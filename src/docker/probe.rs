//! Whether the engine sees this machine's files at their paths, found out rather than guessed
//! from `DOCKER_HOST`: a throwaway container bind-mounts a fresh directory holding a marker,
//! and the marker is read back through the archive API. The container never starts.

use std::collections::HashMap;
use std::io::Read;

use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType};
use bollard::query_parameters::{CreateContainerOptions, DownloadFromContainerOptions};
use futures_util::StreamExt;

use super::Engine;
use super::owned::{OwnedContainers, remove};

/// What the probe found, in words for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathProbe {
    /// The marker came back: bind mounts show this machine's files.
    Seen,
    /// The engine cannot show this machine's files; why.
    Unseen(String),
}

/// Probes with `image` (any image present), labelling the probe container with `labels`.
pub async fn probe_local_paths(
    engine: &Engine,
    owned: &OwnedContainers,
    image: &str,
    name: &str,
    labels: &HashMap<String, String>,
) -> PathProbe {
    let dir = match tempfile::Builder::new()
        .prefix("lambda-ci-probe-")
        .tempdir()
    {
        Ok(dir) => dir,
        Err(e) => return PathProbe::Unseen(format!("cannot make a probe directory: {e}")),
    };
    let token = format!("{}-{}", name, std::process::id());
    if let Err(e) = std::fs::write(dir.path().join("marker"), &token) {
        return PathProbe::Unseen(format!("cannot write the probe marker: {e}"));
    }
    let _ = std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    );
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        labels: Some(labels.clone()),
        host_config: Some(HostConfig {
            mounts: Some(vec![Mount {
                target: Some("/lambda-ci-probe".into()),
                source: Some(dir.path().display().to_string()),
                typ: Some(MountType::BIND),
                read_only: Some(true),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let options = CreateContainerOptions {
        name: Some(name.to_string()),
        ..Default::default()
    };
    let created = match engine.docker.create_container(Some(options), body).await {
        Ok(created) => created,
        Err(bollard::errors::Error::DockerResponseServerError { message, .. }) => {
            return PathProbe::Unseen(format!(
                "it refused a bind mount of a local directory ({message})"
            ));
        }
        Err(e) => return PathProbe::Unseen(format!("the probe container failed: {e}")),
    };
    owned.insert(&created.id);
    let seen = read_marker(engine, &created.id).await;
    let _ = remove(engine, &created.id).await;
    owned.forget(&created.id);
    match seen {
        Some(found) if found == token => PathProbe::Seen,
        _ => PathProbe::Unseen(
            "a local directory bind-mounted into a container did not show its files there".into(),
        ),
    }
}

async fn read_marker(engine: &Engine, id: &str) -> Option<String> {
    let options = DownloadFromContainerOptions {
        path: "/lambda-ci-probe/marker".into(),
    };
    let mut stream = engine.docker.download_from_container(id, Some(options));
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.ok()?);
    }
    let mut archive = tar::Archive::new(bytes.as_slice());
    let mut entry = archive.entries().ok()?.next()?.ok()?;
    let mut text = String::new();
    entry.read_to_string(&mut text).ok()?;
    Some(text)
}

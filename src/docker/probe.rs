//! Whether the engine sees this machine's files at their paths, found out rather than guessed
//! from `DOCKER_HOST`. Usually the run's first function container tells: it starts with its
//! artifacts bind-mounted and one small file of them is read back through the archive API (a
//! [`Witness`]). Where the artifacts hold no such file, a throwaway
//! container bind-mounts a fresh directory holding a marker instead; it never starts.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

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

/// The largest file a witness may be: it is read on both sides.
const WITNESS_BYTES: u64 = 64 * 1024;

/// A small file of a bind-mounted artifact, with its bytes as this machine has them: the same
/// bytes read back from a created container show that the engine sees this machine's files.
#[derive(Debug, Clone)]
pub struct Witness {
    /// Where the container shows it.
    pub in_container: String,
    bytes: Vec<u8>,
}

impl Witness {
    /// The smallest regular file at the top of `source` (ties by name), to be seen at
    /// `target`; none when it holds no file of at most 64 KiB.
    pub fn of(source: &Path, target: &str) -> Option<Witness> {
        let mut files: Vec<(u64, String)> = std::fs::read_dir(source)
            .ok()?
            .filter_map(|entry| {
                let entry = entry.ok()?;
                // Not a symlink: its target may lie outside what is mounted.
                let meta = entry.path().symlink_metadata().ok()?;
                let name = entry.file_name().into_string().ok()?;
                (meta.is_file() && meta.len() <= WITNESS_BYTES).then_some((meta.len(), name))
            })
            .collect();
        files.sort();
        let (_, name) = files.into_iter().next()?;
        let bytes = std::fs::read(source.join(&name)).ok()?;
        Some(Witness {
            in_container: format!("{}/{name}", target.trim_end_matches('/')),
            bytes,
        })
    }

    /// Whether container `id` shows the file as this machine has it.
    pub async fn seen_in(&self, engine: &Engine, id: &str) -> PathProbe {
        match read_file(engine, id, &self.in_container).await {
            Some(bytes) if bytes == self.bytes => PathProbe::Seen,
            _ => PathProbe::Unseen(format!(
                "{} in a container did not show this machine's file",
                self.in_container
            )),
        }
    }
}

/// Probes with `image` (any image present), labelling the probe container with `labels`.
pub async fn probe_local_paths(
    engine: &Engine,
    owned: &OwnedContainers,
    image: &str,
    name: &str,
    labels: &HashMap<String, String>,
) -> PathProbe {
    let dir = match crate::scratch::dir("probe") {
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
        labels: Some(super::owned_by_me(labels)),
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
    let seen = read_file(engine, &created.id, "/lambda-ci-probe/marker").await;
    let _ = remove(engine, &created.id).await;
    owned.forget(&created.id);
    match seen {
        Some(found) if found == token.as_bytes() => PathProbe::Seen,
        _ => PathProbe::Unseen(
            "a local directory bind-mounted into a container did not show its files there".into(),
        ),
    }
}

/// The bytes of one file of container `id`, through the archive API.
async fn read_file(engine: &Engine, id: &str, path: &str) -> Option<Vec<u8>> {
    let options = DownloadFromContainerOptions { path: path.into() };
    let mut stream = engine.docker.download_from_container(id, Some(options));
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.ok()?);
        // A tar of one file of at most 64 KiB, and its headers.
        if bytes.len() as u64 > 4 * WITNESS_BYTES {
            return None;
        }
    }
    let mut archive = tar::Archive::new(bytes.as_slice());
    let mut entry = archive.entries().ok()?.next()?.ok()?;
    let mut content = Vec::new();
    entry.read_to_end(&mut content).ok()?;
    Some(content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_witness_is_the_smallest_regular_file_at_the_top() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("big.py"), "x".repeat(100)).unwrap();
        std::fs::write(dir.path().join("b.py"), "yy").unwrap();
        std::fs::write(dir.path().join("a.py"), "zz").unwrap();
        std::fs::create_dir(dir.path().join("pkg")).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", dir.path().join("0")).unwrap();
        let w = Witness::of(dir.path(), "/var/task/").unwrap();
        assert_eq!(w.in_container, "/var/task/a.py");
        assert_eq!(w.bytes, b"zz");
    }

    #[test]
    fn no_witness_without_a_small_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("pkg")).unwrap();
        let big = std::fs::File::create(dir.path().join("big.bin")).unwrap();
        big.set_len(WITNESS_BYTES + 1).unwrap();
        assert!(Witness::of(dir.path(), "/var/task").is_none());
        assert!(Witness::of(&dir.path().join("missing"), "/var/task").is_none());
    }
}

//! Makes sure a function's base image is present, pulling it when the policy allows.

use bollard::query_parameters::CreateImageOptions;
use futures_util::StreamExt;

use super::Engine;

/// When to pull an image from its registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PullPolicy {
    /// Pull only images not present locally.
    #[default]
    Missing,
    /// Pull every image, even one present locally.
    Always,
    /// Never pull; an image not present locally is an error.
    Never,
}

/// Progress of a pull, for the console.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PullProgress {
    pub image: String,
    /// Bytes done and in all, summed over the layers seen so far.
    pub current: u64,
    pub total: u64,
    pub status: String,
}

/// How an image starts by itself: its entrypoint and command.
pub async fn launch(
    engine: &Engine,
    image: &str,
) -> Result<(Vec<String>, Vec<String>), bollard::errors::Error> {
    let info = engine.docker.inspect_image(image).await?;
    let config = info.config.unwrap_or_default();
    Ok((
        config.entrypoint.unwrap_or_default(),
        config.cmd.unwrap_or_default(),
    ))
}

/// Why an image cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(
        "image {image} is not present locally and --pull never forbids pulling it; run `docker pull {image}` first, or build it (`docker build -t {image} .`)"
    )]
    Absent { image: String },
    #[error(
        "image {image} could not be pulled: {message}; {}",
        pull_fix(image, message)
    )]
    Pull { image: String, message: String },
    #[error(
        "image {image} is present for {have} only, and the function is built for {want}; pull its {want} variant: `docker pull --platform {platform} {image}`"
    )]
    OtherArchitecture {
        image: String,
        have: String,
        want: String,
        platform: String,
    },
    #[error(
        "image {image} is present for {have} only, and the function is built for {want}; its {want} variant could not be pulled ({message}): build or pull it for {platform} (`docker pull --platform {platform} {image}`), or set the function's `architecture` to match"
    )]
    OtherArchitectureOnly {
        image: String,
        have: String,
        want: String,
        platform: String,
        message: String,
    },
    #[error("image {image} could not be inspected")]
    Inspect {
        image: String,
        #[source]
        source: bollard::errors::Error,
    },
}

impl ImageError {
    /// What happened, in a few words, for the cases after the first that needed the image.
    pub fn brief(&self) -> String {
        match self {
            ImageError::Absent { image } => format!("image {image} is not present locally"),
            ImageError::Pull { image, .. } => format!("image {image} could not be pulled"),
            ImageError::OtherArchitecture { image, have, .. }
            | ImageError::OtherArchitectureOnly { image, have, .. } => {
                format!("image {image} is present for {have} only")
            }
            ImageError::Inspect { image, .. } => format!("image {image} could not be inspected"),
        }
    }
}

/// Ensures `image` is present for `platform` (`linux/arm64`; `arch` is its architecture as
/// images name it, `arm64`), reporting pull progress through `progress`.
pub async fn ensure_image(
    engine: &Engine,
    image: &str,
    (platform, arch): (&str, &str),
    policy: PullPolicy,
    mut progress: impl FnMut(PullProgress),
) -> Result<(), ImageError> {
    // An image present for another architecture only: if the pull fails, that is the news.
    let mut other_arch = None;
    let present = match engine.docker.inspect_image(image).await {
        Ok(info) => match info.architecture {
            Some(have) if have != arch => {
                other_arch = Some(have.clone());
                if policy == PullPolicy::Never {
                    return Err(ImageError::OtherArchitecture {
                        image: image.to_string(),
                        have,
                        want: arch.to_string(),
                        platform: platform.to_string(),
                    });
                }
                false
            }
            _ => true,
        },
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => false,
        Err(source) => {
            return Err(ImageError::Inspect {
                image: image.to_string(),
                source,
            });
        }
    };
    match (present, policy) {
        (true, PullPolicy::Missing | PullPolicy::Never) => return Ok(()),
        (false, PullPolicy::Never) => {
            return Err(ImageError::Absent {
                image: image.to_string(),
            });
        }
        _ => {}
    }
    // Always pull with an explicit tag: without one the engine pulls every tag.
    let (repo, tag) = split_tag(image);
    let options = CreateImageOptions {
        from_image: Some(repo.to_string()),
        tag: Some(tag.to_string()),
        platform: platform.to_string(),
        ..Default::default()
    };
    let pulled = pull(engine, image, options, &mut progress).await;
    match (pulled, other_arch) {
        (Err(ImageError::Pull { message, .. }), Some(have)) => {
            Err(ImageError::OtherArchitectureOnly {
                image: image.to_string(),
                have,
                want: arch.to_string(),
                platform: platform.to_string(),
                message,
            })
        }
        (pulled, _) => pulled,
    }
}

async fn pull(
    engine: &Engine,
    image: &str,
    options: CreateImageOptions,
    progress: &mut impl FnMut(PullProgress),
) -> Result<(), ImageError> {
    let mut layers: std::collections::HashMap<String, (u64, u64)> = Default::default();
    // A registry may take a while before the first progress line: a transfer's timeout.
    let docker = engine.transfers();
    let mut stream = docker.create_image(Some(options), None, None);
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(detail) = &info.error_detail {
                    return Err(ImageError::Pull {
                        image: image.to_string(),
                        message: detail.message.clone().unwrap_or_default(),
                    });
                }
                if let (Some(id), Some(d)) = (&info.id, &info.progress_detail)
                    && let (Some(cur), Some(total)) = (d.current, d.total)
                {
                    layers.insert(id.clone(), (cur.max(0) as u64, total.max(0) as u64));
                }
                let (current, total) = layers
                    .values()
                    .fold((0, 0), |(c, t), (lc, lt)| (c + lc, t + lt));
                progress(PullProgress {
                    image: image.to_string(),
                    current,
                    total,
                    status: info.status.unwrap_or_default(),
                });
            }
            Err(e) => {
                return Err(ImageError::Pull {
                    image: image.to_string(),
                    message: match e {
                        bollard::errors::Error::DockerResponseServerError { message, .. } => {
                            message
                        }
                        other => other.to_string(),
                    },
                });
            }
        }
    }
    Ok(())
}

/// What to do about a pull the registry or the network refused, from the engine's words.
fn pull_fix(image: &str, message: &str) -> String {
    let lower = message.to_lowercase();
    let said = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    let registry = registry_of(image);
    let offline = format!(
        "or load it another way (`docker load`, a local build: `docker build -t {image} .`) and run with `--pull never`"
    );
    if said(&["toomanyrequests", "rate limit", "too many requests"]) {
        format!(
            "{registry} is limiting how often it may be pulled: retry later, log in (`docker login {registry}`: signed-in pulls have a higher limit), {offline}"
        )
    } else if said(&[
        "unauthorized",
        "authentication required",
        "no basic auth credentials",
        "denied",
        "forbidden",
    ]) {
        format!(
            "{registry} refused access: log in (`docker login {registry}`), and check the name (registries answer so for images that do not exist, too), {offline}"
        )
    } else if said(&[
        "no such host",
        "dial tcp",
        "i/o timeout",
        "connection refused",
        "network is unreachable",
        "tls handshake timeout",
        "proxyconnect",
    ]) {
        format!(
            "the engine cannot reach {registry} (no network, DNS or a proxy): give the engine access (its proxy settings), {offline}"
        )
    } else if said(&["manifest unknown", "not found", "does not exist"]) {
        format!(
            "{registry} has no such image or tag: check the name (`docker pull {image}`), {offline}"
        )
    } else {
        format!(
            "check the name and your registry access (`docker pull {image}`), or build it (`docker build -t {image} .`)"
        )
    }
}

/// The registry an image reference names (Docker Hub's when it names none).
fn registry_of(image: &str) -> &str {
    match image.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => first,
        _ => "docker.io",
    }
}

/// Splits `repo:tag`, minding registry ports (`host:5000/repo`) and digests.
fn split_tag(image: &str) -> (&str, &str) {
    if let Some((repo, digest)) = image.split_once('@') {
        return (repo, digest);
    }
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (image, "latest"),
    }
}

#[cfg(test)]
mod tests {
    use super::{pull_fix, registry_of, split_tag};

    #[test]
    fn each_kind_of_pull_failure_gets_its_own_fix() {
        let image = "public.ecr.aws/lambda/ruby:3.3";
        let fix = |message: &str| pull_fix(image, message);
        assert!(fix("toomanyrequests: Rate exceeded").starts_with("public.ecr.aws is limiting how often it may be pulled: retry later, log in (`docker login public.ecr.aws`"));
        assert!(
            fix("unauthorized: authentication required").starts_with(
                "public.ecr.aws refused access: log in (`docker login public.ecr.aws`)"
            )
        );
        assert!(
            fix("pull access denied for x, repository does not exist")
                .starts_with("public.ecr.aws refused access")
        );
        assert!(
            fix(
                "Get \"https://public.ecr.aws/v2/\": dial tcp: lookup public.ecr.aws: no such host"
            )
            .starts_with("the engine cannot reach public.ecr.aws (no network, DNS or a proxy)")
        );
        assert!(
            fix("manifest for public.ecr.aws/lambda/ruby:9 not found: manifest unknown")
                .starts_with("public.ecr.aws has no such image or tag")
        );
        assert!(fix("something else").starts_with(
            "check the name and your registry access (`docker pull public.ecr.aws/lambda/ruby:3.3`)"
        ));
        assert!(fix("no such host").ends_with("and run with `--pull never`"));
        assert_eq!(registry_of("python:3.12"), "docker.io");
        assert_eq!(registry_of("library/python"), "docker.io");
        assert_eq!(registry_of("localhost:5000/fn"), "localhost:5000");
        assert_eq!(registry_of("ghcr.io/org/fn:1"), "ghcr.io");
    }

    #[test]
    fn tags_are_split_off_but_registry_ports_are_not() {
        assert_eq!(
            split_tag("public.ecr.aws/lambda/python:3.12"),
            ("public.ecr.aws/lambda/python", "3.12")
        );
        assert_eq!(
            split_tag("localhost:5000/fn"),
            ("localhost:5000/fn", "latest")
        );
        assert_eq!(
            split_tag("localhost:5000/fn:v2"),
            ("localhost:5000/fn", "v2")
        );
        assert_eq!(split_tag("busybox"), ("busybox", "latest"));
    }
}

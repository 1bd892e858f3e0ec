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
        "image {image} could not be pulled: {message}; check the name and your registry access (`docker pull {image}`), or build it (`docker build -t {image} .`)"
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
    let mut stream = engine.docker.create_image(Some(options), None, None);
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
    use super::split_tag;

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

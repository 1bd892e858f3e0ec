//! The images a session needs: each base image checked (and pulled) once for its architecture,
//! each `build:` built once per run and tagged by its content, so an unchanged build is not
//! built again; and how artifacts reach the containers, decided once.

use std::time::Instant;

use sha2::{Digest, Sha256};

use super::Containers;
use super::prepared::ImageKey;
use crate::backend::{Problem, Say};
use crate::chain::one_line;
use crate::docker;
use crate::event::EventKind;
use crate::suite::{Architecture, Suite};

/// Which image `function` boots.
pub(super) fn image_key(function: &crate::suite::Function) -> ImageKey {
    let arch = function.architecture;
    match &function.build {
        Some(build) => {
            let args = format!("{:?}", build.args);
            ImageKey::Build(build.context.clone(), build.dockerfile.clone(), args, arch)
        }
        None => ImageKey::Pull(function.image.clone(), arch),
    }
}

impl Containers {
    /// The image `suite`'s function boots, made ready (checked, pulled or built) once by the
    /// first to ask, in this plan or an earlier one of the session; or why there is none.
    pub(super) async fn image(&self, suite: &Suite, out: Say<'_>) -> Result<String, Problem> {
        let key = image_key(&suite.function);
        let cell = self.prepared.image(key.clone());
        cell.get_or_init(|| async {
            match &key {
                ImageKey::Build(..) => self.build(suite, out).await,
                ImageKey::Pull(image, arch) => {
                    self.pull(image, *arch, out).await.map(|()| image.clone())
                }
            }
        })
        .await
        .clone()
    }

    /// Makes sure `image` is present for `arch`, pulling it as the policy allows.
    async fn pull(&self, image: &str, arch: Architecture, out: Say<'_>) -> Result<(), Problem> {
        out(EventKind::ImageChecking {
            image: image.to_string(),
        });
        let started = Instant::now();
        let mut pulled = false;
        let platform = (arch.platform(), arch.image_arch());
        docker::ensure_image(&self.engine, image, platform, self.pull, |p| {
            pulled = true;
            out(EventKind::ImagePulling(p));
        })
        .await
        .map_err(|e| Problem {
            full: one_line(&e),
            brief: e.brief(),
        })?;
        out(EventKind::ImageReady {
            image: image.to_string(),
            pulled,
            took: started.elapsed(),
        });
        Ok(())
    }

    /// Builds the image of `suite`'s function, tagged `lambda-ci/<suite>:<content hash>`, unless
    /// an image of that tag exists already.
    async fn build(&self, suite: &Suite, out: Say<'_>) -> Result<String, Problem> {
        self.build_image(suite, out).await.map_err(|full| {
            let brief = format!("the image of {} could not be built", suite.function.name);
            Problem { full, brief }
        })
    }

    async fn build_image(&self, suite: &Suite, out: Say<'_>) -> Result<String, String> {
        let function = &suite.function;
        let Some(build) = &function.build else {
            return Ok(function.image.clone());
        };
        let started = Instant::now();
        let context =
            docker::context_tar(&build.context, &build.dockerfile).map_err(|e| one_line(&e))?;
        let arch = function.architecture;
        let mut hash = Sha256::new();
        hash.update(&context);
        hash.update(format!(
            "{}\0{:?}\0{}",
            build.dockerfile,
            build.args,
            arch.platform()
        ));
        let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let stem = suite.file.file_stem().unwrap_or_default().to_string_lossy();
        let name = crate::suite::safe_name(&stem.to_ascii_lowercase());
        let image = format!("lambda-ci/{name}:{}", &hex[..12]);
        let cached = self.engine.has_image(&image).await;
        if !cached {
            let args = build.args.clone().into_iter().collect();
            docker::build_image(
                &self.engine,
                &image,
                context,
                (&build.dockerfile, &args),
                arch.platform(),
                |line| {
                    out(EventKind::ImageBuilding {
                        image: image.clone(),
                        line: line.to_string(),
                    })
                },
            )
            .await
            .map_err(|e| one_line(&e))?;
        }
        out(EventKind::ImageBuilt {
            image: image.clone(),
            cached,
            took: started.elapsed(),
        });
        Ok(image)
    }
}

//! The images a run needs: each base image checked (and pulled) once for its architecture,
//! each `build:` built once per run and tagged by its content, so an unchanged build is not
//! built again; and how artifacts reach the containers, decided once.

use std::collections::HashMap;
use std::time::Instant;

use sha2::{Digest, Sha256};

use tokio::sync::OnceCell;

use super::{Emitter, Runner};
use crate::config::MountMode;
use crate::docker::{self, Delivery, PathProbe};
use crate::error::one_line;
use crate::event::EventKind;
use crate::plan::SuiteId;
use crate::suite::{Architecture, Suite};

/// The same build (context, Dockerfile, args, platform) is built once, whoever names it.
type BuildKey = (std::path::PathBuf, String, String, Architecture);

/// Why an image cannot be had: its whole message with the fix, and a few words.
type Problem = (String, String);

/// Why a suite's image cannot be had, as its cases say it: in full once in the run, by the
/// first case (in declaration order) that needs the image, and in brief by every other case,
/// so that one missing image does not fill the report.
#[derive(Debug, Clone)]
pub(super) struct ImageProblem {
    /// What the suite's first case says: the whole message when it is the first case of the
    /// run to need the image, else the brief.
    pub(super) first: String,
    /// A few words, and where the whole message is.
    pub(super) brief: String,
}

/// Every image of the run, each made ready once by whichever executor needs it first while
/// the others wait for the same result: a suite starts as soon as its own image is ready,
/// and different images are prepared at the same time.
pub(super) struct Images {
    /// Base and `image:` images, by name and architecture.
    pulled: HashMap<(String, Architecture), OnceCell<Result<(), Problem>>>,
    /// Built images, by what is built.
    built: HashMap<BuildKey, OnceCell<Result<String, Problem>>>,
    /// Which build each suite with `build:` needs.
    build_of: HashMap<SuiteId, BuildKey>,
    /// For each suite, the first case of the run that needs the same image (its suite, and
    /// `function / case`): the one that tells its problem in full.
    teller: HashMap<SuiteId, (SuiteId, String)>,
}

impl Runner {
    /// The images the plan needs, none of them prepared yet.
    pub(super) fn plan_images(&self) -> Images {
        let mut images = Images {
            pulled: HashMap::new(),
            built: HashMap::new(),
            build_of: HashMap::new(),
            teller: HashMap::new(),
        };
        let mut tellers: HashMap<String, (SuiteId, String)> = HashMap::new();
        for unit in &self.plan.units {
            let suite = &self.suites[unit.suite.0];
            let function = &suite.function;
            let arch = function.architecture;
            let which = match &function.build {
                Some(build) => {
                    let args = format!("{:?}", build.args);
                    let key = (build.context.clone(), build.dockerfile.clone(), args, arch);
                    images.built.entry(key.clone()).or_default();
                    images.build_of.insert(unit.suite, key.clone());
                    format!("{key:?}")
                }
                None => {
                    let key = (function.image.clone(), arch);
                    images.pulled.entry(key.clone()).or_default();
                    format!("{key:?}")
                }
            };
            let first = unit.cases.first().map_or(String::new(), |c| {
                format!("{} / {}", function.name, suite.cases[c.index].name)
            });
            let teller = tellers.entry(which).or_insert((unit.suite, first)).clone();
            images.teller.insert(unit.suite, teller);
        }
        images
    }

    /// The image `suite`'s function boots, made ready (checked, pulled or built) by the
    /// first to ask; or why there is none, as the suite's cases say it.
    pub(super) async fn image(
        &self,
        images: &Images,
        suite: SuiteId,
        out: &Emitter,
    ) -> Result<String, ImageProblem> {
        let loaded = &self.suites[suite.0];
        let function = &loaded.function;
        let ready = match images.build_of.get(&suite) {
            Some(key) => {
                let cell = &images.built[key];
                cell.get_or_init(|| self.build(loaded, out)).await.clone()
            }
            None => {
                let (image, arch) = (function.image.clone(), function.architecture);
                let cell = &images.pulled[&(image.clone(), arch)];
                cell.get_or_init(|| self.pull(&function.image, arch, out))
                    .await
                    .clone()
                    .map(|()| image)
            }
        };
        ready.map_err(|(full, brief)| {
            let (teller, case) = images
                .teller
                .get(&suite)
                .cloned()
                .unwrap_or((suite, String::new()));
            let brief = format!("{brief} (the error is shown in full at {case})");
            ImageProblem {
                first: if teller == suite { full } else { brief.clone() },
                brief,
            }
        })
    }

    /// How artifacts reach this run's containers: as `--mount` says, or for `auto` as a probe
    /// of the engine with `image` (one that is ready) finds; the choice is announced.
    pub(super) async fn choose_delivery(&self, image: &str, out: &Emitter) -> Delivery {
        let (delivery, reason) = match self.mount {
            MountMode::Bind => (Delivery::BindReadOnly, "--mount bind".to_string()),
            MountMode::Copy => (Delivery::Copy, "--mount copy".to_string()),
            MountMode::Auto => {
                let labels = HashMap::from([
                    (docker::LABEL.to_string(), "1".to_string()),
                    (docker::RUN_LABEL.to_string(), self.run_id.clone()),
                ]);
                let name = format!("lambda-ci-{}-probe", self.run_id);
                match docker::probe_local_paths(&self.engine, &self.owned, image, &name, &labels)
                    .await
                {
                    PathProbe::Seen => (
                        Delivery::BindReadOnly,
                        "the engine sees this machine's files".to_string(),
                    ),
                    PathProbe::Unseen(why) => (
                        Delivery::Copy,
                        format!("the engine cannot see this machine's files: {why}"),
                    ),
                }
            }
        };
        out.emit(EventKind::ArtifactsDelivered {
            copied: delivery == Delivery::Copy,
            reason,
        });
        delivery
    }

    /// Makes sure `image` is present for `arch`, pulling it as the policy allows.
    async fn pull(
        &self,
        image: &str,
        arch: Architecture,
        out: &Emitter,
    ) -> Result<(), (String, String)> {
        out.emit(EventKind::ImageChecking {
            image: image.to_string(),
        });
        let started = Instant::now();
        let mut pulled = false;
        let platform = (arch.platform(), arch.image_arch());
        docker::ensure_image(&self.engine, image, platform, self.pull, |p| {
            pulled = true;
            out.emit(EventKind::ImagePulling(p));
        })
        .await
        .map_err(|e| (one_line(&e), e.brief()))?;
        out.emit(EventKind::ImageReady {
            image: image.to_string(),
            pulled,
            took: started.elapsed(),
        });
        Ok(())
    }

    /// Builds the image of `suite`'s function, tagged `lambda-ci/<suite>:<content hash>`, unless
    /// an image of that tag exists already.
    async fn build(&self, suite: &Suite, out: &Emitter) -> Result<String, (String, String)> {
        self.build_image(suite, out).await.map_err(|full| {
            let brief = format!("the image of {} could not be built", suite.function.name);
            (full, brief)
        })
    }

    async fn build_image(&self, suite: &Suite, out: &Emitter) -> Result<String, String> {
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
        let name: String = stem
            .to_ascii_lowercase()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
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
                    out.emit(EventKind::ImageBuilding {
                        image: image.clone(),
                        line: line.to_string(),
                    })
                },
            )
            .await
            .map_err(|e| one_line(&e))?;
        }
        out.emit(EventKind::ImageBuilt {
            image: image.clone(),
            cached,
            took: started.elapsed(),
        });
        Ok(image)
    }
}

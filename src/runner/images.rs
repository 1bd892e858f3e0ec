//! The images a run needs, made ready before any container boots: each base image checked
//! (and pulled) once for its architecture, each `build:` built once per run and tagged by its
//! content, so an unchanged build is not built again.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Mutex;
use std::time::Instant;

use sha2::{Digest, Sha256};

use super::{Emitter, Runner};
use crate::config::MountMode;
use crate::docker::{self, Delivery, PathProbe};
use crate::error::one_line;
use crate::event::EventKind;
use crate::plan::SuiteId;
use crate::suite::{Architecture, Function, Suite};

/// Why an image cannot be had: said in full once, by the first case that needs it, and in
/// brief by every case after it, so that one missing image does not fill the report.
#[derive(Debug, Clone)]
pub(super) struct ImageProblem {
    /// What the unit's first case says: the whole message, with the fix, when it is the
    /// first case of the run to need the image; else the brief.
    pub(super) first: String,
    /// A few words, and where the whole message is.
    pub(super) brief: String,
}

/// Every image of the run, or why it cannot be had.
pub(super) struct Images {
    /// Base and `image:` images, by name and architecture; a problem is its whole message and
    /// its brief one.
    pulled: HashMap<(String, Architecture), Result<(), (String, String)>>,
    /// Built images, by suite, likewise.
    built: HashMap<SuiteId, Result<String, (String, String)>>,
    /// The full messages said already, with the case that said each.
    told: Mutex<HashMap<String, String>>,
}

impl Images {
    /// An image that is ready, any.
    fn any_ready(&self) -> Option<&str> {
        let built = self.built.values().find_map(|b| b.as_deref().ok());
        let pulled = self
            .pulled
            .iter()
            .find(|(_, ready)| ready.is_ok())
            .map(|((image, _), _)| image.as_str());
        built.or(pulled)
    }

    /// The image a suite's function boots, or why there is none: in full when `first_case`
    /// is the first to need it, else in brief, naming the case that said it in full.
    pub(super) fn of(
        &self,
        suite: SuiteId,
        function: &Function,
        first_case: &str,
    ) -> Result<String, ImageProblem> {
        let problem = match self.built.get(&suite) {
            Some(Ok(image)) => return Ok(image.clone()),
            Some(Err(problem)) => problem,
            None => {
                let key = (function.image.clone(), function.architecture);
                match self.pulled.get(&key) {
                    Some(Err(problem)) => problem,
                    _ => return Ok(function.image.clone()),
                }
            }
        };
        let (full, brief) = problem;
        let mut told = self.told.lock().unwrap_or_else(|e| e.into_inner());
        let teller = told
            .entry(full.clone())
            .or_insert_with(|| first_case.to_string());
        let brief = format!("{brief} (the error is shown in full at {teller})");
        Err(ImageProblem {
            first: if teller == first_case {
                full.clone()
            } else {
                brief.clone()
            },
            brief,
        })
    }
}

impl Runner {
    /// How artifacts reach this run's containers: as `--mount` says, or for `auto` as a probe
    /// of the engine finds; the choice is announced.
    pub(super) async fn choose_delivery(&self, images: &Images, out: &Emitter) -> Delivery {
        let (delivery, reason) = match self.mount {
            MountMode::Bind => (Delivery::BindReadOnly, "--mount bind".to_string()),
            MountMode::Copy => (Delivery::Copy, "--mount copy".to_string()),
            MountMode::Auto => {
                let Some(image) = images.any_ready() else {
                    return Delivery::BindReadOnly;
                };
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

    pub(super) async fn prepare_images(&self, out: &Emitter) -> Images {
        let mut images = Images {
            pulled: HashMap::new(),
            built: HashMap::new(),
            told: Mutex::default(),
        };
        // The same build (context, Dockerfile, args, platform) is built once, whoever names it.
        type BuildKey = (std::path::PathBuf, String, String, Architecture);
        let mut builds: HashMap<BuildKey, Result<String, (String, String)>> = HashMap::new();
        for unit in &self.plan.units {
            let suite = &self.suites[unit.suite.0];
            let function = &suite.function;
            let arch = function.architecture;
            match &function.build {
                Some(build) => {
                    let args = format!("{:?}", build.args);
                    let key = (build.context.clone(), build.dockerfile.clone(), args, arch);
                    if !builds.contains_key(&key) {
                        let result = self.build(suite, out).await;
                        builds.insert(key.clone(), result);
                    }
                    images.built.insert(unit.suite, builds[&key].clone());
                }
                None => {
                    let key = (function.image.clone(), arch);
                    if let Entry::Vacant(slot) = images.pulled.entry(key) {
                        slot.insert(self.pull(&function.image, arch, out).await);
                    }
                }
            }
        }
        images
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

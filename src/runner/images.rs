//! The images a run needs: each base image checked (and pulled) once for its architecture,
//! each `build:` built once per run and tagged by its content, so an unchanged build is not
//! built again; and how artifacts reach the containers, decided once.

use std::collections::HashMap;
use std::time::Instant;

use sha2::{Digest, Sha256};

use super::prepared::{ImageKey, Problem};
use super::{Emitter, Runner};
use crate::chain::one_line;
use crate::docker;
use crate::event::EventKind;
use crate::plan::{Plan, SuiteId};
use crate::suite::{Architecture, Suite};

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

/// For each suite of a plan, the first case of the plan that needs the same image (its suite,
/// and `function / case`): the one that tells the image's problem in full.
pub(super) struct Tellers(HashMap<SuiteId, (SuiteId, String)>);

impl Tellers {
    /// No case tells first: every suite tells its image's problem in full.
    pub(super) fn none() -> Tellers {
        Tellers(HashMap::new())
    }
}

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

impl Runner {
    /// Which image `suite`'s function boots.
    pub(super) fn image_key(&self, suite: SuiteId) -> ImageKey {
        image_key(&self.suites[suite.0].function)
    }

    /// Who tells each image's problem in `plan`.
    pub(super) fn tellers(&self, plan: &Plan) -> Tellers {
        let mut first: HashMap<ImageKey, (SuiteId, String)> = HashMap::new();
        let mut tellers = HashMap::new();
        for unit in &plan.units {
            let suite = &self.suites[unit.suite.0];
            let case = unit.cases.first().map_or(String::new(), |c| {
                format!("{} / {}", suite.function.name, suite.cases[c.index].name)
            });
            let key = self.image_key(unit.suite);
            let teller = first.entry(key).or_insert((unit.suite, case)).clone();
            tellers.insert(unit.suite, teller);
        }
        Tellers(tellers)
    }

    /// The image `suite`'s function boots, made ready (checked, pulled or built) once by the
    /// first to ask, in this plan or an earlier one; or why there is none, as the suite's cases
    /// say it.
    pub(super) async fn image(
        &self,
        tellers: &Tellers,
        suite: SuiteId,
        out: &Emitter,
    ) -> Result<String, ImageProblem> {
        let loaded = &self.suites[suite.0];
        let key = self.image_key(suite);
        let cell = self.prepared.image(key.clone());
        let ready = cell
            .get_or_init(|| async {
                match &key {
                    ImageKey::Build(..) => self.build(loaded, out).await,
                    ImageKey::Pull(image, arch) => {
                        self.pull(image, *arch, out).await.map(|()| image.clone())
                    }
                }
            })
            .await
            .clone();
        ready.map_err(|(full, brief)| {
            let (teller, case) = tellers
                .0
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

    /// Makes sure `image` is present for `arch`, pulling it as the policy allows.
    async fn pull(&self, image: &str, arch: Architecture, out: &Emitter) -> Result<(), Problem> {
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
    async fn build(&self, suite: &Suite, out: &Emitter) -> Result<String, Problem> {
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

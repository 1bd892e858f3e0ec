//! Plan: which workers to start and which cases each one serves, in order.
//!
//! Today one worker (one warm container) serves all cases of a suite, one at a time (RIE takes
//! a single invocation at a time). Filtering, partitioning and pools of workers fit here later:
//! the ids stay those of the loaded suites, whatever the plan leaves out or splits.

use crate::select::Selection;
use crate::suite::{Architecture, Suite};

/// Identifies a suite: its index among the loaded suites, in load order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct SuiteId(pub usize);

/// Identifies a worker: the function (by its suite) it serves, its slot in that function's
/// pool, and how many containers the slot booted before the current one (in any plan of the
/// runner).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct WorkerId {
    pub suite: SuiteId,
    pub slot: usize,
    pub generation: usize,
}

/// The suite path a case's shard is hashed with: relative to the working directory when under
/// it, without `./`, so `./cases`, `cases` and `$PWD/cases` put a case in the same shard.
fn shard_path(file: &std::path::Path) -> String {
    use std::path::{Component, PathBuf};
    let absolute = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| absolute.strip_prefix(cwd).ok().map(PathBuf::from))
        .unwrap_or(absolute);
    relative
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect::<PathBuf>()
        .display()
        .to_string()
}

/// Identifies a case: its suite and its index in that suite's file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct CaseId {
    pub suite: SuiteId,
    pub index: usize,
}

/// One worker's worth of work: cases of one suite, run in order on one container.
#[derive(Debug, Clone)]
pub struct Unit {
    pub suite: SuiteId,
    pub cases: Vec<CaseId>,
}

/// The whole run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub units: Vec<Unit>,
}

impl Plan {
    /// One unit per suite with selected cases, cases in file order.
    pub fn new(suites: &[Suite], selection: &Selection) -> Plan {
        let units = suites
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let path = shard_path(&s.file);
                let cases = s
                    .cases
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| selection.selects(&s.function.name, &path, &c.name))
                    .map(|(index, _)| CaseId {
                        suite: SuiteId(i),
                        index,
                    })
                    .collect();
                Unit {
                    suite: SuiteId(i),
                    cases,
                }
            })
            .filter(|u: &Unit| !u.cases.is_empty())
            .collect();
        Plan { units }
    }

    /// How many cases the plan runs.
    pub fn case_count(&self) -> usize {
        self.units.iter().map(|u| u.cases.len()).sum()
    }

    /// The suites the plan touches and their planned cases, in first-use order; a suite that
    /// several units serve appears once.
    pub fn suites(&self) -> Vec<(SuiteId, Vec<CaseId>)> {
        let mut out: Vec<(SuiteId, Vec<CaseId>)> = Vec::new();
        for unit in &self.units {
            match out.iter_mut().find(|(id, _)| *id == unit.suite) {
                Some((_, cases)) => cases.extend(&unit.cases),
                None => out.push((unit.suite, unit.cases.clone())),
            }
        }
        out
    }

    /// The distinct images the plan needs, each for its architecture, in first-use order.
    pub fn images<'a>(&self, suites: &'a [Suite]) -> Vec<(&'a str, Architecture)> {
        let mut images = Vec::new();
        for unit in &self.units {
            let f = &suites[unit.suite.0].function;
            let image = (f.image.as_str(), f.architecture);
            if !images.contains(&image) {
                images.push(image);
            }
        }
        images
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_do_not_depend_on_how_the_path_is_spelled() {
        let cwd = std::env::current_dir().unwrap();
        let plain = shard_path(std::path::Path::new("cases/hello.yaml"));
        assert_eq!(plain, "cases/hello.yaml");
        assert_eq!(
            shard_path(std::path::Path::new("./cases/./hello.yaml")),
            plain
        );
        assert_eq!(shard_path(&cwd.join("cases/hello.yaml")), plain);
    }

    #[test]
    fn a_suite_served_by_several_units_is_listed_once() {
        let case = |s, index| CaseId {
            suite: SuiteId(s),
            index,
        };
        let plan = Plan {
            units: vec![
                Unit {
                    suite: SuiteId(1),
                    cases: vec![case(1, 0)],
                },
                Unit {
                    suite: SuiteId(0),
                    cases: vec![case(0, 0)],
                },
                Unit {
                    suite: SuiteId(1),
                    cases: vec![case(1, 1)],
                },
            ],
        };
        assert_eq!(
            plan.suites(),
            vec![
                (SuiteId(1), vec![case(1, 0), case(1, 1)]),
                (SuiteId(0), vec![case(0, 0)])
            ]
        );
    }
}

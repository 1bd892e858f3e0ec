//! Plan: which containers to boot and which cases each one serves, in order.
//!
//! Today one warm container serves all cases of a suite's function, one at a time (RIE takes a
//! single invocation at a time). Filtering, partitioning and pools fit here later.

use crate::event::{CaseRef, SuiteRef};
use crate::suite::Suite;

/// One container's worth of work.
#[derive(Debug, Clone)]
pub struct Unit {
    /// Index into the run's suites.
    pub suite: usize,
    /// Indexes of the cases this container runs, in order.
    pub cases: Vec<usize>,
}

/// The whole run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub units: Vec<Unit>,
}

impl Plan {
    /// One unit per suite, cases in file order.
    pub fn new(suites: &[Suite]) -> Plan {
        Plan {
            units: suites
                .iter()
                .enumerate()
                .map(|(i, s)| Unit {
                    suite: i,
                    cases: (0..s.cases.len()).collect(),
                })
                .collect(),
        }
    }

    /// The distinct images the plan needs, in first-use order.
    pub fn images<'a>(&self, suites: &'a [Suite]) -> Vec<&'a str> {
        let mut images: Vec<&str> = Vec::new();
        for unit in &self.units {
            let image = suites[unit.suite].function.image.as_str();
            if !images.contains(&image) {
                images.push(image);
            }
        }
        images
    }
}

/// The reference events use for suite `index`.
pub fn suite_ref(suites: &[Suite], index: usize) -> SuiteRef {
    let s = &suites[index];
    SuiteRef {
        index,
        file: s.file.clone(),
        function: s.function.name.clone(),
        image: s.function.image.clone(),
    }
}

/// The reference events use for case `case` of suite `suite`.
pub fn case_ref(suites: &[Suite], suite: usize, case: usize) -> CaseRef {
    let c = &suites[suite].cases[case];
    CaseRef {
        suite: suite_ref(suites, suite),
        name: c.name.clone(),
        line: c.pos.line,
    }
}

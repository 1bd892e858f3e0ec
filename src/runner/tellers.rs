//! Who tells a preparation's problem: functions that share one (the same image) fail alike,
//! and the problem is told in full once in the run, by the first case (in declaration order)
//! that needs it, and in brief by every other case, so that one missing image does not fill
//! the report.

use std::collections::HashMap;

use super::{Emitter, Runner};
use crate::plan::{Plan, SuiteId};

/// Why a suite's function cannot be had, as its cases say it.
#[derive(Debug, Clone)]
pub(super) struct Unready {
    /// What the suite's first case says: the whole message when it is the first case of the
    /// run to need the preparation, else the brief.
    pub(super) first: String,
    /// A few words, and where the whole message is.
    pub(super) brief: String,
}

/// For each suite of a plan, the first case of the plan that needs the same preparation (its
/// suite, and `function / case`): the one that tells its problem in full.
pub(super) struct Tellers(HashMap<SuiteId, (SuiteId, String)>);

impl Runner {
    /// Who tells each preparation's problem in `plan`.
    pub(super) fn tellers(&self, plan: &Plan) -> Tellers {
        let mut first: HashMap<String, (SuiteId, String)> = HashMap::new();
        let mut tellers = HashMap::new();
        for unit in &plan.units {
            let suite = &self.suites[unit.suite.0];
            let case = unit.cases.first().map_or(String::new(), |c| {
                format!("{} / {}", suite.function.name, suite.cases[c.index].name)
            });
            let key = self.backend.shares(suite);
            let teller = first.entry(key).or_insert((unit.suite, case)).clone();
            tellers.insert(unit.suite, teller);
        }
        Tellers(tellers)
    }

    /// Makes ready what `suite`'s function needs, once in the session; or why it cannot be,
    /// as the suite's cases say it.
    pub(super) async fn prepare(
        &self,
        tellers: &Tellers,
        suite: SuiteId,
        out: &Emitter,
    ) -> Result<(), Unready> {
        let say = |kind| out.emit(kind);
        let ready = self.backend.prepare(&self.suites[suite.0], &say).await;
        ready.map_err(|problem| {
            let (teller, case) = tellers
                .0
                .get(&suite)
                .cloned()
                .unwrap_or((suite, String::new()));
            let brief = format!("{} (the error is shown in full at {case})", problem.brief);
            Unready {
                first: if teller == suite {
                    problem.full
                } else {
                    brief.clone()
                },
                brief,
            }
        })
    }
}

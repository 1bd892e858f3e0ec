//! Attachments: the whole actual value of a failure whose diff was cut, written to a file of
//! its own beside the reports (redacted, like everything shown), which the failure then names.

use std::path::Path;

use crate::judge::Verdict;
use crate::plan::CaseId;
use crate::redact::Redactor;
use crate::suite::Suite;

/// Writes each cut failure's whole actual value under `dir` and names the file in it.
pub(super) fn attach(
    dir: &Path,
    verdict: &mut Verdict,
    (suite, case): (&Suite, CaseId),
    redactor: &Redactor,
) {
    let Verdict::Fail(failures) = verdict else {
        return;
    };
    let stem = suite
        .file
        .file_stem()
        .map(|s| slug(&s.to_string_lossy()))
        .unwrap_or_default();
    // Suite and case numbers keep two suites named alike, or two long names, apart.
    let stem = format!("{}-{stem}", case.suite.0 + 1);
    let name = format!("{}-{}", case.index + 1, slug(&suite.cases[case.index].name));
    for (i, failure) in failures.iter_mut().enumerate() {
        let Some(mut actual) = failure.actual.take() else {
            continue;
        };
        redactor.string(&mut actual);
        let dir = dir.join(&stem);
        let path = dir.join(format!("{name}.{}.{i}.txt", failure.check));
        let written = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, actual));
        match written {
            Ok(()) => failure.attachment = Some(std::path::absolute(&path).unwrap_or(path)),
            Err(e) => failure.message.push_str(&format!(
                " (the whole actual value could not be written to {}: {e})",
                path.display()
            )),
        }
    }
}

/// A name safe in a file name: letters, digits, `-` and `_` kept, anything else `_`.
fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    if s.is_empty() { "case".into() } else { s }
}

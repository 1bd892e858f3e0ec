//! `lambda-ci list`: the cases a run would execute, as lines or JSON, without Docker.

use std::io::Write;

use serde::Serialize;

use crate::config::ListConfig;
use crate::error::Error;
use crate::exit;
use crate::plan::Plan;
use crate::report::visible;
use crate::suite;

/// One listed case.
#[derive(Debug, Serialize)]
struct Listed<'a> {
    suite: &'a str,
    case: &'a str,
    file: String,
    line: usize,
    /// The template resource the suite's function was read from.
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<ListedResource>,
}

/// A template resource: its logical id and the template file read.
#[derive(Debug, Serialize)]
struct ListedResource {
    id: String,
    template: String,
}

/// Prints the selected cases of the suites under the configured paths to `out`.
pub fn list(config: &ListConfig, out: &mut impl Write) -> Result<u8, Error> {
    let suites = suite::load_paths_with(&config.paths, &config.load).map_err(Error::Load)?;
    let plan = Plan::new(&suites, &config.selection);
    let listed: Vec<Listed> = plan
        .units
        .iter()
        .flat_map(|unit| unit.cases.iter())
        .map(|id| {
            let s = &suites[id.suite.0];
            let c = &s.cases[id.index];
            Listed {
                suite: &s.function.name,
                case: &c.name,
                file: s.file.display().to_string(),
                line: c.pos.line,
                resource: s.function.resource.as_ref().map(|r| ListedResource {
                    id: r.id.clone(),
                    template: r.template.display().to_string(),
                }),
            }
        })
        .collect();
    let written = if config.json {
        let doc = serde_json::json!({"version": 1, "cases": listed});
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        )
    } else {
        // One line per case whatever a name holds: its line breaks, tabs and escapes are shown
        // as `\u{..}` (tab too, since it separates the fields); `--json` has the names as given.
        let field = |s: &str| visible(s).replace('\t', "\\u{9}");
        listed.iter().try_for_each(|l| {
            // A function read from a template: its resource, in the template it came from.
            let from = match &l.resource {
                Some(r) => format!("\t{} in {}", field(&r.id), field(&r.template)),
                None => String::new(),
            };
            writeln!(
                out,
                "{}::{}\t{}:{}{from}",
                field(l.suite),
                field(l.case),
                field(&l.file),
                l.line
            )
        })
    };
    // A closed stdout (`| head`) is the reader's choice, not a failure.
    let _ = written;
    Ok(exit::SUCCESS)
}

//! GitHub Actions: each suite's output in a `::group::`, an `::error` annotation at the
//! expectation's `file:line:col` for every case that did not pass (worst first: GitHub shows
//! ten per step), a Markdown job summary appended to `$GITHUB_STEP_SUMMARY`, and the counts
//! written to `$GITHUB_OUTPUT` for later steps.

use std::io::Write;
use std::path::PathBuf;

use super::{ReportError, Reporter, text};
use crate::event::{CaseRef, Event, EventKind, Stats};
use crate::judge::Verdict;
use crate::plan::SuiteId;

/// GitHub refuses a step summary over 1 MiB; what is cut is said.
const SUMMARY_LIMIT: usize = 1024 * 1024 - 4096;

/// Where GitHub reads what a step reports, besides its log.
#[derive(Debug, Clone, Default)]
pub struct GithubFiles {
    /// `$GITHUB_STEP_SUMMARY`.
    pub summary: Option<PathBuf>,
    /// `$GITHUB_OUTPUT`.
    pub outputs: Option<PathBuf>,
    /// Reports written elsewhere, named in the outputs.
    pub junit: Option<PathBuf>,
    pub json: Option<PathBuf>,
    /// `$GITHUB_WORKSPACE`: annotations name files relative to it, as GitHub resolves them.
    pub workspace: Option<PathBuf>,
}

/// A case that did not pass, as GitHub will show it.
struct Problem {
    case: CaseRef,
    /// 0 for an error, 1 for a failure: errors first.
    rank: u8,
    line: usize,
    column: Option<usize>,
    message: String,
    /// Each difference, with its path.
    differences: Vec<String>,
    /// Expected vs actual, as a plain unified diff.
    diff: Option<String>,
}

/// Writes workflow commands to `out` (the step's log) and GitHub's files at the end.
pub struct Github<W: Write> {
    out: W,
    /// Workflow commands are off inside a group, so that nothing a function logs can issue
    /// one; this token turns them back on.
    resume: String,
    files: GithubFiles,
    group: Option<SuiteId>,
    problems: Vec<Problem>,
    error: Option<(&'static str, PathBuf, std::io::Error)>,
}

impl<W: Write> Github<W> {
    pub fn new(out: W, files: GithubFiles) -> Github<W> {
        Github {
            out,
            resume: resume_token(),
            files,
            group: None,
            problems: Vec::new(),
            error: None,
        }
    }

    /// The writer, for tests.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// A suite file as GitHub resolves annotation paths: relative to the workspace (the
    /// repository root) when it lies inside it, whatever directory the run started in.
    fn annotated_file(&self, file: &std::path::Path) -> String {
        annotated_file(self.files.workspace.as_deref(), file)
    }

    fn end_group(&mut self) {
        if self.group.take().is_some() {
            let _ = writeln!(self.out, "::{}::", self.resume);
            let _ = writeln!(self.out, "::endgroup::");
        }
    }

    fn annotate(&mut self) {
        let mut problems: Vec<&Problem> = self.problems.iter().collect();
        problems.sort_by_key(|p| p.rank);
        for p in problems {
            let mut props = format!(
                "file={},line={}",
                property(&self.annotated_file(&p.case.suite.file)),
                p.line
            );
            if let Some(col) = p.column {
                props.push_str(&format!(",col={col}"));
            }
            let title = format!("{} / {}", p.case.suite.function, p.case.name);
            props.push_str(&format!(",title={}", property(&text::one_line(&title))));
            let mut message = text::message(&p.message);
            // The diff is cut already (diff::MAX_LINES lines of diff::MAX_LINE_CHARS).
            for line in p
                .differences
                .iter()
                .map(|d| text::first_line(d))
                .chain(p.diff.clone())
            {
                message.push('\n');
                message.push_str(&line);
            }
            let _ = writeln!(self.out, "::error {props}::{}", data(&message));
        }
    }

    fn write_files(&mut self, stats: &Stats) {
        if let Some(path) = self.files.summary.clone() {
            let text = summary(stats, &self.problems);
            if let Err(e) = append(&path, &text) {
                self.error = Some(("GitHub step summary", path, e));
            }
        }
        if let Some(path) = self.files.outputs.clone() {
            let mut text = format!(
                "total={}\npassed={}\nfailed={}\nerrors={}\nskipped={}\n",
                stats.total(),
                stats.passed,
                stats.failed,
                stats.errors,
                stats.skipped
            );
            for (name, file) in [("junit", &self.files.junit), ("json", &self.files.json)] {
                if let Some(file) = file {
                    text.push_str(&format!("{name}={}\n", file.display()));
                }
            }
            if let Err(e) = append(&path, &text) {
                self.error = Some(("GitHub output", path, e));
            }
        }
    }
}

impl<W: Write> Reporter for Github<W> {
    fn report(&mut self, event: &Event) {
        match &event.kind {
            EventKind::CaseStarted { case } if self.group != Some(case.suite.id) => {
                self.end_group();
                self.group = Some(case.suite.id);
                let name = format!("{} ({})", case.suite.function, case.suite.file.display());
                let _ = writeln!(self.out, "::group::{}", data(&text::one_line(&name)));
                let _ = writeln!(self.out, "::stop-commands::{}", self.resume);
            }
            EventKind::CaseFinished { case, result } => {
                match &result.verdict {
                    // Each check that does not hold is annotated at its own line and column.
                    Verdict::Fail(failures) => {
                        for f in failures {
                            let (line, column) = f
                                .pos
                                .map_or((case.line, None), |p| (p.line, Some(p.column)));
                            let mut diff = f.diff.as_ref().map(|d| d.to_plain());
                            if let (Some(d), Some(path)) = (&mut diff, &f.attachment) {
                                d.push_str(&format!(
                                    "the whole actual value: {}\n",
                                    path.display()
                                ));
                            }
                            self.problems.push(Problem {
                                case: case.clone(),
                                rank: 1,
                                line,
                                column,
                                message: f.message.clone(),
                                differences: f.mismatches.iter().map(|m| m.to_string()).collect(),
                                diff,
                            });
                        }
                    }
                    Verdict::Error(why) => self.problems.push(Problem {
                        case: case.clone(),
                        rank: 0,
                        line: case.line,
                        column: None,
                        message: why.message.clone(),
                        differences: Vec::new(),
                        diff: None,
                    }),
                    Verdict::Pass | Verdict::Skipped(_) => {}
                }
            }
            EventKind::RunFinished { stats } => {
                self.end_group();
                self.annotate();
                self.write_files(stats);
            }
            _ => {}
        }
        let _ = self.out.flush();
    }

    fn finish(&mut self) -> Result<(), ReportError> {
        match self.error.take() {
            Some((what, path, source)) => Err(ReportError { what, path, source }),
            None => Ok(()),
        }
    }
}

/// A suite file as GitHub resolves annotation paths: relative to the workspace when inside it.
fn annotated_file(workspace: Option<&std::path::Path>, file: &std::path::Path) -> String {
    let inside = workspace.and_then(|ws| {
        let absolute = std::path::absolute(file).ok()?;
        absolute
            .strip_prefix(ws)
            .ok()
            .map(std::path::Path::to_path_buf)
    });
    inside.as_deref().unwrap_or(file).display().to_string()
}

/// When the suites cannot be loaded, GitHub is still told: an `::error` annotation at each
/// problem's `file:line:col`, a job summary saying nothing was run and why, and step outputs
/// (all counts 0, `load_errors` the number of problems).
pub fn load_failed(
    out: &mut impl Write,
    files: &GithubFiles,
    errors: &crate::suite::LoadErrors,
) -> Result<(), ReportError> {
    let n = errors.0.len();
    let title = "lambda-ci: the suites could not be loaded";
    let mut rows = String::new();
    for e in &errors.0 {
        let file = annotated_file(files.workspace.as_deref(), &e.file);
        let mut props = format!("file={}", property(&file));
        let mut at = file.clone();
        if let Some(pos) = e.pos {
            props.push_str(&format!(",line={},col={}", pos.line, pos.column));
            at.push_str(&format!(":{}:{}", pos.line, pos.column));
        }
        let mut message = text::message(&e.message);
        if let Some(hint) = &e.hint {
            message.push_str(&format!("\nhint: {}", text::message(hint)));
        }
        let _ = writeln!(
            out,
            "::error {props},title={}::{}",
            property(title),
            data(&message)
        );
        rows.push_str(&format!(
            "- <code>{}</code>: {}\n",
            html(&text::one_line(&at)),
            text::message_lines(&message)
                .iter()
                .map(|l| html(l))
                .collect::<Vec<_>>()
                .join("<br>")
        ));
    }
    let _ = out.flush();
    let fail = |what, path: &PathBuf, source| ReportError {
        what,
        path: path.clone(),
        source,
    };
    if let Some(path) = &files.summary {
        let text = format!(
            "## ❌ {title}\n\n{n} problem{} in the suites; nothing was run.\n\n{rows}\n",
            if n == 1 { "" } else { "s" }
        );
        append(path, &text).map_err(|e| fail("GitHub step summary", path, e))?;
    }
    if let Some(path) = &files.outputs {
        let text = format!("total=0\npassed=0\nfailed=0\nerrors=0\nskipped=0\nload_errors={n}\n");
        append(path, &text).map_err(|e| fail("GitHub output", path, e))?;
    }
    Ok(())
}

fn append(path: &PathBuf, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())
}

/// A token no one can guess, so that nothing a function logs can turn workflow commands back
/// on: 128 random bits from the operating system.
fn resume_token() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No random source at all: still unique to this process and instant, never empty.
        let seed = std::collections::hash_map::RandomState::new();
        let n = std::hash::BuildHasher::hash_one(&seed, std::time::SystemTime::now());
        bytes[..8].copy_from_slice(&n.to_le_bytes());
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("lambda-ci-{hex}")
}

/// A workflow command's message, escaped as GitHub requires.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value, escaped as GitHub requires.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Text made safe inside Markdown and HTML.
fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "&#124;")
        .replace('`', "&#96;")
}

/// A fence longer than any run of backticks in `text`.
fn fence(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// The job summary: totals, then each case that did not pass with its differences and diff,
/// cut under GitHub's limit with a note of how many were left out.
fn summary(stats: &Stats, problems: &[Problem]) -> String {
    let verdict = if stats.success() { "✅" } else { "❌" };
    let mut text = format!(
        "## {verdict} lambda-ci: {}\n\n| result | cases |\n|---|---:|\n| passed | {} |\n| failed | {} |\n| errors | {} |\n| skipped | {} |\n| **total** | **{}** |\n\n",
        stats.summary(),
        stats.passed,
        stats.failed,
        stats.errors,
        stats.skipped,
        stats.total()
    );
    for (i, p) in problems.iter().enumerate() {
        let kind = if p.rank == 0 { "error" } else { "failed" };
        let mut section = format!(
            "### {kind}: <code>{}</code> / <code>{}</code>\n\n<code>{}:{}{}</code>: {}\n\n",
            html(&text::one_line(&p.case.suite.function)),
            html(&text::one_line(&p.case.name)),
            html(&text::one_line(&p.case.suite.file.display().to_string())),
            p.line,
            p.column.map(|c| format!(":{c}")).unwrap_or_default(),
            // One Markdown line whatever the message holds: its line breaks cannot start a
            // heading or a list of their own.
            text::message_lines(&p.message)
                .iter()
                .map(|l| html(l))
                .collect::<Vec<_>>()
                .join("<br>")
        );
        for difference in &p.differences {
            section.push_str(&format!(
                "- <code>{}</code>\n",
                html(&text::first_line(difference))
            ));
        }
        if !p.differences.is_empty() {
            section.push('\n');
        }
        if let Some(diff) = &p.diff {
            let fence = fence(diff);
            section.push_str(&format!(
                "<details><summary>diff</summary>\n\n{fence}diff\n{diff}{fence}\n\n</details>\n\n"
            ));
        }
        if text.len() + section.len() > SUMMARY_LIMIT {
            let rest = &problems[i..];
            let mut cases = Vec::new();
            for p in rest {
                if !cases.contains(&&p.case.id) {
                    cases.push(&p.case.id);
                }
            }
            text.push_str(&format!(
                "_{} more problems, in {} case{}, are not shown here: GitHub limits a job summary to 1 MiB. The JUnit report and the log have them all._\n",
                rest.len(),
                cases.len(),
                if cases.len() == 1 { "" } else { "s" }
            ));
            break;
        }
        text.push_str(&section);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(files: GithubFiles) -> String {
        let mut github = Github::new(Vec::new(), files);
        github.resume = "TOKEN".into();
        for event in crate::report::sample::events() {
            github.report(&event);
        }
        github.finish().unwrap();
        String::from_utf8(github.into_inner()).unwrap()
    }

    #[test]
    fn groups_and_annotations_worst_first() {
        let out = render(GithubFiles::default());
        insta::assert_snapshot!(out);
        let error = out
            .find("::error file=cases/hello.yaml,line=24,title=")
            .unwrap();
        let failure = out
            .find("::error file=cases/hello.yaml,line=21,col=7,")
            .unwrap();
        assert!(error < failure, "{out}");
    }

    #[test]
    fn hostile_text_is_escaped_in_commands_and_markdown() {
        assert_eq!(data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(property("a:b,c%"), "a%3Ab%2Cc%25");
        assert_eq!(html("<b>|`x`]]>"), "&lt;b&gt;&#124;&#96;x&#96;]]&gt;");
        assert_eq!(fence("no ticks"), "```");
        assert_eq!(fence("has ```` four"), "`````");
    }

    // Regression: the token was derived from the clock and the process id, which a function
    // can guess and log to turn workflow commands back on inside a group.
    #[test]
    fn the_stop_commands_token_is_128_random_bits() {
        let (a, b) = (resume_token(), resume_token());
        assert_ne!(a, b);
        let hex = a.strip_prefix("lambda-ci-").unwrap();
        assert_eq!(hex.len(), 32, "{a}");
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()), "{a}");
    }

    #[test]
    fn summary_and_outputs_are_appended_to_githubs_files() {
        let dir = tempfile::tempdir().unwrap();
        let files = GithubFiles {
            summary: Some(dir.path().join("summary.md")),
            outputs: Some(dir.path().join("output")),
            junit: Some("report.xml".into()),
            json: None,
            workspace: None,
        };
        std::fs::write(dir.path().join("output"), "earlier=1\n").unwrap();
        render(files);
        let outputs = std::fs::read_to_string(dir.path().join("output")).unwrap();
        assert_eq!(
            outputs,
            "earlier=1\ntotal=3\npassed=1\nfailed=1\nerrors=1\nskipped=0\njunit=report.xml\n"
        );
        let summary = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
        insta::assert_snapshot!(summary);
    }

    #[test]
    fn a_summary_over_githubs_limit_says_what_was_cut() {
        let mut problems = Vec::new();
        let case = crate::report::sample::events()
            .into_iter()
            .find_map(|e| match e.kind {
                EventKind::CaseStarted { case } => Some(case),
                _ => None,
            })
            .unwrap();
        for _ in 0..300 {
            problems.push(Problem {
                case: case.clone(),
                rank: 1,
                line: 1,
                column: None,
                message: "x".into(),
                differences: vec![],
                diff: Some("y".repeat(10_000)),
            });
        }
        let text = summary(&Stats::default(), &problems);
        assert!(text.len() <= SUMMARY_LIMIT, "{}", text.len());
        assert!(
            text.contains("more problems, in 1 case, are not shown here"),
            "{}",
            &text[text.len() - 300..]
        );
    }
}

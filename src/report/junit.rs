//! JUnit XML: one `<testsuite>` per suite file, keyed by the suite's id whatever order its
//! cases finish in, written once when the run finishes.
//!
//! Every string written (attributes, properties, bodies) first goes through [`text::xml`],
//! which escapes what XML 1.0 cannot hold, and messages are cut like every report's
//! ([`text::message`]), so any log, response or name makes a well-formed file.

use std::collections::BTreeMap;
use std::path::PathBuf;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{ReportError, ReportFile, Reporter, readable_lines, text};
use crate::event::{Event, EventKind};
use crate::judge::Verdict;
use crate::plan::SuiteId;

/// Collects results and writes them to `path` at the end of the run.
pub struct Junit {
    file: ReportFile,
    report: Report,
    suites: BTreeMap<SuiteId, TestSuite>,
    /// This machine's name, for each `<testsuite hostname>`.
    hostname: String,
}

impl Junit {
    pub fn new(path: PathBuf) -> Junit {
        Junit {
            file: ReportFile::new("JUnit", path),
            report: Report::new("lambda-ci"),
            suites: BTreeMap::new(),
            hostname: hostname(),
        }
    }

    /// The report as XML text.
    pub fn to_xml(&self) -> String {
        let mut report = self.report.clone();
        report.add_test_suites(self.suites.values().cloned());
        report.to_string().unwrap_or_default()
    }
}

impl Reporter for Junit {
    fn report(&mut self, event: &Event) {
        match &event.kind {
            EventKind::RunStarted { run_id, suites } => {
                let at = chrono::DateTime::<chrono::Utc>::from(event.at).fixed_offset();
                self.report.set_timestamp(at);
                for planned in suites {
                    let suite = &planned.suite;
                    let mut ts = TestSuite::new(text::xml(&suite.file.display().to_string()));
                    ts.set_timestamp(at);
                    ts.extra
                        .insert("hostname".into(), text::xml(&self.hostname).into());
                    ts.add_property(("function", text::xml(&suite.function).as_str()));
                    ts.add_property(("image", text::xml(&suite.image).as_str()));
                    if let Some(handler) = &suite.handler {
                        ts.add_property(("handler", text::xml(handler).as_str()));
                    }
                    ts.add_property(("platform", suite.architecture.platform()));
                    ts.add_property(("run", text::xml(run_id).as_str()));
                    self.suites.insert(suite.id, ts);
                }
            }
            EventKind::ArtifactsDelivered { copied, .. } => {
                let mount = if *copied { "copy" } else { "bind" };
                for ts in self.suites.values_mut() {
                    ts.add_property(("mount", mount));
                }
            }
            EventKind::CaseFinished { case, result } => {
                let status = match &result.verdict {
                    Verdict::Pass => TestCaseStatus::success(),
                    Verdict::Fail(failures) => {
                        let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                        let mut body = String::new();
                        for f in failures {
                            if !body.is_empty() {
                                body.push_str("\n\n");
                            }
                            body.push_str(&format!(
                                "{}: {}",
                                case.suite.locate(f.pos, case.line),
                                text::message(&f.message)
                            ));
                            for m in &f.mismatches {
                                body.push_str(&format!("\n  {}", text::first_line(&m.to_string())));
                            }
                            if let Some(diff) = &f.diff {
                                body.push_str("\n\n");
                                body.push_str(&diff.to_plain());
                            }
                        }
                        let first = failures.first();
                        let at = case.suite.locate(first.and_then(|f| f.pos), case.line);
                        let headline = crate::judge::headline(failures);
                        s.set_message(text::xml(&format!("{at}: {}", text::message(&headline))))
                            .set_type("mismatch")
                            .set_description(text::xml(&body));
                        s
                    }
                    Verdict::Skipped(reason) => {
                        let mut s = TestCaseStatus::skipped();
                        s.set_message(text::xml(&text::message(reason)));
                        s
                    }
                    Verdict::Error(why) => {
                        let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                        // GitLab shows the body, not the message.
                        let message = text::xml(&text::message(&why.message));
                        s.set_message(message.as_str())
                            .set_type(format!("infrastructure.{}", why.kind.name()))
                            .set_description(message);
                        s
                    }
                };
                let mut tc = TestCase::new(text::xml(&case.name), status);
                // The function's name, whatever else the run holds (another suite of the same
                // function, a shard without it): CI systems key a case's history on it.
                tc.set_classname(text::xml(&case.suite.function));
                tc.set_time(result.duration);
                let started = event.at.checked_sub(result.duration).unwrap_or(event.at);
                tc.set_timestamp(chrono::DateTime::<chrono::Utc>::from(started).fixed_offset());
                tc.extra.insert(
                    "file".into(),
                    text::xml(&case.suite.file.display().to_string()).into(),
                );
                tc.extra.insert("line".into(), case.line.to_string().into());
                // The handler's own time, and the init time of a cold start, apart.
                let reported = &result.reported;
                let ms = |d: std::time::Duration| format!("{:.2}", d.as_secs_f64() * 1000.0);
                if let Some(handler) = reported.duration {
                    tc.add_property(("handler_ms", ms(handler).as_str()));
                }
                if let Some(init) = reported.init {
                    tc.add_property(("init_ms", ms(init).as_str()));
                }
                // Jenkins' attachments plugin (and GitLab) pick files up from these lines.
                let attachments: Vec<String> = match &result.verdict {
                    Verdict::Fail(failures) => failures
                        .iter()
                        .filter_map(|f| f.attachment.as_ref())
                        .map(|p| format!("[[ATTACHMENT|{}]]", text::xml(&p.display().to_string())))
                        .collect(),
                    _ => Vec::new(),
                };
                if !result.logs.is_empty() || !attachments.is_empty() {
                    // quick-junit strips escapes with a terminal parser that can swallow the text
                    // after a stray ESC, and tabs with them; hand it text with neither.
                    // A function's `[[ATTACHMENT|/path]]` line would have Jenkins attach
                    // that file of the agent: only lambda-ci's own lines name attachments.
                    let logs: Vec<String> = readable_lines(&result.logs)
                        .map(|l| text::inert_attachments(&l.replace('\t', "  ")))
                        .chain(attachments)
                        .collect();
                    tc.set_system_out(logs.join("\n"));
                }
                if let Some(ts) = self.suites.get_mut(&case.suite.id) {
                    ts.set_time(ts.time.unwrap_or_default() + result.duration);
                    ts.add_test_case(tc);
                }
            }
            EventKind::RunFinished { stats } => {
                self.report.set_time(stats.duration);
                let xml = self.to_xml();
                self.file.write(&xml);
            }
            _ => {}
        }
    }

    fn finish(&mut self) -> Result<(), ReportError> {
        self.file.finish()
    }
}

/// This machine's name, as JUnit readers show it.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junit_report_for_pass_fail_and_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.xml");
        let mut junit = Junit::new(path.clone());
        junit.hostname = "ci-runner".into();
        for event in crate::report::sample::events() {
            junit.report(&event);
        }
        junit.finish().unwrap();
        let xml = std::fs::read_to_string(&path).unwrap();
        roxmltree::Document::parse(&xml).expect("well-formed XML");
        insta::assert_snapshot!(xml);
    }

    // Regression: the classname became `hello (cases/hello.yaml)` as soon as another suite of
    // the run (or not of a shard's) named the same function, and CI history keyed on it broke.
    #[test]
    fn the_classname_is_the_functions_whatever_else_the_run_holds() {
        let classnames = |events: &[Event]| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("report.xml");
            let mut junit = Junit::new(path.clone());
            for event in events {
                junit.report(event);
            }
            junit.finish().unwrap();
            let xml = std::fs::read_to_string(&path).unwrap();
            let doc = roxmltree::Document::parse(&xml).unwrap();
            let names: Vec<String> = doc
                .descendants()
                .filter(|n| n.has_tag_name("testcase"))
                .filter_map(|n| n.attribute("classname").map(str::to_string))
                .collect();
            names
        };
        let alone = crate::report::sample::events();
        let mut shared = alone.clone();
        let EventKind::RunStarted { suites, .. } = &mut shared[0].kind else {
            panic!("the sample run starts with RunStarted");
        };
        let mut other = suites[0].clone();
        other.suite.id = SuiteId(9);
        other.suite.file = "cases/hello-again.yaml".into();
        other.cases.clear();
        suites.push(other);
        assert_eq!(classnames(&alone), ["hello", "hello", "hello"]);
        assert_eq!(classnames(&shared), classnames(&alone));
    }

    // Regression: U+FFFE/U+FFFF (and lone C0 controls) in a log line, an error message or a
    // case name made a file no XML reader accepts.
    #[test]
    fn junit_is_well_formed_whatever_names_messages_and_logs_hold() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.xml");
        let mut junit = Junit::new(path.clone());
        for event in
            crate::report::sample::hostile_events("\u{fffe}\u{ffff}\u{1}\u{b}\u{1b}x\t", true)
        {
            junit.report(&event);
        }
        junit.finish().unwrap();
        let xml = std::fs::read_to_string(&path).unwrap();
        assert!(xml.chars().all(text::is_xml_char), "{xml:?}");
        let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let names: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .filter_map(|n| n.attribute("name"))
            .collect();
        assert_eq!(
            names[0], "greets by name\\u{fffe}\\u{ffff}\\u{1}\\u{b}\\u{1b}x  ",
            "{xml}"
        );
    }

    // Regression: a function that logged `[[ATTACHMENT|/path]]` had Jenkins' attachments
    // plugin attach that file of the agent's.
    #[test]
    fn a_functions_attachment_marker_is_neutralised() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.xml");
        let mut junit = Junit::new(path.clone());
        for event in crate::report::sample::hostile_events("[[ATTACHMENT|/etc/shadow]]", true) {
            junit.report(&event);
        }
        junit.finish().unwrap();
        let xml = std::fs::read_to_string(&path).unwrap();
        assert!(xml.contains("[[ATTACHMENT¦/etc/shadow]]"), "{xml}");
        assert!(!xml.contains("[[ATTACHMENT|/etc/shadow"), "{xml}");
    }

    #[test]
    fn an_unwritable_report_is_an_error_at_finish() {
        let mut junit = Junit::new("/nonexistent/dir/report.xml".into());
        for event in crate::report::sample::events() {
            junit.report(&event);
        }
        let err = junit.finish().unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot write the JUnit report to /nonexistent/dir/report.xml"
        );
    }
}

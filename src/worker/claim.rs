//! RIE's log framing: which lines of a container's output belong to one invocation, and what
//! its REPORT line says.
//!
//! RIE writes `START`, the function's output, `END` and `REPORT` to stdout before it answers
//! the invocation, and only one invocation runs at a time, so an invocation's lines run from
//! the first START after it was sent to the REPORT after that. START and END/REPORT ids may
//! differ, so lines are matched by order, not by id. RIE's own diagnostics go to stderr.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use regex::bytes::Regex;

use crate::docker::{Framing, LogLine, LogStream, Logs, Role, Taken};
use crate::outcome::Reported;
use crate::suite::check::LogRule;

/// How long to wait for an invocation's REPORT line after RIE answered.
const REPORT_WAIT: Duration = Duration::from_secs(2);

/// RIE's framing of its output.
pub struct RieFraming;

impl RieFraming {
    pub fn framing() -> Arc<dyn Framing> {
        Arc::new(RieFraming)
    }
}

/// RIE's lines, each to the end of a line: output written with no newline just before one of
/// them shares its line.
static GLUED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?:START RequestId: [0-9A-Za-z-]+ Version: \S+",
        r"|END RequestId: [0-9A-Za-z-]+",
        r"|REPORT RequestId: [0-9A-Za-z-]+\t(?:[A-Za-z ]+: [0-9.]+ (?:ms|MB)\t)+)$",
    ))
    .expect("a valid pattern")
});

/// RIE's own diagnostics (logrus: `01 Dec 2026 19:52:50,569 [ERROR] (rapid) ...`).
static RAPID: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"^\d\d \w{3} \d{4} \d\d:\d\d:\d\d,\d{3} \[[A-Z]+\] \(rapid\) ")
        .expect("a valid pattern")
});

impl Framing for RieFraming {
    fn role(&self, stream: LogStream, text: &str) -> Role {
        if stream == LogStream::Stderr && RAPID.is_match(text) {
            Role::Noise
        } else if text.starts_with("START RequestId:") {
            Role::Opens
        } else if text.starts_with("REPORT RequestId:") {
            Role::Closes
        } else {
            Role::Plain
        }
    }

    fn glued(&self, stream: LogStream, end: &[u8]) -> Option<usize> {
        if stream != LogStream::Stdout {
            return None;
        }
        // Anchored at the end, so the search runs back from there: cheap on long lines.
        GLUED.find(end).map(|m| m.start()).filter(|at| *at > 0)
    }
}

/// The log lines of the invocation that ran since [`Logs::watch`]. A `completed` invocation
/// (RIE answered 200) ends with its REPORT line, which RIE writes before answering; otherwise
/// (502, lost connection) there is no REPORT and the output is taken once it settles. A
/// `timed_out` invocation's REPORT ends `Status: timeout`, as the service's does.
pub async fn claim(logs: &Logs, completed: bool, timed_out: bool) -> Taken {
    let closed = completed && logs.closed(REPORT_WAIT).await;
    if !closed {
        logs.settle(Duration::from_millis(100), Duration::from_secs(1))
            .await;
    }
    logs.take(|report| {
        if timed_out && !report.contains("\tStatus: ") {
            if !report.ends_with('\t') {
                report.push('\t');
            }
            report.push_str("Status: timeout");
        }
    })
}

/// Adds the line the service logs for a timed-out invocation, before its END line:
/// `<timestamp> <request id> Task timed out after N.NN seconds`, as `message` (RIE's answer)
/// words it; the case's `logs:` rules see it like any other line.
pub fn log_timeout(taken: &mut Taken, message: &str, rules: &[&LogRule]) {
    let request_id = reported(&taken.lines).request_id.unwrap_or_default();
    let at = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
    let text = format!("{at} {request_id} {}", message.trim());
    for (found, rule) in taken.found.iter_mut().zip(rules) {
        if found.is_none() && rule.finds(&text) {
            *found = Some(text.clone());
        }
    }
    let framed = is_framed(&taken.lines);
    let end = taken
        .lines
        .iter()
        .position(|l| is_platform(l, framed, "END RequestId:") || is_report(l, framed))
        .unwrap_or(taken.lines.len());
    taken.lines.insert(
        end,
        LogLine {
            stream: LogStream::Stdout,
            text,
            platform: framed,
        },
    );
    taken.seen += 1;
}

/// What the invocation's REPORT line says, if it has one. Where lines carry the framing's
/// proof (lambda-ci's agent), only proven ones are read: a function may print the same text.
pub fn reported(lines: &[LogLine]) -> Reported {
    let framed = is_framed(lines);
    let request_id = lines.iter().find(|l| is_start(l, framed)).and_then(|l| {
        let rest = l.text.strip_prefix("START RequestId:")?.trim();
        Some(rest.split_whitespace().next()?.to_string())
    });
    let Some(report) = lines.iter().rev().find(|l| is_report(l, framed)) else {
        return Reported {
            request_id,
            ..Reported::default()
        };
    };
    let field = |name: &str| {
        report.text.split('\t').find_map(|part| {
            let ms = part.trim().strip_prefix(name)?.strip_suffix(" ms")?;
            let ms: f64 = ms.trim().parse().ok()?;
            (ms.is_finite() && ms >= 0.0)
                .then(|| Duration::from_micros((ms * 1000.0).round() as u64))
        })
    };
    Reported {
        request_id,
        duration: field("Duration:"),
        init: field("Init Duration:"),
        stream: None,
    }
}

/// Whether the lines carry the framing's proof of which are the platform's.
fn is_framed(lines: &[LogLine]) -> bool {
    lines.iter().any(|l| l.platform)
}

/// Whether `line` is the platform's line beginning `prefix`: proven so when `framed`.
fn is_platform(line: &LogLine, framed: bool, prefix: &str) -> bool {
    (!framed || line.platform) && line.text.starts_with(prefix)
}

fn is_start(line: &LogLine, framed: bool) -> bool {
    is_platform(line, framed, "START RequestId:")
}

fn is_report(line: &LogLine, framed: bool) -> bool {
    is_platform(line, framed, "REPORT RequestId:")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::KEPT_LINES;

    const OUT: LogStream = LogStream::Stdout;
    const ERR: LogStream = LogStream::Stderr;
    const REPORT: &str = "REPORT RequestId: 1\tInit Duration: 0.07 ms\tDuration: 1000.00 ms\tBilled Duration: 1000 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\t";

    fn texts(taken: &Taken) -> Vec<&str> {
        taken.lines.iter().map(|l| l.text.as_str()).collect()
    }

    // Regression: a late REPORT of the previous invocation must not end the next one's logs.
    #[tokio::test]
    async fn invocations_are_matched_by_order_not_by_any_report() {
        let (logs, write) = Logs::written(RieFraming::framing());
        logs.watch(Vec::new());
        write(
            OUT,
            "REPORT RequestId: 0\t\nSTART RequestId: 1 Version: $LATEST\nout\n",
        );
        assert!(!logs.closed(Duration::from_millis(10)).await);
        write(
            OUT,
            "END RequestId: 1\nREPORT RequestId: 1\t\nSTART RequestId: 2\n",
        );
        let taken = claim(&logs, true, false).await;
        assert_eq!(
            texts(&taken),
            vec![
                "START RequestId: 1 Version: $LATEST",
                "out",
                "END RequestId: 1",
                "REPORT RequestId: 1\t"
            ]
        );
    }

    #[tokio::test]
    async fn an_invocation_that_did_not_complete_takes_what_came() {
        let logs = Logs::ended_with(
            RieFraming::framing(),
            &[
                (OUT, "START RequestId: 1 Version: $LATEST\npanic: bo"),
                (OUT, "om"),
            ],
        );
        logs.watch(Vec::new());
        let taken = claim(&logs, false, false).await;
        assert_eq!(
            texts(&taken),
            vec!["START RequestId: 1 Version: $LATEST", "panic: boom"]
        );
        assert!(!taken.closed);
    }

    // Regression: output with no final newline ran into RIE's END line, so a line check failed.
    #[tokio::test]
    async fn unterminated_output_is_split_from_the_end_line() {
        let (logs, write) = Logs::written(RieFraming::framing());
        logs.watch(vec![Box::new(|t: &str| t == "writing to stdout")]);
        write(OUT, "START RequestId: 1 Version: $LATEST\n");
        write(OUT, "writing to stdoutEND RequestId: 1\n");
        write(OUT, "late writeSTART RequestId: 2 Version: $LATEST\n");
        write(OUT, &format!("no newline{REPORT}\n"));
        let taken = claim(&logs, true, false).await;
        assert_eq!(
            texts(&taken),
            vec![
                "START RequestId: 1 Version: $LATEST",
                "writing to stdout",
                "END RequestId: 1",
                "late write",
                "START RequestId: 2 Version: $LATEST",
                "no newline",
                REPORT,
            ]
        );
        assert_eq!(taken.found, vec![Some("writing to stdout".into())]);
        // A function's own text that merely mentions a request id stays whole.
        let mention = b"got END RequestId: for you";
        assert_eq!(RieFraming.glued(OUT, mention), None);
        assert_eq!(RieFraming.glued(ERR, b"xEND RequestId: 1"), None);
    }

    // Regression: RIE's `[ERROR] (rapid)` and `[WARNING] (rapid)` lines around a timeout were
    // kept with the function's logs; only `[INFO]` was left out.
    #[tokio::test]
    async fn rie_diagnostics_are_left_out_and_a_timeout_is_reported_as_the_service_does() {
        let (logs, write) = Logs::written(RieFraming::framing());
        logs.watch(vec![Box::new(|t: &str| t.contains("(rapid)"))]);
        write(OUT, "START RequestId: 1 Version: $LATEST\ngoing to sleep\n");
        for level in ["INFO", "ERROR", "WARNING"] {
            write(
                ERR,
                &format!("01 Dec 2026 19:52:50,569 [{level}] (rapid) Reset initiated: Timeout\n"),
            );
        }
        write(ERR, "my own [ERROR] (rapid) line\n");
        write(OUT, &format!("END RequestId: 1\n{REPORT}\n"));
        let taken = claim(&logs, true, true).await;
        assert_eq!(
            texts(&taken),
            vec![
                "START RequestId: 1 Version: $LATEST",
                "going to sleep",
                "my own [ERROR] (rapid) line",
                "END RequestId: 1",
                &format!("{REPORT}Status: timeout"),
            ]
        );
        assert_eq!(
            taken.found,
            vec![Some("my own [ERROR] (rapid) line".into())]
        );
        assert_eq!(
            reported(&taken.lines).duration,
            Some(Duration::from_secs(1))
        );
    }

    // Regression: after a flood the REPORT fields were lost; START and REPORT stay kept.
    #[tokio::test]
    async fn a_flood_keeps_start_and_report() {
        let (logs, write) = Logs::written(RieFraming::framing());
        logs.watch(Vec::new());
        write(OUT, "START RequestId: 1 Version: $LATEST\n");
        let flood: String = (0..KEPT_LINES * 3).map(|i| format!("line {i}\n")).collect();
        write(OUT, &flood);
        write(OUT, &format!("END RequestId: 1\n{REPORT}\n"));
        let taken = claim(&logs, true, false).await;
        let r = reported(&taken.lines);
        assert_eq!(r.request_id.as_deref(), Some("1"));
        assert_eq!(r.duration, Some(Duration::from_secs(1)));
        assert_eq!(taken.seen, KEPT_LINES as u64 * 3 + 3);
        assert_eq!(
            taken.lines[KEPT_LINES / 2].text,
            format!("[lambda-ci: {} lines omitted]", KEPT_LINES * 2 + 3)
        );
    }

    #[test]
    fn the_report_line_gives_handler_and_init_durations() {
        let line = |text: &str| LogLine {
            stream: LogStream::Stdout,
            text: text.into(),
            platform: false,
        };
        let lines = [
            line("START RequestId: 1 Version: $LATEST"),
            line(
                "REPORT RequestId: 1\tInit Duration: 83.69 ms\tDuration: 84.72 ms\tBilled Duration: 85 ms\tMemory Size: 128 MB\tMax Memory Used: 30 MB\t",
            ),
        ];
        let r = reported(&lines);
        assert_eq!(r.duration, Some(Duration::from_micros(84_720)));
        assert_eq!(r.init, Some(Duration::from_micros(83_690)));
        assert_eq!(r.request_id.as_deref(), Some("1"));
        assert_eq!(reported(&lines[1..]).request_id, None);
        assert_eq!(reported(&[]), Reported::default());
    }

    // Regression: with the agent's lines proven, a REPORT or START the function printed was
    // still read by its text when the window did not close (a slow extension, an answer cut).
    #[test]
    fn where_lines_are_proven_only_proven_ones_are_read() {
        let line = |text: &str, platform| LogLine {
            stream: LogStream::Stdout,
            text: text.into(),
            platform,
        };
        let lines = [
            line("START RequestId: forged Version: $LATEST", false),
            line("START RequestId: real Version: $LATEST", true),
            line("REPORT RequestId: forged\tDuration: 1.00 ms\t", false),
        ];
        let r = reported(&lines);
        assert_eq!(r.request_id.as_deref(), Some("real"));
        assert_eq!(r.duration, None);
    }
}

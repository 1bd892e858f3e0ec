//! RIE's log framing: which lines of a container's output belong to one invocation, and what
//! its REPORT line says.
//!
//! RIE writes `START`, the function's output, `END` and `REPORT` to stdout before it answers
//! the invocation, and only one invocation runs at a time, so the lines written between two
//! marks belong to the invocation between them. START and END/REPORT ids may differ, so lines
//! are matched by order, not by id.

use std::time::Duration;

use crate::docker::{LogLine, LogStream, Logs};
use crate::outcome::Reported;

/// How long to wait for an invocation's REPORT line after RIE answered.
const REPORT_WAIT: Duration = Duration::from_secs(2);
/// The most log lines kept for one invocation: the first and last halves are kept.
pub const MAX_LINES: usize = 2000;

/// The log lines of the invocation that ran after `mark`, and the mark for the next one.
/// A `completed` invocation (RIE answered 200) ends with its REPORT line, which RIE writes
/// before answering; otherwise (502, lost connection) there is no REPORT and the output is
/// taken once it settles. Claimed lines are released; at most [`MAX_LINES`] are kept, and
/// RIE's own informational lines are left out.
pub async fn claim(logs: &Logs, mark: usize, completed: bool) -> (Vec<LogLine>, usize) {
    let end = if completed {
        logs.wait_for(mark, REPORT_WAIT, through_report).await
    } else {
        None
    };
    let (mut lines, next) = match end {
        Some(end) => {
            let mut lines = logs.between(mark, end);
            // Output before START is the previous invocation's spill-over.
            let start = lines.iter().position(is_start).unwrap_or(0);
            lines.drain(..start);
            (lines, end)
        }
        None => {
            logs.settle(Duration::from_millis(100), Duration::from_secs(1))
                .await;
            (logs.since(mark), logs.mark())
        }
    };
    logs.release(next);
    lines.retain(|l| !is_rie_info(l));
    if lines.len() > MAX_LINES {
        let omitted = lines.len() - MAX_LINES;
        let tail = lines.split_off(lines.len() - MAX_LINES / 2);
        lines.truncate(MAX_LINES / 2);
        lines.push(LogLine {
            stream: LogStream::Stdout,
            text: format!("[lambda-ci: {omitted} lines omitted]"),
        });
        lines.extend(tail);
    }
    (lines, next)
}

/// What the invocation's REPORT line says, if it has one.
pub fn reported(lines: &[LogLine]) -> Reported {
    let request_id = lines.iter().find(|l| is_start(l)).and_then(|l| {
        let rest = l.text.strip_prefix("START RequestId:")?.trim();
        Some(rest.split_whitespace().next()?.to_string())
    });
    let Some(report) = lines.iter().rev().find(|l| is_report(l)) else {
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
    }
}

/// How many lines after a mark make up the first invocation that STARTs there: through its
/// REPORT line.
fn through_report(lines: &[LogLine]) -> Option<usize> {
    let start = lines.iter().position(is_start)?;
    let report = lines[start..].iter().position(is_report)?;
    Some(start + report + 1)
}

fn is_start(line: &LogLine) -> bool {
    line.text.starts_with("START RequestId:")
}

fn is_report(line: &LogLine) -> bool {
    line.text.starts_with("REPORT RequestId:")
}

/// RIE's own informational lines (`[INFO] (rapid) ...` on stderr) say nothing about the case.
fn is_rie_info(line: &LogLine) -> bool {
    line.stream == LogStream::Stderr && line.text.contains("[INFO] (rapid)")
}

#[cfg(test)]
mod tests {
    use super::*;

    // Regression: a late REPORT of the previous invocation must not end the next one's logs.
    #[tokio::test]
    async fn invocations_are_matched_by_order_not_by_any_report() {
        let logs = Logs::ended_with(&[
            "REPORT RequestId: 0",
            "START RequestId: 1",
            "out",
            "END RequestId: 1",
            "REPORT RequestId: 1",
            "START RequestId: 2",
        ]);
        let wait = Duration::from_millis(10);
        assert_eq!(logs.wait_for(0, wait, through_report).await, Some(5));
        assert_eq!(logs.wait_for(5, wait, through_report).await, None);
    }

    #[tokio::test]
    async fn a_completed_invocation_claims_start_to_report() {
        let logs = Logs::ended_with(&[
            "spill",
            "START RequestId: 1",
            "out",
            "END RequestId: 1",
            "REPORT RequestId: 1",
            "later",
        ]);
        let (lines, next) = claim(&logs, 0, true).await;
        let texts: Vec<_> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            texts,
            vec![
                "START RequestId: 1",
                "out",
                "END RequestId: 1",
                "REPORT RequestId: 1"
            ]
        );
        assert_eq!(next, 5);
        let (rest, _) = claim(&logs, next, false).await;
        assert_eq!(rest.len(), 1);
    }

    #[tokio::test]
    async fn floods_keep_head_and_tail() {
        let many: Vec<String> = (0..MAX_LINES + 10).map(|i| format!("line {i}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let (lines, _) = claim(&Logs::ended_with(&refs), 0, false).await;
        assert_eq!(lines.len(), MAX_LINES + 1);
        assert_eq!(lines[MAX_LINES / 2].text, "[lambda-ci: 10 lines omitted]");
        assert_eq!(
            lines.last().unwrap().text,
            format!("line {}", MAX_LINES + 9)
        );
    }

    #[test]
    fn the_report_line_gives_handler_and_init_durations() {
        let line = |text: &str| LogLine {
            stream: LogStream::Stdout,
            text: text.into(),
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
}

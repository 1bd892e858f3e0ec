//! Follows a container's output and splits it into lines that invocations can claim.
//!
//! RIE writes `START`, the function's output, `END` and `REPORT` to stdout before it answers
//! the invocation, and only one invocation runs at a time, so the lines written between two
//! marks belong to the invocation between them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptions;
use futures_util::StreamExt;
use tokio::sync::Notify;

use super::Engine;

/// How long to wait for an invocation's REPORT line after RIE answered.
const REPORT_WAIT: Duration = Duration::from_secs(2);
/// The most log lines kept for one invocation: the first and last halves are kept.
pub const MAX_LINES: usize = 2000;

/// Which output stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStream {
    Stdout,
    Stderr,
}

/// One line of container output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub stream: LogStream,
    /// The line without its newline; invalid UTF-8 is replaced, never dropped.
    pub text: String,
}

#[derive(Default)]
struct Buffer {
    /// How many lines were claimed and dropped from the front; marks count from the start.
    base: usize,
    lines: Vec<LogLine>,
    partial: [Vec<u8>; 2],
    ended: bool,
}

impl Buffer {
    fn push(&mut self, stream: LogStream, bytes: &[u8]) {
        let slot = &mut self.partial[stream as usize];
        slot.extend_from_slice(bytes);
        while let Some(at) = slot.iter().position(|b| *b == b'\n') {
            let mut line: Vec<u8> = slot.drain(..=at).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            self.lines.push(LogLine {
                stream,
                text: String::from_utf8_lossy(&line).into_owned(),
            });
        }
    }

    /// The lines after absolute index `mark` that are still held.
    fn after(&self, mark: usize) -> &[LogLine] {
        let from = mark.saturating_sub(self.base).min(self.lines.len());
        &self.lines[from..]
    }

    fn flush(&mut self) {
        for stream in [LogStream::Stdout, LogStream::Stderr] {
            let rest = std::mem::take(&mut self.partial[stream as usize]);
            if !rest.is_empty() {
                self.lines.push(LogLine {
                    stream,
                    text: String::from_utf8_lossy(&rest).into_owned(),
                });
            }
        }
    }
}

/// The output of one container, collected in the background as it is written.
#[derive(Clone)]
pub struct Logs {
    buffer: Arc<Mutex<Buffer>>,
    notify: Arc<Notify>,
}

impl Logs {
    /// Starts following the container's stdout and stderr from its start.
    pub fn follow(engine: &Engine, id: &str) -> Logs {
        let logs = Logs {
            buffer: Arc::default(),
            notify: Arc::default(),
        };
        let options = LogsOptions {
            follow: true,
            stdout: true,
            stderr: true,
            ..Default::default()
        };
        let mut stream = engine.docker.logs(id, Some(options));
        let task_logs = logs.clone();
        tokio::spawn(async move {
            while let Some(Ok(chunk)) = stream.next().await {
                let (kind, bytes) = match chunk {
                    LogOutput::StdOut { message } | LogOutput::Console { message } => {
                        (LogStream::Stdout, message)
                    }
                    LogOutput::StdErr { message } => (LogStream::Stderr, message),
                    LogOutput::StdIn { .. } => continue,
                };
                task_logs.lock().push(kind, &bytes);
                task_logs.notify.notify_waiters();
            }
            let mut buffer = task_logs.lock();
            buffer.flush();
            buffer.ended = true;
            drop(buffer);
            task_logs.notify.notify_waiters();
        });
        logs
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buffer> {
        // A panic while holding the lock leaves lines that are still worth reading.
        self.buffer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The number of complete lines so far: a mark for [`Logs::since`].
    pub fn mark(&self) -> usize {
        let buffer = self.lock();
        buffer.base + buffer.lines.len()
    }

    /// Every line after `mark`, including an unfinished last line.
    pub fn since(&self, mark: usize) -> Vec<LogLine> {
        let buffer = self.lock();
        let mut lines = buffer.after(mark).to_vec();
        for stream in [LogStream::Stdout, LogStream::Stderr] {
            let rest = &buffer.partial[stream as usize];
            if !rest.is_empty() {
                lines.push(LogLine {
                    stream,
                    text: String::from_utf8_lossy(rest).into_owned(),
                });
            }
        }
        lines
    }

    /// Waits for the REPORT line of the first invocation that STARTs after `mark` (RIE's START
    /// and END/REPORT ids may differ, so lines are matched by order, not id). Returns the mark
    /// just past that REPORT, or `None` if it did not come within `limit` or the output ended.
    pub async fn wait_for_report(&self, mark: usize, limit: Duration) -> Option<usize> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.notify.notified();
            {
                let buffer = self.lock();
                let lines = buffer.after(mark);
                if let Some(start) = lines
                    .iter()
                    .position(|l| l.text.starts_with("START RequestId:"))
                    && let Some(report) = lines[start..]
                        .iter()
                        .position(|l| l.text.starts_with("REPORT RequestId:"))
                {
                    return Some(mark.max(buffer.base) + start + report + 1);
                }
                if buffer.ended {
                    return None;
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return None;
            }
        }
    }

    /// The log lines of the invocation that ran after `mark`, and the mark for the next one.
    /// A `completed` invocation (RIE answered 200) ends with its REPORT line, which RIE writes
    /// before answering; otherwise (502, lost connection) there is no REPORT and the output is
    /// taken once it settles. Claimed lines are released; at most [`MAX_LINES`] are kept.
    pub async fn claim_invocation(&self, mark: usize, completed: bool) -> (Vec<LogLine>, usize) {
        let end = if completed {
            self.wait_for_report(mark, REPORT_WAIT).await
        } else {
            None
        };
        let (mut lines, next) = match end {
            Some(end) => {
                let mut lines = self.since(mark);
                lines.truncate(end - mark.max(self.lock().base));
                // Output before START is the previous invocation's spill-over.
                let start = lines
                    .iter()
                    .position(|l| l.text.starts_with("START RequestId:"))
                    .unwrap_or(0);
                lines.drain(..start);
                (lines, end)
            }
            None => {
                self.settle(Duration::from_millis(100), Duration::from_secs(1))
                    .await;
                (self.since(mark), self.mark())
            }
        };
        self.release(next);
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

    /// Drops the lines before `mark`: they were claimed by an invocation, and a long-lived
    /// container must not hold its whole output in memory.
    pub fn release(&self, mark: usize) {
        let mut buffer = self.lock();
        let n = mark.saturating_sub(buffer.base).min(buffer.lines.len());
        buffer.lines.drain(..n);
        buffer.base += n;
    }

    /// Waits until no new output has come for `quiet`, at most `limit` in all.
    pub async fn settle(&self, quiet: Duration, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.notify.notified();
            if self.lock().ended {
                return;
            }
            let wake = (tokio::time::Instant::now() + quiet).min(deadline);
            if tokio::time::timeout_at(wake, notified).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_across_chunks() {
        let mut b = Buffer::default();
        b.push(LogStream::Stdout, b"START RequestId: 1\nhel");
        b.push(LogStream::Stderr, b"warn\n");
        b.push(LogStream::Stdout, b"lo\r\nEND RequestId: 1\n");
        b.push(
            LogStream::Stdout,
            b"REPORT RequestId: 1\tDuration: 1 ms\t\n",
        );
        b.push(LogStream::Stdout, b"\xff\xfe\n");
        let texts: Vec<_> = b.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            texts,
            vec![
                "START RequestId: 1",
                "warn",
                "hello",
                "END RequestId: 1",
                "REPORT RequestId: 1\tDuration: 1 ms\t",
                "\u{fffd}\u{fffd}"
            ]
        );
        assert_eq!(b.lines[1].stream, LogStream::Stderr);
    }

    fn logs_with(lines: &[&str]) -> Logs {
        let logs = Logs {
            buffer: Arc::default(),
            notify: Arc::default(),
        };
        for l in lines {
            logs.lock()
                .push(LogStream::Stdout, format!("{l}\n").as_bytes());
        }
        logs.lock().ended = true;
        logs
    }

    // Regression: a late REPORT of the previous invocation must not end the next one's logs.
    #[tokio::test]
    async fn invocations_are_matched_by_order_not_by_any_report() {
        let logs = logs_with(&[
            "REPORT RequestId: 0",
            "START RequestId: 1",
            "out",
            "END RequestId: 1",
            "REPORT RequestId: 1",
            "START RequestId: 2",
        ]);
        assert_eq!(
            logs.wait_for_report(0, Duration::from_millis(10)).await,
            Some(5)
        );
        assert_eq!(
            logs.wait_for_report(5, Duration::from_millis(10)).await,
            None
        );
    }

    #[tokio::test]
    async fn a_completed_invocation_claims_start_to_report() {
        let logs = logs_with(&[
            "spill",
            "START RequestId: 1",
            "out",
            "END RequestId: 1",
            "REPORT RequestId: 1",
            "later",
        ]);
        let (lines, next) = logs.claim_invocation(0, true).await;
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
        let (rest, _) = logs.claim_invocation(next, false).await;
        assert_eq!(rest.len(), 1);
    }

    #[tokio::test]
    async fn floods_keep_head_and_tail() {
        let many: Vec<String> = (0..MAX_LINES + 10).map(|i| format!("line {i}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let (lines, _) = logs_with(&refs).claim_invocation(0, false).await;
        assert_eq!(lines.len(), MAX_LINES + 1);
        assert_eq!(lines[MAX_LINES / 2].text, "[lambda-ci: 10 lines omitted]");
        assert_eq!(
            lines.last().unwrap().text,
            format!("line {}", MAX_LINES + 9)
        );
    }

    #[tokio::test]
    async fn released_lines_are_dropped_but_marks_stay_valid() {
        let logs = logs_with(&["a", "b", "c", "d"]);
        logs.release(2);
        assert_eq!(logs.lock().lines.len(), 2);
        assert_eq!(logs.mark(), 4);
        let texts: Vec<_> = logs.since(3).into_iter().map(|l| l.text).collect();
        assert_eq!(texts, vec!["d"]);
        assert_eq!(logs.since(0).len(), 2);
    }

    #[test]
    fn flush_keeps_an_unfinished_line() {
        let mut b = Buffer::default();
        b.push(LogStream::Stderr, b"panic: boom");
        assert!(b.lines.is_empty());
        b.flush();
        assert_eq!(b.lines[0].text, "panic: boom");
    }
}

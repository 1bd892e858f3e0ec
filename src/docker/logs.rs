//! Follows a container's output and splits it into lines, with marks so that a reader can
//! claim the lines written between two points and release them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptions;
use futures_util::StreamExt;
use tokio::sync::Notify;

use super::Engine;

/// Which output stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    Stdout,
    Stderr,
}

/// One line of container output.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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

    /// The unfinished last line of each stream.
    fn partial_lines(&self) -> impl Iterator<Item = LogLine> + '_ {
        [LogStream::Stdout, LogStream::Stderr]
            .into_iter()
            .filter(|stream| !self.partial[*stream as usize].is_empty())
            .map(|stream| LogLine {
                stream,
                text: String::from_utf8_lossy(&self.partial[stream as usize]).into_owned(),
            })
    }

    /// Turns the unfinished lines into lines: the output has ended.
    fn flush(&mut self) {
        let rest: Vec<LogLine> = self.partial_lines().collect();
        self.partial = Default::default();
        self.lines.extend(rest);
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

    /// Output that has already ended with `lines`, for tests of what reads it.
    #[cfg(test)]
    pub(crate) fn ended_with(lines: &[&str]) -> Logs {
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

    /// The number of complete lines so far: a mark for [`Logs::since`].
    pub fn mark(&self) -> usize {
        let buffer = self.lock();
        buffer.base + buffer.lines.len()
    }

    /// Every line after `mark`, including an unfinished last line.
    pub fn since(&self, mark: usize) -> Vec<LogLine> {
        let buffer = self.lock();
        let mut lines = buffer.after(mark).to_vec();
        lines.extend(buffer.partial_lines());
        lines
    }

    /// The complete lines from mark `from` up to mark `to`.
    pub fn between(&self, from: usize, to: usize) -> Vec<LogLine> {
        let buffer = self.lock();
        let lines = buffer.after(from);
        let n = to.saturating_sub(from.max(buffer.base)).min(lines.len());
        lines[..n].to_vec()
    }

    /// Waits until `find`, given the lines after `mark`, returns how many of them make up what
    /// the reader waits for; returns the mark just past them, or `None` if they did not come
    /// within `limit` or the output ended.
    pub async fn wait_for(
        &self,
        mark: usize,
        limit: Duration,
        find: impl Fn(&[LogLine]) -> Option<usize>,
    ) -> Option<usize> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.notify.notified();
            {
                let buffer = self.lock();
                if let Some(n) = find(buffer.after(mark)) {
                    return Some(mark.max(buffer.base) + n);
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

    #[tokio::test]
    async fn released_lines_are_dropped_but_marks_stay_valid() {
        let logs = Logs::ended_with(&["a", "b", "c", "d"]);
        logs.release(2);
        assert_eq!(logs.lock().lines.len(), 2);
        assert_eq!(logs.mark(), 4);
        let texts: Vec<_> = logs.since(3).into_iter().map(|l| l.text).collect();
        assert_eq!(texts, vec!["d"]);
        assert_eq!(logs.since(0).len(), 2);
        let texts: Vec<_> = logs.between(2, 3).into_iter().map(|l| l.text).collect();
        assert_eq!(texts, vec!["c"]);
    }

    #[tokio::test]
    async fn waiting_ends_at_what_was_found_or_at_the_end_of_output() {
        let logs = Logs::ended_with(&["a", "b", "c"]);
        let found = |lines: &[LogLine]| lines.iter().position(|l| l.text == "b").map(|i| i + 1);
        assert_eq!(
            logs.wait_for(0, Duration::from_millis(10), found).await,
            Some(2)
        );
        assert_eq!(
            logs.wait_for(2, Duration::from_millis(10), found).await,
            None
        );
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

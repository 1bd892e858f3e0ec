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
        // RIE writes its REPORT line without a newline; it is complete as written.
        if stream == LogStream::Stdout && slot.starts_with(b"REPORT RequestId:") {
            let line = std::mem::take(slot);
            self.lines.push(LogLine {
                stream,
                text: String::from_utf8_lossy(&line).into_owned(),
            });
        }
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
        self.lock().lines.len()
    }

    /// Every line after `mark`, including an unfinished last line.
    pub fn since(&self, mark: usize) -> Vec<LogLine> {
        let buffer = self.lock();
        let mut lines = buffer.lines.get(mark..).unwrap_or_default().to_vec();
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

    /// Waits until a line after `mark` satisfies `done`, the output ends, or `limit` passes.
    pub async fn wait_for(
        &self,
        mark: usize,
        limit: Duration,
        done: impl Fn(&LogLine) -> bool,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.notify.notified();
            {
                let buffer = self.lock();
                if buffer
                    .lines
                    .get(mark..)
                    .unwrap_or_default()
                    .iter()
                    .any(&done)
                {
                    return true;
                }
                if buffer.ended {
                    return false;
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return false;
            }
        }
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
    fn lines_are_split_across_chunks_and_report_needs_no_newline() {
        let mut b = Buffer::default();
        b.push(LogStream::Stdout, b"START RequestId: 1\nhel");
        b.push(LogStream::Stderr, b"warn\n");
        b.push(LogStream::Stdout, b"lo\r\nEND RequestId: 1\n");
        b.push(LogStream::Stdout, b"REPORT RequestId: 1\tDuration: 1 ms");
        b.push(LogStream::Stdout, b"START RequestId: 2\n\xff\xfe\n");
        let texts: Vec<_> = b.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            texts,
            vec![
                "START RequestId: 1",
                "warn",
                "hello",
                "END RequestId: 1",
                "REPORT RequestId: 1\tDuration: 1 ms",
                "START RequestId: 2",
                "\u{fffd}\u{fffd}"
            ]
        );
        assert_eq!(b.lines[1].stream, LogStream::Stderr);
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

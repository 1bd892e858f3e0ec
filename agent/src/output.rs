//! The container's output: the runtime's and the extensions' stdout and stderr, read from pipes
//! and written as they come to the agent's stdout, with the platform's lines (`START`, `END`,
//! `REPORT`...) between them in the order things happened. One stream, as the service's log
//! stream is one: the engine's attach stream keeps no order between a container's stdout and
//! stderr. Before a platform line is written, whatever was written before it is read out of
//! the pipes first, and an unfinished line is ended, so a runtime's last words before
//! `/response` always come before `END`, on a line of their own. Nothing is held back waiting
//! for a newline: a line of any length passes through. The agent's own diagnostics go to stderr.
//!
//! A platform line begins with the container's mark ([`mark`]: a separator and the key only the
//! agent and lambda-ci know, then ` `, or `>` for the line an invocation's logs begin with),
//! which lambda-ci requires and cuts off: a function that prints `REPORT RequestId: ...` writes
//! a line of its own output, not the platform's.

use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};

use tokio::io::unix::AsyncFd;

use crate::telemetry::{Kind, Telemetry};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

struct Source {
    id: u64,
    fd: Arc<AsyncFd<std::io::PipeReader>>,
    stream: Stream,
    /// Whose output it is, for telemetry's records.
    kind: Kind,
    /// What is written of a line telemetry has not been given yet.
    pending: Vec<u8>,
}

#[derive(Default)]
struct Inner {
    sources: Vec<Source>,
    next_id: u64,
    /// The source whose last write left a line unfinished.
    mid_line: Option<u64>,
}

#[derive(Default)]
pub struct Output {
    inner: Mutex<Inner>,
    pub telemetry: Arc<Telemetry>,
    /// What each platform line begins with, before its ` ` or `>`.
    mark: String,
}

/// What a platform line begins with in a container whose key is `key`, before its ` ` or `>`;
/// nothing without one.
pub fn mark(key: Option<&str>) -> String {
    key.map(lambda_ci_wire::mark).unwrap_or_default()
}

impl Output {
    /// Output whose platform lines begin with `mark`.
    pub fn new(mark: String) -> Output {
        Output {
            mark,
            ..Output::default()
        }
    }

    /// Forwards what is written to `reader`'s pipe to this process's `stream`, until the pipe's
    /// last writer closes it.
    pub fn follow(self: &Arc<Self>, reader: std::io::PipeReader, stream: Stream, kind: Kind) {
        if let Err(e) = set_nonblocking(&reader) {
            diagnose(&format!("cannot read the runtime's output: {e}"));
            return;
        }
        // SAFETY: the pipe's read end is owned by the AsyncFd for as long as it lives, and a
        // PipeReader's descriptor never changes.
        let registered =
            unsafe { AsyncFd::register_with_interest(reader, tokio::io::Interest::READABLE) };
        let fd = match registered {
            Ok(fd) => Arc::new(fd),
            Err(e) => {
                diagnose(&format!("cannot read the runtime's output: {e}"));
                return;
            }
        };
        let id = {
            let mut inner = self.lock();
            inner.next_id += 1;
            let id = inner.next_id;
            inner.sources.push(Source {
                id,
                fd: fd.clone(),
                stream,
                kind,
                pending: Vec::new(),
            });
            id
        };
        let output = self.clone();
        tokio::spawn(async move {
            loop {
                let Ok(mut guard) = fd.readable().await else {
                    break;
                };
                let ended = {
                    let mut inner = output.lock();
                    let Inner {
                        sources, mid_line, ..
                    } = &mut *inner;
                    let ended = match sources.iter_mut().find(|s| s.id == id) {
                        Some(source) => {
                            let ended = drain(source, mid_line, &output.telemetry);
                            if ended {
                                tell(source, &output.telemetry, true);
                            }
                            ended
                        }
                        None => true,
                    };
                    if ended {
                        sources.retain(|s| s.id != id);
                        end_line(mid_line);
                    }
                    ended
                };
                if ended {
                    break;
                }
                guard.clear_ready();
            }
        });
    }

    /// Writes a line of the platform's to stdout, after everything written before it.
    pub fn platform(&self, line: &str) {
        self.write_platform(line, lambda_ci_wire::PLAIN);
    }

    /// Writes the platform's line that an invocation's logs begin with: its `START`, or the
    /// `INIT_START` of a runtime started again inside it.
    pub fn opening(&self, line: &str) {
        self.write_platform(line, lambda_ci_wire::OPENING);
    }

    fn write_platform(&self, line: &str, kind: char) {
        let mut inner = self.lock();
        let Inner {
            sources, mid_line, ..
        } = &mut *inner;
        for source in sources.iter_mut() {
            drain(source, mid_line, &self.telemetry);
            tell(source, &self.telemetry, true);
        }
        end_line(mid_line);
        let mut out = std::io::stdout().lock();
        if !self.mark.is_empty() {
            let _ = write!(out, "{}{kind}", self.mark);
        }
        let _ = out.write_all(line.as_bytes());
        let _ = out.write_all(b"\n");
        let _ = out.flush();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Reads what the pipe holds now and writes it, on a line of its own when another source left
/// one unfinished; true at end of file.
fn drain(source: &mut Source, mid_line: &mut Option<u64>, telemetry: &Telemetry) -> bool {
    let mut buf = [0u8; 64 * 1024];
    loop {
        match source.fd.get_ref().read(&mut buf) {
            Ok(0) => return true,
            Ok(n) => {
                if mid_line.is_some_and(|other| other != source.id) {
                    end_line(mid_line);
                }
                write(source.stream, &buf[..n]);
                *mid_line = (buf[n - 1] != b'\n').then_some(source.id);
                if telemetry.wants(source.kind) {
                    source.pending.extend_from_slice(&buf[..n]);
                    tell(source, telemetry, false);
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return true,
        }
    }
}

/// Gives telemetry the finished lines of `source`, and with `all` the unfinished one too.
fn tell(source: &mut Source, telemetry: &Telemetry, all: bool) {
    let mut start = 0;
    while let Some(at) = source.pending[start..].iter().position(|b| *b == b'\n') {
        let line = &source.pending[start..start + at];
        telemetry.line(source.kind, &String::from_utf8_lossy(line));
        start += at + 1;
    }
    source.pending.drain(..start);
    if (all || source.pending.len() > 256 * 1024) && !source.pending.is_empty() {
        let line = std::mem::take(&mut source.pending);
        telemetry.line(source.kind, &String::from_utf8_lossy(&line));
    }
}

/// Ends an unfinished line: what follows starts a line of its own.
fn end_line(mid_line: &mut Option<u64>) {
    if mid_line.take().is_some() {
        write(Stream::Stdout, b"\n");
    }
}

fn write(_from: Stream, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes).and_then(|()| out.flush());
}

/// The agent's own diagnostics, on stderr, marked so they are told apart from the function's.
pub fn diagnose(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "[lambda-ci agent] {message}");
}

fn set_nonblocking(reader: &std::io::PipeReader) -> std::io::Result<()> {
    let fd = reader.as_raw_fd();
    // SAFETY: fcntl on a descriptor this process owns, with no pointers involved.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

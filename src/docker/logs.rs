//! Reads a container's output as it is written and keeps it in bounded windows: the reader
//! watches one window at a time (an invocation), whose first and last lines are kept and whose
//! every line is shown to the reader's matchers on the way.
//!
//! The output is read by attaching to the container before it starts, not from the engine's
//! log file: a json-file log that rotates under a following reader loses lines, and Docker
//! 20.10's follower stops delivering anything after a rotation it fell behind. An attached
//! reader gets every byte, and a slow one holds the container's writes back instead.
//! What a line means (where a window opens and closes, what is noise) is the reader's
//! [`Framing`]: this module knows nothing of what runs in the container.

mod lines;
mod window;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bollard::container::LogOutput;
use bollard::query_parameters::AttachContainerOptions;
use futures_util::StreamExt;
use tokio::sync::Notify;

use super::Engine;
use lines::{Line, Splitter};
use window::Window;

pub use crate::lines::{LINE_BYTES, LogLine, LogStream, Matcher};
pub use lines::READ_BYTES;
pub use window::{KEPT_LINES, Taken};

/// What a line means to the windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Opens a watched window: what came before it in the window is dropped.
    Opens,
    /// Closes the window it opened: what follows goes to the next one.
    Closes,
    /// Left out of a watched window.
    Noise,
    Plain,
}

/// What the lines of a container's output mean.
pub trait Framing: Send + Sync {
    fn role(&self, stream: LogStream, text: &str) -> Role;
    /// Where, in the end of a line, a line of the framing starts that was written right after
    /// output with no newline (and so shares its line); never at 0.
    fn glued(&self, stream: LogStream, end: &[u8]) -> Option<usize>;
    /// How many of a line's first bytes are the framing's own mark, cut off once its role is
    /// known: lines that only the framing's writer can begin so.
    fn mark(&self, _stream: LogStream, _start: &[u8]) -> usize {
        0
    }
}

struct State {
    splitter: Splitter,
    framing: Arc<dyn Framing>,
    /// The window being filled, or closed and waiting to be taken.
    current: Window,
    /// What comes after `current` closed.
    next: Option<Window>,
    ended: bool,
}

impl State {
    fn new(framing: Arc<dyn Framing>) -> State {
        State {
            splitter: Splitter::default(),
            framing,
            current: Window::default(),
            next: None,
            ended: false,
        }
    }

    fn push(&mut self, stream: LogStream, bytes: &[u8]) {
        let mut splitter = std::mem::take(&mut self.splitter);
        splitter.push(stream, bytes, &mut |line| self.route(line));
        self.splitter = splitter;
    }

    /// The output ended, or an unfinished line is needed now: it becomes a line.
    fn flush(&mut self) {
        let mut splitter = std::mem::take(&mut self.splitter);
        splitter.flush(&mut |line| self.route(line));
        self.splitter = splitter;
    }

    fn route(&mut self, mut line: Line) {
        let glued = self.framing.glued(line.stream, line.tail());
        if let Some(at) = glued.filter(|at| *at > 0) {
            let (text, framing) = line.split_end(at);
            self.route(text);
            self.route(framing);
            return;
        }
        let role = self
            .framing
            .role(line.stream, &String::from_utf8_lossy(&line.bytes));
        let mark = self.framing.mark(line.stream, &line.bytes);
        line.cut_start(mark);
        line.platform = mark > 0;
        let window = if self.current.is_closed() {
            self.next.get_or_insert_with(Window::default)
        } else {
            &mut self.current
        };
        window.push(line, role);
    }
}

/// The output of one container, read in the background as it is written.
#[derive(Clone)]
pub struct Logs {
    state: Arc<Mutex<State>>,
    notify: Arc<Notify>,
}

impl Logs {
    /// Attaches to the container's stdout and stderr; call it before the container starts so
    /// that nothing it writes is missed.
    pub async fn attach(
        engine: &Engine,
        id: &str,
        framing: Arc<dyn Framing>,
    ) -> Result<Logs, bollard::errors::Error> {
        let options = AttachContainerOptions {
            stream: true,
            stdout: true,
            stderr: true,
            ..Default::default()
        };
        let attached = engine.docker.attach_container(id, Some(options)).await?;
        let logs = Logs::new(framing);
        let task_logs = logs.clone();
        let (mut output, input) = (attached.output, attached.input);
        tokio::spawn(async move {
            // Held so that the connection stays whole while output is read.
            let _input = input;
            while let Some(Ok(chunk)) = output.next().await {
                let (stream, bytes) = match chunk {
                    LogOutput::StdOut { message } | LogOutput::Console { message } => {
                        (LogStream::Stdout, message)
                    }
                    LogOutput::StdErr { message } => (LogStream::Stderr, message),
                    LogOutput::StdIn { .. } => continue,
                };
                task_logs.lock().push(stream, &bytes);
                task_logs.notify.notify_waiters();
            }
            let mut state = task_logs.lock();
            state.flush();
            state.ended = true;
            drop(state);
            task_logs.notify.notify_waiters();
        });
        Ok(logs)
    }

    fn new(framing: Arc<dyn Framing>) -> Logs {
        Logs {
            state: Arc::new(Mutex::new(State::new(framing))),
            notify: Arc::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves lines that are still worth reading.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Output that has already ended after `chunks`, for tests of what reads it.
    #[cfg(test)]
    pub(crate) fn ended_with(framing: Arc<dyn Framing>, chunks: &[(LogStream, &str)]) -> Logs {
        let logs = Logs::new(framing);
        let mut state = logs.lock();
        for (stream, chunk) in chunks {
            state.push(*stream, chunk.as_bytes());
        }
        state.flush();
        state.ended = true;
        drop(state);
        logs
    }

    /// Output that is still being written, and a way to write more, for tests.
    #[cfg(test)]
    pub(crate) fn written(framing: Arc<dyn Framing>) -> (Logs, impl Fn(LogStream, &str)) {
        let logs = Logs::new(framing);
        let writer = logs.clone();
        let write = move |stream: LogStream, chunk: &str| {
            writer.lock().push(stream, chunk.as_bytes());
            writer.notify.notify_waiters();
        };
        (logs, write)
    }

    /// Starts watching the output that comes next, with `matchers`; what was written before
    /// and not yet taken is dropped.
    pub fn watch(&self, matchers: Vec<Matcher>) {
        let mut state = self.lock();
        if !state.current.opened {
            state.current = Window::default();
            state.next = None;
        }
        state.current.arm(matchers);
    }

    /// Waits until the window closes, at most `limit`; whether it did.
    pub async fn closed(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.notify.notified();
            {
                let state = self.lock();
                if state.current.is_closed() {
                    return true;
                }
                if state.ended {
                    return false;
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return false;
            }
        }
    }

    /// Takes the window: through its closing line (changed by `amend`) if it closed, else
    /// everything so far with any unfinished line. What follows goes to a new window.
    pub fn take(&self, amend: impl FnOnce(&mut String)) -> Taken {
        let mut state = self.lock();
        if !state.current.is_closed() {
            state.flush();
        }
        let next = state.next.take().unwrap_or_default();
        std::mem::replace(&mut state.current, next).take(amend)
    }

    /// What the window holds so far, with any unfinished line, leaving it in place: what a
    /// container wrote before it failed to boot.
    pub fn so_far(&self) -> Vec<LogLine> {
        let mut state = self.lock();
        state.flush();
        state.current.lines()
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

    /// `<` opens, `>` closes, `~` is noise; `|` glued at the end of a line is framing.
    struct Marks;

    impl Framing for Marks {
        fn role(&self, _: LogStream, text: &str) -> Role {
            match text.chars().next() {
                Some('<') => Role::Opens,
                Some('>') => Role::Closes,
                Some('~') => Role::Noise,
                _ => Role::Plain,
            }
        }

        fn glued(&self, _: LogStream, end: &[u8]) -> Option<usize> {
            end.iter().position(|b| *b == b'>').filter(|at| *at > 0)
        }
    }

    fn texts(taken: &Taken) -> Vec<&str> {
        taken.lines.iter().map(|l| l.text.as_str()).collect()
    }

    #[tokio::test]
    async fn windows_follow_one_another_and_glued_framing_is_split_off() {
        let (logs, write) = Logs::written(Arc::new(Marks));
        logs.watch(vec![Box::new(|t: &str| t == "b")]);
        write(LogStream::Stdout, "spill\n<1\na\nno newline>1\nafter\n");
        assert!(logs.closed(Duration::from_millis(10)).await);
        let first = logs.take(|t| t.push_str(" amended"));
        assert_eq!(texts(&first), vec!["<1", "a", "no newline", ">1 amended"]);
        assert!(first.closed);
        assert_eq!(first.found, vec![None]);
        // Output between windows is dropped once the next one is watched.
        logs.watch(vec![Box::new(|t: &str| t == "b")]);
        write(LogStream::Stdout, "<2\nb\nunfinish");
        assert!(!logs.closed(Duration::from_millis(10)).await);
        let second = logs.take(|_| {});
        assert_eq!(texts(&second), vec!["<2", "b", "unfinish"]);
        assert_eq!(second.found, vec![Some("b".into())]);
        assert!(!second.closed);
    }

    #[tokio::test]
    async fn what_a_failed_boot_wrote_is_all_there_and_stays() {
        let logs = Logs::ended_with(
            Arc::new(Marks),
            &[(LogStream::Stderr, "~info\n"), (LogStream::Stdout, "panic")],
        );
        let texts = |lines: Vec<LogLine>| lines.into_iter().map(|l| l.text).collect::<Vec<_>>();
        assert_eq!(texts(logs.so_far()), vec!["~info", "panic"]);
        assert_eq!(texts(logs.so_far()), vec!["~info", "panic"]);
        assert!(!logs.closed(Duration::from_millis(10)).await);
    }
}

//! What `serve` shows: each function's URL, its containers booting, every log line as it is
//! written (prefixed with the function's name, in a colour per function on a terminal), one
//! line per call, and SDK retries that ran a handler twice.

use std::io::Write;
use std::sync::{Arc, RwLock};

use owo_colors::{AnsiColors, OwoColorize};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::event::{Event, EventKind};
use crate::lines::Matcher;
use crate::redact::Redactor;
use crate::report::visible;

const COLORS: [AnsiColors; 6] = [
    AnsiColors::Cyan,
    AnsiColors::Magenta,
    AnsiColors::Yellow,
    AnsiColors::Green,
    AnsiColors::Blue,
    AnsiColors::Red,
];

/// Writes `serve`'s lines to stdout, one whole line at a time.
#[derive(Clone)]
pub struct Printer {
    color: bool,
    /// The longest function name, so that prefixes line up.
    width: usize,
    names: Arc<Vec<String>>,
    /// The secrets of every function served: no printed line shows them.
    redactor: Arc<RwLock<Redactor>>,
}

impl Printer {
    pub fn new(names: Vec<String>) -> Printer {
        let color =
            anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never;
        Printer {
            color,
            width: names.iter().map(String::len).max().unwrap_or(0),
            names: Arc::new(names),
            redactor: Arc::default(),
        }
    }

    /// Keeps `secrets` out of every line printed from now on.
    pub fn redact(&self, secrets: &[(String, String)]) {
        *self.redactor.write().unwrap_or_else(|e| e.into_inner()) = Redactor::new(secrets);
    }

    /// `name`, padded, in its colour.
    fn prefix(&self, name: &str) -> String {
        let padded = format!("{:width$}", visible(name), width = self.width);
        if !self.color {
            return padded;
        }
        let i = self.names.iter().position(|n| n == name).unwrap_or(0);
        padded.color(COLORS[i % COLORS.len()]).to_string()
    }

    /// One line, its secrets redacted.
    pub fn line(&self, text: &str) {
        let redactor = self.redactor.read().unwrap_or_else(|e| e.into_inner());
        let clean = redactor.find_and_replace(text);
        let text = clean.as_deref().unwrap_or(text);
        let mut out = std::io::stdout().lock();
        // A closed stdout (`| head`) must not stop the server.
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }

    /// One line of `name`'s.
    pub fn of(&self, name: &str, text: &str) {
        self.line(&format!("{} {text}", self.prefix(name)));
    }

    /// What prints an invocation's log lines of `name` as they are written.
    pub fn tap(&self, name: &str) -> Matcher {
        let (me, name) = (self.clone(), name.to_string());
        Box::new(move |line: &str| {
            me.of(&name, &format!("| {}", visible(line)));
            false
        })
    }

    /// Prints what the runner says while serving: images, containers booting, warnings.
    pub async fn events(self, mut events: UnboundedReceiver<Event>) {
        while let Some(event) = events.recv().await {
            match event.kind {
                EventKind::ImagePulling(p) if p.current == 0 => {
                    self.line(&format!("pulling {}", p.image));
                }
                EventKind::ImageBuilt { image, cached, .. } if !cached => {
                    self.line(&format!("built {image}"));
                }
                EventKind::RuntimeApiFallback { reason } => {
                    self.line(&format!("runtime API: {reason}"));
                }
                EventKind::ArtifactsDelivered { copied, reason } => {
                    let how = if copied {
                        "copied into each container"
                    } else {
                        "bind-mounted read-only"
                    };
                    self.line(&format!("code and layers: {how} ({reason})"));
                }
                EventKind::ContainerStarting { worker, in_place } => {
                    let f = &worker.suite.function;
                    if in_place {
                        self.of(f, "restarting the runtime in its container (new code)");
                    } else {
                        self.of(f, &format!("booting a container ({})", worker.suite.image));
                    }
                }
                EventKind::ContainerReady { worker, took, .. } => {
                    let f = &worker.suite.function;
                    self.of(f, &format!("ready in {} ms", took.as_millis()));
                }
                EventKind::ContainerFailed {
                    worker,
                    message,
                    logs,
                } => {
                    let f = &worker.suite.function;
                    self.of(f, &format!("error: {message}"));
                    for line in logs {
                        self.of(f, &format!("| {}", visible(&line.text)));
                    }
                }
                EventKind::Warning { suite, message } => {
                    self.of(&suite.function, &format!("warning: {message}"));
                }
                _ => {}
            }
        }
    }
}

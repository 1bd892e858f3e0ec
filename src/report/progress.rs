//! The console's live area on stderr: one status line (what is checked, booting and running,
//! cases done of all, elapsed) and one bar per image being pulled, so that pulls of different
//! images show side by side. Off a terminal it prints plain status lines instead, or nothing.

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::docker::PullProgress;

/// How progress (image checks, boots) is shown on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// A spinner on a terminal; plain lines when stderr is not one.
    Interactive,
    /// Plain lines always: in a CI log, where workflow commands must start their line.
    Plain,
    /// None.
    Off,
}

/// The live area: a status line and the bars of the pulls under way.
pub(super) struct LiveArea {
    multi: MultiProgress,
    status: ProgressBar,
    pulls: HashMap<String, ProgressBar>,
    /// Whether status lines are printed plainly (stderr is not a terminal).
    plain: bool,
}

impl LiveArea {
    pub(super) fn new(progress: Progress) -> LiveArea {
        let target = match progress {
            Progress::Interactive => ProgressDrawTarget::stderr(),
            Progress::Plain | Progress::Off => ProgressDrawTarget::hidden(),
        };
        let multi = MultiProgress::with_draw_target(target);
        let status = multi.add(ProgressBar::new_spinner());
        let plain = match progress {
            Progress::Interactive => multi.is_hidden(),
            Progress::Plain => true,
            Progress::Off => false,
        };
        LiveArea {
            multi,
            status,
            pulls: HashMap::new(),
            plain,
        }
    }

    /// Whether status is printed as plain lines.
    pub(super) fn plain(&self) -> bool {
        self.plain
    }

    /// Whether a live area is drawn on a terminal.
    pub(super) fn drawn(&self) -> bool {
        !self.plain && !self.multi.is_hidden()
    }

    /// Says what is happening: on the status line, or as a plain line.
    pub(super) fn status(&self, message: String) {
        if self.plain {
            // A closed stderr (`2>&1 | head`) must not stop the run.
            let _ = writeln!(std::io::stderr(), "{message}");
        } else {
            self.spin("{spinner} {msg}", message);
        }
    }

    /// The status line alone, never printed plainly.
    pub(super) fn live(&self, message: String) {
        self.spin("{spinner} {elapsed} {msg}", message);
    }

    fn spin(&self, template: &str, message: String) {
        self.status
            .set_style(ProgressStyle::with_template(template).expect("static template"));
        self.status.enable_steady_tick(Duration::from_millis(100));
        self.status.set_message(message);
    }

    /// Clears the status line's message.
    pub(super) fn idle(&self) {
        self.status.set_message("");
    }

    /// Moves the bar of `p`'s image, adding it on its first progress.
    pub(super) fn pulling(&mut self, p: &PullProgress) {
        if self.plain {
            return;
        }
        let multi = &self.multi;
        let bar = self.pulls.entry(p.image.clone()).or_insert_with(|| {
            let bar = multi.insert_before(&self.status, ProgressBar::new_spinner());
            bar.enable_steady_tick(Duration::from_millis(100));
            bar.set_message(p.image.clone());
            bar
        });
        if p.total > 0 {
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} pulling {msg} {bytes}/{total_bytes} {wide_bar}",
                )
                .expect("static template"),
            );
            bar.set_length(p.total);
            bar.set_position(p.current);
        }
    }

    /// Takes away the bar of a pull that ended.
    pub(super) fn pulled(&mut self, image: &str) {
        if let Some(bar) = self.pulls.remove(image) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
    }

    /// How many pull bars are shown.
    #[cfg(test)]
    pub(super) fn pull_bars(&self) -> usize {
        self.pulls.len()
    }

    /// Runs `f` with the live area hidden, so that what it writes never mixes with it.
    pub(super) fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.multi.suspend(f)
    }

    /// Writes `line` to stderr above the live area.
    pub(super) fn println(&self, line: &str) {
        self.suspend(|| writeln!(std::io::stderr(), "{line}")).ok();
    }

    /// Takes the live area away for good.
    pub(super) fn clear(&mut self) {
        for (_, bar) in self.pulls.drain() {
            bar.finish_and_clear();
        }
        self.status.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(image: &str, current: u64) -> PullProgress {
        PullProgress {
            image: image.into(),
            current,
            total: 100,
            status: "Downloading".into(),
        }
    }

    #[test]
    fn each_image_pulled_has_a_bar_of_its_own_until_its_pull_ends() {
        let mut area = LiveArea::new(Progress::Off);
        area.pulling(&progress("a:1", 10));
        area.pulling(&progress("b:1", 20));
        area.pulling(&progress("a:1", 30));
        assert_eq!(area.pull_bars(), 2);
        assert_eq!(area.pulls["a:1"].position(), 30);
        area.pulled("a:1");
        assert_eq!(area.pull_bars(), 1);
        area.clear();
        assert_eq!(area.pull_bars(), 0);
    }

    #[test]
    fn plain_status_draws_no_bars() {
        let mut area = LiveArea::new(Progress::Plain);
        area.pulling(&progress("a:1", 10));
        assert_eq!(area.pull_bars(), 0);
    }
}

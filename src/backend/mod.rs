//! The seam between the runner and the places a function runs. A [`Backend`] prepares what a
//! function's instances need (once per session) and boots them; an [`Instance`] takes one
//! invocation at a time, with that invocation's log lines, can start its runtime again in
//! place, and is retired. The runner, `serve` and `watch` know a function only through these;
//! the first backend is [`container`] (a local container, with lambda-ci's agent or RIE); a
//! deployed function reached over the Invoke API and a host process are the next.

pub mod container;
pub mod target;

use std::future::Future;
use std::pin::Pin;

use crate::event::EventKind;
use crate::lines::LogLine;
use crate::plan::WorkerId;
use crate::suite::check::LogRule;
use crate::suite::{InvokeContext, Suite};

pub use crate::worker::{Invocation, Kept, Pieces, Ready, Taps};

/// A future a backend returns, boxed so that the backend can be chosen when the run starts.
pub type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A booted instance and how its boot went; or why it could not be booted.
pub type Booted = Result<(Box<dyn Instance>, Ready), Failed>;

/// Where a backend says what it does (an image pulled, how artifacts are delivered).
pub type Say<'a> = &'a (dyn Fn(EventKind) + Send + Sync);

/// Why a function cannot be had at all: its whole message with the fix, and a few words that
/// later cases refer to it by.
#[derive(Debug, Clone)]
pub struct Problem {
    pub full: String,
    pub brief: String,
}

/// Why an instance could not be booted: what to tell, and what it wrote meanwhile.
#[derive(Debug, Clone, Default)]
pub struct Failed {
    pub message: String,
    pub logs: Vec<LogLine>,
}

/// Where a session's functions run.
pub trait Backend: Send + Sync {
    /// What `suite`'s function shares its preparation with (its image): functions with the
    /// same key share one problem, told in full once.
    fn shares(&self, suite: &Suite) -> String;

    /// Starts, as the run begins, what its functions will need (a network), so that the first
    /// boot does not wait for it.
    fn begin(&self, suites: &[Suite]);

    /// Makes ready what every instance of `suite`'s function needs, once per session, said on
    /// `say`; or why it cannot be.
    fn prepare<'a>(&'a self, suite: &'a Suite, say: Say<'a>) -> Boxed<'a, Result<(), Problem>>;

    /// What to warn of once `suite`'s function is ready (it runs under emulation).
    fn warning<'a>(&'a self, suite: &'a Suite) -> Boxed<'a, Option<String>>;

    /// Boots instance `id` of `suite`'s (prepared) function and waits until it answers.
    fn boot<'a>(&'a self, suite: &'a Suite, id: WorkerId, say: Say<'a>) -> Boxed<'a, Booted>;

    /// Whether `suite`'s instances can start its runtime again in place (see
    /// [`Instance::reload`]); so can a function with none yet.
    fn reloads_in_place(&self, suite: &Suite) -> bool;

    /// Forgets what was prepared for `suite`'s function alone, so that the next plan makes it
    /// anew from the files as they now are.
    fn forget(&self, suite: &Suite);
}

/// One running instance of a function; it takes one invocation at a time (`&mut self`).
pub trait Instance: Send {
    /// Sends one payload and classifies what comes back, with the invocation's log lines;
    /// each of `rules` sees every line as it is written, and so do `taps`.
    fn invoke<'a>(
        &'a mut self,
        payload: &'a [u8],
        context: &'a InvokeContext,
        rules: &'a [&'a LogRule],
        taps: Taps,
    ) -> Boxed<'a, Invocation>;

    /// Whether [`Instance::reload`] gives the function a new execution environment from its
    /// code as it now is.
    fn reloads_in_place(&self) -> bool;

    /// A new execution environment in the same instance, as a new deployment gets; returns
    /// once its init is over.
    fn reload(&mut self) -> Boxed<'_, Result<Ready, String>>;

    /// Removes the instance and boots a fresh one, as `id`: after a lost connection an
    /// invocation may still be in flight in the old one.
    fn replace(self: Box<Self>, id: WorkerId) -> Boxed<'static, Booted>;

    /// Ends the instance: removed in the background, or with `keep` left running (then how
    /// to reach it).
    fn retire(self: Box<Self>, keep: bool) -> Option<Kept>;
}

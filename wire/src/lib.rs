//! The contract between lambda-ci and its agent (PID 1 of a function's container), written
//! once for both sides: the paths the agent answers, the headers each side sends, the agent's
//! flags and ports, what an invocation amounted to, and the mark on the platform's log lines.

/// The invoke path, as RIE and the Invoke API's local emulators serve it.
pub const INVOKE_PATH: &str = "/2015-03-31/functions/function/invocations";
/// Answers 200 once the init phase is over, 503 before.
pub const READY_PATH: &str = "/lambda-ci/ready";
/// Begins the init of an agent told to hold it ([`HOLD_INIT`]).
pub const INIT_PATH: &str = "/lambda-ci/init";
/// Ends the execution environment as a new deployment does (the runtime and extensions shut
/// down, `/tmp` emptied) and starts a new one from the code as it now is; answered once its
/// init phase is over, with [`RELOADED_HEADER`] saying how long the agent's own part took.
pub const RELOAD_PATH: &str = "/lambda-ci/reload";
/// Milliseconds, as a decimal: the reload's own part, from the call to the new init's start.
pub const RELOADED_HEADER: &str = "lambda-ci-reloaded-ms";

/// The header in which the agent says what an invocation amounted to ([`Outcome`]).
pub const OUTCOME_HEADER: &str = "lambda-ci-outcome";
/// The header in which lambda-ci shows the container's key on every call.
pub const KEY_HEADER: &str = "lambda-ci-key";
/// The runtime's content type of a streamed response.
pub const CONTENT_TYPE_HEADER: &str = "lambda-ci-content-type";

/// The variable that gives the agent its container's key; no process it starts sees it.
pub const KEY_ENV: &str = "LAMBDA_CI_KEY";

/// The port the agent answers on in a container of its own network.
pub const INVOKE_PORT: u16 = 8080;
/// The Runtime API's port in a container of its own network.
pub const RUNTIME_PORT: u16 = 9001;

/// `--handler H`: `_HANDLER` for the runtime, when the entrypoint does not set it.
pub const HANDLER: &str = "--handler";
/// `--runtime-version V`: the version `INIT_START` names.
pub const RUNTIME_VERSION: &str = "--runtime-version";
/// `--hold-init`: start the runtime only when told to ([`INIT_PATH`]) or by an invocation.
pub const HOLD_INIT: &str = "--hold-init";
/// `--hide NAME`: a variable of the container the runtime and extensions must not see.
pub const HIDE: &str = "--hide";
/// `--ports INVOKE,RUNTIME`: on the host's network, the two ports to listen on, on loopback.
pub const PORTS: &str = "--ports";

/// What an invocation amounted to, as the agent says it in [`OUTCOME_HEADER`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The runtime posted a response.
    Response,
    /// The runtime posted a response streamed in framed pieces.
    Stream,
    /// The handler raised: the runtime posted an error.
    Error,
    /// The init phase failed, and so the invocation.
    InitError,
    /// The function's timeout passed.
    Timeout,
    /// The runtime exited during the invocation.
    Exit,
    /// The response was larger than the service takes.
    TooLarge,
}

impl Outcome {
    const NAMED: [(Outcome, &'static str); 7] = [
        (Outcome::Response, "response"),
        (Outcome::Stream, "stream"),
        (Outcome::Error, "error"),
        (Outcome::InitError, "init-error"),
        (Outcome::Timeout, "timeout"),
        (Outcome::Exit, "exit"),
        (Outcome::TooLarge, "too-large"),
    ];

    /// The word the header carries.
    pub fn as_str(self) -> &'static str {
        Self::NAMED
            .iter()
            .find(|(o, _)| *o == self)
            .map_or("exit", |(_, word)| word)
    }

    /// The outcome a header's word names.
    pub fn parse(word: &str) -> Option<Outcome> {
        Self::NAMED
            .iter()
            .find(|(_, w)| *w == word)
            .map(|(o, _)| *o)
    }
}

/// The separator that begins a platform line's mark.
const MARK: char = '\u{1e}';
/// After the key: a platform line.
pub const PLAIN: char = ' ';
/// After the key: the line an invocation's logs begin with.
pub const OPENING: char = '>';

/// What a platform line begins with, before its [`PLAIN`] or [`OPENING`], in a container whose
/// key is `key`.
pub fn mark(key: &str) -> String {
    format!("{MARK}{key}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_reads_back_from_its_word() {
        for (outcome, word) in Outcome::NAMED {
            assert_eq!(outcome.as_str(), word);
            assert_eq!(Outcome::parse(word), Some(outcome));
        }
        assert_eq!(Outcome::parse("nope"), None);
        assert!(mark("k").starts_with('\u{1e}'));
        // Header names as `http` takes them from a static string: lowercase.
        for header in [
            OUTCOME_HEADER,
            KEY_HEADER,
            CONTENT_TYPE_HEADER,
            RELOADED_HEADER,
        ] {
            assert_eq!(header, header.to_lowercase());
        }
    }
}

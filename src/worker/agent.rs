//! lambda-ci's agent (`agent/`) as a worker's way into its container: the static binary this
//! crate embeds, where it is written on this machine to be delivered like code, how a
//! container is made to start it in place of RIE, how its answers say what an invocation
//! amounted to, and how its output is framed.
//!
//! The agent answers the invoke path as the Invoke API does and says in `Lambda-Ci-Outcome`
//! which way the invocation went, so nothing is guessed from a body's shape: a handler that
//! returns `{"errorType": ..., "errorMessage": ...}` succeeded.

use std::path::Path;
use std::sync::Arc;

use super::endpoint::Answer;
use crate::docker::{Framing, LogStream, Role};
use crate::outcome::{Body, Outcome};
use crate::suite::Architecture;

/// The agent, built for [`TARGET`]; empty where none could be built.
static BINARY: &[u8] = include_bytes!(env!("LAMBDA_CI_AGENT"));

/// The target the agent was built for.
const TARGET: &str = env!("LAMBDA_CI_AGENT_TARGET");

/// Where the agent's directory is mounted in the container.
pub const DIR: &str = "/var/lambda-ci";
/// The agent's file name, in its directory on both sides.
const FILE: &str = "lambda-ci-agent";

use lambda_ci_wire::{self as wire, Outcome as Said};
pub use lambda_ci_wire::{INIT_PATH, KEY_ENV, KEY_HEADER, OUTCOME_HEADER as OUTCOME, READY_PATH};

/// Why a function's containers use RIE although lambda-ci's agent was asked for.
pub fn unavailable(architecture: Architecture) -> Option<String> {
    if BINARY.is_empty() {
        return Some(format!(
            "lambda-ci's agent is not built for this machine ({TARGET}); functions run under the base image's RIE"
        ));
    }
    let arch = TARGET.split('-').next().unwrap_or_default();
    let runs = match architecture {
        Architecture::X86_64 => arch == "x86_64",
        Architecture::Arm64 => arch == "aarch64",
    };
    (!runs).then(|| {
        format!(
            "{} functions run under the base image's RIE: lambda-ci's agent is built for {arch}",
            architecture.name()
        )
    })
}

/// A directory on this machine holding the agent, for one runner's containers: removed when
/// dropped, unless the runner keeps its containers (`--keep`), which may be started again.
pub struct OnDisk {
    dir: tempfile::TempDir,
}

impl OnDisk {
    /// Writes the agent into a fresh temporary directory.
    pub fn write(keep: bool) -> std::io::Result<OnDisk> {
        let mut dir = crate::scratch::dir("agent")?;
        let mode = |m| std::os::unix::fs::PermissionsExt::from_mode(m);
        std::fs::set_permissions(dir.path(), mode(0o755))?;
        let file = dir.path().join(FILE);
        std::fs::write(&file, BINARY)?;
        std::fs::set_permissions(&file, mode(0o755))?;
        if keep {
            dir.disable_cleanup(true);
        }
        Ok(OnDisk { dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// The container's entrypoint: the agent, told the command that starts the runtime.
pub fn entrypoint(
    handler: Option<&str>,
    runtime_version: Option<&str>,
    hidden: &[&str],
) -> Vec<String> {
    let mut entrypoint = vec![format!("{DIR}/{FILE}")];
    for name in hidden {
        entrypoint.extend([wire::HIDE.to_string(), name.to_string()]);
    }
    if let Some(handler) = handler {
        entrypoint.extend([wire::HANDLER.to_string(), handler.to_string()]);
    }
    if let Some(version) = runtime_version {
        entrypoint.extend([wire::RUNTIME_VERSION.to_string(), version.to_string()]);
    }
    entrypoint.push("--".into());
    entrypoint
}

/// Tells the agent of `entrypoint` (made by [`entrypoint`]) that its container shares the
/// host's network: it listens on the host's loopback, on two ports free now (the invoke port,
/// which is returned, and the Runtime API's), so that containers of one function do not
/// collide. Nothing isolates them there: any process of the host reaches both ports (the
/// invoke port asks for the key; a runtime's port cannot).
pub fn share_host_network(entrypoint: &mut Vec<String>) -> std::io::Result<u16> {
    // Both held until both are known, so the two differ.
    let invoke = free_port()?;
    let runtime = free_port()?;
    let (invoke, runtime) = (invoke.local_addr()?.port(), runtime.local_addr()?.port());
    entrypoint.insert(1, wire::PORTS.into());
    entrypoint.insert(2, format!("{invoke},{runtime}"));
    Ok(invoke)
}

/// A port of this machine's loopback, free now, bound: below the kernel's ephemeral range when
/// one is free there, so that between its release here and the agent's bind no connection or
/// `bind(0)` of another process is handed it.
fn free_port() -> std::io::Result<std::net::TcpListener> {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    if low > 20_000 {
        let mut seed = [0u8; 2];
        let _ = getrandom::fill(&mut seed);
        let span = low - 20_000;
        let start = u16::from_le_bytes(seed) % span;
        for step in 0..64u16 {
            let port = 20_000 + (start + step * 97) % span;
            if let Ok(listener) = std::net::TcpListener::bind(("127.0.0.1", port)) {
                return Ok(listener);
            }
        }
    }
    std::net::TcpListener::bind("127.0.0.1:0")
}

/// Tells the agent of `entrypoint` (made by [`entrypoint`]) to start the runtime only when
/// asked to, or by the first invocation.
pub fn hold_init(entrypoint: &mut Vec<String>) {
    entrypoint.insert(1, wire::HOLD_INIT.into());
}

/// `python:3.11` for `python3.11`: the runtime's name as `INIT_START` writes it.
pub fn runtime_version(runtime: &str) -> String {
    match runtime.find(|c: char| c.is_ascii_digit() || c == '.') {
        Some(at) if at > 0 => {
            let (name, version) = runtime.split_at(at);
            format!("{name}:{}", version.trim_start_matches('.'))
        }
        _ => runtime.to_string(),
    }
}

/// What an answer of the agent amounted to, as its `Lambda-Ci-Outcome` says.
pub fn outcome(answer: &Answer) -> Outcome {
    if let Some(stream) = &answer.stream
        && let Some((error_type, body)) = &stream.error
    {
        // A failure part way through a stream is a function error, its body the document.
        let doc = crate::json::parse(body.as_bytes()).ok();
        let message = doc
            .as_ref()
            .and_then(|d| d.get("errorMessage"))
            .and_then(|m| m.as_str())
            .map_or_else(|| body.clone(), str::to_string);
        return Outcome::FunctionError {
            error_type: error_type.clone(),
            message,
            body: doc.unwrap_or_else(|| serde_json::Value::String(body.clone())),
        };
    }
    let kind = match answer.outcome.as_deref().and_then(Said::parse) {
        Some(Said::Stream) => Some(Said::Response),
        other => other,
    };
    classify(kind, answer.status, &answer.body)
}

fn classify(outcome: Option<Said>, status: u16, body: &[u8]) -> Outcome {
    let document = || crate::json::parse(body).ok();
    let field = |doc: &Option<serde_json::Value>, key: &str| {
        doc.as_ref()
            .and_then(|d| d.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    match outcome {
        Some(Said::Response) => Outcome::Success {
            body: Body::parse(body),
        },
        Some(Said::Error | Said::InitError) => {
            let doc = document();
            Outcome::FunctionError {
                error_type: field(&doc, "errorType").unwrap_or_default(),
                message: field(&doc, "errorMessage").unwrap_or_default(),
                body: doc.unwrap_or_else(|| {
                    serde_json::Value::String(String::from_utf8_lossy(body).into_owned())
                }),
            }
        }
        Some(Said::Timeout) => {
            let message = field(&document(), "errorMessage").unwrap_or_default();
            // `RequestId: <id> Error: Task timed out after 3.00 seconds`: the part that says it.
            let message = match message.split_once(" Error: ") {
                Some((_, said)) => said.to_string(),
                None => message,
            };
            Outcome::Timeout { message }
        }
        _ => {
            let doc = document();
            Outcome::RuntimeFailure {
                status,
                error_type: field(&doc, "errorType"),
                message: field(&doc, "errorMessage"),
                body: Body::parse(body),
                out_of_memory: false,
            }
        }
    }
}

/// A fresh key for one container: 128 random bits, in hex.
pub fn new_key() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No entropy source: the time and this process still make a key no function can guess
        // before it runs.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
            ^ u128::from(std::process::id()) << 64;
        bytes = seed.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The agent's framing: it writes `START`, `REPORT` and its other platform lines on lines of
/// their own, each beginning with the container's mark (a separator and its key, which no
/// process in the container can read) and then ` `, or `>` on the line an invocation's logs
/// begin with (its `START`, or the `INIT_START` of a runtime started again inside it); and it
/// marks its own diagnostics on stderr, where no function's output goes. A function that prints
/// `START RequestId: ...` writes a plain line.
pub struct AgentFraming {
    mark: Vec<u8>,
}

impl AgentFraming {
    pub fn framing(key: &str) -> Arc<dyn Framing> {
        Arc::new(AgentFraming {
            mark: wire::mark(key).into_bytes(),
        })
    }

    /// The platform line's kind (` ` or `>`) and text, when `bytes` is one.
    fn platform<'a>(&self, stream: LogStream, bytes: &'a [u8]) -> Option<(u8, &'a [u8])> {
        let rest = bytes.strip_prefix(self.mark.as_slice())?;
        let (kind, text) = rest.split_first()?;
        let known = [wire::PLAIN, wire::OPENING].map(|c| c as u8);
        (stream == LogStream::Stdout && known.contains(kind)).then_some((*kind, text))
    }
}

impl Framing for AgentFraming {
    fn role(&self, stream: LogStream, text: &str) -> Role {
        match self.platform(stream, text.as_bytes()) {
            Some((kind, _)) if kind == wire::OPENING as u8 => Role::Opens,
            Some((_, line)) if line.starts_with(b"REPORT RequestId:") => Role::Closes,
            Some(_) => Role::Plain,
            None if stream == LogStream::Stderr && text.starts_with("[lambda-ci agent] ") => {
                Role::Noise
            }
            None => Role::Plain,
        }
    }

    fn glued(&self, _: LogStream, _: &[u8]) -> Option<usize> {
        None
    }

    fn mark(&self, stream: LogStream, start: &[u8]) -> usize {
        match self.platform(stream, start) {
            Some(_) => self.mark.len() + 1,
            None => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_agent_says_what_an_invocation_amounted_to() {
        let shaped = br#"{"errorType": "X", "errorMessage": "y"}"#;
        assert_eq!(
            classify(Some(Said::Response), 200, shaped),
            Outcome::Success {
                body: Body::Json(json!({"errorType": "X", "errorMessage": "y"}))
            }
        );
        assert!(matches!(
            classify(Some(Said::Error), 200, shaped),
            Outcome::FunctionError { error_type, message, .. } if error_type == "X" && message == "y"
        ));
        let timeout = br#"{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: 1 Error: Task timed out after 3.00 seconds"}"#;
        assert_eq!(
            classify(Some(Said::Timeout), 200, timeout),
            Outcome::Timeout {
                message: "Task timed out after 3.00 seconds".into()
            }
        );
        let exit = br#"{"errorType":"Runtime.ExitError","errorMessage":"RequestId: 1 Error: Runtime exited with error: exit status 3"}"#;
        assert!(matches!(
            classify(Some(Said::Exit), 200, exit),
            Outcome::RuntimeFailure { error_type: Some(t), message: Some(m), .. }
                if t == "Runtime.ExitError" && m.ends_with("exit status 3")
        ));
    }

    // Regression: windows were cut on the text `START RequestId:` / `REPORT RequestId:`, so a
    // function that printed them framed the output of every later case on its container.
    #[test]
    fn only_lines_with_the_containers_mark_frame_an_invocation() {
        let framing = AgentFraming::framing("k3y");
        let out = LogStream::Stdout;
        let forged = "REPORT RequestId: 1\tDuration: 1.00 ms\t";
        assert_eq!(framing.role(out, forged), Role::Plain);
        assert_eq!(
            framing.role(out, "START RequestId: 1 Version: $LATEST"),
            Role::Plain
        );
        assert_eq!(framing.mark(out, forged.as_bytes()), 0);
        // A mark of another key is the function's too.
        assert_eq!(
            framing.role(out, "\u{1e}k3z>START RequestId: 1"),
            Role::Plain
        );
        let start = "\u{1e}k3y>START RequestId: 1 Version: $LATEST";
        assert_eq!(framing.role(out, start), Role::Opens);
        assert_eq!(framing.mark(out, start.as_bytes()), "\u{1e}k3y>".len());
        assert_eq!(
            framing.role(out, "\u{1e}k3y REPORT RequestId: 1\t"),
            Role::Closes
        );
        assert_eq!(framing.role(out, "\u{1e}k3y END RequestId: 1"), Role::Plain);
        // The init of a container's start is no invocation's; a runtime started again inside
        // one opens it.
        let init = "INIT_START Runtime Version: python:3.11";
        assert_eq!(framing.role(out, &format!("\u{1e}k3y {init}")), Role::Plain);
        assert_eq!(framing.role(out, &format!("\u{1e}k3y>{init}")), Role::Opens);
        assert_eq!(
            framing.role(out, "\u{1e}k3y?START RequestId: 1"),
            Role::Plain
        );
        let err = LogStream::Stderr;
        assert_eq!(framing.role(err, "[lambda-ci agent] note"), Role::Noise);
        assert_eq!(framing.role(err, start), Role::Plain);
        assert_eq!(framing.mark(err, start.as_bytes()), 0);
        assert_ne!(new_key(), new_key());
        assert_eq!(new_key().len(), 32);
    }

    #[test]
    fn runtime_versions_are_written_as_init_start_writes_them() {
        assert_eq!(runtime_version("python3.11"), "python:3.11");
        assert_eq!(runtime_version("nodejs22.x"), "nodejs:22.x");
        assert_eq!(runtime_version("provided.al2023"), "provided:al2023");
    }

    #[test]
    fn the_embedded_agent_is_static() {
        if BINARY.is_empty() {
            return;
        }
        // A 64-bit ELF whose program headers ask for no interpreter (PT_INTERP, 3) needs no
        // dynamic loader, and so no C library of the image's.
        assert_eq!(&BINARY[..5], b"\x7fELF\x02");
        let u64_at = |at: usize| u64::from_le_bytes(BINARY[at..at + 8].try_into().unwrap());
        let u16_at = |at: usize| u16::from_le_bytes(BINARY[at..at + 2].try_into().unwrap());
        let (table, size, count) = (u64_at(0x20) as usize, u16_at(0x36), u16_at(0x38));
        let kinds: Vec<u32> = (0..usize::from(count))
            .map(|i| {
                let at = table + i * usize::from(size);
                u32::from_le_bytes(BINARY[at..at + 4].try_into().unwrap())
            })
            .collect();
        assert!(!kinds.is_empty());
        assert!(!kinds.contains(&3), "the agent asks for a dynamic loader");
        let dir = OnDisk::write(false).unwrap();
        let written = std::fs::read(dir.path().join(FILE)).unwrap();
        assert_eq!(written, BINARY);
        let path = dir.path().to_path_buf();
        drop(dir);
        assert!(!path.exists(), "removed with its runner");
    }
}

//! Starting the runtime in a process group of its own, its output piped to [`Output`], and
//! saying how it ended in the words the service uses (Go's `exec.ExitError`).

use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;

use crate::config::Config;
use crate::output::{Output, Stream};
use crate::telemetry::Kind;

/// A started runtime: its process group, and a task that says how it ended.
pub struct Started {
    pub pgid: i32,
    pub ended: tokio::task::JoinHandle<String>,
}

/// What an extension's environment lacks of the function's, as the service has it.
const RUNTIME_ONLY: &[&str] = &[
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
    "AWS_XRAY_CONTEXT_MISSING",
    "AWS_XRAY_DAEMON_ADDRESS",
];

/// Starts the runtime (`config.command`) with the Runtime API's address in its environment.
pub fn start(config: &Config, output: &Arc<Output>) -> Result<Started, String> {
    spawn(&config.command, config, output, false)
}

/// Starts the external extension at `path` as the service does: its environment is the
/// function's without the runtime's own variables.
pub fn start_extension(
    path: &str,
    config: &Config,
    output: &Arc<Output>,
) -> Result<Started, String> {
    spawn(&[path.to_string()], config, output, true)
}

fn spawn(
    argv: &[String],
    config: &Config,
    output: &Arc<Output>,
    extension: bool,
) -> Result<Started, String> {
    let (out_r, out_w) = std::io::pipe().map_err(|e| e.to_string())?;
    let (err_r, err_w) = std::io::pipe().map_err(|e| e.to_string())?;
    let mut command = tokio::process::Command::new(&argv[0]);
    if extension {
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if name.starts_with('_') || RUNTIME_ONLY.contains(&name.as_ref()) {
                command.env_remove(name.as_ref());
            }
        }
    }
    for name in &config.hidden {
        command.env_remove(name);
    }
    command
        .args(&argv[1..])
        .env("AWS_LAMBDA_RUNTIME_API", config.runtime_api())
        .stdin(Stdio::null())
        .stdout(Stdio::from(out_w))
        .stderr(Stdio::from(err_w))
        .process_group(0);
    if let Some(handler) = &config.handler
        && !extension
        && std::env::var_os("_HANDLER").is_none()
    {
        command.env("_HANDLER", handler);
    }
    let spawned = command.spawn();
    // The pipes' write ends go with the command: only the runtime holds them now.
    drop(command);
    let mut child = spawned.map_err(|e| format!("fork/exec {}: {}", argv[0], error_text(&e)))?;
    let kind = if extension {
        Kind::Extension
    } else {
        Kind::Function
    };
    output.follow(out_r, Stream::Stdout, kind);
    output.follow(err_r, Stream::Stderr, kind);
    let pgid = child.id().map(|id| id as i32).unwrap_or(0);
    let ended = tokio::spawn(async move {
        match child.wait().await {
            Ok(status) => describe(status),
            Err(e) => format!("wait: {e}"),
        }
    });
    Ok(Started { pgid, ended })
}

/// Sends `signal` to every process of the group.
pub fn signal(pgid: i32, signal: i32) {
    if pgid > 0 {
        // SAFETY: kill(2) with a plain process group id and signal number.
        unsafe {
            libc::kill(-pgid, signal);
        }
    }
}

/// `exit status 3`, `signal: killed`; empty for a clean exit, which gives no reason.
pub fn describe(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return if code == 0 {
            String::new()
        } else {
            format!("exit status {code}")
        };
    }
    let Some(number) = status.signal() else {
        return "exit status unknown".into();
    };
    let name = match number {
        libc::SIGHUP => "hangup".to_string(),
        libc::SIGINT => "interrupt".to_string(),
        libc::SIGQUIT => "quit".to_string(),
        libc::SIGILL => "illegal instruction".to_string(),
        libc::SIGTRAP => "trace/breakpoint trap".to_string(),
        libc::SIGABRT => "aborted".to_string(),
        libc::SIGBUS => "bus error".to_string(),
        libc::SIGFPE => "floating point exception".to_string(),
        libc::SIGKILL => "killed".to_string(),
        libc::SIGSEGV => "segmentation fault".to_string(),
        libc::SIGPIPE => "broken pipe".to_string(),
        libc::SIGTERM => "terminated".to_string(),
        other => format!("signal {other}"),
    };
    let core = if status.core_dumped() {
        " (core dumped)"
    } else {
        ""
    };
    format!("signal: {name}{core}")
}

fn error_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_are_worded_as_the_service_words_them() {
        assert_eq!(describe(ExitStatus::from_raw(3 << 8)), "exit status 3");
        assert_eq!(describe(ExitStatus::from_raw(0)), "");
        assert_eq!(
            describe(ExitStatus::from_raw(libc::SIGKILL)),
            "signal: killed"
        );
        assert_eq!(
            describe(ExitStatus::from_raw(libc::SIGSEGV | 0x80)),
            "signal: segmentation fault (core dumped)"
        );
    }
}

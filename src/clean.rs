//! `lambda-ci clean [--dry-run]`: removes the containers and volumes lambda-ci runs left
//! behind — a run killed with SIGKILL, containers kept with `--keep` — found by lambda-ci's
//! label, so nothing else on the engine is touched. Those of a lambda-ci process still running
//! on this machine (a run, `serve`, `watch`) are left alone.

use std::io::Write;

use crate::docker::{self, Engine, Leftover, LeftoverKind};
use crate::error::Error;

/// Cleans (or with `dry_run` only says what it would clean) what every run, or the run `only`,
/// left, writing one line per thing to `out`; the exit code.
pub async fn clean(dry_run: bool, only: Option<&str>, out: &mut impl Write) -> Result<u8, Error> {
    let engine = Engine::connect().await?;
    let found = docker::leftovers(&engine).await.map_err(|e| {
        Error::Usage(format!(
            "cannot list lambda-ci's containers and volumes: {e}"
        ))
    })?;
    let (mut removed, mut failed) = ((0, 0), 0);
    let picked = found
        .iter()
        .filter(|l| only.is_none_or(|run| l.run.as_deref() == Some(run)));
    for leftover in picked {
        let what = describe(leftover);
        if let Some(pid) = live_owner(leftover.owner.as_deref()) {
            let _ = writeln!(out, "left alone: {what}: in use by lambda-ci (pid {pid})");
            continue;
        }
        if dry_run {
            let _ = writeln!(out, "would remove {what}");
        } else if let Err(e) = docker::remove_leftover(&engine, leftover).await {
            failed += 1;
            let _ = writeln!(out, "error: cannot remove {what}: {e}");
            continue;
        } else {
            let _ = writeln!(out, "removed {what}");
        }
        match leftover.kind {
            LeftoverKind::Container => removed.0 += 1,
            LeftoverKind::Volume => removed.1 += 1,
        }
    }
    let counted = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let _ = writeln!(
        out,
        "{} and {} {}",
        counted(removed.0, "container"),
        counted(removed.1, "volume"),
        if dry_run {
            "would be removed (--dry-run: nothing was)"
        } else {
            "removed"
        }
    );
    Ok(if failed > 0 {
        crate::exit::INFRASTRUCTURE
    } else {
        crate::exit::SUCCESS
    })
}

fn describe(leftover: &Leftover) -> String {
    let kind = match leftover.kind {
        LeftoverKind::Container => "container",
        LeftoverKind::Volume => "volume",
    };
    match &leftover.run {
        Some(run) => format!("{kind} {} (run {run})", leftover.name),
        None => format!("{kind} {}", leftover.name),
    }
}

/// The pid of the lambda-ci process on this machine that `owner` (`host/pid`) names, if it
/// still runs.
fn live_owner(owner: Option<&str>) -> Option<u32> {
    let (host, pid) = owner?.rsplit_once('/')?;
    let pid: u32 = pid.parse().ok()?;
    let (this_host, _) = docker::owner().rsplit_once('/')?;
    if host != this_host {
        return None;
    }
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    (comm.trim() == "lambda-ci").then_some(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_running_lambda_ci_on_this_machine_owns_its_containers() {
        let host = docker::owner();
        let (host, _) = host.rsplit_once('/').unwrap();
        // This test binary is not lambda-ci, pid 1 neither; another host's never counts.
        assert_eq!(
            live_owner(Some(&format!("{host}/{}", std::process::id()))),
            None
        );
        assert_eq!(live_owner(Some(&format!("{host}/1"))), None);
        assert_eq!(live_owner(Some("elsewhere/1")), None);
        assert_eq!(live_owner(Some("garbage")), None);
        assert_eq!(live_owner(None), None);
    }
}

//! `lambda-ci clean [--dry-run]`: removes the containers, volumes and temporary directories
//! lambda-ci runs left behind — a run killed with SIGKILL, containers kept with `--keep` —
//! found by lambda-ci's label (directories by their name, which carries the pid that made
//! them), so nothing else is touched. Those of a lambda-ci process still running on this
//! machine (a run, `serve`, `watch`) are left alone.

use std::io::Write;

use crate::docker::{self, Leftover, LeftoverKind};
use crate::error::Error;

/// Cleans (or with `dry_run` only says what it would clean) what every run, or the run `only`,
/// left, writing one line per thing to `out`; the exit code.
pub async fn clean(dry_run: bool, only: Option<&str>, out: &mut impl Write) -> Result<u8, Error> {
    let engine = crate::connect_engine().await?;
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
    // Temporary directories carry the pid of the process that made them: with `--run`,
    // those of the processes that owned that run's containers.
    let makers: Option<Vec<u32>> = only.map(|_| {
        found
            .iter()
            .filter(|l| only.is_none_or(|run| l.run.as_deref() == Some(run)))
            .filter_map(|l| own_pid(l.owner.as_deref()))
            .collect()
    });
    failed += clean_temp_dirs(&std::env::temp_dir(), makers.as_deref(), dry_run, out);
    Ok(if failed > 0 {
        crate::exit::INFRASTRUCTURE
    } else {
        crate::exit::SUCCESS
    })
}

/// Removes (or with `dry_run` names) the temporary directories in `root` that lambda-ci
/// processes which no longer run left; how many could not be removed.
fn clean_temp_dirs(
    root: &std::path::Path,
    makers: Option<&[u32]>,
    dry_run: bool,
    out: &mut impl Write,
) -> usize {
    let mut left = crate::scratch::left_in(root, is_lambda_ci);
    left.retain(|(_, pid)| makers.is_none_or(|m| m.contains(pid)));
    let mut failed = 0;
    for (dir, pid) in &left {
        let what = format!(
            "temporary directory {} (of pid {pid}, which has ended)",
            dir.display()
        );
        if dry_run {
            let _ = writeln!(out, "would remove {what}");
        } else if let Err(e) = crate::scratch::remove(dir) {
            failed += 1;
            let _ = writeln!(out, "error: cannot remove {what}: {e}");
        } else {
            let _ = writeln!(out, "removed {what}");
        }
    }
    if !left.is_empty() {
        let n = left.len() - failed;
        let _ = writeln!(
            out,
            "{n} temporary director{} {}",
            if n == 1 { "y" } else { "ies" },
            if dry_run {
                "would be removed (--dry-run: nothing was)"
            } else {
                "removed"
            }
        );
    }
    failed
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
    own_pid(owner).filter(|pid| is_lambda_ci(*pid))
}

/// The pid that `owner` (`host/pid`) names, when the host is this machine.
fn own_pid(owner: Option<&str>) -> Option<u32> {
    let (host, pid) = owner?.rsplit_once('/')?;
    let (this_host, _) = docker::owner().rsplit_once('/')?;
    (host == this_host).then(|| pid.parse().ok()).flatten()
}

/// Whether process `pid` on this machine is a lambda-ci.
fn is_lambda_ci(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .is_ok_and(|comm| comm.trim() == "lambda-ci")
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

//! `lambda-ci clean [--dry-run]`: removes the containers, volumes and temporary directories
//! lambda-ci runs left behind — a run killed with SIGKILL, containers kept with `--keep` —
//! found by lambda-ci's label (directories by their name, which carries the pid that made
//! them), so nothing else is touched. Those of a lambda-ci process still running on this
//! machine (a run, `serve`, `watch`) are left alone.

use std::io::Write;

use crate::docker::{self, Leftover, LeftoverKind};
use crate::error::Error;

/// What `clean` removes.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Say what would be removed, and remove nothing (`--dry-run`).
    pub dry_run: bool,
    /// Only what this run left (`--run`).
    pub only: Option<String>,
    /// Also what lambda-ci on other hosts sharing the engine left, once older than
    /// `older_than` (`--all-hosts`, `--older-than`).
    pub all_hosts: bool,
    pub older_than: std::time::Duration,
    /// What the environment says of the engine.
    pub engine: crate::docker::EngineEnv,
}

/// Cleans (or with `dry_run` only says what it would clean) what every run, or the run `only`,
/// left, writing one line per thing to `out`; the exit code. Another host's containers
/// (another CI job on a shared engine) are left to it unless `all_hosts`, and then only
/// once older than `older_than`: a process on another machine cannot be seen from here.
pub async fn clean(scope: &Scope, out: &mut impl Write) -> Result<u8, Error> {
    let (dry_run, only) = (scope.dry_run, scope.only.as_deref());
    let engine = crate::connect_engine(&scope.engine).await?;
    let found = docker::leftovers(&engine).await.map_err(|e| {
        Error::Usage(format!(
            "cannot list lambda-ci's containers, volumes and networks: {e}"
        ))
    })?;
    let (mut removed, mut failed) = ((0, 0, 0), 0);
    let picked = found
        .iter()
        .filter(|l| only.is_none_or(|run| l.run.as_deref() == Some(run)));
    for leftover in picked {
        let what = describe(leftover);
        if let Some(why) = left_alone(leftover, scope) {
            let _ = writeln!(out, "left alone: {what}: {why}");
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
            LeftoverKind::Network => removed.2 += 1,
        }
    }
    let counted = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let _ = writeln!(
        out,
        "{}, {} and {} {}",
        counted(removed.0, "container"),
        counted(removed.1, "volume"),
        counted(removed.2, "network"),
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
    failed += clean_temp_dirs(crate::scratch::root(), makers.as_deref(), dry_run, out);
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
    // A directory's maker runs when a process under its pid started before the directory
    // was last written: a later process that reuses the pid cannot have made it.
    let mut left = crate::scratch::left_in(root, |pid, dir| {
        std::fs::metadata(dir)
            .and_then(|m| m.modified())
            .is_ok_and(|at| crate::proc::ran_at(pid, at))
    });
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
        LeftoverKind::Network => "network",
    };
    match &leftover.run {
        Some(run) => format!("{kind} {} (run {run})", leftover.name),
        None => format!("{kind} {}", leftover.name),
    }
}

/// Why `leftover` is not removed: its maker still runs here, or it was made on another host
/// (and `scope` does not reach it).
fn left_alone(leftover: &Leftover, scope: &Scope) -> Option<String> {
    let (host, process) = docker::split_owner(leftover.owner.as_deref().unwrap_or_default());
    if host == this_host() {
        let pid = process.split('/').next().unwrap_or_default();
        return crate::proc::runs(process).then(|| format!("in use by lambda-ci (pid {pid})"));
    }
    let host = if host.is_empty() {
        "an unknown host"
    } else {
        host
    };
    if !scope.all_hosts {
        return Some(format!(
            "made by lambda-ci on {host}, which may still be using it; `--all-hosts` removes it once older than {}",
            minutes(scope.older_than)
        ));
    }
    let now = chrono::Utc::now().timestamp();
    let age = leftover
        .created
        .map(|c| now.saturating_sub(c).max(0) as u64);
    match age {
        Some(age) if age >= scope.older_than.as_secs() => None,
        _ => Some(format!(
            "made by lambda-ci on {host} less than {} ago (--older-than)",
            minutes(scope.older_than)
        )),
    }
}

fn minutes(d: std::time::Duration) -> String {
    match d.as_secs() {
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s => format!("{} min", s.div_ceil(60)),
    }
}

/// This machine's name, as the labels of what it makes say it.
fn this_host() -> &'static str {
    docker::split_owner(docker::owner()).0
}

/// The pid that `owner` (`host/pid/start`) names, when the host is this machine.
fn own_pid(owner: Option<&str>) -> Option<u32> {
    let (host, process) = docker::split_owner(owner?);
    (host == this_host())
        .then(|| process.split('/').next()?.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftover(owner: &str, age_secs: i64) -> Leftover {
        Leftover {
            kind: LeftoverKind::Container,
            id: "id".into(),
            name: "lambda-ci-x".into(),
            run: Some("x".into()),
            owner: Some(owner.into()),
            created: Some(chrono::Utc::now().timestamp() - age_secs),
        }
    }

    // Regression: another host's running CI job looked dead (its pid is not here), and its
    // containers were removed from the shared engine.
    #[test]
    fn only_this_hosts_ended_runs_are_removed_unless_all_hosts_and_old_enough() {
        let hour = std::time::Duration::from_secs(3600);
        let scope = Scope {
            older_than: hour,
            ..Scope::default()
        };
        let here = this_host();
        let me = format!("{here}/{}", crate::proc::me());
        let why = left_alone(&leftover(&me, 10), &scope).unwrap();
        assert!(why.starts_with("in use by lambda-ci (pid "), "{why}");
        // A pid that runs, but started at another time, is not the maker.
        let pid = std::process::id();
        assert_eq!(
            left_alone(&leftover(&format!("{here}/{pid}/1"), 10), &scope),
            None
        );
        assert_eq!(
            left_alone(&leftover(&format!("{here}/4194304"), 10), &scope),
            None
        );
        let other = leftover("ci-job-7/12/34", 7200);
        let why = left_alone(&other, &scope).unwrap();
        assert!(
            why.contains("made by lambda-ci on ci-job-7") && why.contains("--all-hosts"),
            "{why}"
        );
        let all = Scope {
            all_hosts: true,
            ..scope.clone()
        };
        assert_eq!(left_alone(&other, &all), None);
        let young = left_alone(&leftover("ci-job-7/12/34", 60), &all).unwrap();
        assert!(young.contains("less than 1 h ago"), "{young}");
    }
}

//! This machine's processes, told apart from a later process that reuses a pid: a process is
//! named by its pid and the time it started (`/proc/PID/stat`, in clock ticks since boot),
//! which no other process shares.

/// When process `pid` started, in clock ticks since boot; `None` when it does not run.
pub fn start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces or parentheses.
    let after = &stat[stat.rfind(')')? + 1..];
    // Field 22, counted from the state (field 3).
    after.split_whitespace().nth(19)?.parse().ok()
}

/// This process's name for the labels of what it makes: `pid/start`.
pub fn me() -> String {
    let pid = std::process::id();
    match start(pid) {
        Some(start) => format!("{pid}/{start}"),
        None => pid.to_string(),
    }
}

/// Whether the process `pid/start` (as [`me`] writes it) still runs: the pid runs and started
/// when it did. A bare `pid` (written by an earlier version) counts when a lambda-ci runs
/// under that pid.
pub fn runs(process: &str) -> bool {
    let mut parts = process.split('/');
    let Some(Ok(pid)) = parts.next().map(str::parse::<u32>) else {
        return false;
    };
    match parts.next().map(str::parse::<u64>) {
        Some(Ok(started)) => start(pid) == Some(started),
        Some(Err(_)) => false,
        None => is_lambda_ci(pid),
    }
}

/// Whether a process that runs under `pid` started no later than `at`: it may be the one
/// that made something at `at` (a later process that reuses the pid cannot be).
pub fn ran_at(pid: u32, at: std::time::SystemTime) -> bool {
    let (Some(ticks), Some(boot)) = (start(pid), boot_time()) else {
        return false;
    };
    // SAFETY: sysconf only reads a configuration value.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    let started = boot + std::time::Duration::from_millis(ticks * 1000 / per_second);
    // Ticks are coarse: a second's slack keeps the maker itself.
    started <= at + std::time::Duration::from_secs(1)
}

/// When this machine booted (`btime` in `/proc/stat`).
fn boot_time() -> Option<std::time::SystemTime> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let secs: u64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// Whether process `pid` is a lambda-ci, by its command name (for labels without a start).
fn is_lambda_ci(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .is_ok_and(|comm| comm.trim() == "lambda-ci")
}

#[cfg(test)]
mod tests {
    use super::*;

    // Regression: a lambda-ci installed under another name looked dead to `clean`, and a
    // pid reused by another process looked alive; a process is now its pid and start time.
    #[test]
    fn a_process_is_its_pid_and_start_time() {
        let me = me();
        assert!(runs(&me), "{me}");
        let (pid, started) = me.split_once('/').unwrap();
        let started: u64 = started.parse().unwrap();
        assert!(!runs(&format!("{pid}/{}", started + 1)));
        assert!(!runs("4194304/1"));
        assert!(!runs("garbage"));
        // This test binary is not named lambda-ci: a bare pid is not taken for one.
        assert!(!runs(pid));
        let now = std::time::SystemTime::now();
        assert!(ran_at(std::process::id(), now));
        assert!(!ran_at(
            std::process::id(),
            now - std::time::Duration::from_secs(3600 * 24 * 365)
        ));
    }
}

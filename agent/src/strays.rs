//! Processes a handler leaves running after its response. Lambda freezes the whole execution
//! environment once the runtime asks for the next event, and thaws it when the next one comes;
//! the agent does the same to the processes an invocation started and left behind, so that
//! nothing they do or write falls between two invocations, and says so in the logs of both.

/// The processes of process group `pgid`, by pid, read from `/proc`.
pub fn members(pgid: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<i32> = entries
        .filter_map(|entry| {
            let pid: i32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            (group_of(&stat)? == pgid && state_of(&stat)? != 'Z').then_some(pid)
        })
        .collect();
    pids.sort_unstable();
    pids
}

/// The process group in a `/proc/PID/stat` line: the fifth field, counted after the command,
/// which is in parentheses and may hold spaces and parentheses itself.
fn group_of(stat: &str) -> Option<i32> {
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(2)?.parse().ok()
}

/// The parent of `pid`, from `/proc`.
pub fn parent(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// The state letter in a `/proc/PID/stat` line (`Z` for a zombie).
fn state_of(stat: &str) -> Option<char> {
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().next()?.chars().next()
}

/// The command line of `pid`, as a user would type it, cut to 80 characters.
pub fn command(pid: i32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let words: Vec<String> = raw
        .split(|b| *b == 0)
        .filter(|w| !w.is_empty())
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    let line = words.join(" ");
    if line.chars().count() > 80 {
        format!("{}…", line.chars().take(80).collect::<String>())
    } else {
        line
    }
}

/// Sends `signal` to each of `pids`.
pub fn signal(pids: &[i32], signal: i32) {
    for pid in pids {
        // SAFETY: kill(2) with a plain pid and signal number.
        unsafe {
            libc::kill(*pid, signal);
        }
    }
}

/// The log line that says an invocation left `pids` running and that they are frozen.
pub fn frozen_line(pids: &[i32]) -> String {
    let named: Vec<String> = pids
        .iter()
        .map(|pid| format!("pid {pid}: {}", command(*pid)))
        .collect();
    format!(
        "lambda-ci: the handler left {} running after its response ({}); frozen until the next invocation, as Lambda freezes the execution environment, and what {} then is logged there",
        count(pids.len()),
        named.join("; "),
        if pids.len() == 1 {
            "it writes"
        } else {
            "they write"
        },
    )
}

/// The log line that says processes an earlier invocation left resume now.
pub fn thawed_line(pids: &[i32]) -> String {
    let shown: Vec<String> = pids.iter().map(|p| p.to_string()).collect();
    format!(
        "lambda-ci: {} an earlier invocation left running {} now (pid {}); what {} is logged with this invocation",
        count(pids.len()),
        if pids.len() == 1 { "resumes" } else { "resume" },
        shown.join(", "),
        if pids.len() == 1 {
            "it writes"
        } else {
            "they write"
        },
    )
}

fn count(n: usize) -> String {
    if n == 1 {
        "1 process".into()
    } else {
        format!("{n} processes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    #[test]
    fn stat_lines_are_read_past_odd_command_names() {
        let stat = "42 (a ) b (c) S 1 42 42 0 -1";
        assert_eq!(group_of(stat), Some(42));
        assert_eq!(state_of(stat), Some('S'));
        assert_eq!(state_of("7 (x) Z 1 7 7"), Some('Z'));
    }

    #[test]
    fn a_group_lists_its_processes_and_they_can_be_frozen_and_thawed() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        // Between fork and exec the child is still this test's binary.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while command(pid) != "sleep 30" && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(members(pid), vec![pid]);
        assert_eq!(command(pid), "sleep 30");
        assert_eq!(parent(pid), Some(std::process::id() as i32));
        signal(&[pid], libc::SIGSTOP);
        let stopped = || {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
            state_of(&stat) == Some('T')
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !stopped() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(stopped());
        signal(&[pid], libc::SIGCONT);
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(members(pid).is_empty());
    }

    #[test]
    fn the_lines_name_what_was_left_and_where_its_output_goes() {
        assert_eq!(
            thawed_line(&[7]),
            "lambda-ci: 1 process an earlier invocation left running resumes now (pid 7); what it writes is logged with this invocation"
        );
        assert!(frozen_line(&[1, 2]).starts_with(
            "lambda-ci: the handler left 2 processes running after its response (pid 1: "
        ));
    }
}

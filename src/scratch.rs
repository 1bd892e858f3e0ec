//! lambda-ci's temporary directories (unpacked zips, merged layers, probes, `serve`'s
//! scratch, the agent), named for the process that makes them: `lambda-ci-<what>-<pid>-XXXXXX` in the
//! system's temp directory. A process removes its own when it ends; `lambda-ci clean` finds
//! those a process killed with SIGKILL left, and tells them from a live process's.

use std::path::{Path, PathBuf};

/// What lambda-ci keeps in temporary directories.
const KINDS: [&str; 5] = ["unzip", "opt", "probe", "serve", "agent"];

/// A fresh temporary directory for `what` (one of [`KINDS`]), removed when dropped.
pub fn dir(what: &str) -> std::io::Result<tempfile::TempDir> {
    debug_assert!(KINDS.contains(&what), "{what}");
    // A TMPDIR that names a directory not made yet is made.
    std::fs::create_dir_all(std::env::temp_dir())?;
    tempfile::Builder::new()
        .prefix(&format!("lambda-ci-{what}-{}-", std::process::id()))
        .tempdir()
}

/// The pid a temporary directory's `name` says made it, when it is one of lambda-ci's.
fn maker(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("lambda-ci-")?;
    let (what, rest) = rest.split_once('-')?;
    let (pid, _) = rest.split_once('-')?;
    KINDS.contains(&what).then_some(())?;
    pid.parse().ok()
}

/// lambda-ci's temporary directories in `root` whose makers no longer run (`alive` says which
/// do), with the pid that made each.
pub fn left_in(root: &Path, alive: impl Fn(u32) -> bool) -> Vec<(PathBuf, u32)> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut left: Vec<(PathBuf, u32)> = entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let pid = maker(entry.file_name().to_str()?)?;
            // Not through a symlink: only a directory lambda-ci made is removed.
            let is_dir = entry.file_type().ok()?.is_dir();
            (is_dir && !alive(pid)).then(|| (entry.path(), pid))
        })
        .collect();
    left.sort();
    left
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_say_who_made_them() {
        assert_eq!(maker("lambda-ci-unzip-1234-AbC123"), Some(1234));
        assert_eq!(maker("lambda-ci-serve-7-x"), Some(7));
        assert_eq!(maker("lambda-ci-agent-12-abcdef"), Some(12));
        assert_eq!(maker("lambda-ci-other-0-abcdef"), None);
        assert_eq!(maker("lambda-ci-unzip-AbC123"), None);
        assert_eq!(maker("other-unzip-1-x"), None);
    }

    #[test]
    fn only_directories_of_ended_makers_are_left_overs() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        for name in [
            "lambda-ci-opt-10-a",
            "lambda-ci-opt-11-b",
            "lambda-ci-other-0-c",
        ] {
            std::fs::create_dir(r.join(name)).unwrap();
        }
        std::fs::write(r.join("lambda-ci-unzip-10-file"), "").unwrap();
        std::os::unix::fs::symlink(r.join("lambda-ci-opt-11-b"), r.join("lambda-ci-opt-10-l"))
            .unwrap();
        let left = left_in(r, |pid| pid == 11);
        assert_eq!(left, vec![(r.join("lambda-ci-opt-10-a"), 10)]);
    }
}

//! lambda-ci's temporary directories (unpacked zips, merged layers, probes, `serve`'s
//! scratch, the agent), named for the process that makes them: `lambda-ci-<what>-<pid>-XXXXXX` in the
//! system's temp directory. A process removes its own when it ends; `lambda-ci clean` finds
//! those a process killed with SIGKILL left, and tells them from a live process's.

use std::path::{Path, PathBuf};

/// What lambda-ci keeps in temporary directories.
const KINDS: [&str; 7] = [
    "unzip", "opt", "probe", "serve", "agent", "actual", "inline",
];

/// The system's temp directory (`TMPDIR`, else `/tmp`), read once for the whole process:
/// every temporary directory of lambda-ci's is made there, and `clean` looks there.
pub fn root() -> &'static Path {
    static ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ROOT.get_or_init(std::env::temp_dir)
}

/// A fresh temporary directory for `what` (one of [`KINDS`]), removed when dropped.
pub fn dir(what: &str) -> std::io::Result<tempfile::TempDir> {
    debug_assert!(KINDS.contains(&what), "{what}");
    // A TMPDIR that names a directory not made yet is made.
    std::fs::create_dir_all(root())?;
    tempfile::Builder::new()
        .prefix(&format!("lambda-ci-{what}-{}-", std::process::id()))
        .tempdir_in(root())
}

/// The directory a run writes whole actual values into when no `--junit` names one: private
/// to the user, under a random name (`lambda-ci-actual-<pid>-XXXXXX`), kept when a failure
/// was written into it (the reports name its files), removed when the run leaves it empty.
/// `lambda-ci clean` removes those of runs that have ended.
pub struct Actual {
    path: PathBuf,
}

impl Actual {
    pub fn new() -> std::io::Result<Actual> {
        use std::os::unix::fs::PermissionsExt;
        let path = dir("actual")?.keep();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700))?;
        Ok(Actual { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Actual {
    fn drop(&mut self) {
        // Only an empty directory is removed: one that holds a value stays for the reader.
        let _ = std::fs::remove_dir(&self.path);
    }
}

/// Removes a temporary directory, also when a tree in it holds directories its owner may not
/// write to (archives unpacked by earlier versions kept an entry's `0555`).
pub fn remove(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            let_owner_write(dir);
            std::fs::remove_dir_all(dir)
        }
        other => other,
    }
}

/// Gives the owner every right on `dir` and the directories under it, links not followed.
fn let_owner_write(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::symlink_metadata(dir) else {
        return;
    };
    if !meta.is_dir() {
        return;
    }
    let mode = meta.permissions().mode() | 0o700;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode));
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            let_owner_write(&entry.path());
        }
    }
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
pub fn left_in(root: &Path, alive: impl Fn(u32, &Path) -> bool) -> Vec<(PathBuf, u32)> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut left: Vec<(PathBuf, u32)> = entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let pid = maker(entry.file_name().to_str()?)?;
            // Not through a symlink: only a directory lambda-ci made is removed.
            let is_dir = entry.file_type().ok()?.is_dir();
            (is_dir && !alive(pid, &entry.path())).then(|| (entry.path(), pid))
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

    // Regression: without --junit, whole actual values went to `$TMPDIR/lambda-ci-<run id>`,
    // a guessable name with open modes that nothing removed.
    #[test]
    fn the_actual_values_directory_is_private_random_and_gone_when_empty() {
        use std::os::unix::fs::PermissionsExt;
        let (one, two) = (Actual::new().unwrap(), Actual::new().unwrap());
        assert_ne!(one.path(), two.path());
        let name = one
            .path()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(maker(&name), Some(std::process::id()), "{name}");
        let mode = std::fs::metadata(one.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let (empty, kept) = (one.path().to_path_buf(), two.path().to_path_buf());
        std::fs::write(kept.join("value.txt"), "x").unwrap();
        drop((one, two));
        assert!(!empty.exists());
        assert!(kept.join("value.txt").exists());
        std::fs::remove_dir_all(kept).unwrap();
    }

    #[test]
    fn a_tree_of_read_only_directories_is_removed() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("lambda-ci-unzip-1-x");
        std::fs::create_dir_all(dir.join("ro/inner")).unwrap();
        std::fs::write(dir.join("ro/inner/f"), "x").unwrap();
        for d in ["ro/inner", "ro"] {
            let mode = std::fs::Permissions::from_mode(0o555);
            std::fs::set_permissions(dir.join(d), mode).unwrap();
        }
        remove(&dir).unwrap();
        assert!(!dir.exists());
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
        let left = left_in(r, |pid, _| pid == 11);
        assert_eq!(left, vec![(r.join("lambda-ci-opt-10-a"), 10)]);
    }
}

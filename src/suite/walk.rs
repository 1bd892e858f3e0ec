//! Which files of a searched directory may be suites: `.yaml`/`.yml` files, outside the
//! directories that hold other people's files or build output, and a glance into those
//! directories so that a suite put there by mistake is pointed out rather than silently missed.

use std::path::{Path, PathBuf};

use super::diagnostics::LoadError;
use super::read::read_head;

/// Directories never searched for suites, besides hidden ones: dependencies, version control
/// and build output, where YAML files are someone else's.
pub const SKIPPED_DIRS: &[&str] = &["node_modules", "target"];

/// How many entries of skipped directories are looked at, in all, for suites put there:
/// enough for a mistake near the top, bounded for `node_modules` and `target` trees.
const GLANCE_BUDGET: usize = 5_000;

/// How much of a file in a skipped directory is read to tell whether it is a suite.
const GLANCE_BYTES: u64 = 64 * 1024;

/// What a walk found: candidate files, and what it skipped that looks like suites.
#[derive(Default)]
pub(super) struct Walk {
    pub(super) files: Vec<PathBuf>,
    pub(super) warnings: Vec<LoadError>,
    budget: usize,
}

impl Walk {
    pub(super) fn new() -> Walk {
        Walk {
            budget: GLANCE_BUDGET,
            ..Walk::default()
        }
    }

    /// Collects `.yaml`/`.yml` files under `dir`, not following symlinked directories
    /// (monorepos are full of symlink loops). A directory that cannot be read is reported and
    /// the walk goes on.
    pub(super) fn dir(&mut self, dir: &Path, errors: &mut Vec<LoadError>) {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                errors.push(LoadError {
                    file: dir.to_path_buf(),
                    pos: None,
                    message: format!("cannot read directory: {e}"),
                    hint: None,
                });
                return;
            }
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if is_skipped(&entry.file_name().to_string_lossy()) {
                    self.glance(&path);
                } else {
                    self.dir(&path, errors);
                }
            } else if is_yaml(&path) {
                self.files.push(path);
            }
        }
    }

    /// Looks into a skipped directory for files that look like suites, and warns once for it.
    fn glance(&mut self, dir: &Path) {
        let mut found = Vec::new();
        self.suites_in(dir, &mut found);
        let Some(first) = found.first() else {
            return;
        };
        let name = dir.file_name().unwrap_or_default().to_string_lossy();
        let which = if name.starts_with('.') {
            "hidden directories are".to_string()
        } else {
            format!("`{name}` directories are")
        };
        let more = match found.len() {
            1 => String::new(),
            n => format!(" and {} more", n - 1),
        };
        self.warnings.push(LoadError {
            file: dir.to_path_buf(),
            pos: None,
            message: format!(
                "skipped: {which} not searched, and this one holds what looks like a suite: {}{more}",
                first.display()
            ),
            hint: Some(
                "lambda-ci does not search node_modules, target, .git or other hidden directories; name the suite or its directory to run it"
                    .into(),
            ),
        });
    }

    fn suites_in(&mut self, dir: &Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            if self.budget == 0 {
                return;
            }
            self.budget -= 1;
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                self.suites_in(&path, found);
            } else if kind.is_file() && is_yaml(&path) && glances_like_suite(&path) {
                found.push(path);
            }
        }
    }
}

/// Whether a directory of this name is left out of the search.
fn is_skipped(name: &str) -> bool {
    name.starts_with('.') || SKIPPED_DIRS.contains(&name)
}

/// Whether the name of `path` is a suite's: `.yaml` or `.yml`.
pub(super) fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// Whether the start of a file has both top-level keys of a suite, `function:` and `cases:`:
/// third-party YAML with a `cases:` key alone is common under node_modules.
fn glances_like_suite(path: &Path) -> bool {
    let Ok(bytes) = read_head(path, GLANCE_BYTES) else {
        return false;
    };
    let has = |key: &[u8]| bytes.split(|b| *b == b'\n').any(|l| l.starts_with(key));
    has(b"function:") && has(b"cases:")
}

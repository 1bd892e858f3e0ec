//! Stored snapshots: one readable YAML file per suite, beside it (`api.yaml` →
//! `api.snap.yaml`), read before the run and, with `--update-snapshots`, written after it.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{Map, Value};

use crate::judge::{Diff, canonical};
use crate::suite::node::{self, Pos};
use crate::suite::read::{ReadError, SUITE_LIMIT, read_limited};
use crate::suite::{LoadError, Suite};

const HEADER: &str = "# Snapshots of the cases of {suite} that say `snapshot: true`: one response per case,\n# bodies decoded and ignored paths left out. Written by `lambda-ci run --update-snapshots`;\n# review changes to it like code.\n";

/// One suite's snapshot file.
#[derive(Debug, Clone, Default)]
pub struct SnapshotFile {
    pub path: PathBuf,
    cases: Map<String, Value>,
    changed: bool,
}

/// What recording a value did to a case's snapshot.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "change", rename_all = "lowercase")]
pub enum Change {
    Added,
    /// The stored value was replaced; the diff is from the old one to the new one.
    Updated {
        diff: Diff,
    },
    Unchanged,
}

impl SnapshotFile {
    /// The snapshots stored in `path`: none when the file does not exist yet.
    pub fn load(path: &Path) -> Result<SnapshotFile, LoadError> {
        let path = path.to_path_buf();
        let mut file = SnapshotFile {
            path: path.clone(),
            ..SnapshotFile::default()
        };
        // Read as suites are: a regular file only, of bounded size.
        let read = read_limited(&path, SUITE_LIMIT).and_then(|bytes| {
            String::from_utf8(bytes)
                .map_err(|_| ReadError::Io(std::io::Error::other("not valid UTF-8 text")))
        });
        let text = match read {
            Ok(text) => text,
            Err(ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => return Ok(file),
            Err(e) => {
                return Err(problem(&path, None, format!("the snapshot file {e}")));
            }
        };
        let root = node::parse(&text).map_err(|e| {
            problem(
                &path,
                node::error_pos(&e),
                format!("invalid YAML in the snapshot file: {e}"),
            )
        })?;
        match root.to_json() {
            Value::Object(mut top) => match top.remove("snapshots") {
                Some(Value::Object(cases)) => file.cases = cases,
                Some(Value::Null) | None => {}
                Some(_) => {
                    return Err(problem(
                        &path,
                        Some(root.pos),
                        "`snapshots` must be a mapping of case names to responses".into(),
                    ));
                }
            },
            Value::Null => {}
            _ => {
                return Err(problem(
                    &path,
                    Some(root.pos),
                    "a snapshot file is a mapping with a `snapshots:` key".into(),
                ));
            }
        }
        Ok(file)
    }

    pub fn get(&self, case: &str) -> Option<&Value> {
        self.cases.get(case)
    }

    /// Stores `value` as the snapshot of `case`.
    pub fn record(&mut self, case: &str, value: Value) -> Change {
        let change = match self.cases.get(case) {
            None => Change::Added,
            Some(old)
                if crate::judge::compare::compare(old, &value, crate::judge::Mode::Exact)
                    .is_empty() =>
            {
                return Change::Unchanged;
            }
            Some(old) => Change::Updated {
                diff: Diff::new(&canonical(old), &canonical(&value)),
            },
        };
        self.cases.insert(case.to_string(), value);
        self.changed = true;
        change
    }

    /// Forgets snapshots of cases the suite no longer has; whether any were.
    pub fn prune(&mut self, keep: &[&str]) -> usize {
        let before = self.cases.len();
        self.cases.retain(|name, _| keep.contains(&name.as_str()));
        let removed = before - self.cases.len();
        self.changed |= removed > 0;
        removed
    }

    pub fn changed(&self) -> bool {
        self.changed
    }

    /// The file's text: a comment, then the snapshots by case name.
    pub fn render(&self, suite_file: &Path) -> Result<String, serde_saphyr::ser::Error> {
        let name = suite_file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut top = Map::new();
        top.insert("snapshots".into(), Value::Object(self.cases.clone()));
        let body = serde_saphyr::to_string(&Value::Object(top))?;
        Ok(format!("{}{body}", HEADER.replace("{suite}", &name)))
    }
}

fn problem(path: &Path, pos: Option<Pos>, message: String) -> LoadError {
    LoadError {
        file: path.to_path_buf(),
        pos,
        message,
        hint: Some(
            "fix or delete it, then record it again with `lambda-ci run --update-snapshots`".into(),
        ),
    }
}

/// The snapshot files of a run's suites, by suite index; `None` for suites without snapshot
/// checks.
#[derive(Debug, Default)]
pub struct Snapshots {
    files: Mutex<Vec<Option<SnapshotFile>>>,
}

impl Snapshots {
    /// Reads the snapshot file of every suite that has a `snapshot` check.
    pub fn load(suites: &[Suite]) -> Result<Snapshots, Vec<LoadError>> {
        let mut files = Vec::new();
        let mut errors = Vec::new();
        for suite in suites {
            if !suite.cases.iter().any(|c| c.expect.has_snapshot()) {
                files.push(None);
                continue;
            }
            match SnapshotFile::load(&suite.snapshot_file()) {
                Ok(f) => files.push(Some(f)),
                Err(e) => {
                    errors.push(e);
                    files.push(None);
                }
            }
        }
        if errors.is_empty() {
            Ok(Snapshots {
                files: Mutex::new(files),
            })
        } else {
            Err(errors)
        }
    }

    fn with<T>(&self, suite: usize, f: impl FnOnce(&mut SnapshotFile) -> T) -> Option<T> {
        let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        files.get_mut(suite).and_then(Option::as_mut).map(f)
    }

    /// The stored snapshot of a case.
    pub fn get(&self, suite: usize, case: &str) -> Option<Value> {
        self.with(suite, |f| f.get(case).cloned()).flatten()
    }

    pub fn record(&self, suite: usize, case: &str, value: Value) -> Change {
        self.with(suite, |f| f.record(case, value))
            .unwrap_or(Change::Unchanged)
    }

    /// Writes every changed file, after dropping snapshots of cases that no longer exist;
    /// returns what was written or why it could not be.
    pub fn save(&self, suites: &[Suite]) -> Vec<(PathBuf, Result<(), String>)> {
        let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::new();
        for (suite, file) in suites.iter().zip(files.iter_mut()) {
            let Some(file) = file else { continue };
            let names: Vec<&str> = suite
                .cases
                .iter()
                .filter(|c| c.expect.has_snapshot())
                .map(|c| c.name.as_str())
                .collect();
            file.prune(&names);
            if !file.changed() {
                continue;
            }
            let written = file
                .render(&suite.file)
                .map_err(|e| e.to_string())
                .and_then(|text| std::fs::write(&file.path, text).map_err(|e| e.to_string()));
            out.push((file.path.clone(), written));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rendered_snapshots_read_back_as_the_same_values() {
        let dir = tempfile::tempdir().unwrap();
        let suite_file = dir.path().join("api.yaml");
        let mut file = SnapshotFile {
            path: dir.path().join("api.snap.yaml"),
            ..SnapshotFile::default()
        };
        let tricky = json!({
            "statusCode": 200,
            "body": {"yes": "yes", "on": "on", "octal": "017", "under": "1_000", "num": "42",
                     "float": 1.5, "null": null, "empty": "", "nl": "a\nb", "colon": "a: b",
                     "hash": "# x", "unicode": "héllo ✓", "list": [], "map": {}, "t": true,
                     "quote": "\"q\"", "dash": "- x", "tilde": "~", "big": 12345678901234i64}
        });
        assert_eq!(file.record("hello ada", tricky.clone()), Change::Added);
        assert_eq!(file.record("hello ada", tricky.clone()), Change::Unchanged);
        assert_eq!(file.record("weird: name #1", json!("text")), Change::Added);
        let text = file.render(&suite_file).unwrap();
        assert!(
            text.starts_with("# Snapshots of the cases of api.yaml"),
            "{text}"
        );
        std::fs::write(&file.path, &text).unwrap();
        let back = SnapshotFile::load(&file.path).unwrap();
        assert_eq!(back.get("hello ada"), Some(&tricky), "{text}");
        assert_eq!(back.get("weird: name #1"), Some(&json!("text")));
    }

    #[test]
    fn updates_carry_a_diff_and_pruning_forgets_removed_cases() {
        let mut file = SnapshotFile::default();
        file.record("a", json!({"n": 1}));
        file.record("b", json!(2));
        let Change::Updated { diff } = file.record("a", json!({"n": 2})) else {
            panic!("expected an update");
        };
        assert!(diff.to_plain().contains("-  \"n\": 1\n+  \"n\": 2"));
        assert_eq!(file.prune(&["a"]), 1);
        assert!(file.get("b").is_none());
    }
}

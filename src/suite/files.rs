//! Which files are suites: walks the given paths, reads and parses each file, and hands each
//! suite document to the decoders, collecting every problem in every file.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::diagnostics::{LoadError, LoadErrors};
use super::expect::Declared;
use super::fields::Ctx;
use super::node::{self, Node, Value};
use super::{Isolation, Suite};

/// Loads every suite under `paths`. A file given explicitly must be a suite; in a directory,
/// any `.yaml`/`.yml` file with a top-level `cases:` key is one.
pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<Suite>, LoadErrors> {
    let mut errors = Vec::new();
    let mut suites = Vec::new();
    let mut seen = HashSet::new();
    for path in paths {
        if path.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut files, &mut errors);
            files.sort();
            for file in files {
                if seen.insert(file.clone()) {
                    load_file(&file, false, &mut suites, &mut errors);
                }
            }
        } else if path.is_file() {
            if seen.insert(path.clone()) {
                load_file(path, true, &mut suites, &mut errors);
            }
        } else {
            errors.push(LoadError {
                file: path.clone(),
                pos: None,
                message: "no such file or directory".into(),
                hint: Some("pass a suite file (.yaml) or a directory that holds suites".into()),
            });
        }
    }
    if suites.is_empty() && errors.is_empty() {
        errors.push(LoadError {
            file: paths.first().cloned().unwrap_or_default(),
            pos: None,
            message: "no suites found".into(),
            hint: Some("a suite is a .yaml or .yml file with a top-level `cases:` key".into()),
        });
    }
    if errors.is_empty() {
        Ok(suites)
    } else {
        Err(LoadErrors(errors))
    }
}

/// Collects `.yaml`/`.yml` files under `dir`, skipping hidden directories and not following
/// symlinked ones (monorepos are full of symlink loops). A directory that cannot be read is
/// reported and the walk goes on.
fn walk(dir: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<LoadError>) {
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
    for entry in entries.flatten() {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if !hidden {
                walk(&path, out, errors);
            }
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
}

fn load_file(file: &Path, explicit: bool, suites: &mut Vec<Suite>, errors: &mut Vec<LoadError>) {
    let mut ctx = Ctx {
        file,
        errors: Vec::new(),
    };
    let text = match std::fs::read(file) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                if explicit || looks_like_suite(e.as_bytes()) {
                    ctx.error(
                        None,
                        "not valid UTF-8 text",
                        Some("save the suite as UTF-8".into()),
                    );
                }
                errors.extend(ctx.errors);
                return;
            }
        },
        Err(e) => {
            ctx.error(None, format!("cannot read file: {e}"), None);
            errors.extend(ctx.errors);
            return;
        }
    };
    let root = match node::parse(&text) {
        Ok(root) => root,
        Err(e) => {
            // In a directory, a YAML file that is not ours may be broken without concern; one
            // that looks like a suite is reported.
            if explicit || looks_like_suite(text.as_bytes()) {
                let pos = node::error_pos(&e);
                let message = e.to_string();
                // The parser's message carries its own position; keep only the words.
                let message = message
                    .split_once(" at line ")
                    .map(|(m, _)| m.to_string())
                    .unwrap_or(message);
                ctx.error(pos, format!("invalid YAML: {message}"), None);
            }
            errors.extend(ctx.errors);
            return;
        }
    };
    let is_suite = matches!(&root.value, Value::Map(entries) if entries.iter().any(|(k, _)| k.name == "cases"));
    if !is_suite {
        if explicit {
            ctx.error(
                Some(root.pos),
                "not a suite: no top-level `cases:` key",
                Some(
                    "a suite has `function:` and `cases:` at its top level; see the README".into(),
                ),
            );
        }
        errors.extend(ctx.errors);
        return;
    }
    let suite = ctx.suite(&root);
    match suite {
        Some(suite) if ctx.errors.is_empty() => suites.push(suite),
        _ => errors.extend(ctx.errors),
    }
}

/// Whether a file that cannot be parsed was meant as a suite: a line starts with `cases:`.
/// In a directory, broken YAML that is not ours is none of our business; a broken suite is.
fn looks_like_suite(bytes: &[u8]) -> bool {
    bytes
        .split(|b| *b == b'\n')
        .any(|line| line.starts_with(b"cases:"))
}

/// The most containers one function's pool may have.
const MAX_CONCURRENCY: u64 = 64;

impl Ctx<'_> {
    fn suite(&mut self, root: &Node) -> Option<Suite> {
        let top = self.fields(
            root,
            "the suite",
            &["function", "defaults", "concurrency", "isolation", "cases"],
        )?;
        let function = match top.get("function") {
            Some(f) => self.function(f),
            None => {
                self.error(
                    Some(root.pos),
                    "missing `function:`",
                    Some("declare the function under test: runtime, handler and code".into()),
                );
                None
            }
        };
        let cases_node = top.get("cases").expect("checked by is_suite");
        let defaults = match top.get("defaults") {
            Some(d) => self.defaults(d),
            None => Some(Declared::default()),
        };
        // A case's own problems are reported even when the defaults have some.
        let cases = self.cases(
            cases_node,
            defaults.as_ref().unwrap_or(&Declared::default()),
        );
        let concurrency = match top.get("concurrency") {
            None => Some(1),
            Some(c) => self.integer(c, "`concurrency`", 1, MAX_CONCURRENCY, "containers"),
        };
        let isolation = match top.get("isolation") {
            None => Some(Isolation::Warm),
            Some(i) => self.choice(i, "`isolation`", Isolation::NAMED),
        };
        defaults?;
        Some(Suite {
            file: self.file.to_path_buf(),
            function: function?,
            concurrency: concurrency? as usize,
            isolation: isolation?,
            cases: cases?,
        })
    }

    /// `defaults: {expect, ignore}`: checks and ignored paths every case starts from.
    fn defaults(&mut self, node: &Node) -> Option<Declared> {
        let f = self.fields(node, "`defaults`", &["expect", "ignore"])?;
        let mut declared = match f.get("expect") {
            Some(e) => self.expectation(e)?,
            None => Declared::default(),
        };
        if let Some(ignore) = f.get("ignore") {
            declared.add_ignore(self.queries(ignore)?);
        }
        Some(declared)
    }
}

//! Which files are suites: walks the given paths, reads and parses each file, and hands each
//! suite document to the decoders, collecting every problem in every file.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::diagnostics::{LoadError, LoadErrors};
use super::expect::Declared;
use super::fields::Ctx;
use super::node::{self, Node, Value};
use super::read::{ReadError, SUITE_LIMIT, read_head, read_limited, thousands, utf8_problem};
use super::walk::{Walk, is_yaml};
use super::{Isolation, LoadOptions, RuntimeApi, Suite};

/// Loads every suite under `paths`. A file given explicitly must be a suite; in a directory,
/// any `.yaml`/`.yml` file with a top-level `cases:` key is one. What the search skipped that
/// looks like a suite is said on stderr.
pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<Suite>, LoadErrors> {
    load_paths_with(paths, &LoadOptions::default())
}

/// [`load_paths`], with the values passed to the templates suites name.
pub fn load_paths_with(paths: &[PathBuf], options: &LoadOptions) -> Result<Vec<Suite>, LoadErrors> {
    let (loaded, warnings) = load_paths_warning_with(paths, options);
    let mut stderr = std::io::stderr().lock();
    for w in warnings {
        let _ = writeln!(stderr, "warning: {w}");
    }
    loaded
}

/// [`load_paths`], with the warnings returned instead of printed.
pub fn load_paths_warning(paths: &[PathBuf]) -> (Result<Vec<Suite>, LoadErrors>, Vec<LoadError>) {
    load_paths_warning_with(paths, &LoadOptions::default())
}

/// [`load_paths_warning`], with the values passed to the templates suites name.
pub fn load_paths_warning_with(
    paths: &[PathBuf],
    options: &LoadOptions,
) -> (Result<Vec<Suite>, LoadErrors>, Vec<LoadError>) {
    let mut found = Found {
        options: options.clone(),
        ..Found::default()
    };
    let mut seen = HashSet::new();
    for path in paths {
        if path.is_dir() {
            let mut walk = Walk::new();
            walk.dir(path, &mut found.errors);
            walk.files.sort();
            found.warnings.append(&mut walk.warnings);
            for file in walk.files {
                if seen.insert(file.clone()) {
                    load_file(&file, false, &mut found);
                }
            }
        } else if path.symlink_metadata().is_ok() {
            // A dangling or looping symlink: reading it says which.
            if seen.insert(path.clone()) {
                load_file(path, true, &mut found);
            }
        } else {
            found.errors.push(LoadError {
                file: path.clone(),
                pos: None,
                message: "no such file or directory".into(),
                hint: Some("pass a suite file (.yaml) or a directory that holds suites".into()),
            });
        }
    }
    let Found {
        suites,
        mut errors,
        mut warnings,
        ..
    } = found;
    if suites.is_empty() && errors.is_empty() {
        let file = paths.first().cloned().unwrap_or_default();
        let hint = if file.is_dir() && is_yaml(&file) {
            "it is a directory, though named like a suite file, and holds none: a suite is a .yaml or .yml file with a top-level `cases:` key"
        } else {
            "a suite is a .yaml or .yml file with a top-level `cases:` key"
        };
        errors.push(LoadError {
            file,
            pos: None,
            message: "no suites found".into(),
            hint: Some(hint.into()),
        });
    }
    // A placeholder used twice, or a problem both checks of a key see, is said once.
    let mut said = HashSet::new();
    warnings.retain(|w| said.insert(w.to_string()));
    let mut said = HashSet::new();
    errors.retain(|e| said.insert(e.to_string()));
    if errors.is_empty() {
        (Ok(suites), warnings)
    } else {
        (Err(LoadErrors(errors)), warnings)
    }
}

/// What one load found: suites, problems, and what was skipped that looks like a suite.
#[derive(Default)]
struct Found {
    suites: Vec<Suite>,
    errors: Vec<LoadError>,
    warnings: Vec<LoadError>,
    options: LoadOptions,
}

fn load_file(file: &Path, explicit: bool, found: &mut Found) {
    let mut ctx = Ctx {
        file,
        errors: Vec::new(),
        warnings: Vec::new(),
        inputs: Vec::new(),
        foreign: Default::default(),
        options: found.options.clone(),
        authorizers: Vec::new(),
    };
    let bytes = match read_limited(file, SUITE_LIMIT) {
        Ok(bytes) => bytes,
        Err(e) => {
            let hint = match e {
                ReadError::TooLarge { .. } => Some(format!(
                    "suite files are at most {} bytes (10 MiB); put large events in `event_file`s",
                    thousands(SUITE_LIMIT)
                )),
                ReadError::NotAFile { .. } => {
                    Some("a suite is a regular .yaml or .yml file".to_string())
                }
                ReadError::Io(_) => e.hint(),
            };
            ctx.error(None, e.to_string(), hint);
            // A stray special or data file in a searched directory is not worth stopping the
            // run for; a suite that cannot be read is.
            let stops = explicit
                || match e {
                    ReadError::Io(_) => true,
                    ReadError::TooLarge { .. } => {
                        read_head(file, 64 * 1024).is_ok_and(|head| looks_like_suite(&head))
                    }
                    ReadError::NotAFile { .. } => false,
                };
            if stops {
                found.errors.extend(ctx.errors);
            } else {
                for mut w in ctx.errors {
                    w.message = format!("skipped: {}", w.message);
                    found.warnings.push(w);
                }
            }
            return;
        }
    };
    parse_into(file, explicit, bytes, found);
}

/// Loads the suite file `file` from `bytes`, as a file given by name, reading the files it
/// names (code, event files) from the disk: the suite, or every problem found in it.
pub fn load_bytes(file: &Path, bytes: Vec<u8>) -> Result<Suite, LoadErrors> {
    load_bytes_with(file, bytes, &LoadOptions::default())
}

/// [`load_bytes`], with the values passed to the template the suite names.
pub fn load_bytes_with(
    file: &Path,
    bytes: Vec<u8>,
    options: &LoadOptions,
) -> Result<Suite, LoadErrors> {
    let mut found = Found {
        options: options.clone(),
        ..Found::default()
    };
    parse_into(file, true, bytes, &mut found);
    match (found.suites.pop(), found.errors) {
        (Some(suite), errors) if errors.is_empty() => Ok(suite),
        (_, errors) => Err(LoadErrors(errors)),
    }
}

/// Loads `file`'s `bytes` into what `found` holds; `explicit` when the file was named.
fn parse_into(file: &Path, explicit: bool, bytes: Vec<u8>, found: &mut Found) {
    let mut ctx = Ctx {
        file,
        errors: Vec::new(),
        warnings: Vec::new(),
        inputs: Vec::new(),
        foreign: Default::default(),
        options: found.options.clone(),
        authorizers: Vec::new(),
    };
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            if explicit || looks_like_suite(e.as_bytes()) {
                let valid = e.utf8_error().valid_up_to();
                let (pos, message, hint) = utf8_problem(e.as_bytes(), valid);
                ctx.error(Some(pos), message, Some(hint));
            }
            found.errors.extend(ctx.errors);
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
                let (message, hint) = node::error_words(&e);
                let hint = node::indentation_hint(&text, pos).or(hint);
                ctx.error(pos, format!("invalid YAML: {message}"), hint);
            }
            found.errors.extend(ctx.errors);
            return;
        }
    };
    let is_suite = matches!(&root.value, Value::Map(entries) if entries.iter().any(|(k, _)| k.name == "cases"));
    if !is_suite {
        if explicit {
            let (pos, message, hint) = not_a_suite(&root);
            ctx.error(Some(pos), message, Some(hint));
        } else if let Some((pos, key)) = near_miss(&root) {
            // Skipped silently, a mistyped key would make a suite vanish from CI unnoticed.
            found.warnings.push(LoadError {
                file: file.to_path_buf(),
                pos: Some(pos),
                message: match key {
                    Some(key) => format!(
                        "skipped: looks like a suite, but has `{key}:` where a suite has `cases:`"
                    ),
                    None => {
                        "skipped: has `function:` but no top-level `cases:`, so it is not a suite"
                            .into()
                    }
                },
                hint: Some("a suite has `function:` and `cases:` at its top level".into()),
            });
        }
        found.errors.extend(ctx.errors);
        return;
    }
    let suite = ctx.suite(&root);
    found.warnings.append(&mut ctx.warnings);
    match suite {
        Some(suite) if ctx.errors.is_empty() => found.suites.push(suite),
        _ => found.errors.extend(ctx.errors),
    }
}

/// Why a file given by name, that parsed, is not a suite, and what to do about it.
fn not_a_suite(root: &Node) -> (super::Pos, String, String) {
    let shape = "a suite has `function:` and `cases:` at its top level; see docs/suite-format.md";
    match &root.value {
        Value::Map(entries) if entries.is_empty() => (
            root.pos,
            "not a suite: the mapping is empty".into(),
            shape.into(),
        ),
        Value::Map(_) => match near_miss(root) {
            Some((pos, Some(key))) => (
                pos,
                format!("not a suite: `{key}:` where a suite has `cases:`"),
                "did you mean `cases`? a suite has `function:` and `cases:` at its top level"
                    .into(),
            ),
            _ => (
                root.pos,
                "not a suite: no top-level `cases:` key".into(),
                shape.into(),
            ),
        },
        Value::Null => (
            root.pos,
            "not a suite: the file is empty".into(),
            shape.into(),
        ),
        other => (
            root.pos,
            format!(
                "not a suite: the file holds {}, not a mapping",
                other.kind()
            ),
            shape.into(),
        ),
    }
}

/// In a YAML mapping without `cases:`, a top-level key that is probably a mistyped `cases`
/// (`case:`, `Cases:`, `testcases:`), or `None` with the position of `function:` when the file
/// has that but nothing like `cases:`.
fn near_miss(root: &Node) -> Option<(super::Pos, Option<String>)> {
    let Value::Map(entries) = &root.value else {
        return None;
    };
    let has_function = entries.iter().any(|(k, _)| k.name == "function");
    let typo = entries.iter().find(|(k, _)| {
        let lower = k.name.to_lowercase();
        let close = strsim::damerau_levenshtein(&lower, "cases") <= 2;
        // Keys like `bases:` are close too: without `function:` only a key that says
        // "case" counts.
        (close && has_function) || lower.contains("case")
    });
    match typo {
        Some((k, _)) => Some((k.pos, Some(k.name.clone()))),
        None if has_function => entries
            .iter()
            .find(|(k, _)| k.name == "function")
            .map(|(k, _)| (k.pos, None)),
        None => None,
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
            &[
                "function",
                "defaults",
                "concurrency",
                "isolation",
                "runtime_api",
                "cases",
            ],
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
            function.as_ref(),
        );
        let concurrency = match top.get("concurrency") {
            None => Some(1),
            Some(c) => self.integer(c, "`concurrency`", 1, MAX_CONCURRENCY, "containers"),
        };
        let isolation = match top.get("isolation") {
            None => Some(Isolation::Warm),
            Some(i) => self.choice(i, "`isolation`", Isolation::NAMED),
        };
        let runtime_api = match top.get("runtime_api") {
            None => Some(None),
            Some(r) => self.choice(r, "`runtime_api`", RuntimeApi::NAMED).map(Some),
        };
        if runtime_api == Some(Some(RuntimeApi::Rie))
            && function
                .as_ref()
                .is_some_and(|f| f.network.as_deref() == Some("host"))
        {
            self.host_network_under_rie(top.get("function"));
            return None;
        }
        defaults?;
        Some(Suite {
            file: self.file.to_path_buf(),
            function: function?,
            concurrency: concurrency? as usize,
            isolation: isolation?,
            runtime_api: runtime_api?,
            cases: cases?,
            inputs: std::mem::take(&mut self.inputs),
        })
    }

    /// `network: host` with `runtime_api: rie`: the container's port is the agent's to choose
    /// on the host's network, and RIE's is fixed.
    fn host_network_under_rie(&mut self, function: Option<&Node>) {
        let network = function.and_then(|f| match &f.value {
            Value::Map(entries) => entries.iter().find(|(key, _)| key.name == "network"),
            _ => None,
        });
        self.error(
            network.map(|(_, node)| node.pos),
            "`network: host` cannot be used with `runtime_api: rie`: RIE listens on one fixed port and the engine publishes none on the host's network",
            Some("leave out `runtime_api: rie` (lambda-ci's agent chooses free ports on the host's loopback), or join a user-defined network by its name".into()),
        );
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

//! Finds suite files under the given paths and turns each into a validated [`Suite`].
//!
//! Every problem in every file is collected before giving up, each as `file:line:col: message`
//! with a hint where one helps, so a user fixes them all in one round.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use super::node::{self, Key, Node, Pos, Value};
use super::{Case, Expectation, Function, Suite, runtime};

/// One problem with the input, pointing into the file where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadError {
    pub file: PathBuf,
    pub pos: Option<Pos>,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(pos) = self.pos {
            write!(f, ":{}:{}", pos.line, pos.column)?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Every problem found in one loading pass.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadErrors(pub Vec<LoadError>);

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadErrors {}

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
                let pos = e.location().map(|l| Pos {
                    line: l.line() as usize,
                    column: l.column() as usize,
                });
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

/// The known name closest to `word`, if it is close enough to be a likely typo.
pub(crate) fn closest<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|k| (strsim::damerau_levenshtein(word, k), k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Why an environment variable is reserved, if it is: Lambda sets these itself, and here some
/// of them would stop RIE from starting or desynchronise its timeout from lambda-ci's.
fn reserved(name: &str) -> Option<&'static str> {
    Some(match name {
        "AWS_LAMBDA_FUNCTION_NAME" => "set the function's `name:` instead",
        "AWS_LAMBDA_FUNCTION_TIMEOUT" => "set the function's `timeout:` instead",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" => "set the function's `memory:` instead",
        "_HANDLER" => "set the function's `handler:` instead",
        "AWS_LAMBDA_RUNTIME_API"
        | "LAMBDA_TASK_ROOT"
        | "LAMBDA_RUNTIME_DIR"
        | "AWS_LAMBDA_FUNCTION_VERSION"
        | "AWS_EXECUTION_ENV"
        | "AWS_LAMBDA_INITIALIZATION_TYPE"
        | "_X_AMZN_TRACE_ID" => "the base image and RIE set it; remove it",
        _ => return None,
    })
}

/// Validation state for one file.
struct Ctx<'a> {
    file: &'a Path,
    errors: Vec<LoadError>,
}

/// The entries of a mapping whose keys were checked against the allowed ones.
struct Fields<'n> {
    entries: &'n [(Key, Node)],
}

impl<'n> Fields<'n> {
    fn get(&self, name: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == name)
            .map(|(_, v)| v)
    }

    fn key(&self, name: &str) -> Option<&'n Key> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == name)
            .map(|(k, _)| k)
    }
}

impl Ctx<'_> {
    fn error(&mut self, pos: Option<Pos>, message: impl Into<String>, hint: Option<String>) {
        self.errors.push(LoadError {
            file: self.file.to_path_buf(),
            pos,
            message: message.into(),
            hint,
        });
    }

    fn dir(&self) -> PathBuf {
        self.file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    /// Checks that `node` is a mapping with only `allowed` keys; unknown keys are errors.
    fn fields<'n>(&mut self, node: &'n Node, what: &str, allowed: &[&str]) -> Option<Fields<'n>> {
        let Value::Map(entries) = &node.value else {
            self.error(
                Some(node.pos),
                format!("{what} must be a mapping, found {}", node.value.kind()),
                None,
            );
            return None;
        };
        for (key, _) in entries {
            if !allowed.contains(&key.name.as_str()) {
                let hint = match closest(&key.name, allowed.iter().copied()) {
                    Some(k) => format!("did you mean `{k}`?"),
                    None => format!("{what} takes: {}", allowed.join(", ")),
                };
                self.error(
                    Some(key.pos),
                    format!("unknown field `{}` in {what}", key.name),
                    Some(hint),
                );
            }
        }
        Some(Fields { entries })
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::String(_) => {
                self.error(Some(node.pos), format!("{what} must not be empty"), None);
                None
            }
            other => {
                self.error(
                    Some(node.pos),
                    format!("{what} must be a string, found {}", other.kind()),
                    None,
                );
                None
            }
        }
    }

    fn integer(&mut self, node: &Node, what: &str, min: u64, max: u64, unit: &str) -> Option<u32> {
        let n = match &node.value {
            Value::Number(n) => n.as_u64(),
            _ => None,
        };
        match n {
            Some(n) if (min..=max).contains(&n) => Some(n as u32),
            _ => {
                self.error(
                    Some(node.pos),
                    format!("{what} must be a whole number of {unit} from {min} to {max}"),
                    None,
                );
                None
            }
        }
    }

    /// A path relative to the suite file that must name an existing directory or file.
    fn path(&mut self, node: &Node, what: &str, want_dir: bool) -> Option<PathBuf> {
        let raw = self.string(node, what)?;
        let joined = self.dir().join(&raw);
        let resolved = std::path::absolute(&joined).unwrap_or(joined);
        let ok = if want_dir {
            resolved.is_dir()
        } else {
            resolved.is_file()
        };
        if !ok {
            let kind = if want_dir { "directory" } else { "file" };
            let problem = if resolved.exists() {
                format!("is not a {kind}")
            } else {
                "does not exist".to_string()
            };
            self.error(
                Some(node.pos),
                format!(
                    "{what} `{raw}` {problem} (resolved to {})",
                    resolved.display()
                ),
                Some(format!(
                    "paths are relative to the suite file's directory, {}",
                    self.dir().display()
                )),
            );
            return None;
        }
        Some(resolved)
    }

    fn suite(&mut self, root: &Node) -> Option<Suite> {
        let top = self.fields(root, "the suite", &["function", "cases"])?;
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
        let cases = self.cases(cases_node);
        Some(Suite {
            file: self.file.to_path_buf(),
            function: function?,
            cases: cases?,
        })
    }

    fn function(&mut self, node: &Node) -> Option<Function> {
        const FIELDS: &[&str] = &[
            "name",
            "runtime",
            "image",
            "handler",
            "code",
            "layers",
            "environment",
            "timeout",
            "memory",
        ];
        let f = self.fields(node, "`function`", FIELDS)?;
        let mut ok = true;
        let name = match f.get("name") {
            Some(n) => self.string(n, "`name`"),
            None => Some(
                self.file
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "function".into()),
            ),
        };
        let (image, custom_runtime) = match (f.get("runtime"), f.get("image")) {
            (Some(_), Some(_)) => {
                let pos = f.key("image").map(|k| k.pos);
                self.error(
                    pos,
                    "`runtime` and `image` are exclusive",
                    Some("keep one of them".into()),
                );
                (None, false)
            }
            (Some(r), None) => match self.string(r, "`runtime`") {
                Some(id) => match runtime::image_of(&id) {
                    Some(image) => (Some(image.to_string()), runtime::is_custom(&id)),
                    None => {
                        let valid: Vec<&str> =
                            runtime::RUNTIMES.iter().map(|(id, _)| *id).collect();
                        let hint = match runtime::closest(&id) {
                            Some(c) => {
                                format!("did you mean `{c}`? valid runtimes: {}", valid.join(", "))
                            }
                            None => format!("valid runtimes: {}", valid.join(", ")),
                        };
                        self.error(Some(r.pos), format!("unknown runtime `{id}`"), Some(hint));
                        (None, false)
                    }
                },
                None => (None, false),
            },
            (None, Some(i)) => match self.string(i, "`image`") {
                Some(image) => {
                    let custom = runtime::is_custom_image(&image);
                    (Some(image), custom)
                }
                None => (None, false),
            },
            (None, None) => {
                self.error(
                    Some(node.pos),
                    "missing `runtime` (or `image`)",
                    Some("for example `runtime: python3.12`".into()),
                );
                (None, false)
            }
        };
        let by_runtime = f.get("runtime").is_some();
        let code_node = f.get("code");
        let handler = match f.get("handler") {
            Some(h) => self.string(h, "`handler`").map(Some),
            None if by_runtime && !custom_runtime => {
                self.error(
                    Some(node.pos),
                    "missing `handler`",
                    Some(
                        "for example `handler: app.handler` (module `app`, function `handler`)"
                            .into(),
                    ),
                );
                None
            }
            // Custom runtimes ignore the handler, but the entrypoint requires one.
            None if custom_runtime => Some(Some("bootstrap".to_string())),
            None => Some(None),
        };
        let code = match code_node {
            Some(c) => self
                .path(c, "`code`", true)
                .inspect(|dir| {
                    if custom_runtime {
                        self.check_bootstrap(c, dir);
                    }
                })
                .map(Some),
            None if by_runtime => {
                self.error(
                    Some(node.pos),
                    "missing `code`",
                    Some("the directory with the built function, relative to this file".into()),
                );
                None
            }
            None => Some(None),
        };
        let layers = match f.get("layers") {
            None => Some(Vec::new()),
            Some(l) => match &l.value {
                Value::Seq(items) => {
                    let paths: Vec<_> = items.iter().map(|i| self.path(i, "layer", true)).collect();
                    paths.into_iter().collect::<Option<Vec<_>>>()
                }
                other => {
                    self.error(
                        Some(l.pos),
                        format!(
                            "`layers` must be a list of directories, found {}",
                            other.kind()
                        ),
                        None,
                    );
                    None
                }
            },
        };
        let environment = match f.get("environment") {
            None => Some(BTreeMap::new()),
            Some(e) => self.environment(e),
        };
        let timeout = match f.get("timeout") {
            None => Some(3),
            Some(t) => self.integer(t, "`timeout`", 1, 900, "seconds"),
        };
        let memory = match f.get("memory") {
            None => Some(128),
            Some(m) => self.integer(m, "`memory`", 128, 10240, "MB"),
        };
        ok &= name.is_some() && image.is_some() && handler.is_some() && code.is_some();
        ok &= layers.is_some() && environment.is_some() && timeout.is_some() && memory.is_some();
        if !ok {
            return None;
        }
        Some(Function {
            name: name?,
            image: image?,
            handler: handler?,
            custom_runtime,
            code: code?,
            layers: layers?,
            environment: environment?,
            timeout: timeout?,
            memory: memory?,
            pos: node.pos,
        })
    }

    /// Custom runtimes start `bootstrap` from the root of their code; without it every
    /// invocation fails with an empty 502, so say so before anything runs.
    fn check_bootstrap(&mut self, node: &Node, code: &Path) {
        use std::os::unix::fs::PermissionsExt;
        let bootstrap = code.join("bootstrap");
        match std::fs::metadata(&bootstrap) {
            Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => {}
            Ok(m) if m.is_file() => self.error(
                Some(node.pos),
                format!("{} is not executable", bootstrap.display()),
                Some(format!("run `chmod +x {}`", bootstrap.display())),
            ),
            _ => self.error(
                Some(node.pos),
                format!("`code` has no `bootstrap` ({} does not exist)", bootstrap.display()),
                Some("custom runtimes (provided.*) need an executable named `bootstrap` at the root of their code".into()),
            ),
        }
    }

    fn environment(&mut self, node: &Node) -> Option<BTreeMap<String, String>> {
        let Value::Map(entries) = &node.value else {
            self.error(
                Some(node.pos),
                format!(
                    "`environment` must be a mapping of names to values, found {}",
                    node.value.kind()
                ),
                None,
            );
            return None;
        };
        let mut env = BTreeMap::new();
        let mut ok = true;
        for (key, value) in entries {
            let valid_name = !key.name.is_empty()
                && !key.name.starts_with(|c: char| c.is_ascii_digit())
                && key
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid_name {
                self.error(
                    Some(key.pos),
                    format!("`{}` is not a valid environment variable name", key.name),
                    Some("use letters, digits and underscores, not starting with a digit".into()),
                );
                ok = false;
                continue;
            }
            if let Some(hint) = reserved(&key.name) {
                self.error(
                    Some(key.pos),
                    format!(
                        "`{}` is set by Lambda and cannot be set in `environment`",
                        key.name
                    ),
                    Some(hint.into()),
                );
                ok = false;
                continue;
            }
            let text = match &value.value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => {
                    self.error(
                        Some(value.pos),
                        format!(
                            "environment variable `{}` must be a string, found {}",
                            key.name,
                            other.kind()
                        ),
                        None,
                    );
                    ok = false;
                    continue;
                }
            };
            env.insert(key.name.clone(), text);
        }
        ok.then_some(env)
    }

    fn cases(&mut self, node: &Node) -> Option<Vec<Case>> {
        let Value::Seq(items) = &node.value else {
            self.error(
                Some(node.pos),
                format!("`cases` must be a list, found {}", node.value.kind()),
                None,
            );
            return None;
        };
        if items.is_empty() {
            self.error(
                Some(node.pos),
                "`cases` is empty",
                Some("add at least one case with a `name` and an `event`".into()),
            );
            return None;
        }
        let mut names: BTreeMap<String, Pos> = BTreeMap::new();
        let mut cases = Vec::new();
        let mut ok = true;
        for item in items {
            match self.case(item) {
                Some(case) => {
                    if let Some(first) = names.get(&case.name) {
                        self.error(
                            Some(case.pos),
                            format!("duplicate case name `{}`", case.name),
                            Some(format!(
                                "the first is at line {}; case names are unique within a suite",
                                first.line
                            )),
                        );
                        ok = false;
                    } else {
                        names.insert(case.name.clone(), case.pos);
                    }
                    cases.push(case);
                }
                None => ok = false,
            }
        }
        ok.then_some(cases)
    }

    fn case(&mut self, node: &Node) -> Option<Case> {
        let f = self.fields(node, "a case", &["name", "event", "event_file", "expect"])?;
        let name = match f.get("name") {
            Some(n) => self.string(n, "case `name`"),
            None => {
                self.error(
                    Some(node.pos),
                    "case without `name`",
                    Some("give every case a name; reports show it".into()),
                );
                None
            }
        };
        let event = match (f.get("event"), f.get("event_file")) {
            (Some(_), Some(_)) => {
                let pos = f.key("event_file").map(|k| k.pos);
                self.error(
                    pos,
                    "`event` and `event_file` are exclusive",
                    Some("keep one of them".into()),
                );
                None
            }
            (Some(e), None) => Some(e.to_json()),
            (None, Some(file)) => self.event_file(file),
            (None, None) => Some(serde_json::json!({})),
        };
        let expect = match f.get("expect") {
            None => Some(Expectation::Success),
            Some(e) => self.expectation(e),
        };
        Some(Case {
            name: name?,
            event: event?,
            expect: expect?,
            pos: node.pos,
        })
    }

    fn event_file(&mut self, node: &Node) -> Option<serde_json::Value> {
        let path = self.path(node, "`event_file`", false)?;
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                self.error(
                    Some(node.pos),
                    format!("cannot read `event_file` {}: {e}", path.display()),
                    None,
                );
                return None;
            }
        };
        match serde_json::from_str(&text) {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(
                    Some(node.pos),
                    format!(
                        "`event_file` {} is not valid JSON: {e} (at {}:{}:{})",
                        path.display(),
                        path.display(),
                        e.line(),
                        e.column()
                    ),
                    None,
                );
                None
            }
        }
    }

    fn expectation(&mut self, node: &Node) -> Option<Expectation> {
        const KINDS: &[&str] = &["response", "response_contains", "error"];
        let f = self.fields(node, "`expect`", KINDS)?;
        let given: Vec<&Key> = KINDS.iter().filter_map(|k| f.key(k)).collect();
        if given.len() > 1 {
            self.error(
                Some(given[1].pos),
                format!(
                    "`{}` and `{}` cannot be combined",
                    given[0].name, given[1].name
                ),
                Some("a case has at most one of `response`, `response_contains`, `error`".into()),
            );
            return None;
        }
        if let Some(v) = f.get("response") {
            return Some(Expectation::Response {
                value: v.to_json(),
                pos: v.pos,
            });
        }
        if let Some(v) = f.get("response_contains") {
            if !matches!(v.value, Value::Map(_) | Value::Seq(_)) {
                self.error(
                    Some(v.pos),
                    format!(
                        "`response_contains` must be a mapping or a list, found {}",
                        v.value.kind()
                    ),
                    Some("use `response` to compare a whole value".into()),
                );
                return None;
            }
            return Some(Expectation::ResponseContains {
                value: v.to_json(),
                pos: v.pos,
            });
        }
        if let Some(v) = f.get("error") {
            let e = self.fields(v, "`error`", &["type", "message"])?;
            let error_type = match e.get("type") {
                Some(t) => Some(self.string(t, "error `type`")?),
                None => None,
            };
            let message = match e.get("message") {
                Some(m) => Some(self.string(m, "error `message`")?),
                None => None,
            };
            return Some(Expectation::Error {
                error_type,
                message,
                pos: v.pos,
            });
        }
        Some(Expectation::Success)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn fixture() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("code")).unwrap();
        std::fs::create_dir(dir.path().join("layer")).unwrap();
        dir
    }

    fn errors_of(text: &str) -> Vec<String> {
        let dir = fixture();
        let file = write(dir.path(), "s.yaml", text);
        let errs = load_paths(&[file]).unwrap_err();
        errs.0
            .iter()
            .map(|e| {
                let pos = e
                    .pos
                    .map(|p| format!("{}:{}", p.line, p.column))
                    .unwrap_or_default();
                match &e.hint {
                    Some(h) => format!("{pos}: {} ({h})", e.message),
                    None => format!("{pos}: {}", e.message),
                }
            })
            .collect()
    }

    const GOOD: &str = "\
function:
  runtime: python3.11
  handler: app.handler
  code: code
  layers: [layer]
  environment: {GREETING: Hello, PORT: 8080}
  timeout: 5
cases:
  - name: greets
    event: {name: Ada, flag: yes}
    expect:
      response: {body: \"Hello, Ada\"}
  - name: contains
    expect:
      response_contains: {statusCode: 200}
  - name: fails
    event: {}
    expect:
      error: {type: ValueError}
  - name: plain
";

    #[test]
    fn a_valid_suite_loads_with_defaults_and_positions() {
        let dir = fixture();
        let file = write(dir.path(), "hello.yaml", GOOD);
        let suites = load_paths(&[file]).unwrap();
        let s = &suites[0];
        assert_eq!(s.function.name, "hello");
        assert_eq!(s.function.image, "public.ecr.aws/lambda/python:3.11");
        assert_eq!(s.function.timeout, 5);
        assert_eq!(s.function.memory, 128);
        assert_eq!(s.function.environment["PORT"], "8080");
        assert!(s.function.code.as_ref().unwrap().is_absolute());
        assert_eq!(s.cases.len(), 4);
        assert_eq!(
            s.cases[0].event,
            serde_json::json!({"name": "Ada", "flag": "yes"})
        );
        assert_eq!(s.cases[0].pos.line, 9);
        assert_eq!(s.cases[0].expect.pos().unwrap().line, 12);
        assert_eq!(s.cases[1].event, serde_json::json!({}));
        assert_eq!(s.cases[3].expect, Expectation::Success);
        assert!(
            matches!(&s.cases[2].expect, Expectation::Error { error_type: Some(t), message: None, .. } if t == "ValueError")
        );
    }

    #[test]
    fn unknown_keys_get_a_did_you_mean_and_all_errors_come_in_one_pass() {
        let errs = errors_of(
            "function:\n  runtime: python3.11\n  handler: a.b\n  code: code\n  timout: 3\ncases:\n  - name: a\n    expect:\n      respnse: 1\n  - name: b\n    evnt: {}\n",
        );
        assert_eq!(
            errs,
            vec![
                "5:3: unknown field `timout` in `function` (did you mean `timeout`?)",
                "9:7: unknown field `respnse` in `expect` (did you mean `response`?)",
                "11:5: unknown field `evnt` in a case (did you mean `event`?)",
            ]
        );
    }

    #[test]
    fn unknown_runtime_lists_valid_ones_with_a_suggestion() {
        let errs = errors_of(
            "function:\n  runtime: python3.99\n  handler: a.b\n  code: code\ncases:\n  - name: a\n",
        );
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].starts_with("2:12: unknown runtime `python3.99` (did you mean `python3.1"),
            "{}",
            errs[0]
        );
        assert!(errs[0].contains("provided.al2023"));
    }

    #[test]
    fn exclusive_fields_and_duplicate_names() {
        let errs = errors_of(
            "function:\n  runtime: python3.11\n  handler: a.b\n  code: code\ncases:\n  - name: a\n    event: {}\n    event_file: e.json\n  - name: b\n    expect: {response: 1, error: {}}\n  - name: b\n  - name: b\n",
        );
        assert_eq!(
            errs[0],
            "8:5: `event` and `event_file` are exclusive (keep one of them)"
        );
        assert!(
            errs[1].starts_with("10:27: `response` and `error` cannot be combined"),
            "{}",
            errs[1]
        );
        assert_eq!(
            errs[2],
            "12:5: duplicate case name `b` (the first is at line 11; case names are unique within a suite)"
        );
    }

    #[test]
    fn missing_paths_and_bad_values() {
        let errs = errors_of(
            "function:\n  runtime: python3.11\n  handler: a.b\n  code: nowhere\n  memory: 64\n  timeout: fast\ncases:\n  - name: a\n    event_file: missing.json\n",
        );
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert!(
            errs[0].starts_with("4:9: `code` `nowhere` does not exist"),
            "{}",
            errs[0]
        );
        assert!(
            errs[1].starts_with("6:12: `timeout` must be a whole number of seconds"),
            "{}",
            errs[1]
        );
        assert!(
            errs[2].starts_with("5:11: `memory` must be a whole number of MB from 128"),
            "{}",
            errs[2]
        );
        assert!(
            errs[3].starts_with("9:17: `event_file` `missing.json` does not exist"),
            "{}",
            errs[3]
        );
    }

    #[test]
    fn invalid_yaml_points_at_the_line() {
        let errs = errors_of("function:\n  runtime: python3.11\ncases:\n  - name: [unclosed\n");
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0], "4:11: invalid YAML: unclosed bracket '['");
    }

    #[test]
    fn event_file_is_read_relative_to_the_suite() {
        let dir = fixture();
        std::fs::create_dir(dir.path().join("events")).unwrap();
        write(
            &dir.path().join("events"),
            "get.json",
            r#"{"path": "/x", "n": 17}"#,
        );
        let bootstrap = write(&dir.path().join("code"), "bootstrap", "#!/bin/sh\n");
        std::fs::set_permissions(
            &bootstrap,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let file = write(
            dir.path(),
            "s.yaml",
            "function:\n  runtime: provided.al2023\n  code: code\ncases:\n  - name: a\n    event_file: events/get.json\n",
        );
        let suites = load_paths(&[file]).unwrap();
        assert_eq!(
            suites[0].cases[0].event,
            serde_json::json!({"path": "/x", "n": 17})
        );
        assert!(suites[0].function.custom_runtime);
        assert_eq!(suites[0].function.handler.as_deref(), Some("bootstrap"));
    }

    #[test]
    fn custom_runtimes_need_an_executable_bootstrap() {
        let suite = "function:\n  runtime: provided.al2023\n  code: code\ncases:\n  - name: a\n";
        let errs = errors_of(suite);
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].starts_with("3:9: `code` has no `bootstrap`"),
            "{}",
            errs[0]
        );
        let dir = fixture();
        write(&dir.path().join("code"), "bootstrap", "#!/bin/sh\n");
        let file = write(dir.path(), "s.yaml", suite);
        let errs = load_paths(&[file]).unwrap_err();
        assert!(
            errs.0[0].message.ends_with("bootstrap is not executable"),
            "{}",
            errs.0[0]
        );
    }

    #[test]
    fn reserved_environment_variables_are_refused_with_the_key_to_use() {
        let errs = errors_of(
            "function:\n  runtime: python3.11\n  handler: a.b\n  code: code\n  environment:\n    AWS_LAMBDA_FUNCTION_TIMEOUT: 5\n    AWS_LAMBDA_RUNTIME_API: x\n    AWS_REGION: eu-west-1\ncases:\n  - name: a\n",
        );
        assert_eq!(
            errs,
            vec![
                "6:5: `AWS_LAMBDA_FUNCTION_TIMEOUT` is set by Lambda and cannot be set in `environment` (set the function's `timeout:` instead)",
                "7:5: `AWS_LAMBDA_RUNTIME_API` is set by Lambda and cannot be set in `environment` (the base image and RIE set it; remove it)",
            ]
        );
    }

    #[test]
    fn symlink_loops_are_not_followed_and_unreadable_suites_are_reported() {
        let dir = fixture();
        write(dir.path(), "s.yaml", GOOD);
        std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
        std::fs::write(
            dir.path().join("latin1.yaml"),
            b"cases:\n  - name: caf\xe9\n",
        )
        .unwrap();
        let errs = load_paths(&[dir.path().to_path_buf()]).unwrap_err();
        assert_eq!(errs.0.len(), 1, "{errs}");
        assert!(errs.0[0].file.ends_with("latin1.yaml"));
        assert_eq!(errs.0[0].message, "not valid UTF-8 text");
    }

    #[test]
    fn directories_skip_yaml_that_is_not_a_suite() {
        let dir = fixture();
        write(dir.path(), "s.yaml", GOOD);
        write(dir.path(), "other.yml", "just: config\n");
        write(dir.path(), "broken.yaml", "a: [\n");
        let suites = load_paths(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(suites.len(), 1);
    }

    #[test]
    fn an_explicit_file_that_is_not_a_suite_is_an_error() {
        let errs = errors_of("just: config\n");
        assert_eq!(errs.len(), 1);
        assert!(errs[0].contains("not a suite"), "{}", errs[0]);
    }
}

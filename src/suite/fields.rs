//! Typed field readers over the YAML node tree: each reads one kind of value, and reports a
//! wrong one at its position instead of stopping.

use std::path::{Path, PathBuf};

use super::Package;
use super::diagnostics::{LoadError, closest};
use super::node::{Key, Node, Pos, Value};

fn is_zip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
}

/// Validation state for one file.
pub(super) struct Ctx<'a> {
    pub(super) file: &'a Path,
    pub(super) errors: Vec<LoadError>,
    /// What is likely wrong but may not be: said, and the suite still loads.
    pub(super) warnings: Vec<LoadError>,
    /// The other files the suite reads (`event_file`s), absolute.
    pub(super) inputs: Vec<PathBuf>,
    /// Values written in another file (a template) at these positions: what is said about
    /// them points there.
    pub(super) foreign: std::collections::HashMap<Pos, PathBuf>,
    /// What the command line passes to the templates suites name.
    pub(super) options: super::LoadOptions,
    /// The functions of the Lambda authorizers decoded so far, for the function whose routes
    /// name them.
    pub(super) authorizers: Vec<super::Function>,
}

/// The entries of a mapping whose keys were checked against the allowed ones.
pub(super) struct Fields<'n> {
    pub(super) entries: &'n [(Key, Node)],
}

impl<'n> Fields<'n> {
    pub(super) fn get(&self, name: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == name)
            .map(|(_, v)| v)
    }

    pub(super) fn key(&self, name: &str) -> Option<&'n Key> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == name)
            .map(|(k, _)| k)
    }
}

impl Ctx<'_> {
    pub(super) fn error(
        &mut self,
        pos: Option<Pos>,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.errors.push(LoadError {
            file: self.file_of(pos),
            pos,
            message: message.into(),
            hint,
        });
    }

    /// Says something likely wrong at `pos`, without failing the suite.
    pub(super) fn warn(&mut self, pos: Pos, message: impl Into<String>, hint: String) {
        self.warnings.push(LoadError {
            file: self.file_of(Some(pos)),
            pos: Some(pos),
            message: message.into(),
            hint: Some(hint),
        });
    }

    /// The file a value at `pos` is written in.
    fn file_of(&self, pos: Option<Pos>) -> PathBuf {
        pos.and_then(|p| self.foreign.get(&p))
            .cloned()
            .unwrap_or_else(|| self.file.to_path_buf())
    }

    /// Reports that `node` is not `want`, the kind of value `what` takes.
    pub(super) fn wrong_kind(&mut self, node: &Node, what: &str, want: &str) {
        self.error(
            Some(node.pos),
            format!("{what} must be {want}, found {}", node.value.kind()),
            None,
        );
    }

    pub(super) fn dir(&self) -> PathBuf {
        self.file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    /// Checks that `node` is a mapping with only `allowed` keys; unknown keys are errors.
    pub(super) fn fields<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        allowed: &[&str],
    ) -> Option<Fields<'n>> {
        let Value::Map(entries) = &node.value else {
            self.wrong_kind(node, what, "a mapping");
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

    /// Which one of `keys` `f` gives, if any; giving two is an error at the second.
    pub(super) fn exclusive(
        &mut self,
        f: &Fields,
        keys: &[&'static str],
    ) -> Result<Option<&'static str>, ()> {
        let given: Vec<&'static str> = keys
            .iter()
            .copied()
            .filter(|k| f.get(k).is_some())
            .collect();
        if let [first, second, ..] = given.as_slice() {
            let pos = f.key(second).map(|k| k.pos);
            self.error(
                pos,
                format!("`{first}` and `{second}` are exclusive"),
                Some("keep one of them".into()),
            );
            return Err(());
        }
        Ok(given.first().copied())
    }

    /// The value of `key`, which `f` (the mapping `node`) must give; its absence is an error
    /// at the mapping, with `hint`.
    pub(super) fn required<'n>(
        &mut self,
        f: &Fields<'n>,
        node: &Node,
        key: &str,
        what: &str,
        hint: &str,
    ) -> Option<&'n Node> {
        let found = f.get(key);
        if found.is_none() {
            self.error(
                Some(node.pos),
                format!("{what} without `{key}`"),
                Some(hint.into()),
            );
        }
        found
    }

    pub(super) fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::String(_) => {
                self.error(Some(node.pos), format!("{what} must not be empty"), None);
                None
            }
            _ => {
                self.wrong_kind(node, what, "a string");
                None
            }
        }
    }

    pub(super) fn integer(
        &mut self,
        node: &Node,
        what: &str,
        min: u64,
        max: u64,
        unit: &str,
    ) -> Option<u32> {
        let n = match &node.value {
            Value::Number(n) => n.as_u64(),
            _ => None,
        };
        match n {
            Some(n) if (min..=max).contains(&n) => Some(n as u32),
            _ => {
                let found = match &node.value {
                    Value::Number(n) => format!("`{n}`"),
                    Value::String(s) => format!("the text `{}`", shown(s)),
                    other => other.kind().to_string(),
                };
                self.error(
                    Some(node.pos),
                    format!(
                        "{what} must be a whole number of {unit} from {min} to {max}, found {found}"
                    ),
                    None,
                );
                None
            }
        }
    }

    /// A scalar as text, the way environment variables and build args take it.
    pub(super) fn scalar(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => {
                self.wrong_kind(node, what, "a string");
                None
            }
        }
    }

    /// The value of one of `choices` (name, value), with a did-you-mean for a near miss.
    pub(super) fn choice<T: Copy>(
        &mut self,
        node: &Node,
        what: &str,
        choices: &[(&'static str, T)],
    ) -> Option<T> {
        let given = self.string(node, what)?;
        if let Some((_, value)) = choices.iter().find(|(name, _)| *name == given) {
            return Some(*value);
        }
        let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
        let hint = match closest(&given, names.iter().copied()) {
            Some(c) => format!("did you mean `{c}`? {what} takes: {}", names.join(", ")),
            None => format!("{what} takes: {}", names.join(", ")),
        };
        self.error(
            Some(node.pos),
            format!("unknown {what} `{given}`"),
            Some(hint),
        );
        None
    }

    /// A file relative to the suite file that must exist.
    pub(super) fn file(&mut self, node: &Node, what: &str) -> Option<PathBuf> {
        self.path(node, what, "a file", Path::is_file)
    }

    /// A directory, or a `.zip` file as uploaded to Lambda, relative to the suite file.
    pub(super) fn package(&mut self, node: &Node, what: &str) -> Option<Package> {
        let is_package = |p: &Path| p.is_dir() || (p.is_file() && is_zip(p));
        let path = self.path(node, what, "a directory or a .zip file", is_package)?;
        Some(Package {
            zip: !path.is_dir(),
            path,
            pos: node.pos,
            held: None,
        })
    }

    /// A path relative to the suite file that must name something `fits` accepts.
    fn path(
        &mut self,
        node: &Node,
        what: &str,
        kind: &str,
        fits: impl Fn(&Path) -> bool,
    ) -> Option<PathBuf> {
        let raw = self.string(node, what)?;
        let joined = self.dir().join(&raw);
        let resolved = std::path::absolute(&joined).unwrap_or(joined);
        if !fits(&resolved) {
            let problem = if resolved.exists() {
                format!("is not {kind}")
            } else {
                "does not exist".to_string()
            };
            // Shown as the user would look for it: absolute, without `.` and `..`.
            let dir = self.shown_dir();
            self.error(
                Some(node.pos),
                format!(
                    "{what} `{raw}` {problem} (resolved to {})",
                    normalised(&dir.join(&raw)).display()
                ),
                Some(format!(
                    "paths are relative to the suite file's directory, {}",
                    dir.display()
                )),
            );
            return None;
        }
        Some(resolved)
    }

    /// The suite file's directory, absolute and with symlinks resolved where it exists.
    fn shown_dir(&self) -> PathBuf {
        let dir = self.dir();
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        std::fs::canonicalize(&dir)
            .or_else(|_| std::path::absolute(&dir))
            .unwrap_or(dir)
    }
}

/// `path` with `.` and `..` components folded away, as written (no symlinks are followed).
pub(crate) fn normalised(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push(part);
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// A value as quoted in a message: its first 40 characters, on one line.
fn shown(text: &str) -> String {
    let line: String = text.chars().take(40).collect();
    let line = line.replace(['\n', '\r'], " ");
    if text.chars().count() > 40 {
        format!("{line}…")
    } else {
        line
    }
}

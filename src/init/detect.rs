//! Which kind of function a project directory holds, and its handler: read from the files
//! Lambda itself would load, never by running anything.

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

/// The most bytes of a source file read when looking for its handler: handlers sit in small
/// entry files, and a bundled one still names its export in text.
const SOURCE_LIMIT: u64 = 4 * 1024 * 1024;

/// What a project is, as `init` writes it into a suite.
#[derive(Debug, Clone, PartialEq)]
pub struct Detected {
    /// The Lambda runtime identifier.
    pub runtime: &'static str,
    /// `file.function`, when one was found (a custom runtime needs none).
    pub handler: Option<String>,
    /// How the runtime and handler were found, for the suite's comments.
    pub found: String,
    /// What the user should check, when the handler is a guess.
    pub warning: Option<String>,
}

/// Node.js and Python handlers `init` recognises, in the order it prefers them.
const NODE_NAMES: &[&str] = &["handler", "lambdaHandler"];
const PYTHON_NAMES: &[&str] = &["handler", "lambda_handler"];
/// The runtimes `init` writes: the newest each family's stand-in images cover.
pub const NODE: &str = "nodejs22.x";
pub const PYTHON: &str = "python3.11";
pub const CUSTOM: &str = "provided.al2023";

/// Looks at `dir`: a Node.js or Python file exporting a handler, else a custom runtime's
/// `bootstrap`, else a `package.json` without a handler found. `None`: nothing Lambda runs.
pub fn detect(dir: &Path) -> Option<Detected> {
    if let Some(found) = node(dir) {
        return Some(found);
    }
    if let Some(found) = python(dir) {
        return Some(found);
    }
    if dir.join("bootstrap").is_file() {
        return Some(Detected {
            runtime: CUSTOM,
            handler: None,
            found: "a custom runtime: `bootstrap` at the root of the code".into(),
            warning: None,
        });
    }
    dir.join("package.json").is_file().then(|| Detected {
        runtime: NODE,
        handler: Some("index.handler".into()),
        found: "package.json, but no file exporting a handler".into(),
        warning: Some(
            "no .js/.mjs/.cjs file here exports `handler`; set `handler:` to your built entry file and export (`file.export`)".into(),
        ),
    })
}

/// The entry files a Node.js function may have: `main` of package.json first.
fn node_candidates(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let main = std::fs::read(dir.join("package.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|p| p.get("main")?.as_str().map(str::to_string));
    if let Some(main) = main {
        files.push(main.trim_start_matches("./").to_string());
    }
    for stem in ["index", "app", "handler"] {
        for ext in ["js", "mjs", "cjs"] {
            files.push(format!("{stem}.{ext}"));
        }
    }
    files
}

fn node(dir: &Path) -> Option<Detected> {
    for file in node_candidates(dir) {
        let Some(stem) = ["js", "mjs", "cjs"]
            .iter()
            .find_map(|ext| file.strip_suffix(&format!(".{ext}")))
        else {
            continue;
        };
        let Some(text) = source(&dir.join(&file)) else {
            continue;
        };
        if let Some(name) = NODE_NAMES.iter().find(|n| node_exports(&text, n)) {
            return Some(Detected {
                runtime: NODE,
                handler: Some(format!("{stem}.{name}")),
                found: format!("{file} exports `{name}`"),
                warning: None,
            });
        }
    }
    None
}

/// Whether JavaScript source exports `name`, CommonJS or ES module style.
fn node_exports(text: &str, name: &str) -> bool {
    let n = regex::escape(name);
    let patterns = [
        format!(r"\bexports\.{n}\s*="),
        format!(r"\bexport\s+(async\s+)?function\s*\*?\s*{n}\b"),
        format!(r"\bexport\s+(const|let|var)\s+{n}\b"),
        format!(r"\bmodule\.exports\s*=\s*\{{[^}}]*\b{n}\b"),
        format!(r"\bexport\s*\{{[^}}]*\b{n}\b"),
    ];
    patterns
        .iter()
        .any(|p| Regex::new(p).is_ok_and(|re| re.is_match(text)))
}

static PYTHON_DEF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^def\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(").expect("a valid pattern")
});

fn python(dir: &Path) -> Option<Detected> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".py") && !name.starts_with("test_"))
        .collect();
    // AWS's own default first, then the usual names, then the rest by name.
    let rank = |name: &str| {
        ["lambda_function.py", "app.py", "handler.py", "main.py"]
            .iter()
            .position(|n| *n == name)
            .unwrap_or(usize::MAX)
    };
    files.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.cmp(b)));
    for file in files {
        let Some(text) = source(&dir.join(&file)) else {
            continue;
        };
        let defined: Vec<&str> = PYTHON_DEF
            .captures_iter(&text)
            .filter_map(|c| c.get(1).map(|m| m.as_str()))
            .collect();
        if let Some(name) = PYTHON_NAMES.iter().find(|n| defined.contains(n)) {
            let stem = file.trim_end_matches(".py");
            return Some(Detected {
                runtime: PYTHON,
                handler: Some(format!("{stem}.{name}")),
                found: format!("{file} defines `{name}`"),
                warning: None,
            });
        }
    }
    None
}

/// A source file's text, if it is a regular file of reasonable size.
fn source(path: &Path) -> Option<String> {
    let bytes = crate::suite::read::read_limited(path, SOURCE_LIMIT).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    fn handler(files: &[(&str, &str)]) -> Option<(String, Option<String>)> {
        let dir = project(files);
        detect(dir.path()).map(|d| (d.runtime.to_string(), d.handler))
    }

    #[test]
    fn node_handlers_in_every_export_style() {
        for (file, text, expected) in [
            (
                "index.js",
                "exports.handler = async (e) => e;",
                "index.handler",
            ),
            (
                "app.js",
                "module.exports.handler = function (e, c, cb) {}",
                "app.handler",
            ),
            (
                "index.mjs",
                "export const handler = async () => 1;",
                "index.handler",
            ),
            (
                "app.mjs",
                "export async function handler(e) {}",
                "app.handler",
            ),
            (
                "index.cjs",
                "async function handler() {}\nmodule.exports = { handler };",
                "index.handler",
            ),
            (
                "app.js",
                "exports.lambdaHandler = async () => 1;",
                "app.lambdaHandler",
            ),
        ] {
            assert_eq!(
                handler(&[(file, text)]),
                Some((NODE.into(), Some(expected.into()))),
                "{file}: {text}"
            );
        }
    }

    #[test]
    fn package_json_main_is_looked_at_first() {
        let found = handler(&[
            ("package.json", r#"{"name": "x", "main": "./lib/entry.js"}"#),
            ("index.js", "exports.handler = 1"),
        ]);
        // `lib/entry.js` does not exist, so the next candidate is used.
        assert_eq!(found, Some((NODE.into(), Some("index.handler".into()))));
        let dir = project(&[("package.json", r#"{"main": "main.js"}"#)]);
        std::fs::write(dir.path().join("main.js"), "exports.handler = 1").unwrap();
        std::fs::write(dir.path().join("index.js"), "exports.handler = 1").unwrap();
        assert_eq!(
            detect(dir.path()).unwrap().handler.as_deref(),
            Some("main.handler")
        );
    }

    #[test]
    fn python_handlers_prefer_the_usual_file_names() {
        assert_eq!(
            handler(&[
                ("util.py", "def handler(event, context):\n    pass\n"),
                (
                    "app.py",
                    "import json\n\ndef lambda_handler(event, context):\n    return {}\n"
                ),
            ]),
            Some((PYTHON.into(), Some("app.lambda_handler".into())))
        );
        // A method or a nested function is not a module's handler.
        assert_eq!(
            handler(&[("app.py", "class A:\n    def handler(self):\n        pass\n")]),
            None
        );
    }

    #[test]
    fn a_bootstrap_is_a_custom_runtime_and_a_bare_package_json_a_guess() {
        assert_eq!(
            handler(&[("bootstrap", "#!/bin/sh\n")]),
            Some((CUSTOM.into(), None))
        );
        let dir = project(&[("package.json", "{}")]);
        let guess = detect(dir.path()).unwrap();
        assert_eq!(guess.handler.as_deref(), Some("index.handler"));
        assert!(guess.warning.is_some());
        assert_eq!(handler(&[("README.md", "# nothing to run")]), None);
    }
}

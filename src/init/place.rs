//! Where `init` finds the function and what it calls it: the directory named, or the one
//! function below a project root (`code/`, `src/`, `dist/`, ... or any directory one or two
//! levels down); a name from what the function is (its package's name, or the project's when
//! its directory has a generic name such as `code` or `src`); and layers beside the code.

use std::path::{Component, Path, PathBuf};

use super::detect::{Detected, detect};

/// Directory names that say where code sits, not what it is.
const GENERIC: &[&str] = &[
    "code",
    "src",
    "dist",
    "build",
    "lambda",
    "function",
    "functions",
    "app",
    "handler",
    "out",
    "package",
    "lib",
    "deploy",
    "artifact",
    "artifacts",
    "bundle",
    "target",
];

/// Directories never searched for a function.
const SKIPPED: &[&str] = &[
    "node_modules",
    "cases",
    "tests",
    "test",
    "target",
    "venv",
    ".venv",
];

/// A function found: its directory and what it is.
pub struct Found {
    pub dir: PathBuf,
    pub detected: Detected,
}

/// The function in `dir`, or the only one in a directory one or two levels below it; an error
/// naming them all when there are several.
pub fn locate(dir: &Path) -> Result<Option<Found>, Vec<PathBuf>> {
    if let Some(detected) = detect(dir) {
        return Ok(Some(Found {
            dir: dir.to_path_buf(),
            detected,
        }));
    }
    let mut found = Vec::new();
    for child in subdirectories(dir) {
        match detect(&child) {
            Some(detected) => found.push(Found {
                dir: child,
                detected,
            }),
            None => found.extend(subdirectories(&child).into_iter().filter_map(|grandchild| {
                detect(&grandchild).map(|detected| Found {
                    dir: grandchild,
                    detected,
                })
            })),
        }
    }
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err(found.into_iter().map(|f| f.dir).collect()),
    }
}

fn subdirectories(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            !name.starts_with('.') && !SKIPPED.contains(&name.as_str())
        })
        .map(|e| e.path())
        .take(200)
        .collect();
    dirs.sort();
    dirs
}

/// The function's name: its package's `name` (Node.js), else its directory's, else (for a
/// directory called `code`, `src`...) the nearest parent's that is not generic; as Lambda
/// allows names, or `function`.
pub fn function_name(code: &Path) -> String {
    let package = std::fs::read(code.join("package.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|p| p.get("name")?.as_str().map(str::to_string))
        .map(|n| n.rsplit('/').next().unwrap_or_default().to_string());
    let from_dirs = absolute(code).ancestors().find_map(|a| {
        let name = a.file_name()?.to_string_lossy().to_lowercase();
        (!GENERIC.contains(&name.as_str()))
            .then(|| a.file_name().map(|n| n.to_string_lossy().into_owned()))?
    });
    for candidate in package.into_iter().chain(from_dirs) {
        let name = crate::suite::safe_name(&candidate);
        let name = name.trim_matches('-');
        if !name.is_empty() {
            return name.chars().take(64).collect();
        }
    }
    "function".into()
}

/// Layers beside the code: `layer*.zip` files and `layer`/`layers/*` directories in the code's
/// parent directory, in name order; none when that directory is not `within` the project (the
/// code is the project, and its parent holds other projects).
pub fn layers_beside(code: &Path, within: &Path) -> Vec<PathBuf> {
    let code = absolute(code);
    let Some(parent) = code.parent().filter(|p| p.starts_with(absolute(within))) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(parent) else {
        return found;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if path == code {
            continue;
        }
        let zipped = path.is_file() && name.starts_with("layer") && name.ends_with(".zip");
        if zipped || (path.is_dir() && name == "layer") {
            found.push(path);
        } else if path.is_dir() && name == "layers" {
            found.extend(subdirectories(&path));
        }
    }
    found
}

/// `path` absolute, links resolved where it exists.
pub fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

/// `to` written relative to the directory `from` (both made absolute), with `/` between parts.
pub fn relative(to: &Path, from: &Path) -> String {
    let (to, from) = (absolute(to), absolute(from));
    let to: Vec<Component> = to.components().collect();
    let from: Vec<Component> = from.components().collect();
    let common = to.iter().zip(&from).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        for (file, text) in files {
            let path = root.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        root
    }

    // Regression: at a project root, `init` did not look in `code/` or `src/`; and named the
    // function after the directory, "code" or "src".
    #[test]
    fn a_project_roots_one_function_is_found_below_it_and_named_for_the_project() {
        let root = tree(&[
            ("users-api/src/app.py", "def handler(e, c): pass\n"),
            ("users-api/README.md", "x"),
        ]);
        let project = root.path().join("users-api");
        let found = locate(&project).unwrap().unwrap();
        assert_eq!(found.dir, project.join("src"));
        assert_eq!(function_name(&found.dir), "users-api");
        let root = tree(&[
            (
                "svc/functions/users/index.js",
                "exports.handler = async () => 1;\n",
            ),
            ("svc/functions/orders/app.py", "def handler(e, c): pass\n"),
        ]);
        let several = locate(&root.path().join("svc")).err().unwrap();
        assert_eq!(several.len(), 2, "{several:?}");
        let root = tree(&[("p/code/package.json", r#"{"name": "@acme/greeter"}"#)]);
        assert_eq!(function_name(&root.path().join("p/code")), "greeter");
    }

    #[test]
    fn layers_beside_the_code_are_found_and_paths_are_written_relative() {
        let root = tree(&[
            ("p/code/index.js", "exports.handler = 1;"),
            ("p/layer.zip", "zip"),
            ("p/layers/shared/nodejs/x.js", ""),
            ("p/other.zip", "zip"),
        ]);
        let code = root.path().join("p/code");
        let cases = root.path().join("p/cases");
        std::fs::create_dir(&cases).unwrap();
        let layers = layers_beside(&code, &root.path().join("p"));
        assert!(
            layers_beside(&code, &code).is_empty(),
            "outside the project"
        );
        let names: Vec<String> = layers.iter().map(|l| relative(l, &cases)).collect();
        assert_eq!(names, ["../layer.zip", "../layers/shared"]);
        assert_eq!(relative(&code, &cases), "../code");
        assert_eq!(relative(&code, &code), ".");
    }
}

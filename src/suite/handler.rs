//! A handler read statically: the file a Python or Node.js handler names, and whether it
//! defines the function. The runtime would answer `Runtime.ImportModuleError` or
//! `Runtime.HandlerNotFound` at every case's line; this says it at the `handler:` line, before
//! anything runs. A warning, never an error: a handler can be made in ways no reading of its
//! file sees (a name bound by a decorator's factory, `from x import *`, a re-export).

use std::io::Read;

use super::Package;

/// What reading the handler's file found.
#[derive(Debug, PartialEq)]
pub(super) enum Finding {
    /// No file for the module, under any of these names.
    NoFile { tried: Vec<String> },
    /// The file is there, and `function` appears nowhere in it.
    Undefined {
        file: String,
        function: String,
        /// The functions it does define, as far as a reading sees.
        defines: Vec<String>,
    },
}

/// The most of a handler's file that is read.
const READ_LIMIT: u64 = 1024 * 1024;

/// What `handler` (of a `family` runtime: "Python" or "Node.js") finds in `code`; `None` when
/// all looks well or nothing can be told.
pub(super) fn check(handler: &str, family: &str, code: &Package) -> Option<Finding> {
    let (module, function) = split(handler, family)?;
    let tried: Vec<String> = match family {
        "Python" => {
            let path = module.replace('.', "/");
            vec![format!("{path}.py"), format!("{path}/__init__.py")]
        }
        "Node.js" => ["js", "mjs", "cjs"]
            .iter()
            .map(|ext| format!("{module}.{ext}"))
            .collect(),
        _ => return None,
    };
    // An archive that cannot be read is an error of its own.
    if code.zip && zip_of(code).is_none() {
        return None;
    }
    let Some((file, text)) = tried.iter().find_map(|f| Some((f.clone(), read(code, f)?))) else {
        return Some(Finding::NoFile { tried });
    };
    // Re-exported or made by name from elsewhere: nothing can be told.
    let opaque = [
        "import *",
        "export *",
        "module.exports = require",
        "getattr(",
        "globals()",
    ];
    if opaque.iter().any(|o| text.contains(o)) || mentions(&text, function) {
        return None;
    }
    Some(Finding::Undefined {
        file,
        function: function.to_string(),
        defines: defined(&text, family),
    })
}

/// A handler as its runtime splits it: Python at the last dot (`pkg.mod.fn`); Node.js at the
/// first dot after the last `/` (`src/index.handlers.main` is the export `handlers` of
/// `src/index`, and its `main`), the export being what the file must name.
pub(super) fn split<'h>(handler: &'h str, family: &str) -> Option<(&'h str, &'h str)> {
    if family == "Python" {
        return handler.rsplit_once('.');
    }
    let base = handler.rfind('/').map_or(0, |at| at + 1);
    let dot = base + handler[base..].find('.')?;
    let (module, rest) = (&handler[..dot], &handler[dot + 1..]);
    Some((module, rest.split('.').next()?))
}

/// The text of `file` in the code, a directory or a zip; `None` when it is not there.
fn read(code: &Package, file: &str) -> Option<String> {
    let mut bytes = Vec::new();
    if code.zip {
        let mut archive = zip_of(code)?;
        let entry = archive.by_name(file).ok()?;
        entry.take(READ_LIMIT).read_to_end(&mut bytes).ok()?;
    } else {
        let path = code.path.join(file);
        if !path.is_file() {
            return None;
        }
        std::fs::File::open(path)
            .ok()?
            .take(READ_LIMIT)
            .read_to_end(&mut bytes)
            .ok()?;
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

fn zip_of(code: &Package) -> Option<zip::ZipArchive<std::fs::File>> {
    zip::ZipArchive::new(std::fs::File::open(&code.path).ok()?).ok()
}

/// Whether `name` appears in `text` as a whole identifier.
fn mentions(text: &str, name: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// The functions a file defines at its top level, as a reading sees them: Python's `def` and
/// `async def`; Node.js's `exports.x`, `export function x`, `export const x`.
fn defined(text: &str, family: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in text.lines() {
        let found = if family == "Python" {
            line.strip_prefix("async def ")
                .or_else(|| line.strip_prefix("def "))
        } else {
            [
                "exports.",
                "module.exports.",
                "export async function ",
                "export function ",
                "export const ",
                "export let ",
            ]
            .iter()
            .find_map(|p| line.trim_start().strip_prefix(p))
        };
        if let Some(rest) = found {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
                .collect();
            if !name.is_empty() && !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names.truncate(12);
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(files: &[(&str, &str)]) -> (tempfile::TempDir, Package) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let package = Package {
            path: dir.path().to_path_buf(),
            zip: false,
            pos: super::super::Pos { line: 1, column: 1 },
            held: None,
        };
        (dir, package)
    }

    // Regression: `handler: handler.lambda_handler` in a file that defines `handler` was told
    // only at each case's line, as the runtime's Runtime.HandlerNotFound.
    #[test]
    fn a_handler_its_file_does_not_define_is_found_with_what_the_file_defines() {
        let (_d, py) = code(&[(
            "handler.py",
            "import json\n\ndef handler(event, context):\n    return {}\n\nasync def other(e, c):\n    pass\n",
        )]);
        assert_eq!(
            check("handler.lambda_handler", "Python", &py),
            Some(Finding::Undefined {
                file: "handler.py".into(),
                function: "lambda_handler".into(),
                defines: vec!["handler".into(), "other".into()],
            })
        );
        assert_eq!(check("handler.handler", "Python", &py), None);
        assert_eq!(
            check("app.handler", "Python", &py),
            Some(Finding::NoFile {
                tried: vec!["app.py".into(), "app/__init__.py".into()]
            })
        );
        let (_d, node) = code(&[(
            "src/index.mjs",
            "export const handler = async (event) => ({});\nexport function helper() {}\n",
        )]);
        assert_eq!(check("src/index.handler", "Node.js", &node), None);
        // Node.js splits at the first dot after the last `/`: `helper.run` is an export's member.
        assert_eq!(check("src/index.helper.run", "Node.js", &node), None);
        let Some(Finding::Undefined { defines, .. }) = check("src/index.main", "Node.js", &node)
        else {
            panic!("main is not defined");
        };
        assert_eq!(defines, ["handler", "helper"]);
        // A name that only appears inside another word is not a mention; a re-export tells
        // nothing.
        let (_d, py) = code(&[
            ("m.py", "def mainly(e, c): pass\n"),
            ("r.py", "from impl import *\n"),
        ]);
        assert!(matches!(
            check("m.main", "Python", &py),
            Some(Finding::Undefined { .. })
        ));
        assert_eq!(check("r.main", "Python", &py), None);
    }
}

//! A layer's layout read at load: where its files land under `/opt`, against where the
//! function's runtime looks. A layer zipped with its `opt/` folder lands at `/opt/opt/...`, and
//! a Python package under another version's `site-packages` is never imported: the runtime says
//! only `Cannot find module` or `No module named`, at every case. Said as a warning with the
//! fix; the layer is still mounted as it is.

use std::collections::BTreeSet;

use super::Package;

/// The paths a layer holds, as `dir/` for directories, down to `depth` levels.
fn paths(layer: &Package, depth: usize) -> Option<BTreeSet<String>> {
    let mut found = BTreeSet::new();
    if layer.zip {
        let archive = zip::ZipArchive::new(std::fs::File::open(&layer.path).ok()?).ok()?;
        for name in archive.file_names().flatten() {
            let parts: Vec<&str> = name.split('/').filter(|p| !p.is_empty()).collect();
            for n in 1..=parts.len().min(depth) {
                let dir = n < parts.len() || name.ends_with('/');
                found.insert(format!(
                    "{}{}",
                    parts[..n].join("/"),
                    if dir { "/" } else { "" }
                ));
            }
        }
    } else {
        walk(&layer.path, "", depth, &mut found);
    }
    Some(found)
}

fn walk(dir: &std::path::Path, prefix: &str, depth: usize, found: &mut BTreeSet<String>) {
    if depth == 0 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten().take(1000) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            let path = format!("{prefix}{name}/");
            found.insert(path.clone());
            walk(&entry.path(), &path, depth - 1, found);
        } else {
            found.insert(format!("{prefix}{name}"));
        }
    }
}

/// What is wrong with `layer`'s layout for `runtime` (`python3.11`, `nodejs22.x`, ...), and
/// the fix; `None` when nothing is seen to be.
pub(super) fn problem(layer: &Package, runtime: Option<&str>) -> Option<(String, String)> {
    let paths = paths(layer, 4)?;
    if paths
        .iter()
        .any(|p| p.starts_with("opt/") && p.len() > "opt/".len())
    {
        return Some((
            "holds a top-level `opt/`, so its files land at /opt/opt/..., where no runtime looks"
                .into(),
            "zip what is inside `opt/`, not the folder: `cd opt && zip -r ../layer.zip .`".into(),
        ));
    }
    let runtime = runtime?;
    if let Some(version) = runtime.strip_prefix("python") {
        return python(&paths, version);
    }
    let major = runtime.strip_prefix("nodejs")?.split('.').next()?;
    node(&paths, major)
}

/// A Python layer: `python/` and `python/lib/pythonX.Y/site-packages/` for the runtime's X.Y.
fn python(paths: &BTreeSet<String>, version: &str) -> Option<(String, String)> {
    let wanted = format!("python/lib/python{version}/");
    let other = paths.iter().find(|p| {
        p.starts_with("python/lib/python") && p.matches('/').count() == 3 && **p != wanted
    });
    if let Some(other) = other
        && !paths.contains(&wanted)
    {
        return Some((
            format!("holds `{other}site-packages/`, which python{version} does not search"),
            format!(
                "python{version} imports from /opt/python and /opt/python/lib/python{version}/site-packages: build the layer for python{version}, or put the packages in `python/`"
            ),
        ));
    }
    // `lib/` alone is native libraries (/opt/lib is on LD_LIBRARY_PATH); `lib/pythonX.Y/` is not.
    let stray = paths
        .iter()
        .find(|p| {
            *p == "site-packages/" || (p.starts_with("lib/python") && p.matches('/').count() == 2)
        })
        .filter(|_| !paths.contains("python/"))?;
    Some((
        format!("holds a top-level `{stray}`, which Python does not search"),
        "Python imports a layer's packages from /opt/python: put them under `python/` (`pip install -t python/ ...`)".into(),
    ))
}

/// A Node.js layer: `nodejs/node_modules/` or `nodejs/nodeNN/node_modules/` for the runtime's
/// major version.
fn node(paths: &BTreeSet<String>, major: &str) -> Option<(String, String)> {
    let fix = format!(
        "Node.js {major} resolves a layer's modules from /opt/nodejs/node_modules and /opt/nodejs/node{major}/node_modules: put them in `nodejs/node_modules/`"
    );
    if paths.contains("node_modules/") && !paths.contains("nodejs/") {
        return Some((
            "holds a top-level `node_modules/`, which Node.js does not search".into(),
            fix,
        ));
    }
    if !paths.contains("nodejs/") {
        return None;
    }
    let searched = paths.contains("nodejs/node_modules/")
        || paths.contains(&format!("nodejs/node{major}/node_modules/"));
    if searched {
        return None;
    }
    let other = paths
        .iter()
        .find(|p| p.starts_with("nodejs/node") && p.ends_with("/node_modules/"));
    let said = match other {
        Some(other) => format!("holds `{other}`, which Node.js {major} does not search"),
        None => "holds `nodejs/` without a `node_modules/` in it, which Node.js does not search"
            .to_string(),
    };
    Some((said, fix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(files: &[&str]) -> (tempfile::TempDir, Package) {
        let dir = tempfile::tempdir().unwrap();
        for file in files {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        let package = Package {
            path: dir.path().to_path_buf(),
            zip: false,
            pos: super::super::Pos { line: 1, column: 1 },
            held: None,
        };
        (dir, package)
    }

    fn said(files: &[&str], runtime: &str) -> Option<String> {
        let (_d, package) = layer(files);
        problem(&package, Some(runtime)).map(|(said, fix)| format!("{said} | {fix}"))
    }

    // Regression: a layer zipped with its `opt/` folder, or built for another Python, got only
    // the runtime's `Cannot find module` at every case.
    #[test]
    fn layouts_no_runtime_searches_are_said_with_the_fix() {
        let opt = said(&["opt/nodejs/node_modules/lib/index.js"], "nodejs22.x").unwrap();
        assert!(opt.starts_with("holds a top-level `opt/`"), "{opt}");
        assert!(opt.contains("cd opt && zip -r ../layer.zip ."), "{opt}");
        let old = said(
            &["python/lib/python3.9/site-packages/x/__init__.py"],
            "python3.11",
        )
        .unwrap();
        assert!(
            old.starts_with(
                "holds `python/lib/python3.9/site-packages/`, which python3.11 does not search"
            ),
            "{old}"
        );
        let bare = said(&["site-packages/x/__init__.py"], "python3.12").unwrap();
        assert!(bare.contains("put them under `python/`"), "{bare}");
        let lib = said(
            &["lib/python3.12/site-packages/x/__init__.py"],
            "python3.12",
        )
        .unwrap();
        assert!(
            lib.starts_with("holds a top-level `lib/python3.12/`"),
            "{lib}"
        );
        let node = said(&["node_modules/x/index.js"], "nodejs20.x").unwrap();
        assert!(
            node.starts_with("holds a top-level `node_modules/`"),
            "{node}"
        );
        let versioned = said(&["nodejs/node18/node_modules/x/index.js"], "nodejs22.x").unwrap();
        assert!(
            versioned.contains("`nodejs/node18/node_modules/`, which Node.js 22"),
            "{versioned}"
        );
        // Read from a zip as from a directory.
        let dir = tempfile::tempdir().unwrap();
        let zipped = dir.path().join("layer.zip");
        let mut writer = zip::ZipWriter::new(std::fs::File::create(&zipped).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        writer
            .start_file("opt/nodejs/node_modules/x/index.js", options)
            .unwrap();
        writer.finish().unwrap();
        let package = Package {
            path: zipped,
            zip: true,
            pos: super::super::Pos { line: 1, column: 1 },
            held: None,
        };
        let (zipped_said, _) = problem(&package, Some("nodejs22.x")).unwrap();
        assert!(
            zipped_said.starts_with("holds a top-level `opt/`"),
            "{zipped_said}"
        );
        // Layouts the runtime searches, and layers of other things, are fine.
        for fine in [
            (&["python/x.py"][..], "python3.11"),
            (
                &["python/lib/python3.11/site-packages/x/__init__.py"],
                "python3.11",
            ),
            (&["nodejs/node_modules/x/index.js"], "nodejs22.x"),
            (&["nodejs/node22/node_modules/x/index.js"], "nodejs22.x"),
            (&["bin/tool", "lib/libx.so"], "provided.al2023"),
            (&["lib/libpq.so"], "python3.11"),
            (&["extensions/ext"], "python3.11"),
        ] {
            assert_eq!(said(fine.0, fine.1), None, "{fine:?}");
        }
    }
}

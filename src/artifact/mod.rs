//! Artifacts as deployed: every `.zip` a suite names (code or layer) is unpacked once per run,
//! keyed by its content, before anything boots; directories are used where they are. A bad
//! archive is bad input: it is reported at the suite line that names it, and nothing runs.

pub mod zip;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::chain::one_line;
use crate::suite::function::bootstrap_problem;
use crate::suite::{LoadError, LoadErrors, Package, Suite};

/// The run's unpacked archives; removed when dropped unless kept.
#[derive(Default)]
pub struct Unpacked {
    /// Each archive's path to the directory its content was unpacked into.
    dirs: HashMap<PathBuf, Arc<Unzipped>>,
}

/// One archive's content on disk. The tree sits, under a random name, in a temporary directory
/// only its owner may list (`0711`): the engine mounts the tree itself, and the function's user
/// in the container (another uid, without the capability to bypass modes) can read it, but
/// another local user cannot find it to read or race it. Inline code from a template is
/// written out into one the same way.
#[derive(Debug)]
pub(crate) struct Unzipped {
    scratch: tempfile::TempDir,
    root: PathBuf,
}

impl Unzipped {
    fn new() -> std::io::Result<Unzipped> {
        Unzipped::of("unzip")
    }

    /// A fresh tree in a temporary directory of `kind` (one of `scratch`'s kinds).
    pub(crate) fn of(kind: &str) -> std::io::Result<Unzipped> {
        use std::os::unix::fs::PermissionsExt;
        let scratch = crate::scratch::dir(kind)?;
        std::fs::set_permissions(scratch.path(), std::fs::Permissions::from_mode(0o711))?;
        let root = tempfile::Builder::new()
            .prefix("tree-")
            .rand_bytes(16)
            .tempdir_in(scratch.path())?
            .keep();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755))?;
        Ok(Unzipped { scratch, root })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.root
    }
}

impl Unpacked {
    /// Unpacks every archive the suites name, each distinct content once. Every problem is
    /// reported, each at the suite line that names the archive.
    pub fn unpack(suites: &[Suite]) -> Result<Unpacked, LoadErrors> {
        let mut unpacked = Unpacked::default();
        let mut by_content: HashMap<Vec<u8>, Arc<Unzipped>> = HashMap::new();
        let mut errors = Vec::new();
        let mut sizes = HashMap::new();
        for suite in suites {
            let f = &suite.function;
            let named = f.code.iter().map(|c| ("`code`", c));
            for (what, package) in named.chain(f.layers.iter().map(|l| ("layer", l))) {
                if !package.zip || unpacked.dirs.contains_key(&package.path) {
                    continue;
                }
                match unpack_once(&package.path, &mut by_content) {
                    Ok(dir) => {
                        unpacked.dirs.insert(package.path.clone(), dir);
                    }
                    Err((message, hint)) => errors.push(LoadError {
                        file: suite.file.clone(),
                        pos: Some(package.pos),
                        message: format!("{what} {}: {message}", package.path.display()),
                        hint: hint.map(str::to_string),
                    }),
                }
            }
            // Lambda's unzipped limit is for the code and all layers together.
            let packages: Vec<&Package> = f.code.iter().chain(&f.layers).collect();
            if let Some(bytes) = unpacked.over_limit(&packages, zip::UNZIPPED_LIMIT, &mut sizes) {
                errors.push(LoadError {
                    file: suite.file.clone(),
                    pos: Some(f.pos),
                    message: format!(
                        "`code` and `layers` hold {} MB unzipped together, over Lambda's limit of 250 MB (262,144,000 bytes)",
                        bytes / 1_000_000
                    ),
                    hint: Some("trim dependencies, or deploy a container image (`image:`)".into()),
                });
            }
            // A custom runtime's zipped code is checked for its bootstrap once unpacked.
            if f.custom_runtime
                && let Some(code) = f.code.as_ref().filter(|c| c.zip)
                && let Some(dir) = unpacked.dirs.get(&code.path)
                && let Some((message, hint)) = bootstrap_problem(dir.path(), Some(&code.path))
            {
                errors.push(LoadError {
                    file: suite.file.clone(),
                    pos: Some(code.pos),
                    message,
                    hint: Some(hint),
                });
            }
        }
        if errors.is_empty() {
            Ok(unpacked)
        } else {
            Err(LoadErrors(errors))
        }
    }

    /// The bytes `packages` hold together, if more than `limit`; each directory is measured
    /// once (`sizes`), and a package that could not be unpacked counts nothing.
    fn over_limit(
        &self,
        packages: &[&Package],
        limit: u64,
        sizes: &mut HashMap<PathBuf, u64>,
    ) -> Option<u64> {
        let mut total = 0u64;
        for package in packages {
            if package.zip && !self.dirs.contains_key(&package.path) {
                continue;
            }
            let dir = self.dir(package);
            let size = *sizes.entry(dir.clone()).or_insert_with(|| tree_size(&dir));
            total = total.saturating_add(size);
        }
        (total > limit).then_some(total)
    }

    /// The directory that holds a package's files.
    pub fn dir(&self, package: &Package) -> PathBuf {
        match self.dirs.get(&package.path) {
            Some(dir) if package.zip => dir.path().to_path_buf(),
            _ => package.path.clone(),
        }
    }

    /// Leaves the unpacked files on disk, for containers kept after the run.
    pub fn keep(self) {
        for (_, dir) in self.dirs {
            if let Ok(dir) = Arc::try_unwrap(dir) {
                let _ = dir.scratch.keep();
            }
        }
    }
}

/// Unpacks `archive`, or reuses an earlier unpacking of the same content.
fn unpack_once(
    archive: &Path,
    by_content: &mut HashMap<Vec<u8>, Arc<Unzipped>>,
) -> Result<Arc<Unzipped>, (String, Option<&'static str>)> {
    let hash =
        content_hash(archive).map_err(|e| (format!("cannot read the archive: {e}"), None))?;
    if let Some(dir) = by_content.get(&hash) {
        return Ok(dir.clone());
    }
    let dir = Unzipped::new().map_err(|e| {
        (
            format!("cannot make a directory to unpack it into: {e}"),
            None,
        )
    })?;
    zip::unpack(archive, dir.path()).map_err(|e| (one_line(&e), e.hint()))?;
    let dir = Arc::new(dir);
    by_content.insert(hash, dir.clone());
    Ok(dir)
}

/// The bytes of the files under `dir`, links not followed.
fn tree_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => tree_size(&entry.path()),
            Ok(kind) if kind.is_file() => entry.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

fn content_hash(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::Pos;

    #[test]
    fn code_and_layers_count_together_against_the_limit() {
        let code = tempfile::tempdir().unwrap();
        let layer = tempfile::tempdir().unwrap();
        std::fs::write(code.path().join("app.py"), vec![b'x'; 600]).unwrap();
        std::fs::create_dir(layer.path().join("python")).unwrap();
        std::fs::write(layer.path().join("python/lib.py"), vec![b'y'; 500]).unwrap();
        let package = |dir: &Path| Package {
            path: dir.to_path_buf(),
            zip: false,
            pos: Pos::default(),
            held: None,
        };
        let (c, l) = (package(code.path()), package(layer.path()));
        let unpacked = Unpacked::default();
        let mut sizes = HashMap::new();
        assert_eq!(unpacked.over_limit(&[&c, &l], 1000, &mut sizes), Some(1100));
        assert_eq!(unpacked.over_limit(&[&c, &l], 1100, &mut sizes), None);
        assert_eq!(unpacked.over_limit(&[&c], 1000, &mut sizes), None);
    }
}

//! Artifacts as deployed: every `.zip` a suite names (code or layer) is unpacked once per run,
//! keyed by its content, before anything boots; directories are used where they are. A bad
//! archive is bad input: it is reported at the suite line that names it, and nothing runs.

pub mod zip;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::error::one_line;
use crate::suite::function::bootstrap_problem;
use crate::suite::{LoadError, LoadErrors, Package, Suite};

/// The run's unpacked archives; removed when dropped unless kept.
#[derive(Default)]
pub struct Unpacked {
    /// Each archive's path to the directory its content was unpacked into.
    dirs: HashMap<PathBuf, Arc<tempfile::TempDir>>,
}

impl Unpacked {
    /// Unpacks every archive the suites name, each distinct content once. Every problem is
    /// reported, each at the suite line that names the archive.
    pub fn unpack(suites: &[Suite]) -> Result<Unpacked, LoadErrors> {
        let mut unpacked = Unpacked::default();
        let mut by_content: HashMap<Vec<u8>, Arc<tempfile::TempDir>> = HashMap::new();
        let mut errors = Vec::new();
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
                let _ = dir.keep();
            }
        }
    }
}

/// Unpacks `archive`, or reuses an earlier unpacking of the same content.
fn unpack_once(
    archive: &Path,
    by_content: &mut HashMap<Vec<u8>, Arc<tempfile::TempDir>>,
) -> Result<Arc<tempfile::TempDir>, (String, Option<&'static str>)> {
    let hash =
        content_hash(archive).map_err(|e| (format!("cannot read the archive: {e}"), None))?;
    if let Some(dir) = by_content.get(&hash) {
        return Ok(dir.clone());
    }
    let dir = tempfile::Builder::new()
        .prefix("lambda-ci-unzip-")
        .tempdir()
        .map_err(|e| {
            (
                format!("cannot make a directory to unpack it into: {e}"),
                None,
            )
        })?;
    zip::unpack(archive, dir.path()).map_err(|e| (one_line(&e), e.hint()))?;
    // The root becomes /var/task or part of /opt: the function's user must be able to read it.
    let _ = std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    );
    let dir = Arc::new(dir);
    by_content.insert(hash, dir.clone());
    Ok(dir)
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

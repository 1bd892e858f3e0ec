//! The unpack root's directories and links: made without ever passing through a link, and
//! every link followed through the others before it is kept.

use super::ZipError;
use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

/// Makes the archive's links, each in a real directory under the root, then checks where
/// every one of them leads through the links now on disk: a chain of links that together
/// leave the root is refused, though each looked inside it alone.
pub(super) fn make_links(
    tree: &mut Tree,
    links: &[(PathBuf, String, String)],
) -> Result<(), ZipError> {
    for (relative, name, link) in links {
        let at = tree.file(relative, name)?;
        std::os::unix::fs::symlink(link, &at).map_err(|source| ZipError::Write {
            entry: name.clone(),
            source,
        })?;
    }
    for (relative, name, link) in links {
        let parent = relative.parent().unwrap_or(Path::new(""));
        let from = parent.components().map(|c| c.as_os_str().to_owned());
        if follow(&tree.root, from.collect(), Path::new(link), &mut 0).is_none() {
            return Err(ZipError::LinkEscapes {
                entry: name.clone(),
                target: link.clone(),
            });
        }
    }
    Ok(())
}

/// Where `target`, read in the directory `at` (its components under `root`), leads through
/// the links on disk, as the kernel would follow it; `None` when it leaves the root or takes
/// more links than the kernel follows.
pub(super) fn follow(
    root: &Path,
    at: Vec<OsString>,
    target: &Path,
    hops: &mut u32,
) -> Option<Vec<OsString>> {
    let mut path = at;
    for part in target.components() {
        match part {
            Component::ParentDir => {
                path.pop()?;
            }
            Component::Normal(name) => {
                path.push(name.to_owned());
                let real: PathBuf = std::iter::once(root.as_os_str())
                    .chain(path.iter().map(|p| p.as_os_str()))
                    .collect();
                let is_link = std::fs::symlink_metadata(&real).is_ok_and(|m| m.is_symlink());
                if is_link {
                    *hops += 1;
                    if *hops > 40 {
                        return None;
                    }
                    let next = std::fs::read_link(&real).ok()?;
                    path.pop();
                    path = follow(root, path, &next, hops)?;
                }
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(path)
}

/// The unpack root's directories, made one component at a time and never through a link: a
/// parent that is anything but a real directory made here refuses the entry.
pub(super) struct Tree {
    pub(super) root: PathBuf,
    made: HashSet<PathBuf>,
}

impl Tree {
    pub(super) fn new(root: &Path) -> Tree {
        Tree {
            root: root.to_path_buf(),
            made: HashSet::new(),
        }
    }

    /// The path of a file or link entry, its parent directories made.
    pub(super) fn file(&mut self, relative: &Path, entry: &str) -> Result<PathBuf, ZipError> {
        let parent = relative.parent().unwrap_or(Path::new(""));
        let dir = self.dir(parent, entry)?;
        let name = relative.file_name().ok_or_else(|| ZipError::Escapes {
            entry: entry.to_string(),
        })?;
        Ok(dir.join(name))
    }

    /// The directory `relative`, made with its parents.
    pub(super) fn dir(&mut self, relative: &Path, entry: &str) -> Result<PathBuf, ZipError> {
        let mut path = self.root.clone();
        for part in relative.components() {
            path.push(part);
            if self.made.contains(&path) {
                continue;
            }
            match std::fs::symlink_metadata(&path) {
                Ok(meta) if meta.is_dir() => {}
                Ok(meta) if meta.is_symlink() => {
                    return Err(ZipError::ThroughLink {
                        entry: entry.to_string(),
                    });
                }
                Ok(_) => {
                    let kind = std::io::ErrorKind::NotADirectory;
                    return Err(ZipError::Write {
                        entry: entry.to_string(),
                        source: std::io::Error::new(kind, "a file of the archive is in the way"),
                    });
                }
                Err(_) => std::fs::create_dir(&path).map_err(|source| ZipError::Write {
                    entry: entry.to_string(),
                    source,
                })?,
            }
            self.made.insert(path.clone());
        }
        Ok(path)
    }
}

/// Whether a symlink at `entry` (relative to the root) pointing at `link` leaves the root,
/// read lexically (the links on disk are followed by [`follow`] once all are made).
pub(super) fn escapes(entry: &Path, link: &Path) -> bool {
    if link.is_absolute() {
        return true;
    }
    let mut depth: usize = entry.parent().map_or(0, |p| p.components().count());
    for part in link.components() {
        match part {
            Component::ParentDir => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return true,
            },
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return true,
        }
    }
    false
}

//! Unpacks a `.zip` as Lambda does: unix modes kept, nothing written outside the root, symlinks
//! only where they stay inside it, and no more than Lambda's unzipped limit.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

mod tree;
use tree::{Tree, escapes, make_links};

/// Lambda's limit on a function's unzipped code and layers: 250 MB (262,144,000 bytes).
pub const UNZIPPED_LIMIT: u64 = 262_144_000;

/// The most entries an archive may hold. Lambda sets no count of its own, but its 250 MB
/// holds far fewer real files (a large `node_modules` is tens of thousands); millions of empty
/// entries would only exhaust the disk's inodes.
pub const ENTRY_LIMIT: usize = 200_000;

/// Why an archive cannot be unpacked.
#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    #[error("cannot read the archive")]
    Read(#[source] std::io::Error),
    #[error("not a readable zip archive")]
    Corrupt(#[source] zip::result::ZipError),
    #[error("entry `{entry}` points outside the archive's root")]
    Escapes { entry: String },
    #[error("entry `{entry}` is a symlink to `{target}`, outside the archive's root")]
    LinkEscapes { entry: String, target: String },
    #[error(
        "unzipped, it holds {} MB, over Lambda's limit of 250 MB (262,144,000 bytes), from entry `{entry}` on",
        .bytes / 1_000_000
    )]
    TooLarge {
        bytes: u64,
        /// The entry at which the total passed the limit.
        entry: String,
    },
    #[error("entry `{entry}` would be written through a symlink the archive made")]
    ThroughLink { entry: String },
    #[error("it holds {entries} entries, over the {limit} lambda-ci unpacks")]
    TooManyEntries { entries: usize, limit: usize },
    #[error("cannot write entry `{entry}`")]
    Write {
        entry: String,
        #[source]
        source: std::io::Error,
    },
}

impl ZipError {
    /// What to do about it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            ZipError::Escapes { .. }
            | ZipError::LinkEscapes { .. }
            | ZipError::ThroughLink { .. } => Some(
                "Lambda refuses such an archive too; rebuild it from inside the directory that \
                 should be its root",
            ),
            ZipError::TooLarge { .. } => Some(
                "the limit covers the function's code and layers unzipped; trim dependencies, \
                 or deploy a container image (`image:`)",
            ),
            ZipError::TooManyEntries { .. } => Some(
                "an archive of so many entries is almost always a mistake (a cache or build \
                 directory zipped with the code); leave those out",
            ),
            ZipError::Corrupt(_) => Some("rebuild it, e.g. `cd build && zip -r ../function.zip .`"),
            ZipError::Write { source, .. } if source.kind() == std::io::ErrorKind::StorageFull => {
                Some(
                    "zips are unpacked into the temporary directory (TMPDIR), which is full: free \
                     space there, or point TMPDIR at a disk with room",
                )
            }
            ZipError::Read(_) | ZipError::Write { .. } => None,
        }
    }
}

/// Unpacks `archive` into the empty directory `root`; returns the bytes written.
pub fn unpack(archive: &Path, root: &Path) -> Result<u64, ZipError> {
    unpack_with_limits(archive, root, UNZIPPED_LIMIT, ENTRY_LIMIT)
}

fn unpack_with_limits(
    archive: &Path,
    root: &Path,
    limit: u64,
    max_entries: usize,
) -> Result<u64, ZipError> {
    let file = std::fs::File::open(archive).map_err(ZipError::Read)?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(ZipError::Corrupt)?;
    if zip.len() > max_entries {
        return Err(ZipError::TooManyEntries {
            entries: zip.len(),
            limit: max_entries,
        });
    }
    check_names_and_sizes(&mut zip, limit)?;
    let mut tree = Tree::new(root);
    let mut written = 0u64;
    let mut links = Vec::new();
    let mut dir_modes = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(ZipError::Corrupt)?;
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        let relative = entry.enclosed_name().expect("checked above");
        let write = |source| ZipError::Write {
            entry: name.clone(),
            source,
        };
        if entry.is_dir() {
            let target = tree.dir(&relative, &name)?;
            dir_modes.push((target, entry.unix_mode()));
        } else if entry.is_symlink() {
            let mut link = String::new();
            (&mut entry)
                .take(4096)
                .read_to_string(&mut link)
                .map_err(write)?;
            if escapes(&relative, Path::new(&link)) {
                return Err(ZipError::LinkEscapes {
                    entry: name,
                    target: link,
                });
            }
            // Links are made last, so that no entry is ever written through one.
            links.push((relative, name, link));
        } else {
            let target = tree.file(&relative, &name)?;
            let mut out = std::fs::File::create(&target).map_err(write)?;
            let left = limit - written;
            let n = std::io::copy(&mut (&mut entry).take(left + 1), &mut out).map_err(write)?;
            written += n;
            if written > limit {
                return Err(ZipError::TooLarge {
                    bytes: written,
                    entry: name,
                });
            }
            set_mode(&target, entry.unix_mode(), 0o644).map_err(write)?;
        }
    }
    make_links(&mut tree, &links)?;
    // Directory modes last, deepest first, so that a read-only directory is filled before it
    // becomes read-only; its owner keeps the right to remove it.
    dir_modes.sort_by_key(|(dir, _)| std::cmp::Reverse(dir.components().count()));
    for (dir, mode) in dir_modes {
        let mode = mode.map_or(0o755, |m| m & 0o777 | 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).map_err(
            |source| ZipError::Write {
                entry: dir.strip_prefix(root).unwrap_or(&dir).display().to_string(),
                source,
            },
        )?;
    }
    Ok(written)
}

/// Refuses, before a byte is written, an entry named outside the root and an archive whose
/// central directory declares more than `limit` bytes (the bytes actually written are counted
/// too, since those sizes can lie).
fn check_names_and_sizes<R: std::io::Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    limit: u64,
) -> Result<(), ZipError> {
    let mut declared = 0u64;
    let mut crossed = None;
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(ZipError::Corrupt)?;
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        declared = declared.saturating_add(entry.size());
        if declared > limit && crossed.is_none() {
            crossed = Some(name.clone());
        }
        // The zip crate would quietly drop a leading `/`; Lambda refuses such an entry.
        let absolute = name.starts_with(['/', '\\'])
            || name
                .as_bytes()
                .get(1..3)
                .is_some_and(|d| d[0] == b':' && (d[1] == b'/' || d[1] == b'\\'));
        if absolute || entry.enclosed_name().is_none() {
            return Err(ZipError::Escapes { entry: name });
        }
    }
    match crossed {
        Some(entry) => Err(ZipError::TooLarge {
            bytes: declared,
            entry,
        }),
        None => Ok(()),
    }
}

/// Sets a file entry's permission bits; archives made on Windows carry none, and get
/// `default`. setuid, setgid and sticky bits are dropped: Lambda runs nothing with them.
fn set_mode(path: &Path, mode: Option<u32>, default: u32) -> std::io::Result<()> {
    let mode = mode.map_or(default, |m| m & 0o777);
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// A zip archive built in memory, for tests.
#[cfg(test)]
pub(crate) fn build(entries: &[(&str, Entry)]) -> Vec<u8> {
    use std::io::Write;
    use zip::write::SimpleFileOptions;
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, entry) in entries {
        match entry {
            Entry::File(bytes, mode) => {
                let options = SimpleFileOptions::default().unix_permissions(*mode);
                out.start_file(*name, options).unwrap();
                out.write_all(bytes).unwrap();
            }
            Entry::Link(target) => {
                out.add_symlink(*name, *target, SimpleFileOptions::default())
                    .unwrap();
            }
            Entry::Dir(mode) => {
                let options = SimpleFileOptions::default().unix_permissions(*mode);
                out.add_directory(*name, options).unwrap();
            }
        }
    }
    out.finish().unwrap().into_inner()
}

/// What a test archive entry holds.
#[cfg(test)]
pub(crate) enum Entry {
    File(&'static [u8], u32),
    Link(&'static str),
    Dir(u32),
}

#[cfg(test)]
mod tests;

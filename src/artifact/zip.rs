//! Unpacks a `.zip` as Lambda does: unix modes kept, nothing written outside the root, symlinks
//! only where they stay inside it, and no more than Lambda's unzipped limit.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path};

/// Lambda's limit on a function's unzipped code and layers: 250 MB (262,144,000 bytes).
pub const UNZIPPED_LIMIT: u64 = 262_144_000;

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
            ZipError::Escapes { .. } | ZipError::LinkEscapes { .. } => Some(
                "Lambda refuses such an archive too; rebuild it from inside the directory that \
                 should be its root",
            ),
            ZipError::TooLarge { .. } => Some(
                "the limit covers the function's code and layers unzipped; trim dependencies, \
                 or deploy a container image (`image:`)",
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
    unpack_with_limit(archive, root, UNZIPPED_LIMIT)
}

fn unpack_with_limit(archive: &Path, root: &Path, limit: u64) -> Result<u64, ZipError> {
    let file = std::fs::File::open(archive).map_err(ZipError::Read)?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(ZipError::Corrupt)?;
    // The central directory's sizes refuse a bomb before a byte is written; the bytes actually
    // written are counted too, since those sizes can lie.
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
    if let Some(entry) = crossed {
        return Err(ZipError::TooLarge {
            bytes: declared,
            entry,
        });
    }
    let mut written = 0u64;
    let mut links = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(ZipError::Corrupt)?;
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        let relative = entry.enclosed_name().expect("checked above");
        let target = root.join(&relative);
        let write = |source| ZipError::Write {
            entry: name.clone(),
            source,
        };
        if entry.is_dir() {
            std::fs::create_dir_all(&target).map_err(write)?;
            set_mode(&target, entry.unix_mode(), 0o755).map_err(write)?;
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
            links.push((target, link));
        } else {
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(write)?;
            }
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
    for (at, link) in links {
        let entry = at.strip_prefix(root).unwrap_or(&at).display().to_string();
        if let Some(parent) = at.parent() {
            std::fs::create_dir_all(parent).map_err(|source| ZipError::Write {
                entry: entry.clone(),
                source,
            })?;
        }
        std::os::unix::fs::symlink(&link, &at)
            .map_err(|source| ZipError::Write { entry, source })?;
    }
    Ok(written)
}

/// Sets the entry's unix permission bits; archives made on Windows carry none, and get `default`.
fn set_mode(path: &Path, mode: Option<u32>, default: u32) -> std::io::Result<()> {
    let mode = mode.map_or(default, |m| m & 0o7777);
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// Whether a symlink at `entry` (relative to the root) pointing at `link` leaves the root.
fn escapes(entry: &Path, link: &Path) -> bool {
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
        }
    }
    out.finish().unwrap().into_inner()
}

/// What a test archive entry holds.
#[cfg(test)]
pub(crate) enum Entry {
    File(&'static [u8], u32),
    Link(&'static str),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn archive(entries: &[(&str, Entry)]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.zip");
        std::fs::write(&path, build(entries)).unwrap();
        (dir, path)
    }

    #[test]
    fn modes_are_kept_and_links_inside_the_root_too() {
        let (_d, zip) = archive(&[
            ("bootstrap", Entry::File(b"#!/bin/sh\n", 0o755)),
            ("lib/data.txt", Entry::File(b"data", 0o644)),
            ("lib/current", Entry::Link("data.txt")),
        ]);
        let root = tempfile::tempdir().unwrap();
        let written = unpack(&zip, root.path()).unwrap();
        assert_eq!(written, 14);
        let mode = |p: &str| {
            std::fs::metadata(root.path().join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("bootstrap"), 0o755);
        assert_eq!(mode("lib/data.txt"), 0o644);
        assert_eq!(
            std::fs::read_to_string(root.path().join("lib/current")).unwrap(),
            "data"
        );
    }

    #[test]
    fn entries_and_links_that_leave_the_root_are_refused_by_name() {
        let (_d, zip) = archive(&[("../evil.sh", Entry::File(b"x", 0o755))]);
        let root = tempfile::tempdir().unwrap();
        let err = unpack(&zip, root.path()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "entry `../evil.sh` points outside the archive's root"
        );
        for target in ["/etc/passwd", "../../x", "a/../../../y"] {
            let (_d, zip) = archive(&[("lib/link", Entry::Link(target))]);
            let err = unpack(&zip, tempfile::tempdir().unwrap().path()).unwrap_err();
            assert!(
                matches!(&err, ZipError::LinkEscapes { entry, .. } if entry == "lib/link"),
                "{target}: {err}"
            );
        }
        assert!(!escapes(Path::new("lib/link"), Path::new("../bin/x")));
        for absolute in ["/etc/evil.sh", "C:/evil.sh"] {
            let (_d, zip) = archive(&[(absolute, Entry::File(b"x", 0o755))]);
            let err = unpack(&zip, tempfile::tempdir().unwrap().path()).unwrap_err();
            assert!(
                matches!(&err, ZipError::Escapes { entry } if entry == absolute),
                "{absolute}: {err}"
            );
        }
    }

    #[test]
    fn archives_over_the_unzipped_limit_are_refused() {
        let (_d, zip) = archive(&[
            ("a", Entry::File(&[0u8; 600], 0o644)),
            ("b", Entry::File(&[0u8; 600], 0o644)),
        ]);
        let root = tempfile::tempdir().unwrap();
        assert!(matches!(
            unpack_with_limit(&zip, root.path(), 1000),
            Err(ZipError::TooLarge { bytes: 1200, entry }) if entry == "b"
        ));
        assert_eq!(unpack_with_limit(&zip, root.path(), 1200).unwrap(), 1200);
    }

    #[test]
    fn a_file_that_is_not_a_zip_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("code.zip");
        std::fs::write(&path, "not a zip").unwrap();
        let err = unpack(&path, dir.path()).unwrap_err();
        assert_eq!(err.to_string(), "not a readable zip archive");
    }
}

//! Unpacking, against archives built in memory: modes, limits, and links that try to leave the root.

use super::*;
use std::os::unix::fs::PermissionsExt;
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
    let mode = |p: &str| mode_of(&root.path().join(p));
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
        unpack_with_limits(&zip, root.path(), 1000, ENTRY_LIMIT),
        Err(ZipError::TooLarge { bytes: 1200, entry }) if entry == "b"
    ));
    assert_eq!(
        unpack_with_limits(&zip, root.path(), 1200, ENTRY_LIMIT).unwrap(),
        1200
    );
}

#[test]
fn a_file_that_is_not_a_zip_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("code.zip");
    std::fs::write(&path, "not a zip").unwrap();
    let err = unpack(&path, dir.path()).unwrap_err();
    assert_eq!(err.to_string(), "not a readable zip archive");
}

/// A file's permission bits.
fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Everything under `dir`, links not followed, as paths relative to it.
fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(at) = todo.pop() {
        for entry in std::fs::read_dir(&at).unwrap().flatten() {
            if entry.file_type().unwrap().is_dir() {
                todo.push(entry.path());
            }
            all.push(entry.path().strip_prefix(dir).unwrap().to_path_buf());
        }
    }
    all.sort();
    all
}

/// An unpack root three levels down an empty directory, so that an escape has somewhere
/// to land and can be seen.
fn deep_root() -> (tempfile::TempDir, PathBuf) {
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("one/two/root");
    std::fs::create_dir_all(&root).unwrap();
    (outer, root)
}

fn outside(outer: &Path) -> Vec<PathBuf> {
    let mut seen = listing(outer);
    seen.retain(|p| {
        !p.starts_with("one/two/root") && !["one", "one/two"].contains(&p.to_str().unwrap())
    });
    seen
}

// Regression: a link made through an earlier link was checked against the depth it
// seemed to have, and landed (with what came after it) above the root.
#[test]
fn a_chain_of_links_never_creates_anything_outside_the_root() {
    let (outer, root) = deep_root();
    let (_d, zip) = archive(&[
        ("a/b", Entry::Link("..")),
        ("a/b/c", Entry::Link("../..")),
        ("a/b/c/d/e", Entry::Link("x")),
    ]);
    let err = unpack(&zip, &root).unwrap_err();
    assert_eq!(
        err.to_string(),
        "entry `a/b/c` would be written through a symlink the archive made"
    );
    assert_eq!(outside(outer.path()), Vec::<PathBuf>::new());
}

// Regression: each link's target stayed inside alone, but followed through another link
// it led two levels above the root.
#[test]
fn a_link_whose_target_leaves_the_root_through_another_link_is_refused() {
    let (_outer, root) = deep_root();
    let (_d, zip) = archive(&[("a/b", Entry::Link("..")), ("x", Entry::Link("a/b/../.."))]);
    let err = unpack(&zip, &root).unwrap_err();
    assert!(
        matches!(&err, ZipError::LinkEscapes { entry, .. } if entry == "x"),
        "{err}"
    );
    let (_d, zip) = archive(&[("a/b", Entry::Link("..")), ("x", Entry::Link("a/b/a"))]);
    unpack(&zip, tempfile::tempdir().unwrap().path()).unwrap();
}

#[test]
fn setuid_setgid_and_sticky_bits_are_dropped() {
    let (_d, zip) = archive(&[("tool", Entry::File(b"x", 0o7755))]);
    let root = tempfile::tempdir().unwrap();
    unpack(&zip, root.path()).unwrap();
    let mode = std::fs::metadata(root.path().join("tool"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o755);
}

// Regression: a 0o555 directory entry came before its files (which could then not be
// written by a user other than root) and made the unpacked tree impossible to remove.
#[test]
fn read_only_directories_are_filled_and_stay_removable_by_their_owner() {
    let (_d, zip) = archive(&[
        ("ro/", Entry::Dir(0o555)),
        ("ro/inner/", Entry::Dir(0o500)),
        ("ro/inner/f", Entry::File(b"data", 0o444)),
    ]);
    let root = tempfile::tempdir().unwrap();
    unpack(&zip, root.path()).unwrap();
    let mode = |p: &str| mode_of(&root.path().join(p));
    assert_eq!(mode("ro"), 0o755);
    assert_eq!(mode("ro/inner"), 0o700);
    assert_eq!(
        std::fs::read(root.path().join("ro/inner/f")).unwrap(),
        b"data"
    );
}

#[test]
fn archives_of_more_entries_than_the_limit_are_refused_before_a_byte_is_written() {
    let (_d, zip) = archive(&[
        ("a", Entry::File(b"", 0o644)),
        ("b", Entry::File(b"", 0o644)),
        ("c", Entry::File(b"", 0o644)),
    ]);
    let root = tempfile::tempdir().unwrap();
    let err = unpack_with_limits(&zip, root.path(), UNZIPPED_LIMIT, 2).unwrap_err();
    assert_eq!(
        err.to_string(),
        "it holds 3 entries, over the 2 lambda-ci unpacks"
    );
    assert!(listing(root.path()).is_empty());
}

mod chains {
    use super::*;
    use proptest::prelude::*;

    fn part() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["a", "b", "c", "..", "."])
    }

    fn name() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 1..4)
            .prop_map(|parts| parts.join("/"))
    }

    fn target() -> impl Strategy<Value = String> {
        prop::collection::vec(part(), 1..6).prop_map(|parts| parts.join("/"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        // Whatever chain of links an archive makes, nothing is created outside the root,
        // and every link left in place leads somewhere inside it.
        #[test]
        fn random_link_chains_never_reach_outside_the_root(
            entries in prop::collection::vec((name(), prop::option::of(target())), 1..8)
        ) {
            let (outer, root) = deep_root();
            // Directories above the root named like the archive's, for an escape to land in.
            for dir in ["one/a/b/c", "one/two/a/b/c", "a/b/c"] {
                std::fs::create_dir_all(outer.path().join(dir)).unwrap();
            }
            let before = outside(outer.path());
            let zip_dir = tempfile::tempdir().unwrap();
            let path = zip_dir.path().join("a.zip");
            let mut out = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
            let options = zip::write::SimpleFileOptions::default();
            for (name, link) in &entries {
                let added = match link {
                    Some(target) => out.add_symlink(name.as_str(), target.as_str(), options),
                    None => out.start_file(name.as_str(), options),
                };
                if added.is_err() {
                    return Ok(()); // a name the writer refuses twice
                }
            }
            out.finish().unwrap();
            let unpacked = unpack(&path, &root);
            prop_assert_eq!(outside(outer.path()), before);
            if unpacked.is_ok() {
                let real_root = root.canonicalize().unwrap();
                for entry in listing(&root) {
                    if let Ok(real) = root.join(&entry).canonicalize() {
                        prop_assert!(real.starts_with(&real_root), "{entry:?} -> {real:?}");
                    }
                }
            }
        }
    }
}

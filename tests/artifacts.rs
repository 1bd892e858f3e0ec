//! End-to-end tests of artifacts as deployed: zipped code and layers, unpacked the way Lambda
//! does, and archives Lambda would refuse refused here, before anything runs.

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::*;
use zip::write::SimpleFileOptions;

/// Zips the tree under `dir` (modes kept) into `to`.
fn zip_dir(dir: &Path, to: &Path) {
    let mut out = zip::ZipWriter::new(std::fs::File::create(to).unwrap());
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let name = path
                .strip_prefix(dir)
                .unwrap()
                .to_str()
                .unwrap()
                .to_string();
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            let options = SimpleFileOptions::default().unix_permissions(mode);
            if path.is_dir() {
                out.add_directory(name, options).unwrap();
                stack.push(path);
            } else {
                out.start_file(name, options).unwrap();
                out.write_all(&std::fs::read(&path).unwrap()).unwrap();
            }
        }
    }
    out.finish().unwrap();
}

/// A zip at `to` with the given files (name, content, mode).
fn zip_files(to: &Path, files: &[(&str, &str, u32)]) {
    let mut out = zip::ZipWriter::new(std::fs::File::create(to).unwrap());
    for (name, content, mode) in files {
        let options = SimpleFileOptions::default().unix_permissions(*mode);
        out.start_file(*name, options).unwrap();
        out.write_all(content.as_bytes()).unwrap();
    }
    out.finish().unwrap();
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn zipped_code_and_layers_run_as_deployed_with_later_layers_winning() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    zip_dir(&fixture("functions/py"), &d.join("code.zip"));
    zip_files(
        &d.join("first.zip"),
        &[
            ("python/helper.py", "VALUE = {'from': 'first'}\n", 0o644),
            ("python/only_first.py", "X = 1\n", 0o644),
        ],
    );
    zip_files(
        &d.join("second.zip"),
        &[("python/helper.py", "VALUE = {'from': 'second'}\n", 0o644)],
    );
    // A custom runtime whose bootstrap must stay executable through the zip.
    zip_dir(&root().join("examples/shell-runtime"), &d.join("shell.zip"));
    let python = write(
        d,
        "python.yaml",
        "function:\n  runtime: python3.11\n  handler: app.layer\n  code: code.zip\n  layers: [first.zip, second.zip]\ncases:\n  - name: the later layer wins\n    expect:\n      response: {from: second}\n  - name: the earlier layer still counts\n    event: {names: [PYTHONPATH]}\n",
    );
    let shell = write(
        d,
        "shell.yaml",
        "function:\n  runtime: provided.al2023\n  handler: function.handler\n  code: shell.zip\ncases:\n  - name: zipped bootstrap runs\n    event: {message: hi}\n    expect:\n      response: {echo: {message: hi}, runtime: bash}\n",
    );
    let out = run(&[python, shell], &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert_summary(&text, "3 passed, 0 failed");
}

#[test]
fn archives_lambda_would_refuse_exit_2_naming_the_entry_and_the_suite_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Entries that climb out of the root, as zip-slip exploits do.
    let mut slip = zip::ZipWriter::new(std::fs::File::create(d.join("slip.zip")).unwrap());
    slip.start_file("../../evil.sh", SimpleFileOptions::default())
        .unwrap();
    slip.write_all(b"echo pwned").unwrap();
    slip.finish().unwrap();
    let mut link = zip::ZipWriter::new(std::fs::File::create(d.join("link.zip")).unwrap());
    link.add_symlink(
        "python/secrets",
        "/etc/shadow",
        SimpleFileOptions::default(),
    )
    .unwrap();
    link.finish().unwrap();
    // Over Lambda's unzipped limit (250 MB) while tiny zipped.
    let bomb = d.join("bomb.zip");
    let made = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import sys, zipfile\n\
             with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n\
             \x20   with z.open('zeros', 'w', force_zip64=True) as f:\n\
             \x20       block = bytes(1 << 20)\n\
             \x20       for _ in range(251): f.write(block)\n",
        )
        .arg(&bomb)
        .status()
        .unwrap();
    assert!(made.success());
    assert!(std::fs::metadata(&bomb).unwrap().len() < 2_000_000);
    let suite = write(
        d,
        "bad.yaml",
        "function:\n  runtime: python3.11\n  handler: app.echo\n  code: slip.zip\n  layers:\n    - link.zip\n    - bomb.zip\ncases:\n  - name: never runs\n",
    );
    let shell = write(
        d,
        "shell.yaml",
        "function:\n  runtime: provided.al2023\n  code: noexec.zip\ncases:\n  - name: never runs\n",
    );
    zip_files(
        &d.join("noexec.zip"),
        &[("bootstrap", "#!/bin/sh\n", 0o644)],
    );
    let out = run(&[suite.clone(), shell.clone()], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    let s = suite.display();
    for expected in [
        format!(
            "error: {s}:4:9: `code` {}: entry `../../evil.sh` points outside the archive's root",
            d.join("slip.zip").display()
        ),
        format!(
            "error: {s}:6:7: layer {}: entry `python/secrets` is a symlink to `/etc/shadow`, outside the archive's root",
            d.join("link.zip").display()
        ),
        format!(
            "error: {s}:7:7: layer {}: unzipped, it holds 263 MB, over Lambda's limit of 250 MB",
            d.join("bomb.zip").display()
        ),
        format!(
            "error: {}:3:9: `bootstrap` in {} is not executable",
            shell.display(),
            d.join("noexec.zip").display()
        ),
        "4 problems in the suites; nothing was run".to_string(),
    ] {
        assert!(err.contains(&expected), "missing {expected:?} in\n{err}");
    }
    assert!(!d.join("evil.sh").exists() && !d.parent().unwrap().join("evil.sh").exists());
}

#[test]
fn an_extension_in_a_layer_is_started_and_its_lines_come_with_the_case() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("report.xml");
    let suite = write_suite(
        dir.path(),
        "extended",
        ("provided.al2023", &root().join("examples/shell-runtime")),
        &format!(
            "  handler: function.handler\n  layers: [{}]\n",
            fixture("functions/extension-layer").display()
        ),
        "  - name: first\n    event: {n: 1}\n  - name: second\n    event: {n: 2}\n",
    );
    let out = run(&[suite], &["--junit", junit.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let logs_of = |name: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some(name))
            .and_then(|c| c.children().find(|n| n.has_tag_name("system-out")))
            .and_then(|n| n.text())
            .unwrap_or_default()
            .to_string()
    };
    for case in ["first", "second"] {
        let logs = logs_of(case);
        assert!(logs.contains("[logger] saw invocation"), "{case}: {logs}");
    }
}

/// A tmpfs of `size` mounted at a fresh directory, unmounted when dropped; none when this
/// process may not mount (not root).
struct SmallDisk(tempfile::TempDir);

impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .ok()?;
        mounted.status.success().then_some(SmallDisk(dir))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.0.path())
            .output();
    }
}

#[test]
fn a_full_temporary_directory_is_named_with_the_zip_and_the_fix() {
    let Some(disk) = SmallDisk::mount("1m") else {
        assert_ne!(
            unsafe { libc::geteuid() },
            0,
            "root could not mount a tmpfs"
        );
        eprintln!("skipped: mounting a small tmpfs needs root");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let app = std::fs::read_to_string(fixture("functions/py/app.py")).unwrap();
    // 3 MB that do not compress: more than the 1 MB disk holds once unpacked.
    let mut noise = String::new();
    let mut x: u32 = 1;
    while noise.len() < 3_000_000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise.push_str(&format!("{x:08x}"));
    }
    zip_files(
        &d.join("code.zip"),
        &[("app.py", &app, 0o644), ("noise.txt", &noise, 0o644)],
    );
    let suite = write(
        d,
        "full.yaml",
        "function:\n  runtime: python3.11\n  handler: app.echo\n  code: code.zip\ncases:\n  - name: a\n",
    );
    let err = refused(
        lambda_ci()
            .env("TMPDIR", disk.0.path())
            .args(["run", "--pull", "never"])
            .arg(&suite),
        2,
    );
    assert!(
        err.contains(&format!(
            "full.yaml:4:9: `code` {}: cannot write entry `noise.txt`: No space left on device",
            d.join("code.zip").display()
        )),
        "{err}"
    );
    assert!(
        err.contains(
            "hint: zips are unpacked into the temporary directory (TMPDIR), which is full"
        ),
        "{err}"
    );
    // Nothing of the half-unpacked zip is left on the full disk.
    assert_eq!(std::fs::read_dir(disk.0.path()).unwrap().count(), 0);
}

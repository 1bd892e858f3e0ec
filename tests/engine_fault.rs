//! The engine failing in the middle of a run: a proxy in front of the Docker socket that, once
//! told, cuts every connection it carries and refuses new ones, as an engine that died would,
//! or holds every connection and answers nothing more, as an engine that hangs would.
//! The cases it affects are errors naming the engine, the others finish, every report is still
//! written, and what could not be removed is named with the command that removes it.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;

/// A proxy to the engine's socket at `path`, which can be made to fail or to hang.
struct FailingEngine {
    path: PathBuf,
    failed: Arc<AtomicBool>,
    hung: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<UnixStream>>>,
}

impl FailingEngine {
    fn start(path: &Path) -> FailingEngine {
        let listener = UnixListener::bind(path).unwrap();
        let failed = Arc::new(AtomicBool::new(false));
        let hung = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<UnixStream>>> = Arc::default();
        let (f, h, o) = (failed.clone(), hung.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if f.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let mut open = o.lock().unwrap();
                if h.load(Ordering::SeqCst) {
                    // Taken, and never answered.
                    open.push(client);
                    continue;
                }
                let Ok(engine) = UnixStream::connect("/var/run/docker.sock") else {
                    continue;
                };
                open.push(client.try_clone().unwrap());
                open.push(engine.try_clone().unwrap());
                for (from, to) in [
                    (client.try_clone().unwrap(), engine.try_clone().unwrap()),
                    (engine, client),
                ] {
                    let hung = h.clone();
                    std::thread::spawn(move || forward(from, to, &hung));
                }
            }
        });
        FailingEngine {
            path: path.to_path_buf(),
            failed,
            hung,
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

    /// From now on the engine hangs: connections stay open and nothing more is answered.
    fn hang(&self) {
        self.hung.store(true, Ordering::SeqCst);
    }
}

/// Copies `from` to `to` until either ends; once `hung`, holds what it reads.
fn forward(mut from: UnixStream, mut to: UnixStream, hung: &AtomicBool) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        while hung.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_secs(1));
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

/// What a run through a failing engine did.
struct Faulted {
    stderr: String,
    /// The error of the second suite's case, which could not boot.
    message: String,
    /// The first suite's containers that were still there when the run ended.
    left: Vec<String>,
}

/// Runs two suites, one after the other, through `engine` (with `env` set); once the first
/// suite's container has served its first case, `fault` is done to the engine. Checks that
/// the run failed, every report is written, the first case passed and the second suite's is
/// an error, and that the run left nothing in its temp root.
fn run_until(engine: &FailingEngine, env: &[(&str, &str)], fault: impl FnOnce()) -> Faulted {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let slow = "  - name: first\n    event: {seconds: 1}\n  - name: second\n    event: {seconds: 1}\n  - name: third\n    event: {seconds: 1}\n";
    let before = python_suite(d, "before", "  handler: app.sleep\n  timeout: 5\n", slow);
    let after = python_suite(
        d,
        "after",
        "  handler: app.echo\n",
        "  - name: never boots\n    event: {}\n",
    );
    let (junit, json) = (d.join("run.xml"), d.join("run.json"));
    let temp = d.join("tmp");
    std::fs::create_dir(&temp).unwrap();
    let mut child = lambda_ci()
        .env("TMPDIR", &temp)
        .env("DOCKER_HOST", engine.docker_host())
        .envs(env.iter().copied())
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
    let deadline = Instant::now() + Duration::from_secs(60);
    while containers_of(&before).is_empty() {
        assert!(Instant::now() < deadline, "the first container never came");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1500));
    fault();
    // Whatever the engine does, the run ends: a guard against a hang, not a timing.
    let deadline = Instant::now() + Duration::from_secs(180);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the run did not end within 3 minutes of the fault");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let left = containers_of(&before);
    for container in left.iter().chain(&containers_of(&after)) {
        let _ = std::process::Command::new("docker")
            .args(["rm", "-f", container])
            .output();
    }
    println!("{}\n{}", stdout(&out), stderr(&out));
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
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    assert_eq!(cases[0]["verdict"], "pass", "{report:#}");
    assert_eq!(cases[3]["verdict"], "error", "{report:#}");
    // Its own files go whatever the engine does.
    assert_eq!(temp_left(&temp), Vec::<String>::new());
    // What became of the engine is said in plain words, never the HTTP client's.
    assert!(!stderr(&out).contains("hyper"), "{}", stderr(&out));
    Faulted {
        stderr: stderr(&out),
        message: cases[3]["message"].as_str().unwrap_or_default().to_string(),
        left,
    }
}

#[test]
fn an_engine_that_fails_mid_run_errors_the_cases_it_affects_and_every_report_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let engine = FailingEngine::start(&dir.path().join("engine.sock"));
    let Faulted {
        stderr: err,
        message,
        left,
    } = run_until(&engine, &[], || engine.fail());
    assert!(
        message.contains("the Docker engine stopped answering"),
        "{message}"
    );
    // What could not be removed is named, with the command that removes it.
    if !left.is_empty() {
        assert!(err.contains("lambda-ci clean"), "{err}");
    }
}

#[test]
fn an_engine_that_hangs_mid_run_is_given_up_on_after_its_timeout_and_every_report_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let engine = FailingEngine::start(&dir.path().join("engine.sock"));
    let started = Instant::now();
    let timeout = [("LAMBDA_CI_ENGINE_TIMEOUT", "3")];
    let Faulted {
        stderr: err,
        message,
        left,
    } = run_until(&engine, &timeout, || engine.hang());
    // The next suite's boot waited for the engine as long as it was told, and said so.
    assert!(
        message.contains("the Docker engine did not answer within 3 s"),
        "{message}"
    );
    assert!(message.contains("LAMBDA_CI_ENGINE_TIMEOUT"), "{message}");
    assert!(!message.contains("hyper"), "{message}");
    // The container it could not remove is named, with the command that removes it.
    assert!(!left.is_empty(), "{err}");
    assert!(err.contains("lambda-ci clean --run "), "{err}");
    println!("ended {:?} after it started", started.elapsed());
}

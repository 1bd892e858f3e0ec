//! Helpers for the end-to-end tests: the real `lambda-ci` binary against the real Docker
//! engine, the stand-in base images (scripts/standin-images.sh) and the real RIE inside them.
#![allow(dead_code)] // each test binary uses its own part of the helpers

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod serve;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

pub fn lambda_ci() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lambda-ci"));
    cmd.env("NO_COLOR", "1")
        .env_remove("DOCKER_HOST")
        .env_remove("GITHUB_ACTIONS");
    cmd
}

/// The lines `docker <args>` prints. A failing `docker` fails the test: an empty answer from a
/// command that did not work would make every leftover check pass.
fn docker_lines(args: &[&str]) -> Vec<String> {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("docker CLI");
    assert!(
        out.status.success(),
        "docker {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn docker_ps(filter: &str) -> Vec<String> {
    docker_lines(&["ps", "-aq", "--filter", filter])
}

/// Containers of lambda-ci that serve the suite file `suite` (by label), running or not.
pub fn containers_of(suite: &Path) -> Vec<String> {
    docker_ps(&format!("label=lambda-ci.suite={}", suite.display()))
}

/// Containers of the run `run_id` (by label), running or not.
pub fn containers_of_run(run_id: &str) -> Vec<String> {
    docker_ps(&format!("label=lambda-ci.run={run_id}"))
}

/// Volumes of the run `run_id` (by label): copy mode's.
pub fn volumes_of_run(run_id: &str) -> Vec<String> {
    let filter = format!("label=lambda-ci.run={run_id}");
    docker_lines(&["volume", "ls", "-q", "--filter", &filter])
}

/// The documentation, as one text: the README, CONTRIBUTING.md and every `.md` under `docs/`,
/// in that order (the tests hold all of it to the code).
pub fn documentation() -> String {
    let mut files = vec![root().join("README.md"), root().join("CONTRIBUTING.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The networks labelled as run `run_id`'s.
pub fn networks_of_run(run_id: &str) -> Vec<String> {
    let filter = format!("label=lambda-ci.run={run_id}");
    docker_lines(&["network", "ls", "-q", "--filter", &filter])
}

/// The run id a JUnit report names (its `run` property).
pub fn run_id_in(junit: &Path) -> Option<String> {
    let xml = std::fs::read_to_string(junit).ok()?;
    let doc = roxmltree::Document::parse(&xml).ok()?;
    doc.descendants()
        .find(|n| n.has_tag_name("property") && n.attribute("name") == Some("run"))
        .and_then(|n| n.attribute("value"))
        .map(str::to_string)
}

/// Runs `lambda-ci run` on `suites` with `extra` arguments (and `--pull never` unless they
/// say otherwise), and checks that the run left no
/// container behind: it is named by the run id its JUnit report holds, so the check holds for
/// directories too and cannot see other tests' containers.
pub fn run(suites: &[PathBuf], extra: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let own_junit = dir.path().join("run.xml");
    let given = extra.iter().position(|a| *a == "--junit");
    let junit = match given {
        Some(i) => PathBuf::from(extra[i + 1]),
        None => own_junit.clone(),
    };
    // A temp root of its own, to see what the run leaves in it.
    let temp = dir.path().join("tmp");
    std::fs::create_dir(&temp).unwrap();
    let mut cmd = lambda_ci();
    cmd.env("TMPDIR", &temp);
    cmd.arg("run").args(suites).args(extra);
    if !extra.contains(&"--pull") {
        cmd.args(["--pull", "never"]);
    }
    if given.is_none() {
        cmd.arg("--junit").arg(&own_junit);
    }
    let out = cmd.output().expect("run lambda-ci");
    if !extra.contains(&"--keep") {
        assert_eq!(
            temp_left(&temp),
            Vec::<String>::new(),
            "the run left temporary directories"
        );
    }
    match run_id_in(&junit) {
        Some(id) => {
            let left = containers_of_run(&id);
            // Removed before the failure is reported, so that one failing test does not leave
            // them on the engine for the next.
            for container in &left {
                let _ = Command::new("docker")
                    .args(["rm", "-f", container])
                    .output();
            }
            assert_eq!(
                left,
                Vec::<String>::new(),
                "run {id} left containers behind"
            );
            assert_eq!(
                volumes_of_run(&id),
                Vec::<String>::new(),
                "run {id} left volumes behind"
            );
        }
        // Without a report nothing may have run: invalid input or no engine.
        None => assert!(
            matches!(out.status.code(), Some(2 | 3)),
            "no JUnit report from a run that exited with {:?}\n{}",
            out.status.code(),
            stderr(&out)
        ),
    }
    out
}

/// What lambda-ci left in the temp root `temp`.
pub fn temp_left(temp: &Path) -> Vec<String> {
    let mut left: Vec<String> = std::fs::read_dir(temp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("lambda-ci-"))
        .collect();
    left.sort();
    left
}

/// Runs `suite` with the variable `var` set, writing JUnit and JSON reports into `dir`: the
/// output and the two reports' text.
pub fn run_with_reports(dir: &Path, suite: &Path, var: (&str, &str)) -> (Output, String, String) {
    let (junit, json) = (dir.join("r.xml"), dir.join("r.json"));
    let out = lambda_ci()
        .args(["run", "--pull", "never", "--junit"])
        .arg(&junit)
        .arg("--json")
        .arg(&json)
        .arg(suite)
        .env(var.0, var.1)
        .output()
        .unwrap();
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    (out, read(&junit), read(&json))
}

/// Runs `suites` as [`run`] does, with `extra` and a JSON report; the output and the cases of
/// the report's first suite.
pub fn run_reported(suites: &[PathBuf], extra: &[&str]) -> (Output, Vec<serde_json::Value>) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let mut args = vec!["--json", json.to_str().unwrap()];
    args.extend(extra);
    let out = run(suites, &args);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let cases = report["suites"][0]["cases"].as_array().unwrap().clone();
    (out, cases)
}

/// A case's log lines, from a JSON report.
pub fn case_logs(case: &serde_json::Value) -> Vec<&str> {
    case["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect()
}

/// What `app.telemetry_seen` says a telemetry extension was sent (`seen`): a record of each of
/// `kinds`, the handler's line, and the REPORT of the invocation `first` before it.
pub fn assert_telemetry_seen(seen: &serde_json::Value, kinds: &[&str], first: &serde_json::Value) {
    let has = |key: &str, value: &serde_json::Value| seen[key].as_array().unwrap().contains(value);
    for kind in kinds {
        assert!(has("types", &(*kind).into()), "{kind} not in {seen}");
    }
    assert!(has("function", &"hello telemetry".into()), "{seen}");
    assert!(has("reports", &first["request_id"]), "{seen}");
}

/// How many cases the example suites in `cases/` hold: the `.yaml` files' `- name:` entries,
/// with each `each:` row counted as a case.
pub fn example_cases() -> usize {
    let mut count = 0;
    for entry in std::fs::read_dir(root().join("cases")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".yaml") || name.ends_with(".snap.yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut rows = false;
        for line in text.lines() {
            let t = line.trim_start();
            if line.starts_with("  - name:") {
                count += 1;
                rows = false;
            } else if t.starts_with("each:") {
                count -= 1;
                rows = true;
            } else if rows && line.starts_with("      - ") {
                count += 1;
            } else if rows && !line.starts_with("      ") {
                rows = false;
            }
        }
    }
    count
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `cmd`, which must exit with `code` (a refusal); what it wrote to stderr.
pub fn refused(cmd: &mut Command, code: i32) -> String {
    let out = cmd.output().expect("run lambda-ci");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "{err}");
    err
}

/// The run's closing line is exactly `summary`.
pub fn assert_summary(text: &str, summary: &str) {
    assert!(
        text.lines().any(|l| l == summary),
        "no line {summary:?} in\n{text}"
    );
}

/// A suite file in a fresh directory, with `code:` pointing at the Python fixture function.
pub fn temp_suite(body: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let code = fixture("functions/py");
    let text = body.replace("CODE", &code.display().to_string());
    let path = dir.path().join("suite.yaml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// A suite file `<name>.yaml` in `dir`, as [`write_suite`] writes it, for the Python fixture
/// function (`tests/fixtures/functions/py`) on python3.11.
pub fn python_suite(dir: &Path, name: &str, function: &str, cases: &str) -> PathBuf {
    let code = fixture("functions/py");
    write_suite(dir, name, ("python3.11", &code), function, cases)
}

/// A suite file `<name>.yaml` in `dir` testing a function named `name` with `runtime` and
/// `code`, more `function` lines (indented, each ending in a newline) and `cases` (YAML).
pub fn write_suite(
    dir: &Path,
    name: &str,
    (runtime, code): (&str, &Path),
    function: &str,
    cases: &str,
) -> PathBuf {
    let path = dir.join(format!("{name}.yaml"));
    let text = format!(
        "function:\n  name: {name}\n  runtime: {runtime}\n  code: {}\n{function}cases:\n{cases}",
        code.display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// Builds the image `tag` from the directory `context` with the docker CLI.
pub fn docker_build(tag: &str, context: &Path) {
    let built = Command::new("docker")
        .args(["build", "-q", "-t", tag])
        .arg(context)
        .output()
        .expect("docker CLI");
    assert!(
        built.status.success(),
        "docker build {tag}: {}",
        String::from_utf8_lossy(&built.stderr)
    );
}

/// Checks a JSON report against its published schema with an independent validator (PyPI
/// `jsonschema`, installed by scripts/test.sh).
pub fn assert_valid_report(report: &Path) {
    let checked = Command::new("python3")
        .args(["-c", "import json, sys, jsonschema\nschema = json.load(open(sys.argv[1]))\njsonschema.validate(json.load(open(sys.argv[2])), schema, format_checker=jsonschema.FormatChecker())\nprint('valid')"])
        .arg(root().join("schema/report-v1.json"))
        .arg(report)
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
}

/// A lambda-ci process running in the background (`serve`, `watch`), with what it printed;
/// stopped with SIGINT when dropped.
pub struct Background {
    child: std::process::Child,
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Background {
    pub fn start(mut cmd: Command) -> Background {
        use std::io::BufRead;
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(stream)
                    .lines()
                    .map_while(Result::ok)
                {
                    lines.lock().unwrap().push(line);
                }
            });
        }
        Background { child, lines }
    }

    pub fn printed(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// How many printed lines contain `text`.
    pub fn count(&self, text: &str) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(text))
            .count()
    }

    /// Waits (at most 60 s) until `text` has been printed `times` times.
    pub fn wait_for_times(&self, text: &str, times: usize) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while self.count(text) < times {
            assert!(
                std::time::Instant::now() < deadline,
                "no {text:?} ×{times} in:\n{}",
                self.printed()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Waits until a printed line contains `text`.
    pub fn wait_for(&self, text: &str) {
        self.wait_for_times(text, 1);
    }

    /// Sends it SIGINT, as Ctrl-C does, without waiting.
    pub fn send_interrupt(&self) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
    }

    /// Stops it as Ctrl-C does; its exit code.
    pub fn interrupt(&mut self) -> Option<i32> {
        self.send_interrupt();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(std::time::Instant::now() < deadline, "it did not stop");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            self.interrupt();
        }
    }
}

/// What a `lambda-ci run --keep` left: its output, its run id and its containers (the caller
/// may remove them first).
pub struct KeptRun {
    pub out: Output,
    pub run_id: String,
    pub kept: Vec<String>,
    /// The run's temp root, which holds what the kept containers still use; removed with
    /// this, and with it whatever of the run is left on the engine (containers, network).
    pub temp: KeptRoot,
}

/// A kept run's temp root: dropped, it removes the run's containers and network, then itself.
pub struct KeptRoot {
    dir: tempfile::TempDir,
    run_id: String,
}

impl KeptRoot {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for KeptRoot {
    fn drop(&mut self) {
        for id in containers_of_run(&self.run_id) {
            let _ = Command::new("docker").args(["rm", "-f", &id]).output();
        }
        for network in networks_of_run(&self.run_id) {
            let _ = Command::new("docker")
                .args(["network", "rm", &network])
                .output();
        }
    }
}

/// Runs `suite` with `--keep` and `extra` flags, reading its run id from its JUnit report.
pub fn run_kept(suite: &Path, extra: &[&str]) -> KeptRun {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("report.xml");
    let temp = tempfile::tempdir().unwrap();
    let out = lambda_ci()
        .env("TMPDIR", temp.path())
        .args(["run", "--pull", "never", "--keep"])
        .args(extra)
        .arg("--junit")
        .arg(&junit)
        .arg(suite)
        .output()
        .unwrap();
    let run_id = run_id_in(&junit).expect("the report names its run");
    let kept = containers_of_run(&run_id);
    let temp = KeptRoot {
        dir: temp,
        run_id: run_id.clone(),
    };
    KeptRun {
        out,
        run_id,
        kept,
        temp,
    }
}

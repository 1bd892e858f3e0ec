//! Hostile and broken input: every malformed suite is refused before anything runs, with exit
//! 2, its `file:line:col` and what to do, never a panic, in bounded time and memory. The
//! corpus is `tests/fixtures/bad/`: each file says what it is on its first line and, on the
//! `# | ` lines after it, exactly what lambda-ci writes to stderr for it (`{dir}` is that
//! directory, `{fixtures}` its parent). The inputs too large or too odd to commit are made here.

mod common;

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// The most address space a load may take: far more than any suite needs, far less than an
/// expanded YAML bomb or a document read whole without a limit.
const ADDRESS_SPACE: u64 = 1 << 30;

/// A load that has not ended by then hangs.
const HANG: Duration = Duration::from_secs(60);

/// `lambda-ci run ARGS` in `dir`, bounded in memory and time, with an engine that cannot be
/// reached (so a suite that loaded could not run anything): its exit code and stderr.
fn load(dir: &Path, args: &[&str], as_user: Option<u32>) -> (Option<i32>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lambda-ci"));
    command
        .arg("run")
        .args(args)
        .current_dir(dir)
        .env("DOCKER_HOST", "unix:///nonexistent")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(uid) = as_user {
        command.uid(uid).gid(uid);
    }
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: ADDRESS_SPACE,
                rlim_max: ADDRESS_SPACE,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).unwrap();
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > HANG {
            child.kill().ok();
            panic!("lambda-ci run {args:?} did not end within {HANG:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = reader.join().unwrap();
    assert!(!text.contains("panicked"), "{args:?} panicked:\n{text}");
    (status.code(), text)
}

/// What a corpus file says lambda-ci writes for it.
fn expected(file: &Path, dir: &Path) -> String {
    let bytes = std::fs::read(file).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    assert!(
        first.starts_with("# "),
        "{} does not say what it is on its first line",
        file.display()
    );
    let said: Vec<&str> = lines.map_while(|l| l.strip_prefix("# | ")).collect();
    assert!(!said.is_empty(), "{} has no `# | ` lines", file.display());
    let fixtures = dir.parent().unwrap();
    said.iter()
        .map(|l| {
            let l = l.replace("{dir}", &dir.display().to_string());
            format!(
                "{}\n",
                l.replace("{fixtures}", &fixtures.display().to_string())
            )
        })
        .collect()
}

#[test]
fn every_malformed_suite_in_the_corpus_exits_2_with_its_exact_message() {
    let dir = fixture("bad");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 40,
        "only {} suites in the corpus",
        files.len()
    );
    let mut wrong = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_str().unwrap();
        let want = expected(file, &dir);
        let (code, got) = load(&dir, &[name], None);
        if code != Some(2) || got != want {
            wrong.push(format!(
                "{name}: exit {code:?}\n--- expected\n{want}--- got\n{got}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The head of a suite for the Python fixture function, its cases to follow.
fn head() -> String {
    format!(
        "function:\n  runtime: python3.11\n  handler: app.echo\n  code: {}\ncases:\n  - name: a\n",
        fixture("functions/py").display()
    )
}

/// Writes `name` in `dir` and loads it: its stderr, after checking the exit code.
fn refused(dir: &Path, name: &str, text: &[u8]) -> String {
    std::fs::write(dir.join(name), text).unwrap();
    let (code, err) = load(dir, &[name], None);
    assert_eq!(code, Some(2), "{name}:\n{err}");
    err
}

fn assert_says(err: &str, wanted: &str) {
    assert!(err.contains(wanted), "missing {wanted:?} in\n{err}");
}

#[test]
fn inputs_too_deep_or_too_large_to_commit_are_refused_at_their_line() {
    let temp = tempfile::tempdir().unwrap();
    let d = temp.path();
    let head = head();

    let deep = format!(
        "{head}    event: {}{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let err = refused(d, "deep.yaml", deep.as_bytes());
    assert_says(
        &err,
        "error: deep.yaml:7:267: invalid YAML: recursion limit exceeded\n  hint: a suite nests at most 64 levels; put a deeply nested event in a JSON file and name it with `event_file`\n",
    );

    let json = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    std::fs::write(d.join("deep.json"), json).unwrap();
    let err = refused(
        d,
        "deep-event.yaml",
        format!("{head}    event_file: deep.json\n").as_bytes(),
    );
    assert_says(&err, "deep-event.yaml:7:17: `event_file` ");
    assert_says(
        &err,
        "deep.json is not valid JSON: nested more than 512 levels deep\n  hint: JSON is read up to 512 levels deep; flatten the event\n",
    );

    let big = format!("{{\"a\": \"{}\"}}", "x".repeat(10_000_000));
    std::fs::write(d.join("big.json"), big).unwrap();
    let err = refused(
        d,
        "big-event.yaml",
        format!("{head}    event_file: big.json\n").as_bytes(),
    );
    assert_says(
        &err,
        "big.json is 10,000,009 bytes, over the limit of 6,291,456 bytes\n  hint: Lambda refuses a synchronous invocation's payload over 6 MB",
    );

    let inline = format!("{head}    event: {{a: {}}}\n", "x".repeat(7_000_000));
    let err = refused(d, "big-inline.yaml", inline.as_bytes());
    assert_says(
        &err,
        "error: big-inline.yaml:7:12: the event is 7,000,008 bytes as JSON, over Lambda's limit of 6,291,456 bytes",
    );

    let huge = format!("{head}    event: {{a: {}}}\n", "x".repeat(11_000_000));
    let err = refused(d, "huge.yaml", huge.as_bytes());
    let size = huge.len().to_string();
    let size = format!("{},{},{}", &size[..2], &size[2..5], &size[5..]);
    assert_says(
        &err,
        &format!(
            "error: huge.yaml: is {size} bytes, over the limit of 10,485,760 bytes\n  hint: suite files are at most 10,485,760 bytes (10 MiB); put large events in `event_file`s\n"
        ),
    );
}

#[test]
fn directories_named_like_suites_and_symlink_loops_are_refused_by_name() {
    let temp = tempfile::tempdir().unwrap();
    let d = temp.path();
    std::fs::create_dir(d.join("x.yaml")).unwrap();
    let (code, err) = load(d, &["x.yaml"], None);
    assert_eq!(code, Some(2), "{err}");
    assert_says(
        &err,
        "error: x.yaml: no suites found\n  hint: it is a directory, though named like a suite file, and holds none: a suite is a .yaml or .yml file with a top-level `cases:` key\n",
    );

    // In a searched directory: a link to its own directory (walked once) and a suite that is
    // a link to itself.
    let searched = d.join("suites");
    std::fs::create_dir(&searched).unwrap();
    std::os::unix::fs::symlink("..", searched.join("up")).unwrap();
    std::os::unix::fs::symlink("self.yaml", searched.join("self.yaml")).unwrap();
    let (code, err) = load(d, &["suites"], None);
    assert_eq!(code, Some(2), "{err}");
    assert_says(
        &err,
        "error: suites/self.yaml: is a symbolic link that leads back to itself (a loop)\n  hint: point the link at a regular file, or remove it\n",
    );

    std::os::unix::fs::symlink("nowhere.yaml", d.join("dangling.yaml")).unwrap();
    let (code, err) = load(d, &["dangling.yaml"], None);
    assert_eq!(code, Some(2), "{err}");
    assert_says(
        &err,
        "error: dangling.yaml: is a symbolic link to a file that does not exist\n  hint: point the link at a regular file, or remove it\n",
    );
}

#[test]
fn a_suite_or_event_file_that_cannot_be_read_is_named_with_the_fix() {
    let temp = tempfile::tempdir().unwrap();
    let d = temp.path();
    let mut head = head();
    head.push_str("    event_file: locked.json\n");
    std::fs::write(d.join("locked.json"), "{}").unwrap();
    std::fs::write(d.join("reads-locked.yaml"), &head).unwrap();
    std::fs::write(d.join("locked.yaml"), &head).unwrap();
    use std::os::unix::fs::PermissionsExt;
    for locked in ["locked.json", "locked.yaml"] {
        std::fs::set_permissions(d.join(locked), std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    // Root reads anything: the check runs as nobody then.
    let user = (unsafe { libc::geteuid() } == 0).then_some(65534);
    let (code, err) = load(d, &["locked.yaml"], user);
    assert_eq!(code, Some(2), "{err}");
    assert_says(
        &err,
        "error: locked.yaml: cannot be read: permission denied\n  hint: let the user running lambda-ci read it (`chmod a+r`)\n",
    );
    let (code, err) = load(d, &["reads-locked.yaml"], user);
    assert_eq!(code, Some(2), "{err}");
    assert_says(&err, "error: reads-locked.yaml:7:17: `event_file` ");
    assert_says(
        &err,
        "locked.json cannot be read: permission denied\n  hint: let the user running lambda-ci read it (`chmod a+r`)\n",
    );
}

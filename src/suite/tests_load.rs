//! Tests of loading hostile or mistaken input: special files, oversized files and events,
//! text that is not UTF-8, deep JSON, near-miss suites, and the values that would only fail
//! once containers run.

use std::path::{Path, PathBuf};

use super::*;

fn dir_with_code() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("code")).unwrap();
    std::fs::write(
        dir.path().join("code/app.py"),
        "def handler(event, context): pass\n",
    )
    .unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, text).unwrap();
    path
}

const FUNCTION: &str = "function:\n  runtime: python3.11\n  handler: app.handler\n  code: code\n";

fn suite(cases: &str) -> String {
    format!("{FUNCTION}cases:\n{cases}")
}

/// Every problem of loading `text` as an explicit suite, one line each with its hint.
fn errors_of(text: &str) -> String {
    let dir = dir_with_code();
    let file = write(dir.path(), "s.yaml", text);
    load_paths(&[file]).unwrap_err().to_string()
}

fn warnings_of(dir: &Path) -> String {
    let (_, warnings) = load_paths_warning(&[dir.to_path_buf()]);
    warnings
        .iter()
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

// A FIFO or a /dev/zero symlink named *.yaml once hung or exhausted memory.
#[test]
fn fifo_and_dev_zero_named_yaml_in_a_searched_directory_are_skipped_with_a_warning() {
    let dir = dir_with_code();
    write(dir.path(), "s.yaml", &suite("  - name: a\n"));
    mkfifo(&dir.path().join("pipe.yaml"));
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.yaml")).unwrap();
    let (loaded, warnings) = load_paths_warning(&[dir.path().to_path_buf()]);
    assert_eq!(loaded.unwrap().len(), 1);
    let text: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        text[0].contains("pipe.yaml: skipped: is a FIFO"),
        "{text:?}"
    );
    assert!(
        text[1].contains("zero.yaml: skipped: is a character device"),
        "{text:?}"
    );
    // Named explicitly, it is an error.
    let errs = load_paths(&[dir.path().join("pipe.yaml")]).unwrap_err();
    assert!(
        errs.to_string()
            .contains("is a FIFO (named pipe), not a regular file")
    );
}

// A suite file is read up to a documented size, never whole whatever its size.
#[test]
fn a_suite_over_the_size_limit_is_an_error_naming_the_file() {
    let mut text = suite("  - name: a\n");
    text.push_str(&"#".repeat(read::SUITE_LIMIT as usize));
    let errs = errors_of(&text);
    assert!(errs.contains("s.yaml: is 10,485,"), "{errs}");
    assert!(
        errs.contains("over the limit of 10,485,760 bytes"),
        "{errs}"
    );
}

// An event over 6 MB was sent, cut short by RIE, and reported as the function's error.
#[test]
fn an_event_file_over_lambdas_payload_limit_is_refused_at_load() {
    let dir = dir_with_code();
    let big = format!("\"{}\"", "x".repeat(read::EVENT_LIMIT as usize));
    write(dir.path(), "big.json", &big);
    let file = write(
        dir.path(),
        "s.yaml",
        &suite("  - name: a\n    event_file: big.json\n"),
    );
    let errs = load_paths(&[file]).unwrap_err().to_string();
    assert!(
        errs.contains("big.json is 6,291,458 bytes, over the limit of 6,291,456 bytes"),
        "{errs}"
    );
    assert!(errs.contains("hint: Lambda refuses"), "{errs}");
}

// The same limit holds for an event written in the suite.
#[test]
fn an_inline_event_over_lambdas_payload_limit_is_refused_at_load() {
    let body = "x".repeat(read::EVENT_LIMIT as usize);
    let errs = errors_of(&suite(&format!(
        "  - name: a\n    event: {{data: {body}}}\n"
    )));
    assert!(
        errs.contains("s.yaml:7:12: the event is 6,291,467 bytes as JSON, over Lambda's limit of 6,291,456 bytes"),
        "{}",
        &errs[..errs.len().min(300)]
    );
}

// A suite that is not UTF-8 named no line.
#[test]
fn a_non_utf8_suite_names_the_line_and_column_of_the_first_bad_byte() {
    let dir = dir_with_code();
    let file = dir.path().join("s.yaml");
    let mut bytes = suite("  - name: caf").into_bytes();
    bytes.extend_from_slice(b"\xe9\n");
    std::fs::write(&file, bytes).unwrap();
    let errs = load_paths(&[file]).unwrap_err();
    assert_eq!(
        errs.0[0].pos,
        Some(Pos {
            line: 6,
            column: 14
        }),
        "{errs}"
    );
}

// JSON nested deeper than serde_json's 128 levels was called invalid.
#[test]
fn an_event_file_nested_500_deep_loads_and_a_hostile_depth_is_refused() {
    let dir = dir_with_code();
    let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
    write(dir.path(), "deep.json", &deep(500));
    write(dir.path(), "hostile.json", &deep(100_000));
    let file = write(
        dir.path(),
        "s.yaml",
        &suite("  - name: a\n    event_file: deep.json\n"),
    );
    let suites = load_paths(&[file]).unwrap();
    let mut v = &suites[0].cases[0].event;
    let mut levels = 0;
    while let serde_json::Value::Array(items) = v {
        v = &items[0];
        levels += 1;
    }
    assert_eq!(levels, 500);
    let file = write(
        dir.path(),
        "h.yaml",
        &suite("  - name: a\n    event_file: hostile.json\n"),
    );
    let errs = load_paths(&[file]).unwrap_err().to_string();
    assert!(
        errs.contains("is not valid JSON: nested more than 512 levels deep"),
        "{errs}"
    );
}

// A mistyped top-level key made a suite vanish silently from a directory search.
#[test]
fn a_mistyped_cases_key_is_warned_about_when_a_directory_is_searched() {
    let dir = dir_with_code();
    write(dir.path(), "good.yaml", &suite("  - name: a\n"));
    write(
        dir.path(),
        "one.yaml",
        &format!("{FUNCTION}case:\n  - name: a\n"),
    );
    write(
        dir.path(),
        "two.yaml",
        &format!("{FUNCTION}Cases:\n  - name: a\n"),
    );
    write(dir.path(), "three.yaml", "testcases:\n  - name: a\n");
    write(dir.path(), "four.yaml", FUNCTION);
    write(dir.path(), "other.yaml", "bases: [1]\nname: x\n");
    let warnings = warnings_of(dir.path());
    for (file, key) in [("one", "case"), ("two", "Cases"), ("three", "testcases")] {
        assert!(
            warnings.contains(&format!("{file}.yaml:"))
                && warnings.contains(&format!("has `{key}:` where a suite has `cases:`")),
            "{file}: {warnings}"
        );
    }
    assert!(
        warnings.contains("four.yaml:1:1: skipped: has `function:` but no top-level `cases:`"),
        "{warnings}"
    );
    assert!(!warnings.contains("other.yaml"), "{warnings}");
}

// Third-party YAML with `cases:` under node_modules was taken for a suite.
#[test]
fn node_modules_target_git_and_hidden_dirs_are_not_searched_and_suites_there_are_named() {
    let dir = dir_with_code();
    write(dir.path(), "good.yaml", &suite("  - name: a\n"));
    write(dir.path(), "node_modules/pkg/cases.yaml", "cases: [1, 2]\n");
    write(
        dir.path(),
        "node_modules/pkg/mine.yaml",
        &suite("  - name: a\n"),
    );
    write(dir.path(), "target/debug/x.yaml", "cases: [{a: 1}]\n");
    write(dir.path(), ".git/x.yaml", "cases: broken: [\n");
    write(dir.path(), ".ci/suite.yaml", &suite("  - name: a\n"));
    std::fs::create_dir(dir.path().join(".ci/code")).unwrap();
    let (loaded, warnings) = load_paths_warning(&[dir.path().to_path_buf()]);
    assert_eq!(loaded.unwrap().len(), 1);
    let warnings: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].contains(".ci: skipped: hidden directories are not searched"),
        "{warnings:?}"
    );
    assert!(warnings[1].contains("node_modules: skipped: `node_modules` directories are not searched, and this one holds what looks like a suite"), "{warnings:?}");
    assert!(warnings[1].contains("pkg/mine.yaml"), "{warnings:?}");
    // Named explicitly, a skipped directory is searched.
    let inside = load_paths(&[dir.path().join(".ci")]).unwrap();
    assert_eq!(inside.len(), 1);
}

// LOG_LEVEL=CRITICAL made RIE exit at start, failing every case.
#[test]
fn logging_variables_rie_or_lambda_refuse_are_refused_at_load() {
    let env = |pairs: &str| {
        errors_of(&format!(
            "{FUNCTION}  environment: {{{pairs}}}\ncases:\n  - name: a\n"
        ))
    };
    let errs =
        env("LOG_LEVEL: CRITICAL, AWS_LAMBDA_LOG_LEVEL: VERBOSE, AWS_LAMBDA_LOG_FORMAT: XML");
    assert!(
        errs.contains("`LOG_LEVEL: CRITICAL` is not a valid value"),
        "{errs}"
    );
    assert!(
        errs.contains("trace, debug, info, warn, warning, error, fatal, panic (RIE reads it too"),
        "{errs}"
    );
    assert!(
        errs.contains("AWS_LAMBDA_LOG_LEVEL takes one of: TRACE, DEBUG, INFO, WARN, ERROR, FATAL"),
        "{errs}"
    );
    assert!(
        errs.contains("AWS_LAMBDA_LOG_FORMAT takes one of: JSON, Text"),
        "{errs}"
    );
    let dir = dir_with_code();
    let file = write(
        dir.path(),
        "s.yaml",
        &format!(
            "{FUNCTION}  environment: {{LOG_LEVEL: DEBUG, AWS_LAMBDA_LOG_LEVEL: WARN, AWS_LAMBDA_LOG_FORMAT: JSON}}\ncases:\n  - name: a\n"
        ),
    );
    load_paths(&[file]).unwrap();
}

// `network: host` is taken under lambda-ci's agent, which chooses its ports; RIE's are fixed.
#[test]
fn network_host_is_refused_at_load_only_under_rie_with_the_reason() {
    let dir = dir_with_code();
    let host = format!("{FUNCTION}  network: host\ncases:\n  - name: a\n");
    load_paths(&[write(dir.path(), "s.yaml", &host)]).unwrap();
    let errs = errors_of(&format!(
        "{FUNCTION}  network: host\nruntime_api: rie\ncases:\n  - name: a\n"
    ));
    assert!(errs.contains("s.yaml:5:12: `network: host` cannot be used with `runtime_api: rie`: RIE listens on one fixed port"), "{errs}");
    let errs = errors_of(&format!("{FUNCTION}  network: none\ncases:\n  - name: a\n"));
    assert!(errs.contains("`network: none` is not supported"), "{errs}");
}

// The hint named an empty directory for a suite in the current directory, and the resolved
// path kept its `..`.
#[test]
fn path_hints_name_the_suites_directory_and_normalised_paths() {
    let dir = dir_with_code();
    let file = write(
        dir.path(),
        "s.yaml",
        "function:\n  runtime: python3.11\n  handler: app.handler\n  code: ./x/../nope\ncases:\n  - name: a\n",
    );
    let here = std::env::current_dir().unwrap();
    // A suite named relative to the working directory, as `lambda-ci run s.yaml` does.
    let relative = pathdiff(&file, &here);
    let errs = load_paths(&[relative]).unwrap_err().to_string();
    let shown = std::fs::canonicalize(dir.path()).unwrap();
    assert!(
        errs.contains(&format!("(resolved to {})", shown.join("nope").display())),
        "{errs}"
    );
    assert!(
        errs.contains(&format!(
            "relative to the suite file's directory, {}",
            shown.display()
        )),
        "{errs}"
    );
}

// The same holds for the `bootstrap` a custom runtime's code lacks.
#[test]
fn a_missing_bootstrap_is_named_by_its_normalised_path() {
    let dir = dir_with_code();
    let file = write(
        dir.path(),
        "s.yaml",
        "function:\n  runtime: provided.al2023\n  code: ./code/../code\ncases:\n  - name: a\n",
    );
    let errs = load_paths(&[file]).unwrap_err().to_string();
    let bootstrap = dir.path().join("code/bootstrap");
    assert!(
        errs.contains(&format!("({} does not exist)", bootstrap.display())),
        "{errs}"
    );
}

/// `path` relative to `base`, through `..` as needed.
fn pathdiff(path: &Path, base: &Path) -> PathBuf {
    let ups = base.components().count() - 1;
    let mut out = PathBuf::new();
    for _ in 0..ups {
        out.push("..");
    }
    out.join(path.strip_prefix("/").unwrap())
}

// A typo in an `each` row's key was blamed on the placeholder.
#[test]
fn an_each_row_with_a_mistyped_key_is_named_rather_than_the_placeholder() {
    let errs = errors_of(&suite(
        "  - name: greets {{name}}\n    event: {who: \"{{name}}\"}\n    each:\n      - {name: Ada}\n      - {nmae: Bob}\n",
    ));
    assert_eq!(
        errs.split_once("s.yaml").unwrap().1,
        ":10:10: this `each` row (line 10) has no `name` for placeholder `{{name}}`\n  hint: did you mean `name` rather than `nmae`?",
        "said once, at the row's key"
    );
    let errs = errors_of(&suite(
        "  - name: greets {{nmae}}\n    each:\n      - {name: Ada}\n",
    ));
    assert!(
        errs.contains("the row has `name`: write `{{name}}`"),
        "{errs}"
    );
}

// The YAML parser's words named its own options and counters.
#[test]
fn yaml_errors_are_worded_for_users() {
    let errs = errors_of(&suite("  - name: a\n    name: b\n"));
    assert!(
        errs.contains("invalid YAML: duplicate key `name`"),
        "{errs}"
    );
    assert!(!errs.contains("DuplicateKeyPolicy"), "{errs}");
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (name, prev) in ["b", "c", "d", "e", "f", "g"]
        .iter()
        .zip(["a", "b", "c", "d", "e", "f"])
    {
        bomb.push_str(&format!(
            "{name}: &{name} [{}]\n",
            vec![format!("*{prev}"); 10].join(", ")
        ));
    }
    bomb.push_str("cases: *g\n");
    let errs = errors_of(&format!("{}---\ncases: []\n", suite("  - name: a\n")));
    assert!(errs.contains("more than one YAML document"), "{errs}");
    assert!(!errs.contains("from_str_multiple"), "{errs}");
    let errs = errors_of("a: &x\n  b: *x\ncases: []\n");
    assert!(
        errs.contains("an alias refers to the mapping or list it is in"),
        "{errs}"
    );
    let errs = errors_of("? [a, b]\n: 1\ncases: []\n");
    assert!(errs.contains("a mapping key must be text"), "{errs}");
    let deep = format!("{}1{}", "[".repeat(70), "]".repeat(70));
    let text = suite(&format!("  - name: a\n    event: {deep}\n"));
    // Loading runs on the main thread's 8 MiB stack; a debug build's YAML parser needs more
    // than a test thread's 2 MiB for 64 levels.
    let errs = std::thread::Builder::new()
        .stack_size(8 * 1024 * 1024)
        .spawn(move || errors_of(&text))
        .unwrap()
        .join()
        .unwrap();
    assert!(
        errs.contains("invalid YAML: nested more than 64 levels deep"),
        "{errs}"
    );
    assert!(errs.contains("name it with `event_file`"), "{errs}");
    let errs = errors_of(&bomb);
    assert!(
        errs.contains("the document is too large: more than 100,000 values"),
        "{errs}"
    );
    assert!(!errs.contains("budget breached"), "{errs}");
}

// A Python handler without a dot was found only when every invocation failed.
#[test]
fn a_handler_that_is_not_module_function_is_refused_for_runtimes_that_need_one() {
    for runtime in ["python3.12", "nodejs22.x", "ruby3.4"] {
        let errs = errors_of(&format!(
            "function:\n  runtime: {runtime}\n  handler: app\n  code: code\ncases:\n  - name: a\n"
        ));
        assert!(
            errs.contains("s.yaml:3:12: `handler: app` is not `module.function`"),
            "{runtime}: {errs}"
        );
    }
    let errs = errors_of(
        "function:\n  image: public.ecr.aws/lambda/python:3.12\n  handler: .handler\ncases:\n  - name: a\n",
    );
    assert!(errs.contains("is not `module.function`"), "{errs}");
    // Java and .NET handlers take other shapes.
    let dir = dir_with_code();
    let file = write(
        dir.path(),
        "s.yaml",
        "function:\n  runtime: java21\n  handler: Handler\n  code: code\ncases:\n  - name: a\n",
    );
    load_paths(&[file]).unwrap();
}

// A snapshot file is read as a suite is: a FIFO in its place would block the run.
#[test]
fn a_fifo_in_place_of_a_snapshot_file_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.snap.yaml");
    mkfifo(&path);
    let e = crate::snapshot::SnapshotFile::load(&path).unwrap_err();
    assert_eq!(
        e.message,
        "the snapshot file is a FIFO (named pipe), not a regular file"
    );
}

// Regression: `each` rows multiplied a case past the values a suite may hold (a large event
// times many rows) without a word, building every case in memory.
#[test]
fn each_rows_that_would_make_too_many_values_are_refused_at_their_line() {
    let rows: String = (0..20_000)
        .map(|i| format!("      - {{n: {i}}}\n"))
        .collect();
    let errs = errors_of(&suite(&format!(
        "  - name: case {{{{n}}}}\n    event: {{n: \"{{{{n}}}}\", a: [1, 2, 3], b: {{c: d}}}}\n    each:\n{rows}"
    )));
    assert!(
        errs.contains("`each` makes 20000 cases of about")
            && errs.contains("over the 100,000 values a suite may hold"),
        "{errs}"
    );
}

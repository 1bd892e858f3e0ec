//! Tests of the loader as a whole: suite files in, a model or every problem out.

use std::path::{Path, PathBuf};

use super::*;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("code")).unwrap();
    std::fs::create_dir(dir.path().join("layer")).unwrap();
    dir
}

fn errors_of(text: &str) -> Vec<String> {
    let dir = fixture();
    let file = write(dir.path(), "s.yaml", text);
    let errs = load_paths(&[file]).unwrap_err();
    errs.0
        .iter()
        .map(|e| {
            let pos = e
                .pos
                .map(|p| format!("{}:{}", p.line, p.column))
                .unwrap_or_default();
            match &e.hint {
                Some(h) => format!("{pos}: {} ({h})", e.message),
                None => format!("{pos}: {}", e.message),
            }
        })
        .collect()
}

const GOOD: &str = "\
function:
  runtime: python3.11
  handler: app.handler
  code: code
  layers: [layer]
  environment: {GREETING: Hello, PORT: 8080}
  timeout: 5
cases:
  - name: greets
    event: {name: Ada, flag: yes}
    expect:
      response: {body: \"Hello, Ada\"}
  - name: contains
    expect:
      response_contains: {statusCode: 200}
  - name: fails
    event: {}
    expect:
      error: {type: ValueError}
  - name: plain
";

#[test]
fn a_valid_suite_loads_with_defaults_and_positions() {
    let dir = fixture();
    let file = write(dir.path(), "hello.yaml", GOOD);
    let suites = load_paths(&[file]).unwrap();
    let s = &suites[0];
    assert_eq!(s.function.name, "hello");
    assert_eq!(s.function.image, "public.ecr.aws/lambda/python:3.11");
    assert_eq!(s.function.timeout, 5);
    assert_eq!(s.function.memory, 128);
    assert_eq!(s.function.environment["PORT"], "8080");
    assert!(s.function.code.as_ref().unwrap().path.is_absolute());
    assert_eq!(s.cases.len(), 4);
    assert_eq!(
        s.cases[0].event,
        serde_json::json!({"name": "Ada", "flag": "yes"})
    );
    assert_eq!(s.cases[0].pos.line, 9);
    assert_eq!(s.cases[0].expect.pos.unwrap().line, 12);
    assert_eq!(s.cases[0].expect.checks[0].pos.line, 12);
    assert_eq!(s.cases[1].event, serde_json::json!({}));
    assert_eq!(s.cases[3].expect, Expectation::default());
    assert!(s.cases[2].expect.expects_error());
    assert!(matches!(
        &s.cases[2].expect.checks[0].kind,
        CheckKind::Error { error_type: Some(check::TextMatch::Exact(t)), message: None } if t == "ValueError"
    ));
}

#[test]
fn unknown_keys_get_a_did_you_mean_and_all_errors_come_in_one_pass() {
    let errs = errors_of(
        "function:\n  runtime: python3.11\n  handler: a.b\n  code: code\n  timout: 3\ncases:\n  - name: a\n    expect:\n      respnse: 1\n  - name: b\n    evnt: {}\n",
    );
    assert_eq!(
        errs,
        vec![
            "5:3: unknown field `timout` in `function` (did you mean `timeout`?)",
            "9:7: unknown field `respnse` in `expect` (did you mean `response`?)",
            "11:5: unknown field `evnt` in a case (did you mean `event`?)",
        ]
    );
}

#[test]
fn unknown_runtime_lists_valid_ones_with_a_suggestion() {
    let errs = errors_of(
        "function:\n  runtime: python3.99\n  handler: a.b\n  code: code\ncases:\n  - name: a\n",
    );
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].starts_with("2:12: unknown runtime `python3.99` (did you mean `python3.1"),
        "{}",
        errs[0]
    );
    assert!(errs[0].contains("provided.al2023"));
}

#[test]
fn exclusive_fields_and_duplicate_names() {
    let errs = errors_of(
        "function:\n  runtime: python3.11\n  handler: a.b\n  code: code\ncases:\n  - name: a\n    event: {}\n    event_file: e.json\n  - name: b\n    expect: {response: 1, error: {}}\n  - name: b\n  - name: b\n",
    );
    assert_eq!(
        errs[0],
        "8:5: `event` and `event_file` are exclusive (keep one of them)"
    );
    assert!(
        errs[1].starts_with("10:27: `response` and `error` cannot be combined"),
        "{}",
        errs[1]
    );
    assert_eq!(
        errs[2],
        "12:5: duplicate case name `b` (the first is at line 11; case names are unique within a suite)"
    );
}

#[test]
fn missing_paths_and_bad_values() {
    let errs = errors_of(
        "function:\n  runtime: python3.11\n  handler: a.b\n  code: nowhere\n  memory: 64\n  timeout: fast\ncases:\n  - name: a\n    event_file: missing.json\n",
    );
    assert_eq!(errs.len(), 4, "{errs:?}");
    assert!(
        errs[0].starts_with("4:9: `code` `nowhere` does not exist"),
        "{}",
        errs[0]
    );
    assert!(
        errs[1].starts_with("6:12: `timeout` must be a whole number of seconds"),
        "{}",
        errs[1]
    );
    assert!(
        errs[2].starts_with("5:11: `memory` must be a whole number of MB from 128"),
        "{}",
        errs[2]
    );
    assert!(
        errs[3].starts_with("9:17: `event_file` `missing.json` does not exist"),
        "{}",
        errs[3]
    );
}

#[test]
fn invalid_yaml_points_at_the_line() {
    let errs = errors_of("function:\n  runtime: python3.11\ncases:\n  - name: [unclosed\n");
    assert_eq!(errs.len(), 1);
    assert_eq!(
        errs[0],
        "4:11: invalid YAML: unclosed bracket '[' (close every `[` with `]` and every `{` with `}`, or write the value as a block)"
    );
}

#[test]
fn event_file_is_read_relative_to_the_suite() {
    let dir = fixture();
    std::fs::create_dir(dir.path().join("events")).unwrap();
    write(
        &dir.path().join("events"),
        "get.json",
        r#"{"path": "/x", "n": 17}"#,
    );
    let bootstrap = write(&dir.path().join("code"), "bootstrap", "#!/bin/sh\n");
    std::fs::set_permissions(
        &bootstrap,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let file = write(
        dir.path(),
        "s.yaml",
        "function:\n  runtime: provided.al2023\n  code: code\ncases:\n  - name: a\n    event_file: events/get.json\n",
    );
    let suites = load_paths(&[file]).unwrap();
    assert_eq!(
        suites[0].cases[0].event,
        serde_json::json!({"path": "/x", "n": 17})
    );
    assert!(suites[0].function.custom_runtime);
    assert_eq!(suites[0].function.handler.as_deref(), Some("bootstrap"));
}

#[test]
fn custom_runtimes_need_an_executable_bootstrap() {
    let suite = "function:\n  runtime: provided.al2023\n  code: code\ncases:\n  - name: a\n";
    let errs = errors_of(suite);
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].starts_with("3:9: `code` has no `bootstrap`"),
        "{}",
        errs[0]
    );
    let dir = fixture();
    write(&dir.path().join("code"), "bootstrap", "#!/bin/sh\n");
    let file = write(dir.path(), "s.yaml", suite);
    let errs = load_paths(&[file]).unwrap_err();
    assert!(
        errs.0[0].message.ends_with("bootstrap is not executable"),
        "{}",
        errs.0[0]
    );
}

#[test]
fn reserved_environment_variables_are_refused_with_the_key_to_use() {
    let errs = errors_of(
        "function:\n  runtime: python3.11\n  handler: a.b\n  code: code\n  environment:\n    AWS_LAMBDA_FUNCTION_TIMEOUT: 5\n    AWS_LAMBDA_RUNTIME_API: x\n    AWS_REGION: eu-west-1\ncases:\n  - name: a\n",
    );
    assert_eq!(
        errs,
        vec![
            "6:5: `AWS_LAMBDA_FUNCTION_TIMEOUT` is set by Lambda and cannot be set in `environment` (set the function's `timeout:` instead)",
            "7:5: `AWS_LAMBDA_RUNTIME_API` is set by Lambda and cannot be set in `environment` (the base image and RIE set it; remove it)",
        ]
    );
}

#[test]
fn sandbox_and_invocation_context_keys_are_checked() {
    let big = "x".repeat(3000);
    let errs = errors_of(&format!(
        "function:\n  runtime: python3.11\n  handler: a.b\n  code: code\n  ephemeral_storage: 256\n  aws_credentials: inhert\ncases:\n  - name: a\n    client_context: [1]\n  - name: b\n    client_context: {{custom: {{k: {big}}}}}\n    trace_id: 5\n"
    ));
    assert_eq!(
        errs,
        vec![
            "5:22: `ephemeral_storage` must be a whole number of MB from 512 to 10240, found `256`",
            "6:20: unknown `aws_credentials` `inhert` (did you mean `inherit`? `aws_credentials` takes: placeholder, inherit)",
            "9:21: `client_context` must be a mapping, found a list",
            "11:21: `client_context` is 4028 bytes once base64-encoded; the Invoke API takes at most 3583",
            "12:15: `trace_id` must be a string, found a number",
        ]
    );
}

#[test]
fn build_needs_a_context_with_its_dockerfile_and_excludes_runtime_and_image() {
    let errs = errors_of(
        "function:\n  build: {context: code, dockerfile: Containerfile}\ncases:\n  - name: a\n",
    );
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].starts_with("2:38: no `Containerfile` in the build context ")
            && errs[0].ends_with("(`dockerfile` is relative to `context`)"),
        "{errs:?}"
    );
    let errs = errors_of("function:\n  runtime: python3.11\n  build: {}\ncases:\n  - name: a\n");
    assert_eq!(
        errs,
        vec!["3:3: `runtime` and `build` are exclusive (keep one of them)"]
    );
    let errs = errors_of("function:\n  build: {dockerfile: D}\ncases:\n  - name: a\n");
    assert_eq!(
        errs,
        vec![
            "2:10: `build` without `context` (the directory to build, relative to this file, e.g. `context: .`)"
        ]
    );
}

#[test]
fn symlink_loops_are_not_followed_and_unreadable_suites_are_reported() {
    let dir = fixture();
    write(dir.path(), "s.yaml", GOOD);
    std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
    std::fs::write(
        dir.path().join("latin1.yaml"),
        b"cases:\n  - name: caf\xe9\n",
    )
    .unwrap();
    let errs = load_paths(&[dir.path().to_path_buf()]).unwrap_err();
    assert_eq!(errs.0.len(), 1, "{errs}");
    assert!(errs.0[0].file.ends_with("latin1.yaml"));
    assert_eq!(
        errs.0[0].message,
        "not valid UTF-8 text: byte 0xE9 is not UTF-8"
    );
}

#[test]
fn directories_skip_yaml_that_is_not_a_suite() {
    let dir = fixture();
    write(dir.path(), "s.yaml", GOOD);
    write(dir.path(), "other.yml", "just: config\n");
    write(dir.path(), "broken.yaml", "a: [\n");
    let suites = load_paths(&[dir.path().to_path_buf()]).unwrap();
    assert_eq!(suites.len(), 1);
}

#[test]
fn an_explicit_file_that_is_not_a_suite_is_an_error() {
    let errs = errors_of("just: config\n");
    assert_eq!(errs.len(), 1);
    assert!(errs[0].contains("not a suite"), "{}", errs[0]);
}

#[test]
fn an_edge_function_cannot_be_built_as_a_container_image() {
    let dir = fixture();
    std::fs::write(dir.path().join("code/Dockerfile"), "FROM scratch\n").unwrap();
    let file = write(
        dir.path(),
        "s.yaml",
        "function:\n  build: {context: code}\n  edge: origin-request\ncases:\n  - name: a\n",
    );
    let errs = load_paths(&[file]).unwrap_err();
    assert!(
        errs.0.iter().any(|e| e.pos.is_some_and(|p| p.line == 2)
            && e.message == "Lambda@Edge functions (origin-request) cannot be container images"),
        "{errs}"
    );
}

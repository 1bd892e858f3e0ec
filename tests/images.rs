//! End-to-end tests of container-image functions: `build:` through the Engine API (once per
//! run, tagged by content, `.dockerignore` honoured, build args), and `image:` with the
//! image's own CMD unless `handler:` overrides it.

mod common;

use std::process::Command;

use common::*;

#[test]
fn a_built_image_runs_its_cmd_or_the_handler_given_and_is_built_once() {
    let dir = tempfile::tempdir().unwrap();
    let context = fixture("functions/container");
    let write = |name: &str, extra: &str, cases: &str| {
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(
            &path,
            format!(
                "function:\n  name: container\n  build:\n    context: {}\n    args: {{GREETING: Hello}}\n{extra}cases:\n{cases}",
                context.display()
            ),
        )
        .unwrap();
        path
    };
    let cmd = write(
        "cmd",
        "",
        "  - name: runs the image's CMD\n    expect:\n      response: {greeting: Hello, secret_shipped: false}\n",
    );
    let handler = write(
        "handler",
        "  handler: app.shout\n",
        "  - name: runs the handler given\n    expect:\n      response: {greeting: HELLO}\n",
    );
    let out = run(&[cmd, handler], &[]);
    let text = stdout(&out);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{err}");
    assert_summary(&text, "2 passed, 0 failed");
    // Built once for both suites: the second finds the same content built.
    let built = err
        .lines()
        .filter(|l| l.starts_with("built lambda-ci/cmd:"))
        .count();
    let cached = err
        .lines()
        .filter(|l| l.ends_with("is built already (same content)"))
        .count();
    assert_eq!(built + cached, 1, "{err}");
    // Built by content: a second run builds nothing.
    let again = run(&[dir.path().join("cmd.yaml")], &[]);
    assert!(
        stderr(&again).contains("is built already (same content)"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn an_image_function_runs_without_a_code_mount() {
    let tag = "lambda-ci-test/image-function:1";
    docker_build(tag, &fixture("functions/container"));
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("image.yaml");
    std::fs::write(
        &suite,
        format!("function:\n  image: {tag}\ncases:\n  - name: the image's own code\n    expect:\n      response: {{greeting: Hi, secret_shipped: false}}\n"),
    )
    .unwrap();
    let out = run(std::slice::from_ref(&suite), &[]);
    Command::new("docker")
        .args(["rmi", "-f", tag])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn a_failing_build_errors_its_cases_with_the_builders_words() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM public.ecr.aws/lambda/python:3.11\nRUN exit 7\n",
    )
    .unwrap();
    let suite = dir.path().join("broken.yaml");
    std::fs::write(
        &suite,
        "function:\n  name: broken\n  build: {context: .}\ncases:\n  - name: never runs\n",
    )
    .unwrap();
    let (out, cases) = run_reported(std::slice::from_ref(&suite), &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("the build of lambda-ci/broken:"), "{text}");
    assert!(text.contains("returned a non-zero code: 7"), "{text}");
    // The report says which part failed: the image, not the function or its container.
    assert_eq!(cases[0]["error_kind"], "image", "{:#}", cases[0]);
}

//! End-to-end tests of choosing cases: `list`, `--filter`, `--partition K/N` for CI shards, and
//! `--fail-fast`.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::*;

/// `suite::case` of every case `lambda-ci list` prints for `paths` with `extra` arguments; no
/// engine is reachable, since listing needs none.
fn listed(paths: &[&Path], extra: &[&str]) -> Vec<String> {
    let out = lambda_ci()
        .env("DOCKER_HOST", "unix:///nonexistent")
        .arg("list")
        .args(paths)
        .args(extra)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}::{}",
                c["suite"].as_str().unwrap(),
                c["case"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn list_prints_what_a_run_would_execute_without_docker() {
    let cases = root().join("cases");
    let out = lambda_ci()
        .env("DOCKER_HOST", "unix:///nonexistent")
        .arg("list")
        .arg(&cases)
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(text.lines().count(), example_cases(), "{text}");
    assert!(
        text.contains(&format!(
            "hello::greets by name\t{}:12",
            cases.join("hello.yaml").display()
        )),
        "{text}"
    );
    assert_eq!(
        listed(
            &[&cases],
            &[
                "--filter",
                "hello::greets",
                "--filter",
                "shell-echo::*errors"
            ]
        ),
        vec![
            "hello::greets by name",
            "shell-echo::reports handler errors"
        ]
    );
}

#[test]
fn a_filtered_run_runs_only_the_cases_it_names() {
    let out = run(&[root().join("cases")], &["--filter", "hello::*name*"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_summary(&text, "2 passed, 0 failed");
    assert!(!text.contains("shell-echo"), "{text}");
}

#[test]
fn partitions_run_every_case_exactly_once_and_adding_one_moves_no_other() {
    let cases = root().join("cases");
    let all: BTreeSet<String> = listed(&[&cases], &[]).into_iter().collect();
    let mut seen = Vec::new();
    for k in 1..=3 {
        seen.extend(listed(&[&cases], &["--partition", &format!("{k}/3")]));
    }
    assert_eq!(seen.len(), all.len(), "{seen:?}");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), all);

    // Each shard is a run of its own with its own JUnit; together they pass everything once.
    let mut passed = 0;
    for k in 1..=2 {
        let out = run(
            std::slice::from_ref(&cases),
            &["--partition", &format!("{k}/2")],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
        let last = stdout(&out).lines().last().unwrap_or_default().to_string();
        passed += last.split(' ').next().unwrap().parse::<usize>().unwrap();
    }
    assert_eq!(passed, example_cases());

    // A case added to a suite leaves every other case in its shard.
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("s.yaml");
    let body = |n: usize| {
        let cases: String = (0..n).map(|i| format!("  - name: case {i}\n")).collect();
        format!("function:\n  image: x\ncases:\n{cases}")
    };
    std::fs::write(&suite, body(30)).unwrap();
    let before: Vec<Vec<String>> = (1..=4)
        .map(|k| listed(&[&suite], &["--partition", &format!("{k}/4")]))
        .collect();
    std::fs::write(&suite, body(31)).unwrap();
    for (k, shard) in before.iter().enumerate() {
        let after = listed(&[&suite], &["--partition", &format!("{}/4", k + 1)]);
        assert!(
            shard.iter().all(|c| after.contains(c)),
            "shard {}: {shard:?} vs {after:?}",
            k + 1
        );
    }
}

#[test]
fn fail_fast_skips_everything_after_the_first_case_that_does_not_pass() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("report.xml");
    // One container at a time: the second suite's case cannot have started before the first
    // failure, so it is skipped too.
    let out = run(
        &[fixture("mismatch.yaml"), fixture("pass.yaml")],
        &["--fail-fast", "-j", "1", "--junit", junit.to_str().unwrap()],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_summary(&text, "0 passed, 1 failed, 7 skipped");
    assert!(text.contains("SKIP  echoes"), "{text}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(doc.root_element().attribute("skipped"), Some("7"), "{xml}");
    // The skipped suite never booted a container.
    assert!(!stderr(&out).contains("booting pass"), "{}", stderr(&out));
}

// Regression: a case name with a line break, a tab or ESC broke `list`'s one line per case.
#[test]
fn list_prints_one_line_per_case_whatever_its_name_holds() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("s.yaml");
    std::fs::write(
        &suite,
        "function:\n  image: x\ncases:\n  - name: \"two\\nlines\\tand \\e[2J\\e]0;t\\a esc\"\n  - name: plain\n",
    )
    .unwrap();
    let out = lambda_ci().arg("list").arg(&suite).output().unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(text.lines().count(), 2, "{text:?}");
    assert!(!text.contains('\u{1b}'), "{text:?}");
    let first = text.lines().next().unwrap();
    assert_eq!(first.matches('\t').count(), 1, "{first:?}");
    assert!(
        first.starts_with("s::two\\u{a}lines\\u{9}and "),
        "{first:?}"
    );
}

// Regression: a `--filter` or `--partition` that selected nothing ran 0 cases and exited 0, so
// a misspelt filter passed in CI.
#[test]
fn an_empty_selection_exits_with_no_cases() {
    for args in [
        &["--filter", "no-such-case"][..],
        &["--filter", "hello::nothing*", "--partition", "1/2"][..],
    ] {
        let out = lambda_ci()
            .env("DOCKER_HOST", "unix:///nonexistent")
            .arg("run")
            .arg(root().join("cases"))
            .args(args)
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(i32::from(lambda_ci::exit::NO_CASES)),
            "{err}"
        );
        assert_eq!(lambda_ci::exit::NO_CASES, 5);
        assert!(
            err.contains(&format!("warning: --filter \"{}\"", args[1])),
            "{err}"
        );
        assert!(err.contains("nothing was run"), "{err}");
    }
}

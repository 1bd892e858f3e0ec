//! End-to-end tests of GitHub mode (`GITHUB_ACTIONS=true`): groups, annotations at the
//! expectation's line, the job summary and the step outputs, with hostile names escaped.

mod common;

use common::*;

#[test]
fn github_mode_annotates_failures_at_their_line_and_writes_summary_and_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let (summary, outputs) = (dir.path().join("summary.md"), dir.path().join("output"));
    // A case name and an expected value with everything that breaks naive writers.
    let (_s, hostile) = temp_suite(
        "function:\n  runtime: python3.11\n  handler: app.echo\n  code: CODE\ncases:\n  - name: \"100% <b>bold</b> ::error:: a,b\\nsecond line ]]>\"\n    event: {x: \"1\"}\n    expect:\n      response: {x: \"50% <i> ]]>\\r\\n::warning::\"}\n",
    );
    let out = lambda_ci()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_WORKSPACE", root())
        .args(["run", "--pull", "never", "--junit", "report.xml"])
        .arg(fixture("mismatch.yaml"))
        .arg(fixture("pass.yaml"))
        .arg(&hostile)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    // Annotations name files from the repository root, as GitHub resolves them.
    let mismatch = "tests/fixtures/mismatch.yaml";
    assert!(
        text.contains(&format!(
            "::group::mismatch ({})",
            fixture("mismatch.yaml").display()
        )),
        "{text}"
    );
    assert!(text.contains("::endgroup::"), "{text}");
    // Inside a group, commands are off: nothing a function logs or a name holds issues one.
    let stop = text
        .lines()
        .find_map(|l| l.strip_prefix("::stop-commands::"))
        .unwrap_or_else(|| panic!("no stop-commands in\n{text}"));
    assert!(
        text.contains(&format!("::{stop}::\n::endgroup::")),
        "{text}"
    );
    assert!(
        !text.contains("\nsecond line"),
        "a name's line break starts no line\n{text}"
    );
    assert!(
        text.contains(&format!("::error file={mismatch},line=10,col=7,title=mismatch / wrong value::the response does not match: 1 difference%0A$.body: expected")),
        "{text}"
    );
    // Every annotation is one line, whatever the names and values held.
    let annotations: Vec<&str> = text.lines().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(annotations.len(), 8, "{text}");
    let hostile_line = annotations
        .iter()
        .find(|l| {
            l.contains(
                "title=suite / 100%25 <b>bold</b> %3A%3Aerror%3A%3A a%2Cb\\u{a}second line ]]>::",
            )
        })
        .unwrap_or_else(|| panic!("no escaped annotation in\n{text}"));
    // The value's CR LF is shown JSON-escaped, so the line stays whole.
    assert!(
        hostile_line.contains(r#"50%25 <i> ]]>\r\n::warning::"#),
        "{hostile_line}"
    );
    let outputs = std::fs::read_to_string(&outputs).unwrap();
    assert_eq!(
        outputs,
        "total=9\npassed=1\nfailed=8\nerrors=0\nskipped=0\njunit=report.xml\n"
    );
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(summary.contains("| failed | 8 |"), "{summary}");
    assert!(
        summary.contains("<code>100% &lt;b&gt;bold&lt;/b&gt; ::error:: a,b"),
        "{summary}"
    );
    assert!(!summary.contains("<b>bold"), "{summary}");
}

#[test]
fn the_json_report_follows_its_published_schema() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let out = run(
        &[
            fixture("mismatch.yaml"),
            fixture("raises.yaml"),
            fixture("missing-image.yaml"),
            fixture("pass.yaml"),
        ],
        &["--json", report.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(doc["totals"]["total"], 13, "{doc}");
    assert_eq!(doc["totals"]["errors"], 2, "{doc}");
    let first = &doc["suites"][0]["cases"][0];
    assert_eq!(first["verdict"], "fail");
    assert!(
        first["request_id"]
            .as_str()
            .is_some_and(|id| id.len() == 36),
        "{first}"
    );
    assert_valid_report(&report);
}

// Regression: in GitHub mode, suites that could not be loaded left no annotation, job summary
// or step outputs: the pull request showed nothing at the faulty lines.
#[test]
fn load_errors_in_github_mode_are_annotated_summarised_and_output() {
    let dir = tempfile::tempdir().unwrap();
    let (summary, outputs) = (dir.path().join("summary.md"), dir.path().join("output"));
    let out = lambda_ci()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_WORKSPACE", root())
        .args(["run", "--pull", "never"])
        .args(["typos", "syntax", "no-bootstrap"].map(|f| fixture(&format!("bad/{f}.yaml"))))
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let annotations: Vec<&str> = text.lines().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(annotations.len(), 5, "{text}");
    assert!(
        text.contains("::error file=tests/fixtures/bad/typos.yaml,line=16,col=7,title=lambda-ci%3A the suites could not be loaded::unknown field `respnse` in `expect`%0Ahint: did you mean `response`?"),
        "{text}"
    );
    let summary = std::fs::read_to_string(&summary).expect("a job summary");
    assert!(
        summary.starts_with("## ❌ lambda-ci: the suites could not be loaded\n\n5 problems in the suites; nothing was run."),
        "{summary}"
    );
    assert!(
        summary.contains("<code>tests/fixtures/bad/typos.yaml:16:7</code>"),
        "{summary}"
    );
    let outputs = std::fs::read_to_string(&outputs).expect("step outputs");
    assert_eq!(
        outputs,
        "total=0\npassed=0\nfailed=0\nerrors=0\nskipped=0\nload_errors=5\n"
    );
}

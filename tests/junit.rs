//! End-to-end tests of the JUnit report as CI servers read it: valid against the schema kept in
//! `schema/junit.xsd` (checked by xmllint), and read by an independent reader (PyPI
//! junitparser) with its counts, `file` and `line`, whatever names and logs hold.

mod common;

use std::process::Command;

use common::*;

#[test]
fn junit_validates_against_its_schema_and_reads_back_in_junitparser() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.xml");
    let (_s, hostile) = temp_suite(
        "function:\n  runtime: python3.11\n  handler: app.hostile_logs\n  code: CODE\ncases:\n  - name: \"100% <b> ]]> ::error:: a,b\"\n    expect:\n      response: {logged: \"]]><x>\"}\n",
    );
    let out = run(
        &[
            fixture("mismatch.yaml"),
            fixture("missing-image.yaml"),
            fixture("pass.yaml"),
            hostile.clone(),
        ],
        &["--junit", report.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let linted = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(root().join("schema/junit.xsd"))
        .arg(&report)
        .output()
        .expect("xmllint (scripts/test.sh installs libxml2-utils)");
    assert!(
        linted.status.success(),
        "{}",
        String::from_utf8_lossy(&linted.stderr)
    );
    let read = Command::new("python3")
        .arg("-c")
        .arg(
            "import sys\nfrom junitparser import JUnitXml\nxml = JUnitXml.fromfile(sys.argv[1])\n\
             print(xml.tests, xml.failures, xml.errors, xml.skipped)\n\
             for suite in xml:\n    for case in suite:\n        print(case.classname, '|', case.name, '|', case._elem.get('file'), '|', case._elem.get('line'))\n",
        )
        .arg(&report)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&read.stdout);
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("11 8 2 0"), "{text}");
    let mismatch = fixture("mismatch.yaml").display().to_string();
    assert!(
        text.contains(&format!("mismatch | wrong value | {mismatch} | 7")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "suite | 100% <b> ]]> ::error:: a,b | {} | 6",
            hostile.display()
        )),
        "{text}"
    );
}

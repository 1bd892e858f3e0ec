//! The README's snippets: every YAML block is valid YAML, every suite it shows loads, and the
//! plain-shell CI snippet runs as written against the example suites.

mod common;

use std::process::Command;

use common::*;

/// The README's fenced code blocks: (language, text).
fn blocks() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in readme.lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(lang)) => current = Some((lang.trim().to_string(), String::new())),
            (Some(_), Some(_)) => blocks.push(current.take().unwrap()),
            (Some((_, text)), None) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, None) => {}
        }
    }
    blocks
}

#[test]
fn every_yaml_snippet_parses_and_every_suite_snippet_loads() {
    let dir = tempfile::tempdir().unwrap();
    let yaml: Vec<String> = blocks()
        .into_iter()
        .filter(|(lang, _)| lang == "yaml")
        .map(|(_, text)| text)
        .collect();
    assert!(yaml.len() >= 8, "{}", yaml.len());
    for (i, text) in yaml.iter().enumerate() {
        // GitHub's `${{ }}` expressions are YAML strings already; `<org>` is a placeholder.
        let parsed: Result<serde_json::Value, _> = serde_saphyr::from_str(text);
        assert!(
            parsed.is_ok(),
            "README YAML block {i} does not parse: {parsed:?}\n{text}"
        );
        if text.starts_with("function:") && text.contains("cases:") {
            // A whole suite: it must load (its paths resolved against `cases/`, as written).
            let suite = root()
                .join("cases")
                .join(format!("readme-snippet-{i}.yaml"));
            let copy = dir.path().join("suite.yaml");
            std::fs::write(&copy, text).unwrap();
            let _ = suite;
            let out = lambda_ci()
                .env("DOCKER_HOST", "unix:///nonexistent")
                .arg("list")
                .arg(&copy)
                .output()
                .unwrap();
            let err = stderr(&out);
            // Paths in snippets point at the reader's own build; everything else must load.
            let only_paths = err
                .lines()
                .filter(|l| l.starts_with("error: "))
                .all(|l| l.contains("does not exist"));
            assert!(
                out.status.success() || only_paths,
                "README suite {i}:\n{err}\n{text}"
            );
        }
    }
}

#[test]
fn the_plain_shell_snippet_runs_as_written() {
    let script = blocks()
        .into_iter()
        .find(|(lang, text)| lang == "sh" && text.contains("case $? in"))
        .map(|(_, text)| text)
        .expect("the plain-shell snippet");
    let dir = tempfile::tempdir().unwrap();
    for part in ["cases", "examples"] {
        let copied = Command::new("cp")
            .arg("-a")
            .arg(root().join(part))
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(copied.success());
    }
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_lambda-ci"))
        .parent()
        .unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("NO_COLOR", "1")
        .env_remove("DOCKER_HOST")
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).ends_with("all passed\n"), "{}", stdout(&out));
    assert!(dir.path().join("report.xml").exists() && dir.path().join("report.json").exists());
}

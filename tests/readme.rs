//! The documentation's snippets (the README, CONTRIBUTING.md and `docs/`): every YAML block is
//! valid YAML, every suite it shows loads, every command is accepted, every test the
//! guarantees name exists, and the plain-shell CI snippet runs as written against the example
//! suites.

mod common;

use std::process::Command;

use common::*;

/// The documentation's fenced code blocks: (language, text).
fn blocks() -> Vec<(String, String)> {
    let readme = documentation();
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
            let copy = dir.path().join("suite.yaml");
            std::fs::write(&copy, text).unwrap();
            assert_loads(&copy, &format!("README suite {i}"));
        }
    }
}

/// `lambda-ci list SUITE` loads it: paths in snippets point at the reader's own build and may
/// be missing; everything else must load.
fn assert_loads(suite: &std::path::Path, what: &str) {
    let out = lambda_ci()
        .env("DOCKER_HOST", "unix:///nonexistent")
        .arg("list")
        .arg(suite)
        .output()
        .unwrap();
    let err = stderr(&out);
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    // A snippet may name files that exist only in the reader's project; any other failure,
    // a crash with no `error:` line among them, fails.
    let only_paths = out.status.code() == Some(2)
        && !errors.is_empty()
        && errors.iter().all(|l| l.contains("does not exist"));
    let text = std::fs::read_to_string(suite).unwrap_or_default();
    assert!(out.status.success() || only_paths, "{what}:\n{err}\n{text}");
}

/// A fresh directory holding copies of `cases/` and `examples/`, as a user's checkout would.
fn examples_copy() -> tempfile::TempDir {
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
    dir
}

/// `$PATH` with the built `lambda-ci` first.
fn path_with_lambda_ci() -> String {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_lambda-ci"))
        .parent()
        .unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn the_plain_shell_snippet_runs_as_written() {
    let script = blocks()
        .into_iter()
        .find(|(lang, text)| lang == "sh" && text.contains("case $? in"))
        .map(|(_, text)| text)
        .expect("the plain-shell snippet");
    let dir = examples_copy();
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env("PATH", path_with_lambda_ci())
        .env("NO_COLOR", "1")
        .env_remove("DOCKER_HOST")
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).ends_with("all passed\n"), "{}", stdout(&out));
    assert!(dir.path().join("report.xml").exists() && dir.path().join("report.json").exists());
}

/// Every `lambda-ci run …` command in a code block (shell lines, GitLab `script:` entries,
/// Jenkins `sh '…'`), without what follows it on its line (`&&`, `|`, `;`).
fn commands() -> Vec<String> {
    let mut out = Vec::new();
    for (_, text) in blocks() {
        for line in text.lines() {
            // The usage synopsis is not a command.
            let Some(at) = line
                .find("lambda-ci run ")
                .filter(|_| !line.contains("[PATHS]"))
            else {
                continue;
            };
            let command: String = line[at..]
                .split(['&', '|', ';', '\''])
                .next()
                .unwrap_or_default()
                .trim()
                .to_string();
            if !out.contains(&command) {
                out.push(command);
            }
        }
    }
    out
}

#[test]
fn every_lambda_ci_command_in_the_readme_is_accepted_as_written() {
    let commands = commands();
    assert!(commands.len() >= 5, "{commands:?}");
    let dir = examples_copy();
    for command in commands {
        // With no engine to reach, a command whose arguments and suites are valid stops at
        // the engine (exit 3); a bad flag or suite would stop earlier (exit 2).
        let out = Command::new("bash")
            .arg("-c")
            .arg(&command)
            .current_dir(dir.path())
            .env("PATH", path_with_lambda_ci())
            .env("DOCKER_HOST", "unix:///nonexistent")
            .env("CI_NODE_INDEX", "1")
            .env("CI_NODE_TOTAL", "4")
            .env_remove("GITHUB_ACTIONS")
            .output()
            .unwrap();
        // A run on a target asks no engine: its flags and suites are accepted, and its cases
        // end as the target answers (in errors naming it when nothing listens there).
        if command.contains("--target") {
            let code = out.status.code();
            assert!(matches!(code, Some(0 | 1)), "{command}\n{}", stderr(&out));
            assert!(
                !stderr(&out).contains("Docker"),
                "{command}\n{}",
                stderr(&out)
            );
            continue;
        }
        assert_eq!(out.status.code(), Some(3), "{command}\n{}", stderr(&out));
        assert!(
            stderr(&out).contains("Docker"),
            "{command}\n{}",
            stderr(&out)
        );
    }
}

#[test]
fn every_case_and_defaults_snippet_loads_inside_a_suite() {
    let dir = tempfile::tempdir().unwrap();
    let header = format!(
        "function:\n  runtime: python3.11\n  handler: app.handler\n  code: {}\n",
        root().join("examples/orders-api").display()
    );
    let mut checked = 0;
    for (i, (lang, text)) in blocks().into_iter().enumerate() {
        let suite = if lang != "yaml" {
            continue;
        } else if text.starts_with("  - name:") {
            format!("{header}cases:\n{text}")
        } else if text.starts_with("defaults:") {
            format!("{header}{text}cases:\n  - name: a\n")
        } else {
            continue;
        };
        let file = dir.path().join(format!("snippet-{i}.yaml"));
        std::fs::write(&file, &suite).unwrap();
        assert_loads(&file, &format!("README snippet {i}"));
        checked += 1;
    }
    assert!(checked >= 4, "{checked}");
}

/// Every test the Guarantees section names (`` `FILE::test` `` for `tests/FILE.rs`, or a
/// module path under `src/` for a unit test) is there: a promise is never backed by a name
/// that no longer runs.
#[test]
fn every_test_the_guarantees_name_exists() {
    let readme = documentation();
    let start = readme
        .find("\n## Guarantees")
        .expect("a Guarantees section");
    let section = &readme[start + 1..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let mut named = 0;
    for quoted in section.split('`').skip(1).step_by(2) {
        let parts: Vec<&str> = quoted.split("::").collect();
        let ident = |p: &&str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        if parts.len() < 2 || !parts.iter().all(ident) {
            continue;
        }
        let (test, modules) = parts.split_last().unwrap();
        // A unit test's `tests` module (and any module inside it) is inline, in the file of
        // the module above it, or in that module's `tests.rs`.
        let integration = root().join(format!("tests/{}.rs", modules.join("/")));
        let modules = match modules.iter().position(|m| *m == "tests") {
            Some(at) => &modules[..at],
            None => modules,
        };
        let unit = ["src", "agent/src"].iter().flat_map(|src| {
            let base = root().join(src).join(modules.join("/"));
            [
                base.with_extension("rs"),
                base.join("mod.rs"),
                base.join("tests.rs"),
            ]
        });
        let holder = std::iter::once(integration)
            .chain(unit)
            .find(|f| f.is_file())
            .unwrap_or_else(|| panic!("`{quoted}`: no file holds its tests"));
        let text = [holder.clone(), holder.with_file_name("tests.rs")]
            .iter()
            .filter_map(|f| std::fs::read_to_string(f).ok())
            .collect::<String>();
        assert!(
            text.contains(&format!("fn {test}(")),
            "`{quoted}`: {} has no test `{test}`",
            holder.display()
        );
        named += 1;
    }
    assert!(named > 30, "only {named} tests named");
}

/// Text with its line breaks and runs of spaces made single spaces.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

// Regression: the action's description said cases run "through the Runtime Interface
// Emulator" after the default became lambda-ci's own Runtime API; it says what the README's
// opening says.
#[test]
fn the_actions_description_says_what_the_readme_says_runs_the_cases() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let opening = flat(readme.split("```").next().unwrap());
    let action = std::fs::read_to_string(root().join("action.yml")).unwrap();
    let description: String = action
        .lines()
        .skip_while(|l| !l.starts_with("description:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect::<Vec<_>>()
        .join(" ");
    let description = flat(&description);
    let claim = "through lambda-ci's own Runtime API, which answers as the Lambda service does";
    assert!(opening.contains(claim), "{opening}");
    assert!(description.contains(claim), "{description}");
    assert!(
        !description.contains("Runtime Interface Emulator"),
        "{description}"
    );
    assert!(
        description.starts_with("Test AWS Lambda functions"),
        "{description}"
    );
}

// The manual's command reference is held to the binary: every flag that a command's `--help`
// lists is documented in docs/commands.md.
#[test]
fn every_flag_of_every_command_is_in_the_command_reference() {
    let reference = std::fs::read_to_string(root().join("docs/commands.md")).unwrap();
    let mut missing = Vec::new();
    for command in [
        "run", "list", "watch", "serve", "event", "init", "clean", "explain",
    ] {
        let out = lambda_ci().args([command, "--help"]).output().unwrap();
        assert!(out.status.success(), "{command} --help");
        for word in stdout(&out).split(|c: char| c.is_whitespace() || c == ',' || c == '[') {
            let flag: String = word
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            let documented = reference.contains(&format!("{flag} "))
                || reference.contains(&format!("{flag}`"))
                || reference.contains(&format!("{flag}]"))
                || reference.contains(&format!("{flag}="));
            if flag.starts_with("--") && flag.len() > 2 && flag != "--help" && !documented {
                missing.push(format!("{command} {flag}"));
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(missing.is_empty(), "not in docs/commands.md: {missing:?}");
}

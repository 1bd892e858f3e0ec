//! `lambda-ci init`: writes a first suite, `cases/<function>.yaml` (outside the code, which is
//! deployed), for the function in a directory or below a project root, commented field by
//! field, whose one case passes on the first run.

mod detect;
mod place;
mod template;

use std::io::Write;
use std::path::{Path, PathBuf};

pub use detect::{Detected, detect};

use crate::error::Error;
use crate::exit;

/// `lambda-ci init [DIR] [--cases DIR]`
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The function's code (its built code, as deployed), or a project root with one function
    /// in a directory below it (`src/`, `code/`, ...).
    #[arg(default_value = ".")]
    pub dir: PathBuf,

    /// Where the suite is written: `cases/` of the current directory by default, outside the
    /// code, so that the tests are not deployed with it.
    #[arg(long, value_name = "DIR", default_value = "cases")]
    pub cases: PathBuf,

    /// Write one suite per function of this SAM or CloudFormation template (or `cdk.out`), each
    /// naming its resource, with a smoke case from its first event source; DIR, if given, is
    /// where they go (else `--cases`).
    #[arg(long, value_name = "PATH")]
    pub template: Option<PathBuf>,

    #[command(flatten)]
    pub passed: crate::cli::TemplateArgs,
}

/// Runs `lambda-ci init`: finds the function, writes its suite, and says what it wrote on
/// `out`, warnings on `err`.
pub fn init(args: &InitArgs, out: &mut impl Write, err: &mut impl Write) -> Result<u8, Error> {
    if let Some(template) = &args.template {
        let cases = if args.dir == Path::new(".") {
            &args.cases
        } else {
            &args.dir
        };
        return template::init(template, cases, &args.passed.options()?, out, err);
    }
    let dir = &args.dir;
    if !dir.is_dir() {
        return Err(Error::Usage(format!(
            "{} is not a directory; run `lambda-ci init` in the project's directory, or name it",
            dir.display()
        )));
    }
    let found = match place::locate(dir) {
        Ok(Some(found)) => found,
        Ok(None) => {
            return Err(Error::Usage(format!(
                "found no Lambda function in {} nor in a directory below it: no `bootstrap`, no package.json or index/app .js/.mjs/.cjs exporting `handler`, no .py file defining `handler` or `lambda_handler`; run `lambda-ci init DIR` naming the built function's directory, or write the suite by hand (docs/suite-format.md)",
                place::absolute(dir).display()
            )));
        }
        Err(several) => {
            let named: Vec<String> = several.iter().map(|d| shown(d)).collect();
            return Err(Error::Usage(format!(
                "found {} functions below {}: {}; name one, as in `lambda-ci init {}`",
                several.len(),
                place::absolute(dir).display(),
                named.join(", "),
                named[0]
            )));
        }
    };
    let name = place::function_name(&found.dir);
    let suite = args.cases.join(format!("{name}.yaml"));
    let suite = suite
        .strip_prefix(".")
        .map_or(suite.clone(), Path::to_path_buf);
    std::fs::create_dir_all(&args.cases).map_err(|e| {
        Error::Usage(format!(
            "cannot make {}: {e}; check that the directory is writable",
            args.cases.display()
        ))
    })?;
    let code = place::relative(&found.dir, &args.cases);
    let here = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let layers: Vec<String> = place::layers_beside(&found.dir, &here)
        .iter()
        .map(|l| place::relative(l, &args.cases))
        .collect();
    write_new(&suite, &render(&name, &found.detected, &code, &layers))?;
    say_written(out, &suite, &name, &found, dir, &layers);
    if let Some(warning) = &found.detected.warning {
        let _ = writeln!(err, "warning: {warning}");
    }
    let cases = place::absolute(&args.cases);
    if cases.starts_with(place::absolute(&found.dir)) {
        let _ = writeln!(
            err,
            "note: {} is inside the function's code, which is deployed; leave it out of the package (or run `lambda-ci init` from the project's root, naming the code's directory)",
            args.cases.display()
        );
    }
    Ok(exit::SUCCESS)
}

/// Writes `text` to a new file at `suite`: an existing suite is never replaced.
fn write_new(suite: &Path, text: &str) -> Result<(), Error> {
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(suite)
        .and_then(|mut file| file.write_all(text.as_bytes()));
    match written {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Error::Usage(format!(
            "{} already exists; `lambda-ci init` never overwrites a suite: add cases to it by hand, or move it away and run `lambda-ci init` again",
            suite.display()
        ))),
        Err(e) => Err(Error::Usage(format!(
            "cannot write {}: {e}; check that the directory is writable",
            suite.display()
        ))),
    }
}

/// What `init` wrote, and what it found where.
fn say_written(
    out: &mut impl Write,
    suite: &Path,
    name: &str,
    found: &place::Found,
    asked: &Path,
    layers: &[String],
) {
    let detected = &found.detected;
    let handler = detected
        .handler
        .as_deref()
        .map_or(String::new(), |h| format!(", handler {h}"));
    let below = if found.dir == asked {
        String::new()
    } else {
        format!(" in {}", shown(&found.dir))
    };
    let layers = if layers.is_empty() {
        String::new()
    } else {
        format!(
            "\nwith the layers found beside the code: {}",
            layers.join(", ")
        )
    };
    let _ = writeln!(
        out,
        "wrote {}: {} function `{name}`{handler}{below} ({}){layers}\nrun it with: lambda-ci run",
        suite.display(),
        detected.runtime,
        detected.found
    );
}

/// `dir` as the user would type it: relative to the current directory when below it.
fn shown(dir: &Path) -> String {
    let here = std::env::current_dir().map(|d| place::absolute(&d));
    let dir = place::absolute(dir);
    match here
        .ok()
        .and_then(|h| dir.strip_prefix(h).ok().map(Path::to_path_buf))
    {
        Some(below) if !below.as_os_str().is_empty() => below.display().to_string(),
        _ => dir.display().to_string(),
    }
}

/// A path as YAML reads it back: as it is when it holds only safe characters, else quoted.
fn plain(path: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "._/-".contains(c);
    if !path.is_empty() && path.chars().all(safe) {
        path.to_string()
    } else {
        serde_json::to_string(path).unwrap_or_default()
    }
}

/// The column where the suite's comments start, as in the README's examples.
const COMMENT_AT: usize = 33;

/// One line of the suite: `text`, then its comment at [`COMMENT_AT`].
fn line(text: &str, comment: &str) -> String {
    format!(
        "{text:<width$}# {comment}\n",
        width = COMMENT_AT.max(text.len() + 1)
    )
}

/// The suite's text: every field with a comment saying what it is and what else it could be.
fn render(name: &str, found: &Detected, code: &str, layers: &[String]) -> String {
    let image = crate::suite::runtime::image_of(found.runtime).unwrap_or_default();
    // Quoted, so that a name such as `123` or `true` stays a name.
    let quoted = serde_json::to_string(name).unwrap_or_default();
    let mut text = format!(
        "# The test suite of `{name}`, written by `lambda-ci init`; run it with `lambda-ci run`.\n\
         # Found: {}.\n\
         # Every key is explained in lambda-ci's docs/suite-format.md. Paths are relative\n\
         # to this file.\n\
         function:\n",
        found.found
    );
    text += &line(
        &format!("  name: {quoted}"),
        "the function's name (AWS_LAMBDA_FUNCTION_NAME)",
    );
    text += &line(
        &format!("  runtime: {}", found.runtime),
        &format!("the Lambda runtime, run in its base image {image}"),
    );
    text += &match &found.handler {
        Some(h) => line(
            &format!("  handler: {h}"),
            "the file and the function in it that Lambda calls",
        ),
        None => line(
            "  # handler: bootstrap",
            "a custom runtime runs `bootstrap`, which reads the handler itself",
        ),
    };
    text += &line(
        &format!("  code: {}", plain(code)),
        "the built code, as deployed: a directory or the .zip you upload",
    );
    if !layers.is_empty() {
        text += &line(
            &format!(
                "  layers: [{}]",
                layers
                    .iter()
                    .map(|l| plain(l))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "found beside the code, merged into /opt in this order",
        );
    }
    text += &line("  timeout: 3", "seconds, as in Lambda (default 3)");
    text += &line(
        "  memory: 128",
        "MB, the container's memory limit (default 128)",
    );
    text += &line(
        "  # environment: {TABLE: orders}",
        "variables the function reads",
    );
    text += "cases:\n";
    text += &line(
        "  - name: answers an empty event",
        "unique in the suite; reports show it",
    );
    text += &line(
        "    event: {}",
        "sent as JSON; or `event_file: events/x.json`, or a sample",
    );
    text += &line(
        "",
        "event to change: `event_template: apigw-v2` (`lambda-ci event list`)",
    );
    text += "    # Without `expect:` a case passes when the invocation succeeds (no error, no timeout).\n\
             \x20   # Say what must come back once you know, for example:\n\
             \x20   # expect:\n\
             \x20   #   response_contains: {statusCode: 200}\n";
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn init_in(dir: &Path) -> (Result<u8, Error>, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let args = InitArgs {
            dir: dir.to_path_buf(),
            cases: dir.join("cases"),
            template: None,
            passed: crate::cli::TemplateArgs {
                parameter_overrides: Vec::new(),
                config_env: None,
            },
        };
        let result = init(&args, &mut out, &mut err);
        (
            result,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    fn project(name: &str, files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        for (file, text) in files {
            std::fs::write(dir.join(file), text).unwrap();
        }
        (root, dir)
    }

    #[test]
    fn the_written_suite_loads_as_the_function_it_found() {
        let (_root, dir) = project(
            "orders api",
            &[("app.py", "def handler(e, c):\n    return e\n")],
        );
        let (result, out, _) = init_in(&dir);
        assert_eq!(result.unwrap(), exit::SUCCESS);
        let suite = dir.join("cases/orders-api.yaml");
        assert!(out.contains(&format!("wrote {}", suite.display())), "{out}");
        let loaded = crate::suite::load_paths(std::slice::from_ref(&suite))
            .unwrap_or_else(|e| panic!("{e}"));
        let function = &loaded[0].function;
        assert_eq!(function.name, "orders-api");
        assert_eq!(function.runtime.as_deref(), Some(detect::PYTHON));
        assert_eq!(function.handler.as_deref(), Some("app.handler"));
        assert_eq!(
            function.code.as_ref().unwrap().path.canonicalize().unwrap(),
            dir.canonicalize().unwrap()
        );
        assert_eq!(loaded[0].cases.len(), 1);
        // Every field line says what it is.
        let text = std::fs::read_to_string(&suite).unwrap();
        for line in text
            .lines()
            .filter(|l| l.starts_with("  ") && l.contains(':'))
        {
            assert!(line.contains('#'), "uncommented: {line}");
        }
    }

    #[test]
    fn a_custom_runtime_suite_names_no_handler_and_a_numeric_name_stays_text() {
        let (_root, dir) = project("2024", &[("bootstrap", "#!/bin/sh\n")]);
        init_in(&dir).0.unwrap();
        let text = std::fs::read_to_string(dir.join("cases/2024.yaml")).unwrap();
        assert!(text.contains("runtime: provided.al2023"), "{text}");
        assert!(text.contains("name: \"2024\""), "{text}");
        assert!(!text.contains("\n  handler:"), "{text}");
    }

    // Regression guard: `init` must never replace a suite someone wrote.
    #[test]
    fn an_existing_suite_is_never_overwritten() {
        let (_root, dir) = project("svc", &[("index.js", "exports.handler = async () => 1;")]);
        std::fs::create_dir(dir.join("cases")).unwrap();
        std::fs::write(dir.join("cases/svc.yaml"), "mine").unwrap();
        let (result, _, _) = init_in(&dir);
        let err = result.unwrap_err();
        assert_eq!(err.exit_code(), exit::INVALID_INPUT);
        assert!(
            err.to_string().contains(&format!(
                "{} already exists",
                dir.join("cases/svc.yaml").display()
            )),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("cases/svc.yaml")).unwrap(),
            "mine"
        );
    }

    #[test]
    fn a_directory_without_a_function_is_a_usage_error() {
        let (_root, dir) = project("docs", &[("README.md", "words")]);
        let err = init_in(&dir).0.unwrap_err();
        assert_eq!(err.exit_code(), exit::INVALID_INPUT);
        assert!(
            err.to_string().contains("found no Lambda function in"),
            "{err}"
        );
        assert!(!dir.join("cases").exists());
    }
}

//! `serve --template`: every function of a template, each as a suite naming its resource. A
//! function that cannot run here (code in S3, a layer by ARN, a value only the account knows)
//! is named with its reason and line once, and the others are served.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::suite::{self, LoadOptions};
use crate::template::{locate, passed};

/// Writes a suite for each function of `template` into `scratch`: the files of those that load,
/// and a warning for each that does not.
pub fn suites(
    template: &Path,
    options: &LoadOptions,
    scratch: &Path,
) -> Result<(Vec<PathBuf>, Vec<String>), Error> {
    let template = std::path::absolute(template).unwrap_or_else(|_| template.to_path_buf());
    let env = options.config_env.as_deref();
    let (passed, _) = passed::options(&template, &options.parameters, env).map_err(Error::Usage)?;
    let stacks = locate::stacks(&template, &passed).map_err(Error::Load)?;
    let shown = stacks[0].stack.file.display().to_string();
    let dir = scratch.join("template");
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::Usage(format!("cannot write {}: {e}", dir.display())))?;
    let mut served = Vec::new();
    let mut warnings = Vec::new();
    for found in locate::functions(&stacks) {
        let address = found.address();
        let file = dir.join(format!("{}.yaml", suite::safe_name(&address)));
        write(&file, &template, &address, None)?;
        match suite::load_paths_warning_with(std::slice::from_ref(&file), options).0 {
            Ok(loaded) => {
                let name = loaded[0].function.name.clone();
                // A name the template gives, not the logical id it falls back to.
                let given = name != found.id;
                served.push((file, address, name, given));
            }
            Err(errors) => {
                let said = errors.to_string().replace('\n', "\n  ");
                warnings.push(format!("warning: not serving `{address}`: {said}"));
            }
        }
    }
    // Names that meet: two given ones are CloudFormation's error; a fallen-back one (nested
    // stacks' functions of one logical id) is served under its address instead.
    let mut files = Vec::new();
    for (file, address, name, given) in &served {
        let meeting: Vec<_> = served.iter().filter(|(_, _, n, _)| n == name).collect();
        let given_too: Vec<&String> = meeting.iter().filter(|m| m.3).map(|m| &m.1).collect();
        if given_too.len() > 1 {
            return Err(Error::Usage(format!(
                "{shown}: `{}` and `{}` both have the FunctionName `{name}`; CloudFormation refuses two functions of one name",
                given_too[0], given_too[1]
            )));
        }
        if meeting.len() > 1 && !given {
            write(file, &template, address, Some(&suite::safe_name(address)))?;
        }
        files.push(file.clone());
    }
    if files.is_empty() {
        let why = if warnings.is_empty() {
            "it has no AWS::Serverless::Function or AWS::Lambda::Function".to_string()
        } else {
            warnings.join("\n")
        };
        return Err(Error::Usage(format!(
            "no function of {shown} can be served: {why}"
        )));
    }
    Ok((files, warnings))
}

/// Writes the suite that serves `address` of `template`, under `name` when given.
fn write(file: &Path, template: &Path, address: &str, name: Option<&str>) -> Result<(), Error> {
    let quote = |s: &str| serde_json::Value::from(s).to_string();
    let name = name.map_or(String::new(), |n| format!("  name: {}\n", quote(n)));
    let text = format!(
        "function:\n  template: {}\n  resource: {}\n{name}cases:\n  - name: served\n    event: {{}}\n",
        quote(&template.display().to_string()),
        quote(address)
    );
    std::fs::write(file, text)
        .map_err(|e| Error::Usage(format!("cannot write {}: {e}", file.display())))
}

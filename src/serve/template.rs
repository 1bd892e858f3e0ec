//! `serve --template`: every function of a template, each as a suite naming its resource. A
//! function that cannot run here (code in S3, a layer by ARN, a value only the account knows)
//! is named with its reason and line once, and the others are served.

use std::collections::BTreeMap;
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
    let quote = |s: &str| serde_json::Value::from(s).to_string();
    let mut files = Vec::new();
    let mut warnings = Vec::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for found in locate::functions(&stacks) {
        let id = &found.address();
        let file = dir.join(format!("{}.yaml", suite::safe_name(id)));
        let text = format!(
            "function:\n  template: {}\n  resource: {}\ncases:\n  - name: served\n    event: {{}}\n",
            quote(&template.display().to_string()),
            quote(id)
        );
        std::fs::write(&file, text)
            .map_err(|e| Error::Usage(format!("cannot write {}: {e}", file.display())))?;
        match suite::load_paths_warning_with(std::slice::from_ref(&file), options).0 {
            Ok(loaded) => {
                let name = loaded[0].function.name.clone();
                if let Some(other) = names.insert(name.clone(), id.clone()) {
                    return Err(Error::Usage(format!(
                        "{}: `{other}` and `{id}` both have the FunctionName `{name}`; CloudFormation refuses two functions of one name",
                        shown
                    )));
                }
                files.push(file);
            }
            Err(errors) => {
                let said = errors.to_string().replace('\n', "\n  ");
                warnings.push(format!("warning: not serving `{id}`: {said}"));
            }
        }
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

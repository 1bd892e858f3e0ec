//! Parameter values passed to a template: `--parameter-overrides` (SAM's flag and syntax) and
//! `samconfig.toml` beside the template (`parameter_overrides` of the chosen environment).

use std::path::{Path, PathBuf};

/// Splits SAM's `parameter_overrides`: `Key=Value` pairs separated by spaces (a value may be
/// quoted: `Key="a b"`), or CloudFormation's `ParameterKey=Key,ParameterValue=Value`.
pub fn split(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    for word in words(text)? {
        if let Some(rest) = word.strip_prefix("ParameterKey=") {
            let Some((key, value)) = rest.split_once(",ParameterValue=") else {
                return Err(format!(
                    "`{word}`: write `ParameterKey=KEY,ParameterValue=VALUE`"
                ));
            };
            pairs.push((key.to_string(), value.to_string()));
            continue;
        }
        match word.split_once('=') {
            Some((key, value)) if !key.is_empty() => {
                pairs.push((key.to_string(), value.to_string()))
            }
            _ => return Err(format!("`{word}` is not KEY=VALUE")),
        }
    }
    Ok(pairs)
}

/// Words separated by whitespace; quotes (`"` or `'`) keep spaces inside and are removed.
fn words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut started = false;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                started = true;
            }
            (None, c) if c.is_whitespace() => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (None, c) => {
                word.push(c);
                started = true;
            }
        }
    }
    if quote.is_some() {
        return Err(format!("an unclosed quote in `{text}`"));
    }
    if started {
        words.push(word);
    }
    Ok(words)
}

/// A parameter's key, value, and where it was passed (`samconfig.toml [default.deploy.parameters]`).
pub type Passed = (String, String, String);

/// The sections of `samconfig.toml` read, most important last: what `sam deploy` deploys with,
/// then what `sam local invoke` runs with.
const SECTIONS: &[&str] = &["global", "deploy", "local_invoke"];

/// The values `samconfig.toml` in `dir` passes for environment `env`, each with the section
/// it came from; `None` when there is no such file.
pub fn samconfig(dir: &Path, env: &str) -> Result<Option<(PathBuf, Vec<Passed>)>, String> {
    let file = dir.join("samconfig.toml");
    if !file.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot be read: {e}"))?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| e.message().to_string())?;
    let mut found = Vec::new();
    let Some(environment) = table.get(env).and_then(|e| e.as_table()) else {
        return Ok(Some((file, found)));
    };
    for section in SECTIONS {
        let overrides = environment
            .get(*section)
            .and_then(|s| s.get("parameters"))
            .and_then(|p| p.get("parameter_overrides"));
        let text = match overrides {
            None => continue,
            Some(toml::Value::String(s)) => s.clone(),
            Some(toml::Value::Array(items)) => {
                let items: Option<Vec<&str>> = items.iter().map(|i| i.as_str()).collect();
                items
                    .ok_or_else(|| {
                        format!("[{env}.{section}.parameters] parameter_overrides must be text")
                    })?
                    .join(" ")
            }
            Some(_) => {
                return Err(format!(
                    "[{env}.{section}.parameters] parameter_overrides must be text or a list of KEY=VALUE"
                ));
            }
        };
        let pairs = split(&text)
            .map_err(|e| format!("[{env}.{section}.parameters] parameter_overrides: {e}"))?;
        let from = format!("samconfig.toml [{env}.{section}.parameters]");
        found.extend(pairs.into_iter().map(|(k, v)| (k, v, from.clone())));
    }
    Ok(Some((file, found)))
}

/// The parameter values for the template named `template`: `samconfig.toml` beside it (of
/// `config_env`, else `default`), then `parameters` from the command line; and the
/// samconfig.toml read, if any. The error names the file and what is wrong in it.
pub fn options(
    template: &Path,
    parameters: &[(String, String)],
    config_env: Option<&str>,
) -> Result<(super::Options, Option<PathBuf>), String> {
    let mut options = super::Options::default();
    let dir = if template.is_dir() {
        template
    } else {
        template.parent().unwrap_or(Path::new("."))
    };
    let found = samconfig(dir, config_env.unwrap_or("default"))
        .map_err(|why| format!("{}: {why}", dir.join("samconfig.toml").display()))?;
    let file = found.map(|(file, pairs)| {
        for (key, value, from) in pairs {
            options.passed.insert(key, (value, from));
        }
        file
    });
    for (key, value) in parameters {
        options
            .passed
            .insert(key.clone(), (value.clone(), "--parameter-overrides".into()));
    }
    Ok((options, file))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        split(text).unwrap()
    }

    #[test]
    fn sam_s_forms_are_split() {
        assert_eq!(
            pairs("A=1 B=two"),
            [("A".into(), "1".into()), ("B".into(), "two".into())]
        );
        assert_eq!(
            pairs("A=\"x y\"  B='z'"),
            [("A".into(), "x y".into()), ("B".into(), "z".into())]
        );
        assert_eq!(
            pairs("ParameterKey=A,ParameterValue=1"),
            [("A".into(), "1".into())]
        );
        assert_eq!(pairs("A=b=c"), [("A".into(), "b=c".into())]);
        assert!(split("A").unwrap_err().contains("is not KEY=VALUE"));
        assert!(split("A=\"x").unwrap_err().contains("unclosed quote"));
    }

    #[test]
    fn samconfig_sections_are_read_local_invoke_last() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("samconfig.toml"),
            "version = 0.1\n[default.deploy.parameters]\nparameter_overrides = \"Stage=prod Size=2\"\n[default.local_invoke.parameters]\nparameter_overrides = [\"Size=3\"]\n[staging.deploy.parameters]\nparameter_overrides = \"Stage=staging\"\n",
        )
        .unwrap();
        let (_, found) = samconfig(dir.path(), "default").unwrap().unwrap();
        let last = |key: &str| {
            found
                .iter()
                .rev()
                .find(|(k, _, _)| k == key)
                .cloned()
                .unwrap()
        };
        assert_eq!(last("Stage").1, "prod");
        assert_eq!(
            last("Size"),
            (
                "Size".into(),
                "3".into(),
                "samconfig.toml [default.local_invoke.parameters]".into()
            )
        );
        let (_, found) = samconfig(dir.path(), "staging").unwrap().unwrap();
        assert_eq!(found[0].1, "staging");
        assert!(
            samconfig(&dir.path().join("none"), "default")
                .unwrap()
                .is_none()
        );
    }
}

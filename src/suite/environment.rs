//! Decodes a function's `environment:`: valid names, none that Lambda sets itself, logging
//! settings Lambda and RIE accept, and the caller's variables values take with `${NAME}`.

use std::collections::BTreeMap;

use super::fields::Ctx;
use super::node::{Node, Value};

/// The values of the logging variables that RIE and the runtimes read: an unknown `LOG_LEVEL`
/// makes RIE exit before it serves anything (it reads it with logrus: any case), and Lambda
/// takes only these spellings of the other two.
const LOG_SETTINGS: &[(&str, &[&str], bool)] = &[
    (
        "LOG_LEVEL",
        &[
            "trace", "debug", "info", "warn", "warning", "error", "fatal", "panic",
        ],
        true,
    ),
    (
        "AWS_LAMBDA_LOG_LEVEL",
        &["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"],
        false,
    ),
    ("AWS_LAMBDA_LOG_FORMAT", &["JSON", "Text"], false),
];

impl Ctx<'_> {
    /// The variables, and the caller's variables their values take (`${NAME}`).
    #[allow(clippy::type_complexity)]
    pub(super) fn environment(
        &mut self,
        node: &Node,
    ) -> Option<(BTreeMap<String, String>, Vec<(String, super::Pos)>)> {
        let Value::Map(entries) = &node.value else {
            self.wrong_kind(node, "`environment`", "a mapping of names to values");
            return None;
        };
        let mut env = BTreeMap::new();
        let mut from_caller = Vec::new();
        let mut ok = true;
        for (key, value) in entries {
            let valid_name = !key.name.is_empty()
                && !key.name.starts_with(|c: char| c.is_ascii_digit())
                && key
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid_name {
                self.error(
                    Some(key.pos),
                    format!("`{}` is not a valid environment variable name", key.name),
                    Some("use letters, digits and underscores, not starting with a digit".into()),
                );
                ok = false;
                continue;
            }
            if let Some(hint) = reserved(&key.name) {
                self.error(
                    Some(key.pos),
                    format!(
                        "`{}` is set by Lambda and cannot be set in `environment`",
                        key.name
                    ),
                    Some(hint.into()),
                );
                ok = false;
                continue;
            }
            match self.scalar(value, &format!("environment variable `{}`", key.name)) {
                Some(text) if !self.log_setting(&key.name, value, &text) => ok = false,
                Some(text) => match super::vars::references(&text) {
                    Ok(names) => {
                        from_caller.extend(names.into_iter().map(|n| (n, value.pos)));
                        env.insert(key.name.clone(), text);
                    }
                    Err(why) => {
                        let what = format!("environment variable `{}`: {why}", key.name);
                        self.error(Some(value.pos), what, None);
                        ok = false;
                    }
                },
                None => ok = false,
            }
        }
        ok.then_some((env, from_caller))
    }

    /// Whether a logging variable has a value RIE and the runtime take; says why not.
    fn log_setting(&mut self, name: &str, node: &Node, value: &str) -> bool {
        let Some((_, valid, any_case)) = LOG_SETTINGS.iter().find(|(n, _, _)| *n == name) else {
            return true;
        };
        let fine = valid
            .iter()
            .any(|v| *v == value || (*any_case && v.eq_ignore_ascii_case(value)));
        if !fine {
            let consequence = if name == "LOG_LEVEL" {
                "RIE reads it too, and exits at start on any other value"
            } else {
                "Lambda takes no other value"
            };
            self.error(
                Some(node.pos),
                format!("`{name}: {value}` is not a valid value"),
                Some(format!(
                    "{name} takes one of: {} ({consequence})",
                    valid.join(", ")
                )),
            );
        }
        fine
    }
}

/// Why an environment variable is reserved, if it is: Lambda sets these itself, and here some
/// of them would stop RIE from starting or desynchronise its timeout from lambda-ci's.
fn reserved(name: &str) -> Option<&'static str> {
    Some(match name {
        "AWS_LAMBDA_FUNCTION_NAME" => "set the function's `name:` instead",
        "AWS_LAMBDA_FUNCTION_TIMEOUT" => "set the function's `timeout:` instead",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" => "set the function's `memory:` instead",
        "_HANDLER" => "set the function's `handler:` instead",
        "AWS_LAMBDA_RUNTIME_API"
        | "LAMBDA_TASK_ROOT"
        | "LAMBDA_RUNTIME_DIR"
        | "AWS_LAMBDA_FUNCTION_VERSION"
        | "AWS_EXECUTION_ENV"
        | "AWS_LAMBDA_INITIALIZATION_TYPE"
        | "_X_AMZN_TRACE_ID" => "the base image and RIE set it; remove it",
        _ => return None,
    })
}

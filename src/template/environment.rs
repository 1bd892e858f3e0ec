//! A function's environment as the template gives it: `Environment.Variables` (worked out
//! whole, as it may be an `Fn::If`), each variable with its origin, and `LoggingConfig` as the
//! variables Lambda sets from it.

use super::function::{Origin, Reader, text_node};
use super::intrinsic::entry;
use super::value::Kind;
use crate::suite::node::{Key, Node, Value};

impl Reader<'_, '_> {
    pub(super) fn environment(&mut self, props: &Node, origin: &dyn Fn(&str) -> Origin) {
        let mut vars = Vec::new();
        // The property is worked out first: it may be an `Fn::If` as a whole.
        let environment = entry(props, "Environment").map(|e| self.scope.eval(e));
        let variables = environment.and_then(|e| match &e.kind {
            Kind::Map(_) => e.get("Variables").cloned(),
            Kind::Unresolved(_) => Some(e),
            _ => None,
        });
        if let Some(v) = variables {
            match v.kind {
                Kind::Map(entries) => {
                    for (key, value) in entries {
                        if self.overrides.environment.contains(&key.name)
                            || value.kind == Kind::NoValue
                        {
                            continue;
                        }
                        if let Some(u) = value.unresolved_part() {
                            let fix = format!(
                                "give it in the suite: `environment: {{{}: ...}}` under `function:`",
                                key.name
                            );
                            self.unresolved(
                                &format!("environment variable `{}`", key.name),
                                &u.clone(),
                                fix,
                            );
                            continue;
                        }
                        let from = origin(&format!("Environment.Variables.{}", key.name));
                        self.origins
                            .push((format!("environment.{}", key.name), from));
                        vars.push((key, text_node(value)));
                    }
                }
                Kind::Unresolved(u) => {
                    self.unresolved(
                        "`Environment.Variables`",
                        &u,
                        "give `environment:` under `function:` in the suite".into(),
                    );
                }
                _ => {}
            }
        }
        if let Some(logging) = entry(props, "LoggingConfig") {
            for (property, var) in [
                ("LogFormat", "AWS_LAMBDA_LOG_FORMAT"),
                ("ApplicationLogLevel", "AWS_LAMBDA_LOG_LEVEL"),
            ] {
                if self.overrides.environment.contains(var) {
                    continue;
                }
                if let Some((v, pos)) = self.scalar(logging, property, "environment") {
                    let from = origin(&format!("LoggingConfig.{property}"));
                    self.origins.push((format!("environment.{var}"), from));
                    vars.push((
                        Key {
                            pos,
                            name: var.into(),
                        },
                        text_node(v),
                    ));
                }
            }
        }
        if !vars.is_empty() {
            let pos = entry(props, "Environment")
                .map(|e| e.pos)
                .unwrap_or(props.pos);
            self.put(
                "environment",
                pos,
                Node {
                    pos,
                    value: Value::Map(vars),
                },
                origin("Environment"),
            );
        }
    }
}

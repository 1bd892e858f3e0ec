//! One function resource of a template, resolved into the suite's `function:` vocabulary
//! (runtime, handler, code, layers, environment, limits), each value remembering where in the
//! template it was written and whether it came from the resource or from `Globals`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::globals;
use super::intrinsic::{Scope, entry, resource_parts};
use super::stack::{FUNCTION_TYPES, Options, Stack};
use super::value::{Kind, Unresolved, Val};
use crate::suite::node::{Key, Node, Pos, Value};
use crate::suite::{LoadError, LoadErrors};

/// Where a value the run uses was written.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// The function resource's own property.
    Resource(Pos),
    /// `Globals.Function`, the resource having none.
    Globals(Pos),
    /// The resource's value merged over `Globals.Function` (a mapping or a list).
    Merged(Pos),
    /// The resource's `Metadata` (`aws:asset:path`, `Dockerfile`).
    Metadata(Pos),
    /// Lambda's default: the template does not say.
    Default,
}

/// What the suite writes itself, so the template's value for it is not needed.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `function:` keys the suite gives (`code`, `layers`...).
    pub fields: BTreeSet<String>,
    /// Environment variables the suite gives.
    pub environment: BTreeSet<String>,
    /// The runtime the suite gives, which decides the file inline code is written to.
    pub runtime: Option<String>,
}

/// A function resource in the suite's words.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The template file its values are written in.
    pub file: PathBuf,
    /// The `function:` mapping, positioned in `file`.
    pub node: Node,
    /// Each suite key and where its value came from.
    pub origins: Vec<(String, Origin)>,
    /// Properties the resource sets that a local run does not emulate.
    pub not_emulated: Vec<String>,
    /// The values of the template's `NoEcho` parameters, by name: no report shows them.
    pub secrets: Vec<(String, String)>,
    /// `Tracing: Active` (SAM) or `TracingConfig: {Mode: Active}`.
    pub tracing: bool,
    /// The inline code written out, if any: it lives while this is held.
    pub held: Option<std::sync::Arc<super::inline::Written>>,
}

/// Why a resource cannot be read as a function, for the suite to say at its `resource:`.
#[derive(Debug)]
pub enum Refused {
    /// No function has that logical id: the ones there are.
    Unknown { functions: Vec<String> },
    /// The resource exists but is not a function.
    NotAFunction { kind: String },
    /// Problems inside the template, at their lines.
    Template(LoadErrors),
}

/// Properties lambda-ci knows it does not emulate.
const NOT_EMULATED: &[&str] = &[
    "Role",
    "Policies",
    "VpcConfig",
    "SnapStart",
    "ReservedConcurrentExecutions",
    "ProvisionedConcurrencyConfig",
    "DeadLetterQueue",
    "DeadLetterConfig",
    "KmsKeyArn",
    "FileSystemConfigs",
    "CodeSigningConfigArn",
    "AutoPublishAlias",
    "DeploymentPreference",
    "EventInvokeConfig",
    "RuntimeManagementConfig",
    "PermissionsBoundary",
    "RecursiveLoop",
    "SourceKMSKeyArn",
    "ImageConfig",
];

/// Resolves the function `id` of `stack`.
pub fn resolve(
    stack: &Stack,
    id: &str,
    options: &Options,
    overrides: &Overrides,
) -> Result<Resolved, Refused> {
    let resource = stack
        .section("Resources")
        .iter()
        .find(|(k, _)| k.name == id)
        .map(|(_, r)| r);
    let Some(resource) = resource else {
        let functions = stack
            .functions()
            .iter()
            .map(|(k, _)| k.name.clone())
            .collect();
        return Err(Refused::Unknown { functions });
    };
    let (kind, props) = resource_parts(resource);
    let kind = kind.unwrap_or_default();
    if !FUNCTION_TYPES.contains(&kind) {
        return Err(Refused::NotAFunction {
            kind: kind.to_string(),
        });
    }
    let (scope, _given, problems) = stack.scope(options);
    // A list's items are secrets each.
    let secrets = scope
        .params
        .iter()
        .filter(|(_, p)| p.secret)
        .flat_map(|(name, p)| match &p.value.kind {
            Kind::List(items) => items
                .iter()
                .filter_map(Val::text)
                .map(|v| (name.clone(), v))
                .collect(),
            _ => p
                .value
                .text()
                .map(|v| (name.clone(), v))
                .into_iter()
                .collect::<Vec<_>>(),
        })
        .collect();
    let mut reader = Reader {
        stack,
        scope: &scope,
        errors: problems,
        entries: Vec::new(),
        origins: Vec::new(),
        overrides,
        held: Vec::new(),
        not_emulated: Vec::new(),
    };
    if let Some(cond) = entry(resource, "Condition") {
        reader.condition(cond, id);
    }
    let empty = Node {
        pos: resource.pos,
        value: Value::Map(Vec::new()),
    };
    let local = props.unwrap_or(&empty);
    let serverless = kind == "AWS::Serverless::Function";
    let global = stack.globals("Function").filter(|_| serverless);
    if let Some(Value::Map(entries)) = global.map(|g| &g.value) {
        for (key, _) in entries {
            if !globals::FUNCTION_GLOBALS.contains(&key.name.as_str()) {
                reader.error(
                    key.pos,
                    format!("`{}` cannot be in `Globals.Function`: SAM applies only its own list of properties globally, and refuses the template", key.name),
                    format!("move `{}` to each function's `Properties`", key.name),
                );
            }
        }
    }
    let props = match global {
        Some(g) => globals::merge(g, local),
        None => local.clone(),
    };
    // A property, or a dotted path into one (`Environment.Variables.TABLE`).
    let at = |node: &'_ Node, path: &str| -> Option<Node> {
        path.split('.')
            .try_fold(node, |n, part| entry(n, part))
            .cloned()
    };
    let origin = |name: &str| -> Origin {
        let mine = at(local, name);
        let here = mine.as_ref().map(|n| n.pos);
        let there = global.and_then(|g| at(g, name)).map(|n| n.pos);
        match (here, there) {
            (Some(p), Some(_))
                if !matches!(
                    mine.as_ref().map(|n| &n.value),
                    Some(Value::String(_) | Value::Number(_) | Value::Bool(_))
                ) =>
            {
                Origin::Merged(p)
            }
            (Some(p), _) => Origin::Resource(p),
            (None, Some(p)) => Origin::Globals(p),
            (None, None) => Origin::Default,
        }
    };
    reader.read(id, resource, &props, serverless, &origin);
    reader.front_doors(id, resource, &props);
    let mode = entry(&props, "Tracing")
        .or_else(|| entry(&props, "TracingConfig").and_then(|t| entry(t, "Mode")));
    let tracing = mode.and_then(|m| scope.eval(m).text()).as_deref() == Some("Active");
    let mut not_emulated: Vec<String> = match &props.value {
        Value::Map(entries) => entries
            .iter()
            .filter(|(k, _)| NOT_EMULATED.contains(&k.name.as_str()))
            .map(|(k, _)| k.name.clone())
            .collect(),
        _ => Vec::new(),
    };
    not_emulated.append(&mut reader.not_emulated);
    not_emulated.dedup();
    if !reader.errors.is_empty() {
        return Err(Refused::Template(LoadErrors(reader.errors)));
    }
    Ok(Resolved {
        file: stack.file.clone(),
        node: Node {
            pos: resource.pos,
            value: Value::Map(reader.entries),
        },
        origins: reader.origins,
        not_emulated,
        secrets,
        tracing,
        held: reader.held.pop(),
    })
}

pub(super) struct Reader<'a, 't> {
    pub(super) stack: &'a Stack,
    pub(super) scope: &'a Scope<'t>,
    pub(super) errors: Vec<LoadError>,
    pub(super) entries: Vec<(Key, Node)>,
    pub(super) origins: Vec<(String, Origin)>,
    pub(super) overrides: &'a Overrides,
    /// Inline code written out, held as long as the function is.
    pub(super) held: Vec<std::sync::Arc<super::inline::Written>>,
    /// What the template declares around the function that a local run does not emulate.
    pub(super) not_emulated: Vec<String>,
}

impl Reader<'_, '_> {
    pub(super) fn error(&mut self, pos: Pos, message: impl Into<String>, hint: impl Into<String>) {
        self.errors.push(LoadError {
            file: self.stack.file.clone(),
            pos: Some(pos),
            message: message.into(),
            hint: Some(hint.into()),
        });
    }

    pub(super) fn unresolved(&mut self, what: &str, u: &Unresolved, fix: String) {
        let message = format!("{what}: `{}` cannot be resolved here: {}", u.what, u.why);
        // A parameter with no value: passing one is the first fix.
        let param = u
            .what
            .strip_prefix("Ref ")
            .filter(|p| self.scope.params.contains_key(*p));
        let fix = match param {
            Some(p) => format!(
                "pass it: `--parameter-overrides {p}=VALUE` (or `parameter_overrides` in samconfig.toml); or {fix}"
            ),
            None => fix,
        };
        self.error(u.pos, message, fix);
    }

    fn condition(&mut self, cond: &Node, id: &str) {
        let Value::String(name) = &cond.value else {
            return;
        };
        match self.scope.condition(name, cond.pos) {
            Ok(true) => {}
            Ok(false) => self.error(
                cond.pos,
                format!(
                    "`{id}` does not exist with these parameters: its condition `{name}` is false"
                ),
                "pass the parameters that make it true (`--parameter-overrides NAME=VALUE`)",
            ),
            Err(u) => self.unresolved(
                &format!("the condition of `{id}`"),
                &u,
                "pass the parameters it depends on (`--parameter-overrides NAME=VALUE`)".into(),
            ),
        }
    }

    /// Adds `key: value` to the function mapping.
    pub(super) fn put(&mut self, name: &str, pos: Pos, value: Node, origin: Origin) {
        self.entries.push((
            Key {
                pos,
                name: name.into(),
            },
            value,
        ));
        self.origins.push((name.to_string(), origin));
    }

    pub(super) fn wanted(&self, field: &str) -> bool {
        !self.overrides.fields.contains(field)
    }

    /// A scalar property, resolved; `None` when absent or unresolved (said).
    pub(super) fn scalar(
        &mut self,
        props: &Node,
        property: &str,
        field: &str,
    ) -> Option<(Val, Pos)> {
        let node = entry(props, property)?;
        let v = self.scope.eval(node);
        if let Some(u) = v.unresolved_part() {
            let fix = format!(
                "give `{field}:` under `function:` in the suite, or pass the parameter it takes"
            );
            self.unresolved(&format!("`{property}`"), &u.clone(), fix);
            return None;
        }
        if v.kind == Kind::NoValue {
            return None;
        }
        Some((v, node.pos))
    }

    fn read(
        &mut self,
        id: &str,
        resource: &Node,
        props: &Node,
        serverless: bool,
        origin: &dyn Fn(&str) -> Origin,
    ) {
        // A suite that names the function needs no name from the template.
        let given = if self.wanted("name") {
            self.scalar(props, "FunctionName", "name")
        } else {
            None
        };
        let name = match given.and_then(|(v, _)| v.text()) {
            Some(name) => name,
            None => id.to_string(),
        };
        let name_node = Node {
            pos: resource.pos,
            value: Value::String(name),
        };
        self.put("name", resource.pos, name_node, origin("FunctionName"));
        let image = entry(props, "PackageType").and_then(|p| self.scope.eval(p).text());
        let image = image.as_deref() == Some("Image");
        // An image brings its runtime and handler: SAM applies neither from `Globals` to it.
        for (property, field) in [("Runtime", "runtime"), ("Handler", "handler")] {
            if self.wanted(field)
                && !image
                && let Some((v, pos)) = self.scalar(props, property, field)
            {
                self.put(field, pos, text_node(v), origin(property));
            }
        }
        for (property, inner, field) in [
            ("Timeout", None, "timeout"),
            ("MemorySize", None, "memory"),
            ("EphemeralStorage", Some("Size"), "ephemeral_storage"),
        ] {
            if !self.wanted(field) {
                continue;
            }
            let found = match inner {
                None => self.scalar(props, property, field),
                Some(inner) => entry(props, property).and_then(|p| self.scalar(p, inner, field)),
            };
            if let Some((v, pos)) = found {
                self.put(field, pos, number_node(v), origin(property));
            }
        }
        if self.wanted("architecture")
            && let Some((v, pos)) = self.scalar(props, "Architectures", "architecture")
            && let Kind::List(items) = &v.kind
            && let Some(first) = items.first()
        {
            self.put(
                "architecture",
                pos,
                text_node(first.clone()),
                origin("Architectures"),
            );
        }
        self.environment(props, origin);
        self.code(id, resource, props, serverless, origin);
        if self.wanted("layers") && !image {
            self.layers(props, origin);
        }
    }
}

/// A scalar as the suite's text (numbers and booleans as written).
pub(super) fn text_node(v: Val) -> Node {
    let pos = v.pos;
    match v.text() {
        Some(t) => Node {
            pos,
            value: Value::String(t),
        },
        None => v.into_node().unwrap_or(Node {
            pos,
            value: Value::Null,
        }),
    }
}

/// A number, also when CloudFormation's text (`"512"`).
fn number_node(v: Val) -> Node {
    let pos = v.pos;
    match &v.kind {
        Kind::String(s) => match s.parse::<u64>() {
            Ok(n) => Node {
                pos,
                value: Value::Number(n.into()),
            },
            Err(_) => Node {
                pos,
                value: Value::String(s.clone()),
            },
        },
        _ => v.into_node().unwrap_or(Node {
            pos,
            value: Value::Null,
        }),
    }
}

/// Names for a message: `A, B, C`, or that there are none.
pub fn listed(names: &[String]) -> String {
    if names.is_empty() {
        "none (no AWS::Serverless::Function or AWS::Lambda::Function)".into()
    } else {
        names.join(", ")
    }
}

/// What to say about a resource that cannot be read as a function, with the likely one meant
/// among `all` (every function's address).
pub fn refused_words(refused: &Refused, all: &[String], id: &str) -> String {
    let listing = listed(all);
    match refused {
        Refused::Unknown { .. } => {
            let lower = id.to_lowercase();
            let near = crate::suite::closest(id, all.iter().map(String::as_str)).or_else(|| {
                let mut containing = all.iter().filter(|f| f.to_lowercase().contains(&lower));
                match (containing.next(), containing.next()) {
                    (Some(one), None) => Some(one.as_str()),
                    _ => None,
                }
            });
            match near {
                Some(near) => format!("did you mean `{near}`? the template's functions: {listing}"),
                None => format!("the template's functions: {listing}"),
            }
        }
        Refused::NotAFunction { kind } => {
            format!("`{id}` is a `{kind}`, not a function; the template's functions: {listing}")
        }
        Refused::Template(errors) => errors.to_string(),
    }
}

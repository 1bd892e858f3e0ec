//! `function: {template, resource}`: the function read from a deployment template, with any
//! other key of the suite's `function:` written over it (`environment` merges, the suite's
//! variables winning). What the template says wrong is reported at the template's line.

use std::path::{Path, PathBuf};

use super::Function;
use super::fields::Ctx;
use super::function::FIELDS;
use super::node::{Key, Node, Value};
use crate::template::{self, Options, Overrides, Refused, Stack, locate};

/// The keys that choose where the function's image comes from: the suite giving one replaces
/// all of the template's.
const IMAGE_KEYS: &[&str] = &["runtime", "image", "build"];

/// `cases/../template.yaml` as `template.yaml`, when both are the same file (a symbolic link
/// on the way would make them differ): the path every message shows.
fn tidy(path: PathBuf) -> PathBuf {
    use std::path::Component;
    let mut lexical = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir
                if matches!(lexical.components().next_back(), Some(Component::Normal(_))) =>
            {
                lexical.pop();
            }
            Component::CurDir => {}
            other => lexical.push(other),
        }
    }
    let same = |a: &Path, b: &Path| matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y);
    if lexical.as_os_str().is_empty() || !same(&lexical, &path) {
        return path;
    }
    lexical
}

impl Ctx<'_> {
    pub(super) fn template_function(&mut self, node: &Node) -> Option<Function> {
        let allowed: Vec<&str> = FIELDS
            .iter()
            .copied()
            .chain(["template", "resource"])
            .collect();
        let f = self.fields(node, "`function`", &allowed)?;
        let Some(template_node) = f.get("template") else {
            self.error(
                f.key("resource").map(|k| k.pos),
                "`resource` without `template`",
                Some("name the template the resource is in: `template: ../template.yaml`".into()),
            );
            return None;
        };
        let written = self.string(template_node, "`template`")?;
        let path = tidy(self.dir().join(&written));
        if !path.exists() {
            self.error(
                Some(template_node.pos),
                format!("the template `{written}` does not exist"),
                Some(
                    "give the path of the SAM or CloudFormation template, relative to this file"
                        .into(),
                ),
            );
            return None;
        }
        let mut options = self.template_options(&path, template_node)?;
        // `AWS::Region` is the suite's region when it sets one for the function.
        options.region = suite_region(node);
        let stacks = match locate::stacks(&path, &options) {
            Ok(stacks) => stacks,
            Err(errors) => {
                self.errors.extend(errors.0);
                return None;
            }
        };
        for reached in &stacks {
            let file = &reached.stack.file;
            self.inputs
                .push(std::path::absolute(file).unwrap_or(file.clone()));
        }
        let addresses: Vec<String> = locate::functions(&stacks)
            .iter()
            .map(|f| f.address())
            .collect();
        let Some(resource_node) = f.get("resource") else {
            self.error(
                Some(node.pos),
                "missing `resource`: which function of the template this suite tests",
                Some(format!(
                    "the template's functions: {}",
                    template::listed(&addresses)
                )),
            );
            return None;
        };
        let id = self.string(resource_node, "`resource`")?;
        let overrides = overrides(node);
        let Some(found) = locate::find(&stacks, &id) else {
            let root = &stacks[0].stack;
            let refused = match template::resolve(root, &id, &options, &overrides) {
                Err(refused) => refused,
                Ok(_) => Refused::Unknown {
                    functions: addresses.clone(),
                },
            };
            self.refused(refused, root, &id, resource_node, &addresses);
            return None;
        };
        let stack = &found.reached.stack;
        let resolved = match template::resolve(stack, &found.id, &found.reached.options, &overrides)
        {
            Ok(r) => r,
            Err(refused) => {
                self.refused(refused, stack, &id, resource_node, &addresses);
                return None;
            }
        };
        let merged = merge(&resolved.node, node);
        // What came from the template is said at the template's lines.
        let mut own = Vec::new();
        positions(node, &mut own);
        let mut theirs = Vec::new();
        positions(&resolved.node, &mut theirs);
        for pos in theirs {
            if !own.contains(&pos) {
                self.foreign.insert(pos, resolved.file.clone());
            }
        }
        if let Some(note) = &stack.note {
            self.warn(
                resource_node.pos,
                note.clone(),
                "lambda-ci reads what `sam local` reads".into(),
            );
        }
        if !resolved.not_emulated.is_empty() {
            self.warn(
                resolved.node.pos,
                format!(
                    "`{id}` sets what a local run does not emulate: {}",
                    resolved.not_emulated.join(", ")
                ),
                "the run goes on without them; test these against the deployed function".into(),
            );
        }
        let mut function = self.declared_function(&merged)?;
        function.secrets = resolved.secrets;
        function.tracing = resolved.tracing;
        // Inline code written out stays on disk while the function is used.
        if let (Some(code), Some(held)) = (function.code.as_mut(), resolved.held) {
            code.held = Some(super::Held(held));
        }
        function.resource = Some(super::Resource {
            template: resolved.file.clone(),
            logical_id: found.id.clone(),
            id,
        });
        Some(function)
    }

    /// The parameter values for a template: `samconfig.toml` beside it, then the command line.
    fn template_options(&mut self, template: &Path, at: &Node) -> Option<Options> {
        let env = self.options.config_env.as_deref();
        match template::passed::options(template, &self.options.parameters, env) {
            Ok((options, file)) => {
                if let Some(file) = file {
                    self.inputs.push(std::path::absolute(&file).unwrap_or(file));
                }
                Some(options)
            }
            Err(why) => {
                self.error(
                    Some(at.pos),
                    why,
                    Some("fix samconfig.toml beside the template, as `sam` reads it".into()),
                );
                None
            }
        }
    }

    fn refused(&mut self, refused: Refused, stack: &Stack, id: &str, at: &Node, all: &[String]) {
        let file = stack.file.display();
        match refused {
            Refused::Template(errors) => self.errors.extend(errors.0),
            Refused::Unknown { .. } => self.error(
                Some(at.pos),
                format!("{file} has no function `{id}`"),
                Some(template::refused_words(&refused, all, id)),
            ),
            Refused::NotAFunction { kind } => self.error(
                Some(at.pos),
                format!("`{id}` in {file} is a `{kind}`, not a function"),
                Some(format!(
                    "the template's functions: {}",
                    template::listed(all)
                )),
            ),
        }
    }
}

/// The `AWS_REGION` the suite's `environment:` gives the function, if any.
fn suite_region(node: &Node) -> Option<String> {
    let Value::Map(entries) = &node.value else {
        return None;
    };
    let (_, environment) = entries.iter().find(|(k, _)| k.name == "environment")?;
    let Value::Map(vars) = &environment.value else {
        return None;
    };
    vars.iter().find_map(|(k, v)| match &v.value {
        Value::String(region) if k.name == "AWS_REGION" => Some(region.clone()),
        _ => None,
    })
}

/// The keys and environment variables the suite writes itself.
fn overrides(node: &Node) -> Overrides {
    let mut o = Overrides::default();
    let Value::Map(entries) = &node.value else {
        return o;
    };
    for (key, value) in entries {
        o.fields.insert(key.name.clone());
        if IMAGE_KEYS.contains(&key.name.as_str()) {
            o.fields.extend(IMAGE_KEYS.iter().map(|k| k.to_string()));
        }
        if key.name == "runtime"
            && let Value::String(runtime) = &value.value
        {
            o.runtime = Some(runtime.clone());
        }
        if key.name == "environment"
            && let Value::Map(vars) = &value.value
        {
            o.environment
                .extend(vars.iter().map(|(k, _)| k.name.clone()));
        }
    }
    o.fields.remove("template");
    o.fields.remove("resource");
    o.fields.remove("environment");
    o
}

/// The template's function with the suite's keys written over it.
fn merge(theirs: &Node, ours: &Node) -> Node {
    let (Value::Map(theirs_entries), Value::Map(ours_entries)) = (&theirs.value, &ours.value)
    else {
        return ours.clone();
    };
    let mut entries: Vec<(Key, Node)> = theirs_entries.clone();
    for (key, value) in ours_entries {
        if key.name == "template" || key.name == "resource" {
            continue;
        }
        match entries.iter_mut().find(|(k, _)| k.name == key.name) {
            Some((_, existing)) if key.name == "environment" => {
                if let (Value::Map(base), Value::Map(over)) = (&mut existing.value, &value.value) {
                    base.retain(|(k, _)| !over.iter().any(|(o, _)| o.name == k.name));
                    base.extend(over.iter().cloned());
                } else {
                    *existing = value.clone();
                }
            }
            Some(slot) => *slot = (key.clone(), value.clone()),
            None => entries.push((key.clone(), value.clone())),
        }
    }
    Node {
        pos: ours.pos,
        value: Value::Map(entries),
    }
}

/// Every position in `node`, keys included.
fn positions(node: &Node, out: &mut Vec<super::Pos>) {
    out.push(node.pos);
    match &node.value {
        Value::Seq(items) => items.iter().for_each(|i| positions(i, out)),
        Value::Map(entries) => {
            for (k, v) in entries {
                out.push(k.pos);
                positions(v, out);
            }
        }
        _ => {}
    }
}

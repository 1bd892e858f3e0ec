//! Finding a function among the stacks a template names: the template itself, the nested stacks
//! it declares with local templates (`AWS::CloudFormation::Stack`, `AWS::Serverless::Application`),
//! and, for a CDK cloud assembly (`cdk.out`), every stack of its `manifest.json`. A function is
//! named by its logical id, `Stack/LogicalId` (a nested stack's logical id, or a CDK stack's
//! name, then the function's), or its CDK construct path (`OrdersStack/GetOrder`).

use std::path::{Path, PathBuf};

use super::intrinsic::{entry, resource_parts};
use super::stack::{Options, Stack};
use super::value::{Kind, Val};
use crate::suite::node::Value;
use crate::suite::{LoadError, LoadErrors};

/// A stack reached from the template named, with the parameter values it is given.
#[derive(Debug, Clone)]
pub struct Reached {
    /// How it is addressed: empty for the template named, else `Child` or `Stack/Child`.
    pub path: String,
    pub stack: Stack,
    pub options: Options,
}

/// A function found: its stack and logical id.
#[derive(Debug, Clone)]
pub struct Found {
    pub reached: Reached,
    pub id: String,
}

impl Found {
    /// The function's address: `LogicalId`, or `Stack/LogicalId` in a nested or CDK stack.
    pub fn address(&self) -> String {
        match self.reached.path.as_str() {
            "" => self.id.clone(),
            path => format!("{path}/{}", self.id),
        }
    }
}

/// The template `path` names: a file, `template.yaml` in a directory, or a cloud assembly.
pub fn named(path: &Path) -> PathBuf {
    ["template.yaml", "template.yml", "template.json"]
        .iter()
        .map(|n| path.join(n))
        .find(|p| path.is_dir() && p.is_file())
        .unwrap_or_else(|| path.to_path_buf())
}

fn error(file: &Path, message: String, hint: &str) -> LoadErrors {
    LoadErrors(vec![LoadError {
        file: file.to_path_buf(),
        pos: None,
        message,
        hint: Some(hint.into()),
    }])
}

/// Every stack reached from `path`, the template named first.
pub fn stacks(path: &Path, options: &Options) -> Result<Vec<Reached>, LoadErrors> {
    let manifest = path.join("manifest.json");
    let roots = if path.is_dir() && manifest.is_file() {
        assembly(path, &manifest, options)?
    } else {
        vec![Reached {
            path: String::new(),
            stack: Stack::read(&named(path))?,
            options: options.clone(),
        }]
    };
    let mut all = Vec::new();
    for root in roots {
        descend(root, &mut all, &mut Vec::new())?;
    }
    Ok(all)
}

/// The stacks of a CDK cloud assembly, by their names.
fn assembly(dir: &Path, manifest: &Path, options: &Options) -> Result<Vec<Reached>, LoadErrors> {
    let text = std::fs::read_to_string(manifest).map_err(|e| {
        error(
            manifest,
            format!("cannot be read: {e}"),
            "synthesise the app again (`cdk synth`)",
        )
    })?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        error(
            manifest,
            format!("is not a cloud assembly manifest: {e}"),
            "synthesise the app again (`cdk synth`)",
        )
    })?;
    let mut roots = Vec::new();
    let artifacts = doc.get("artifacts").and_then(|a| a.as_object());
    for (name, artifact) in artifacts.into_iter().flatten() {
        if artifact.get("type").and_then(|t| t.as_str()) != Some("aws:cloudformation:stack") {
            continue;
        }
        let Some(file) = artifact
            .pointer("/properties/templateFile")
            .and_then(|f| f.as_str())
        else {
            continue;
        };
        let stack = Stack::read(&dir.join(file))?;
        roots.push(Reached {
            path: name.clone(),
            stack,
            options: options.clone(),
        });
    }
    if roots.is_empty() {
        return Err(error(
            manifest,
            "holds no CloudFormation stack".into(),
            "synthesise an app that defines a stack",
        ));
    }
    Ok(roots)
}

/// `reached` and the nested stacks under it, whose templates are local files.
fn descend(
    reached: Reached,
    all: &mut Vec<Reached>,
    chain: &mut Vec<PathBuf>,
) -> Result<(), LoadErrors> {
    let mut children = Vec::new();
    let here = reached
        .stack
        .file
        .canonicalize()
        .unwrap_or(reached.stack.file.clone());
    {
        let (scope, _, _) = reached.stack.scope(&reached.options);
        let secrets: Vec<String> = scope
            .params
            .values()
            .filter(|p| p.secret)
            .filter_map(|p| p.value.text())
            .collect();
        for (key, resource) in reached.stack.section("Resources") {
            let Some(file) = nested_template(&reached.stack, resource) else {
                continue;
            };
            // A nested stack whose condition is false is not there.
            if let Some(Value::String(condition)) = entry(resource, "Condition").map(|c| &c.value)
                && scope.condition(condition, key.pos) == Ok(false)
            {
                continue;
            }
            let mine = file.canonicalize().unwrap_or(file.clone());
            if mine == here || chain.contains(&mine) {
                return Err(LoadErrors(vec![LoadError {
                    file: reached.stack.file.clone(),
                    pos: Some(key.pos),
                    message: format!(
                        "the nested stack `{}` is a template that includes it: a cycle",
                        key.name
                    ),
                    hint: Some(
                        "a nested stack's template must not nest the stack that nests it".into(),
                    ),
                }]));
            }
            let mut options = Options {
                region: reached.options.region.clone(),
                ..Options::default()
            };
            let passed = resource_parts(resource)
                .1
                .and_then(|p| entry(p, "Parameters"));
            if let Some(Value::Map(params)) = passed.map(|p| &p.value) {
                for (name, value) in params {
                    let v = scope.eval(value);
                    let text = match &v.kind {
                        Kind::List(items) => items
                            .iter()
                            .map(Val::text)
                            .collect::<Option<Vec<_>>>()
                            .map(|t| t.join(",")),
                        _ => v.text(),
                    };
                    match (text, v.unresolved_part()) {
                        (Some(text), _) => {
                            if secrets.contains(&text) {
                                options.secrets.push(text.clone());
                            }
                            let from =
                                format!("`{}` in {}", key.name, reached.stack.file.display());
                            options.passed.insert(name.name.clone(), (text, from));
                        }
                        (None, Some(u)) => {
                            let why = format!(
                                "`{}` passes it `{}`, which cannot be resolved here: {}",
                                key.name, u.what, u.why
                            );
                            options.unknown.insert(name.name.clone(), why);
                        }
                        (None, None) => {}
                    }
                }
            }
            let path = match reached.path.as_str() {
                "" => key.name.clone(),
                parent => format!("{parent}/{}", key.name),
            };
            children.push(Reached {
                path,
                stack: Stack::read(&file)?,
                options,
            });
        }
    }
    all.push(reached);
    chain.push(here);
    for child in children {
        descend(child, all, chain)?;
    }
    chain.pop();
    Ok(())
}

/// The local template of a nested stack resource, if it has one.
fn nested_template(parent: &Stack, resource: &crate::suite::node::Node) -> Option<PathBuf> {
    let (kind, props) = resource_parts(resource);
    let property = match kind? {
        "AWS::CloudFormation::Stack" => "TemplateURL",
        "AWS::Serverless::Application" => "Location",
        _ => return None,
    };
    let asset = entry(resource, "Metadata").and_then(|m| entry(m, "aws:asset:path"));
    let written = asset.or_else(|| props.and_then(|p| entry(p, property)))?;
    match &written.value {
        Value::String(p) if !p.contains("://") => Some(parent.dir().join(p)),
        _ => None,
    }
}

/// The function `wanted` names among `stacks`.
pub fn find(stacks: &[Reached], wanted: &str) -> Option<Found> {
    let found = |reached: &Reached, id: &str| Found {
        reached: reached.clone(),
        id: id.to_string(),
    };
    // A CDK construct path, with or without its `/Resource`.
    for reached in stacks {
        for (key, resource) in reached.stack.functions() {
            let path = entry(resource, "Metadata").and_then(|m| entry(m, "aws:cdk:path"));
            if let Some(Value::String(path)) = path.map(|p| &p.value)
                && (path == wanted || path.strip_suffix("/Resource") == Some(wanted))
            {
                return Some(found(reached, &key.name));
            }
        }
    }
    // `Stack/LogicalId`, or a logical id in the template named (or the only CDK stack).
    let (stack_path, id) = wanted.rsplit_once('/').unwrap_or(("", wanted));
    let roots: Vec<&Reached> = stacks.iter().filter(|r| !r.path.contains('/')).collect();
    let candidates: Vec<&Reached> = match stack_path {
        "" if roots.len() == 1 => roots,
        path => stacks.iter().filter(|r| r.path == path).collect(),
    };
    candidates
        .into_iter()
        .find(|r| r.stack.functions().iter().any(|(k, _)| k.name == id))
        .map(|r| found(r, id))
}

/// Every function of every stack, by address, for listings and `serve --template`.
pub fn functions(stacks: &[Reached]) -> Vec<Found> {
    stacks
        .iter()
        .flat_map(|r| {
            r.stack
                .functions()
                .into_iter()
                .map(|(k, _)| Found {
                    reached: r.clone(),
                    id: k.name.clone(),
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

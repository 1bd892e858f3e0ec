//! One template file read: which file (the one named, or `sam build`'s output beside it), its
//! sections, and the scope its expressions are worked out in.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::intrinsic::{Pseudo, Scope, entry, resource_parts};
use super::params::{self, Given};
use super::yaml;
use crate::suite::node::{self, Key, Node, Pos, Value};
use crate::suite::read::{read_limited, utf8_problem};
use crate::suite::{LoadError, LoadErrors};

/// The most bytes a template may hold (CloudFormation takes 1 MB; CDK's can be larger locally).
const TEMPLATE_LIMIT: u64 = 50 * 1024 * 1024;

/// What the caller decides about a reading: the region and the parameters passed.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `AWS::Region`; us-east-1 when not given, as SAM CLI does.
    pub region: Option<String>,
    /// Parameter values passed, each with where it was passed (`--parameter-overrides`).
    pub passed: BTreeMap<String, (String, String)>,
    /// Parameters a parent stack passes a value it cannot know here, with why.
    pub unknown: BTreeMap<String, String>,
    /// Values passed that are secrets where they come from (a parent's `NoEcho` parameter).
    pub secrets: Vec<String>,
}

/// A template file, parsed.
#[derive(Debug, Clone)]
pub struct Stack {
    /// The file read.
    pub file: PathBuf,
    /// Said when the file read is not the one named (`sam build`'s output).
    pub note: Option<String>,
    root: Node,
}

/// The function resource types, and the layer resource types.
pub const FUNCTION_TYPES: &[&str] = &["AWS::Serverless::Function", "AWS::Lambda::Function"];
pub const LAYER_TYPES: &[&str] = &["AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"];

/// The template `sam build` wrote for `named`, if there is one: `sam local` reads it instead.
fn built(named: &Path) -> Option<PathBuf> {
    let name = named.file_name()?.to_str()?;
    if !matches!(name, "template.yaml" | "template.yml" | "template.json") {
        return None;
    }
    let built = named.parent()?.join(".aws-sam/build/template.yaml");
    built.is_file().then_some(built)
}

fn error(
    file: &Path,
    pos: Option<Pos>,
    message: impl Into<String>,
    hint: Option<String>,
) -> LoadErrors {
    LoadErrors(vec![LoadError {
        file: file.to_path_buf(),
        pos,
        message: message.into(),
        hint,
    }])
}

impl Stack {
    /// Reads `named`, or the built template beside it.
    pub fn read(named: &Path) -> Result<Stack, LoadErrors> {
        let (file, note) = match built(named) {
            Some(b) => {
                let note = format!(
                    "read {} (`sam build`'s output, whose code is the built code) instead of {}; run `sam build` after changing the template, or delete .aws-sam to test the sources",
                    b.display(),
                    named.display()
                );
                (b, Some(note))
            }
            None => (named.to_path_buf(), None),
        };
        let bytes = read_limited(&file, TEMPLATE_LIMIT).map_err(|e| {
            let hint = e.hint();
            error(&file, None, format!("the template {e}"), hint)
        })?;
        let text = match std::str::from_utf8(&bytes) {
            Ok(t) => t,
            Err(e) => {
                let (pos, message, hint) = utf8_problem(&bytes, e.valid_up_to());
                return Err(error(&file, Some(pos), message, Some(hint)));
            }
        };
        Stack::from_text(file, note, text)
    }

    /// A template's text, read from `file`.
    pub fn from_text(file: PathBuf, note: Option<String>, text: &str) -> Result<Stack, LoadErrors> {
        let root = yaml::parse(text).map_err(|e| {
            let (message, hint) = node::error_words(&e);
            error(&file, node::error_pos(&e), message, hint)
        })?;
        let has_resources = matches!(
            entry(&root, "Resources").map(|r| &r.value),
            Some(Value::Map(_))
        );
        if !has_resources {
            return Err(error(
                &file,
                Some(root.pos),
                "not a CloudFormation or SAM template: no `Resources:` mapping",
                Some("name the template that declares the function (`template.yaml`), or a `cdk.out` directory".into()),
            ));
        }
        Ok(Stack { file, note, root })
    }

    /// A top-level section's entries (`Resources`, `Parameters`...), empty when absent.
    pub fn section(&self, name: &str) -> &[(Key, Node)] {
        match entry(&self.root, name).map(|n| &n.value) {
            Some(Value::Map(entries)) => entries,
            _ => &[],
        }
    }

    /// `Globals.<kind>`, e.g. `Globals.Function`.
    pub fn globals(&self, kind: &str) -> Option<&Node> {
        entry(&self.root, "Globals").and_then(|g| entry(g, kind))
    }

    /// The function resources, by logical id, in the template's order.
    pub fn functions(&self) -> Vec<(&Key, &Node)> {
        self.section("Resources")
            .iter()
            .filter(|(_, r)| {
                resource_parts(r)
                    .0
                    .is_some_and(|t| FUNCTION_TYPES.contains(&t))
            })
            .map(|(k, r)| (k, r))
            .collect()
    }

    /// The scope expressions are worked out in, the parameters' origins, and the problems with
    /// the values passed or defaulted.
    pub fn scope(&self, options: &Options) -> (Scope<'_>, BTreeMap<String, Given>, Vec<LoadError>) {
        let (values, problems) = params::values(self.section("Parameters"), options);
        let given = values
            .iter()
            .map(|(k, (_, g))| (k.clone(), g.clone()))
            .collect();
        let values = values.into_iter().map(|(k, (v, _))| (k, v)).collect();
        let pseudo = Pseudo {
            region: options.region.clone().unwrap_or_else(|| "us-east-1".into()),
            account: "123456789012".into(),
            stack_name: "local".into(),
        };
        let scope = Scope::new(
            values,
            pseudo,
            self.section("Conditions"),
            self.section("Mappings"),
            self.section("Resources"),
        );
        let problems = problems
            .into_iter()
            .map(|p| LoadError {
                file: self.file.clone(),
                pos: Some(p.key.pos),
                message: p.message,
                hint: p.hint,
            })
            .collect();
        (scope, given, problems)
    }

    /// The directory paths in the template are relative to.
    pub fn dir(&self) -> PathBuf {
        self.file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }
}

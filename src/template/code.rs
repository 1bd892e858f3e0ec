//! A function's code and layers as the template gives them: a local directory or zip
//! (`CodeUri`, `Code`, `ContentUri`, `Content`, or CDK's `aws:asset:path`), an image SAM builds
//! from the resource's `Metadata`, and what a local run cannot read (S3, a layer by ARN).

use super::function::{Origin, Reader};
use super::intrinsic::{entry, resource_parts};
use super::stack::LAYER_TYPES;
use super::value::Val;
use crate::suite::node::{Key, Node, Pos, Value};

impl Reader<'_, '_> {
    /// A local path written in the template, made absolute.
    pub(super) fn path(&self, text: &str) -> String {
        let path = self.stack.dir().join(text);
        std::path::absolute(&path)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
    }

    /// `aws:asset:path` in the resource's `Metadata`, made absolute.
    pub(super) fn asset(&self, resource: &Node) -> Option<(String, Pos)> {
        let path = entry(resource, "Metadata").and_then(|m| entry(m, "aws:asset:path"))?;
        match &path.value {
            Value::String(p) => Some((self.path(p), path.pos)),
            _ => None,
        }
    }

    pub(super) fn code(
        &mut self,
        id: &str,
        resource: &Node,
        props: &Node,
        serverless: bool,
        origin: &dyn Fn(&str) -> Origin,
    ) {
        let image = self
            .scalar(props, "PackageType", "code")
            .and_then(|(v, _)| v.text())
            .as_deref()
            == Some("Image");
        if image {
            if self.wanted("build") && self.wanted("image") && self.wanted("runtime") {
                self.image(id, resource);
            }
            return;
        }
        if !self.wanted("code") {
            return;
        }
        if let Some((path, pos)) = self.asset(resource) {
            let node = Node {
                pos,
                value: Value::String(path),
            };
            self.put("code", pos, node, Origin::Metadata(pos));
            return;
        }
        let property = if serverless { "CodeUri" } else { "Code" };
        let inline = if serverless {
            entry(props, "InlineCode")
        } else {
            entry(props, "Code").and_then(|c| entry(c, "ZipFile"))
        };
        if let Some(inline) = inline {
            self.inline(
                id,
                inline,
                origin(if serverless { "InlineCode" } else { "Code" }),
            );
            return;
        }
        let Some((v, pos)) = self.scalar(props, property, "code") else {
            if entry(props, property).is_none() {
                self.error(resource.pos, format!("`{id}` has no `{property}`"), format!("give the function's code directory in `{property}`, or `code:` under `function:` in the suite"));
            }
            return;
        };
        match v.text() {
            Some(text) if !text.starts_with("s3://") => {
                let node = Node { pos: v.pos, value: Value::String(self.path(&text)) };
                self.put("code", pos, node, origin(property));
            }
            _ => self.error(v.pos, format!("the code of `{id}` is in S3, which a local run cannot read"), "build it locally (`sam build` writes .aws-sam/build/template.yaml, which lambda-ci reads) or give `code:` under `function:` in the suite"),
        }
    }

    /// `PackageType: Image`: the image SAM would build from the resource's `Metadata`.
    pub(super) fn image(&mut self, id: &str, resource: &Node) {
        let metadata = entry(resource, "Metadata");
        // SAM's `DockerContext`, or CDK's image asset (`aws:asset:path`, with its
        // `aws:asset:dockerfile-path` and `aws:asset:docker-build-args`).
        let cdk = metadata.and_then(|m| entry(m, "DockerContext")).is_none();
        let key = |sam: &'static str, cdk_key: &'static str| if cdk { cdk_key } else { sam };
        let context = metadata.and_then(|m| entry(m, key("DockerContext", "aws:asset:path")));
        let Some(context) = context.filter(|c| matches!(c.value, Value::String(_))) else {
            self.error(resource.pos, format!("`{id}` is an image function with no local build (`Metadata: {{DockerContext, Dockerfile}}`)"), "add the `Metadata` SAM builds it from, or give `image:` or `build:` under `function:` in the suite");
            return;
        };
        let Value::String(dir) = &context.value else {
            unreachable!()
        };
        let mut build = vec![(
            Key {
                pos: context.pos,
                name: "context".into(),
            },
            Node {
                pos: context.pos,
                value: Value::String(self.path(dir)),
            },
        )];
        let dockerfile = key("Dockerfile", "aws:asset:dockerfile-path");
        if let Some(file) = metadata.and_then(|m| entry(m, dockerfile)) {
            build.push((
                Key {
                    pos: file.pos,
                    name: "dockerfile".into(),
                },
                file.clone(),
            ));
        }
        let build_args = key("DockerBuildArgs", "aws:asset:docker-build-args");
        if let Some(args) = metadata.and_then(|m| entry(m, build_args)) {
            build.push((
                Key {
                    pos: args.pos,
                    name: "args".into(),
                },
                args.clone(),
            ));
        }
        self.put(
            "build",
            context.pos,
            Node {
                pos: context.pos,
                value: Value::Map(build),
            },
            Origin::Metadata(context.pos),
        );
    }

    pub(super) fn layers(&mut self, props: &Node, origin: &dyn Fn(&str) -> Origin) {
        let Some(list) = entry(props, "Layers") else {
            return;
        };
        let Value::Seq(items) = &list.value else {
            self.error(
                list.pos,
                "`Layers` must be a list",
                "list the layers by `!Ref` to their resources",
            );
            return;
        };
        let mut paths = Vec::new();
        for item in items {
            if let Some(path) = self.layer(item) {
                paths.push(Node {
                    pos: item.pos,
                    value: Value::String(path),
                });
            }
        }
        self.put(
            "layers",
            list.pos,
            Node {
                pos: list.pos,
                value: Value::Seq(paths),
            },
            origin("Layers"),
        );
    }

    /// One layer: a `Ref` to a layer resource of the template, read from its content.
    pub(super) fn layer(&mut self, item: &Node) -> Option<String> {
        // `!If [Condition, !Ref Layer, !Ref AWS::NoValue]`: the branch the condition takes.
        if let Some(Value::Seq(args)) = entry(item, "Fn::If").map(|n| &n.value)
            && let [condition, then, otherwise] = args.as_slice()
            && let Value::String(condition) = &condition.value
        {
            return match self.scope.condition(condition, item.pos) {
                Ok(true) => self.layer(then),
                Ok(false) => self.layer(otherwise),
                Err(u) => {
                    let fix = "list the layers in `layers:` under `function:` in the suite";
                    self.unresolved("a layer", &u, fix.into());
                    None
                }
            };
        }
        if matches!(entry(item, "Ref").map(|r| &r.value), Some(Value::String(s)) if s == "AWS::NoValue")
        {
            return None;
        }
        let target = match entry(item, "Ref").map(|r| &r.value) {
            Some(Value::String(t)) => Some(t.clone()),
            _ => None,
        };
        let resource = target.as_deref().and_then(|t| self.scope.resource(t));
        let Some(resource) = resource else {
            let v = self.scope.eval(item);
            let shown = v
                .text()
                .or_else(|| v.unresolved_part().map(|u| u.what.clone()))
                .unwrap_or_default();
            self.error(item.pos, format!("the layer `{shown}` is not a layer of this template; a local run cannot fetch a published layer"), "copy the layer's content locally and list the function's layers, in order, in `layers:` under `function:` in the suite");
            return None;
        };
        let (kind, props) = resource_parts(resource);
        if !kind.is_some_and(|k| LAYER_TYPES.contains(&k)) {
            self.error(item.pos, format!("`{}` is a `{}`, not a layer", target.unwrap_or_default(), kind.unwrap_or("resource")), "list `AWS::Serverless::LayerVersion` or `AWS::Lambda::LayerVersion` resources in `Layers`");
            return None;
        }
        if let Some((path, _)) = self.asset(resource) {
            return Some(path);
        }
        let props = props?;
        let content = entry(props, "ContentUri").or_else(|| entry(props, "Content"));
        let v = content.map(|c| self.scope.eval(c));
        match v.as_ref().and_then(Val::text) {
            Some(text) if !text.starts_with("s3://") => Some(self.path(&text)),
            _ => {
                let pos = content.map(|c| c.pos).unwrap_or(resource.pos);
                self.error(pos, format!("the content of layer `{}` is not a local directory or zip", target.unwrap_or_default()), "give the layer's directory in `ContentUri`, or list the layers in `layers:` under `function:` in the suite");
                None
            }
        }
    }

    /// Inline code, written out as the package CloudFormation makes of it.
    fn inline(&mut self, id: &str, inline: &Node, origin: Origin) {
        let v = self.scope.eval(inline);
        if let Some(u) = v.unresolved_part() {
            let fix = "give `code:` under `function:` in the suite".to_string();
            self.unresolved("the inline code", &u.clone(), fix);
            return;
        }
        let Some(text) = v.text() else {
            self.error(
                inline.pos,
                "inline code must be text",
                "write the code as a string (a `|` block)",
            );
            return;
        };
        let given = self.overrides.runtime.clone();
        let runtime = given.or_else(|| {
            self.entries
                .iter()
                .find(|(k, _)| k.name == "runtime")
                .and_then(|(_, n)| match &n.value {
                    Value::String(r) => Some(r.clone()),
                    _ => None,
                })
        });
        let Some(file) = runtime.as_deref().and_then(super::inline::file_for) else {
            self.error(inline.pos, format!("`{id}` has inline code, which Lambda takes for Python and Node.js runtimes only"), "put the code in a directory and name it in `CodeUri` or `Code`");
            return;
        };
        match super::inline::write(file, &text) {
            Ok(written) => {
                let path = written.path().to_string_lossy().into_owned();
                self.held.push(written);
                let node = Node {
                    pos: inline.pos,
                    value: Value::String(path),
                };
                self.put("code", inline.pos, node, origin);
            }
            Err(e) => self.error(
                inline.pos,
                format!("cannot write the inline code of `{id}` out: {e}"),
                "check that the temporary directory (TMPDIR) is writable",
            ),
        }
    }
}

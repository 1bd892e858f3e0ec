//! Decodes where a function's image comes from: a Lambda `runtime:` (its base image), an
//! `image:` (a container-image function), or a `build:` of one from a Dockerfile.

use std::collections::{BTreeMap, HashMap};

use super::fields::{Ctx, Fields};
use super::node::{Node, Value};
use super::{Build, runtime};

impl Ctx<'_> {
    /// The image, whether it is a custom runtime's, and the build that makes it, if any.
    pub(super) fn image_source(
        &mut self,
        node: &Node,
        f: &Fields,
    ) -> Option<(String, bool, Option<Build>)> {
        self.exclusive(f, &["runtime", "image", "build"]).ok()?;
        if let Some(b) = f.get("build") {
            let build = self.build(b)?;
            let shown = format!(
                "build of {}",
                build.context.join(&build.dockerfile).display()
            );
            return Some((shown, false, Some(build)));
        }
        if let Some(i) = f.get("image") {
            let image = self.string(i, "`image`")?;
            let custom = runtime::is_custom_image(&image);
            return Some((image, custom, None));
        }
        let Some(r) = f.get("runtime") else {
            self.error(
                Some(node.pos),
                "missing `runtime` (or `image`, or `build`)",
                Some("for example `runtime: python3.12`".into()),
            );
            return None;
        };
        let id = self.string(r, "`runtime`")?;
        if let Some(image) = runtime::image_of(&id) {
            return Some((image.to_string(), runtime::is_custom(&id), None));
        }
        let valid: Vec<&str> = runtime::RUNTIMES.iter().map(|(id, _)| *id).collect();
        let hint = match runtime::closest(&id) {
            Some(c) => format!("did you mean `{c}`? valid runtimes: {}", valid.join(", ")),
            None => format!("valid runtimes: {}", valid.join(", ")),
        };
        self.error(Some(r.pos), format!("unknown runtime `{id}`"), Some(hint));
        None
    }

    /// `build: {context, dockerfile, args}`.
    fn build(&mut self, node: &Node) -> Option<Build> {
        let f = self.fields(node, "`build`", &["context", "dockerfile", "args"])?;
        let Some(context_node) = f.get("context") else {
            self.error(
                Some(node.pos),
                "`build` without `context`",
                Some("the directory to build, relative to this file, e.g. `context: .`".into()),
            );
            return None;
        };
        let context = self.package(context_node, "build `context`")?;
        if context.zip {
            self.error(
                Some(context_node.pos),
                "build `context` must be a directory",
                None,
            );
            return None;
        }
        let dockerfile = match f.get("dockerfile") {
            Some(d) => self.string(d, "build `dockerfile`")?,
            None => "Dockerfile".to_string(),
        };
        if !context.path.join(&dockerfile).is_file() {
            let pos = f.get("dockerfile").map_or(context_node.pos, |d| d.pos);
            self.error(
                Some(pos),
                format!(
                    "no `{dockerfile}` in the build context {}",
                    context.path.display()
                ),
                Some("`dockerfile` is relative to `context`".into()),
            );
            return None;
        }
        let args = match f.get("args") {
            None => BTreeMap::new(),
            Some(a) => self.build_args(a)?,
        };
        Some(Build {
            context: context.path,
            dockerfile,
            args,
            pos: node.pos,
        })
    }

    fn build_args(&mut self, node: &Node) -> Option<BTreeMap<String, String>> {
        let Value::Map(entries) = &node.value else {
            self.wrong_kind(node, "build `args`", "a mapping of names to values");
            return None;
        };
        let mut args = HashMap::new();
        for (key, value) in entries {
            let text = self.scalar(value, &format!("build arg `{}`", key.name))?;
            args.insert(key.name.clone(), text);
        }
        Some(args.into_iter().collect())
    }
}

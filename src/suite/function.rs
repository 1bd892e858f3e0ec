//! Decodes `function:`: the image (from `runtime:` or `image:`), handler, code, layers,
//! environment and limits, checking what can be checked before anything runs.

use std::collections::BTreeMap;
use std::path::Path;

use super::edge::EdgeTrigger;
use super::fields::Ctx;
use super::node::{Node, Value};
use super::{Architecture, Credentials, Function};

/// The keys of `function:`.
pub(super) const FIELDS: &[&str] = &[
    "name",
    "runtime",
    "image",
    "handler",
    "code",
    "layers",
    "environment",
    "timeout",
    "memory",
    "ephemeral_storage",
    "aws_credentials",
    "architecture",
    "edge",
    "build",
    "network",
    "add_hosts",
    "http",
];

impl Ctx<'_> {
    pub(super) fn function(&mut self, node: &Node) -> Option<Function> {
        if let Value::Map(entries) = &node.value
            && entries
                .iter()
                .any(|(k, _)| k.name == "template" || k.name == "resource")
        {
            return self.template_function(node);
        }
        self.declared_function(node)
    }

    /// A function declared in the suite, or resolved from a template and merged with the
    /// suite's own keys.
    pub(super) fn declared_function(&mut self, node: &Node) -> Option<Function> {
        let f = self.fields(node, "`function`", FIELDS)?;
        let mut ok = true;
        let name = match f.get("name") {
            Some(n) => self.string(n, "`name`"),
            None => Some(
                self.file
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "function".into()),
            ),
        };
        let (image, custom_runtime, build) = match self.image_source(node, &f) {
            Some((image, custom, build)) => (Some(image), custom, build),
            None => (None, false, None),
        };
        // Only a function whose runtime resolved needs a handler and code: after an unknown
        // runtime or a conflict, asking for them would be noise.
        let by_runtime = f.get("runtime").is_some() && image.is_some();
        let runtime_id = match (&image, f.get("runtime")) {
            (Some(_), Some(r)) => self.string(r, "`runtime`"),
            _ => None,
        };
        let code_node = f.get("code");
        let handler = match f.get("handler") {
            Some(h) => self
                .string(h, "`handler`")
                .filter(|handler| {
                    self.handler_shape(h, handler, runtime_id.as_deref(), image.as_deref())
                })
                .map(Some),
            None if by_runtime && !custom_runtime => {
                self.error(
                    Some(node.pos),
                    "missing `handler`",
                    Some(
                        "for example `handler: app.handler` (module `app`, function `handler`)"
                            .into(),
                    ),
                );
                None
            }
            // Custom runtimes ignore the handler, but the entrypoint requires one.
            None if custom_runtime => Some(Some("bootstrap".to_string())),
            None => Some(None),
        };
        let code = match code_node {
            Some(c) => self
                .package(c, "`code`")
                .inspect(|code| {
                    // A zip is checked once it is unpacked.
                    if custom_runtime && !code.zip {
                        self.check_bootstrap(c, &code.path);
                    }
                })
                .map(Some),
            None if by_runtime => {
                self.error(
                    Some(node.pos),
                    "missing `code`",
                    Some("the directory with the built function, relative to this file".into()),
                );
                None
            }
            None => Some(None),
        };
        let layers = match f.get("layers") {
            None => Some(Vec::new()),
            Some(l) => match &l.value {
                Value::Seq(items) => {
                    let paths: Vec<_> = items.iter().map(|i| self.package(i, "layer")).collect();
                    paths.into_iter().collect::<Option<Vec<_>>>()
                }
                _ => {
                    self.wrong_kind(l, "`layers`", "a list of directories or .zip files");
                    None
                }
            },
        };
        for layer in layers.iter().flatten() {
            if let Some((said, fix)) = super::layout::problem(layer, runtime_id.as_deref()) {
                self.warn(
                    layer.pos,
                    format!("layer {}: {said}", layer.path.display()),
                    fix,
                );
            }
        }
        if let (Some(Some(handler)), Some(Some(code)), Some(node), Some(layers)) =
            (&handler, &code, f.get("handler"), &layers)
            && let Some(family) = dotted_handler(runtime_id.as_deref(), image.as_deref())
        {
            self.handler_found(node, handler, family, code, layers.is_empty());
        }
        let environment = match f.get("environment") {
            None => Some((BTreeMap::new(), Vec::new())),
            Some(e) => self.environment(e),
        };
        let timeout = match f.get("timeout") {
            None => Some(3),
            Some(t) => self.integer(t, "`timeout`", 1, 900, "seconds"),
        };
        let memory = match f.get("memory") {
            None => Some(128),
            Some(m) => self.integer(m, "`memory`", 128, 10240, "MB"),
        };
        let ephemeral_storage = match f.get("ephemeral_storage") {
            None => Some(512),
            Some(m) => self.integer(m, "`ephemeral_storage`", 512, 10240, "MB"),
        };
        let aws_credentials = match f.get("aws_credentials") {
            None => Some(Credentials::Placeholder),
            Some(c) => self.choice(c, "`aws_credentials`", Credentials::NAMED),
        };
        let architecture = match f.get("architecture") {
            None => Some(Architecture::X86_64),
            Some(a) => self.choice(a, "`architecture`", Architecture::NAMED),
        };
        let edge = match f.get("edge") {
            None => Some(None),
            Some(e) => self.choice(e, "`edge`", EdgeTrigger::NAMED).map(Some),
        };
        ok &= ephemeral_storage.is_some() && aws_credentials.is_some() && edge.is_some();
        ok &= architecture.is_some();
        let network = match f.get("network") {
            None => Some(None),
            Some(n) => self
                .string(n, "`network`")
                .filter(|name| self.network_mode(n, name))
                .map(Some),
        };
        let add_hosts = match f.get("add_hosts") {
            None => Some(BTreeMap::new()),
            Some(h) => self.add_hosts(h),
        };
        let http = match f.get("http") {
            None => Some(Vec::new()),
            Some(h) => self.routes(h),
        };
        ok &= network.is_some() && add_hosts.is_some() && http.is_some();
        ok &= name.is_some() && image.is_some() && handler.is_some() && code.is_some();
        ok &= layers.is_some() && environment.is_some() && timeout.is_some() && memory.is_some();
        if !ok {
            return None;
        }
        let function = Function {
            name: name?,
            image: image?,
            handler: handler?,
            custom_runtime,
            code: code?,
            layers: layers?,
            environment: environment.clone()?.0,
            caller_vars: environment?.1,
            secrets: Vec::new(),
            resource: None,
            tracing: false,
            timeout: timeout?,
            memory: memory?,
            runtime: runtime_id,
            ephemeral_storage: ephemeral_storage?,
            aws_credentials: aws_credentials?,
            architecture: architecture?,
            network: network?,
            add_hosts: add_hosts?,
            build,
            edge: edge?,
            http: http?,
            authorizers: std::mem::take(&mut self.authorizers),
            pos: node.pos,
        };
        self.edge_rules(node, &f, &function);
        Some(function)
    }

    fn check_bootstrap(&mut self, node: &Node, code: &Path) {
        if let Some((message, hint)) = bootstrap_problem(code, None) {
            self.error(Some(node.pos), message, Some(hint));
        }
    }

    /// `add_hosts: {name: address}`, as `docker run --add-host` takes them.
    fn add_hosts(&mut self, node: &Node) -> Option<BTreeMap<String, String>> {
        let Value::Map(entries) = &node.value else {
            self.wrong_kind(node, "`add_hosts`", "a mapping of host names to addresses");
            return None;
        };
        let mut hosts = BTreeMap::new();
        for (key, value) in entries {
            let address = self.string(value, &format!("the address of `{}`", key.name))?;
            let valid = address == "host-gateway" || address.parse::<std::net::IpAddr>().is_ok();
            if !valid {
                self.error(
                    Some(value.pos),
                    format!("`{address}` is not an IP address"),
                    Some(
                        "give an IPv4 or IPv6 address, or `host-gateway` for the engine's host"
                            .into(),
                    ),
                );
                return None;
            }
            hosts.insert(key.name.clone(), address);
        }
        Some(hosts)
    }
}

/// Runtimes whose handler is `module.function` (`file.function`, `file.method`): their
/// runtime splits it at the last dot, and without one every invocation fails at init.
fn dotted_handler(runtime: Option<&str>, image: Option<&str>) -> Option<&'static str> {
    let family = |name: &str| {
        [
            ("python", "Python"),
            ("nodejs", "Node.js"),
            ("ruby", "Ruby"),
        ]
        .into_iter()
        .find(|(prefix, _)| name.starts_with(prefix))
        .map(|(_, family)| family)
    };
    match (runtime, image) {
        (Some(runtime), _) => family(runtime),
        (None, Some(image)) => image
            .strip_prefix("public.ecr.aws/lambda/")
            .and_then(family),
        _ => None,
    }
}

impl Ctx<'_> {
    /// Whether `handler` has the shape its runtime needs; says why not.
    fn handler_shape(
        &mut self,
        node: &Node,
        handler: &str,
        runtime: Option<&str>,
        image: Option<&str>,
    ) -> bool {
        let Some(family) = dotted_handler(runtime, image) else {
            return true;
        };
        let fine = handler
            .rsplit_once('.')
            .is_some_and(|(module, function)| !module.is_empty() && !function.is_empty());
        if !fine {
            self.error(
                Some(node.pos),
                format!("`handler: {handler}` is not `module.function`"),
                Some(format!(
                    "{family} handlers name a file and a function in it: `app.handler` is the function `handler` in the file app"
                )),
            );
        }
        fine
    }

    /// Says at the `handler:` line when the code has no file for the handler's module (and no
    /// layer could hold it), or the file never names the handler's function.
    fn handler_found(
        &mut self,
        node: &Node,
        handler: &str,
        family: &str,
        code: &super::Package,
        no_layers: bool,
    ) {
        match super::handler::check(handler, family, code) {
            Some(super::handler::Finding::NoFile { tried }) if no_layers => self.warn(
                node.pos,
                format!(
                    "`handler: {handler}`: the code has no {}; the runtime will fail with Runtime.ImportModuleError",
                    tried.join(" nor ")
                ),
                "name the file the handler is in, relative to `code`, then its function: `handler: FILE.FUNCTION`".into(),
            ),
            Some(super::handler::Finding::Undefined {
                file,
                function,
                defines,
            }) => {
                let module = super::handler::split(handler, family).map_or(handler, |(m, _)| m);
                let near = crate::suite::closest(&function, defines.iter().map(String::as_str))
                    .or(defines.first().map(String::as_str).filter(|_| defines.len() == 1));
                let hint = match near {
                    Some(near) => format!(
                        "did you mean `handler: {module}.{near}`? {file} defines: {}",
                        defines.join(", ")
                    ),
                    None if defines.is_empty() => format!("{file} defines no function lambda-ci can see"),
                    None => format!("{file} defines: {}", defines.join(", ")),
                };
                self.warn(
                    node.pos,
                    format!(
                        "`handler: {handler}`: {file} never names `{function}`; the runtime will fail with Runtime.HandlerNotFound"
                    ),
                    hint,
                );
            }
            _ => {}
        }
    }

    /// Whether `network` is one lambda-ci can use; says why not.
    fn network_mode(&mut self, node: &Node, name: &str) -> bool {
        let why = match name {
            "none" => "a container without a network cannot be invoked",
            _ if name.starts_with("container:") => {
                "a container sharing another's network gets no ports of its own, so lambda-ci could not reach the function in it"
            }
            _ => return true,
        };
        self.error(
            Some(node.pos),
            format!("`network: {name}` is not supported: {why}"),
            Some("join a user-defined network (`docker network create ci`) by its name; to reach a service on the host, add `add_hosts: {my-host: host-gateway}`".into()),
        );
        false
    }
}

/// What is wrong with a custom runtime's code directory, with a hint: the runtime starts
/// `bootstrap` from the root of the code, and without it every invocation fails with an empty
/// 502, so it is said before anything runs. `zip` names the archive the code was unpacked from.
pub(crate) fn bootstrap_problem(code: &Path, zip: Option<&Path>) -> Option<(String, String)> {
    use std::os::unix::fs::PermissionsExt;
    let bootstrap = code.join("bootstrap");
    // Shown without the `..` of a path relative to the suite.
    let bootstrap_shown = super::fields::normalised(&bootstrap);
    let shown = match zip {
        Some(zip) => format!("`bootstrap` in {}", zip.display()),
        None => bootstrap_shown.display().to_string(),
    };
    match std::fs::metadata(&bootstrap) {
        Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => None,
        Ok(m) if m.is_file() => Some((
            format!("{shown} is not executable"),
            match zip {
                Some(_) => "run `chmod +x bootstrap` before zipping; zips made on Windows carry no modes, build them with a tool that sets them".into(),
                None => format!("run `chmod +x {}`", bootstrap_shown.display()),
            },
        )),
        _ => Some((
            format!("`code` has no `bootstrap` ({shown} does not exist)"),
            "custom runtimes (provided.*) need an executable named `bootstrap` at the root of their code".into(),
        )),
    }
}

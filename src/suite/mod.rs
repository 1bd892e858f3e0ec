//! The suite model: what a suite file declares, resolved and validated, with source positions.
//!
//! Loading never touches Docker or the network; it only reads suite files and checks that the
//! paths they name exist.

mod assertion;
mod authorizer;
mod bytes;
mod case;
pub mod check;
mod diagnostics;
mod each;
pub mod edge;
mod environment;
mod expect;
mod fields;
mod files;
mod from_template;
pub(crate) mod function;
mod handler;
mod http;
mod image;
mod layout;
pub mod node;
pub mod read;
pub mod request;
pub mod runtime;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_expect;
#[cfg(test)]
mod tests_from_template;
#[cfg(test)]
mod tests_http;
#[cfg(test)]
mod tests_load;
#[cfg(test)]
mod tests_template;
pub mod vars;
mod walk;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use check::{Check, CheckKind, Expectation, Mode};
pub(crate) use diagnostics::closest;
pub use diagnostics::{LoadError, LoadErrors};
pub use files::{
    load_bytes, load_bytes_with, load_paths, load_paths_warning, load_paths_warning_with,
    load_paths_with,
};

/// What the command line says about loading: the parameter values passed to templates
/// (`--parameter-overrides`) and the `samconfig.toml` environment read (`--config-env`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadOptions {
    pub parameters: Vec<(String, String)>,
    pub config_env: Option<String>,
}
pub use node::Pos;

/// `text` with every character but ASCII letters, digits, `-` and `_` made a `-`: what
/// function names, container names and image tags allow.
pub fn safe_name(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// One suite file: a function and the cases run against it.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The suite file, as the user would write it (relative to the working directory if possible).
    pub file: PathBuf,
    pub function: Function,
    /// `concurrency:`: how many containers of the function may serve its cases at once.
    pub concurrency: usize,
    /// `isolation:`: whether cases share warm containers or each gets a fresh one.
    pub isolation: Isolation,
    /// `runtime_api:`: what serves the Runtime API, when the suite chooses.
    pub runtime_api: Option<RuntimeApi>,
    pub cases: Vec<Case>,
    /// The other files it reads: its cases' `event_file`s, absolute.
    pub inputs: Vec<PathBuf>,
}

impl Suite {
    /// Whether `other` declares the same function, wherever in the file it is written: the
    /// same containers serve both.
    pub fn same_function(&self, other: &Suite) -> bool {
        self.runtime_api == other.runtime_api && same_function(&self.function, &other.function)
    }

    /// Where the suite's snapshots are stored: `api.yaml` → `api.snap.yaml`, beside it.
    pub fn snapshot_file(&self) -> PathBuf {
        let stem = self
            .file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.file.with_file_name(format!("{stem}.snap.yaml"))
    }
}

/// Whether two declarations are of the same function, wherever each is written.
pub(crate) fn same_function(a: &Function, b: &Function) -> bool {
    fn unplaced(f: &Function) -> Function {
        let mut f = f.clone();
        f.pos = Pos::default();
        for (_, pos) in &mut f.caller_vars {
            *pos = Pos::default();
        }
        for package in f.code.iter_mut().chain(&mut f.layers) {
            package.pos = Pos::default();
        }
        if let Some(build) = &mut f.build {
            build.pos = Pos::default();
        }
        f.authorizers = f.authorizers.iter().map(unplaced).collect();
        f
    }
    unplaced(a) == unplaced(b)
}

/// The function under test, as declared under `function:`.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    /// `name:`, or the suite file's stem.
    pub name: String,
    /// The image to boot, resolved from `runtime:` or given as `image:`.
    pub image: String,
    /// The handler passed to the image's entrypoint, if any.
    pub handler: Option<String>,
    /// Custom runtimes (`provided.*`) keep their `bootstrap` in the code, where the image's
    /// entrypoint does not look; the code is then mounted at `/var/runtime` as well.
    pub custom_runtime: bool,
    /// The code: a directory or a `.zip` deployment package.
    pub code: Option<Package>,
    /// Layers, in order: later ones win where files collide.
    pub layers: Vec<Package>,
    pub environment: BTreeMap<String, String>,
    /// The caller's variables its `environment:` takes with `${NAME}`, each with where.
    pub caller_vars: Vec<(String, Pos)>,
    /// Values no report may show: the template's `NoEcho` parameters, by name.
    pub secrets: Vec<(String, String)>,
    /// The template resource it was read from, when the suite names one.
    pub resource: Option<Resource>,
    /// X-Ray active tracing (a template's `Tracing: Active`): an invocation the caller gives
    /// no trace header gets a sampled one (`Sampled=1`), as Lambda makes it.
    pub tracing: bool,
    /// Seconds, covering init and handler, as in Lambda.
    pub timeout: u32,
    /// Megabytes, enforced as the container's memory limit.
    pub memory: u32,
    /// The Lambda runtime identifier, when the function names one (`python3.12`).
    pub runtime: Option<String>,
    /// Megabytes of `/tmp`, the only writable path, as Lambda's ephemeral storage.
    pub ephemeral_storage: u32,
    /// Which AWS credentials the function sees.
    pub aws_credentials: Credentials,
    /// The instruction set the function is built for.
    pub architecture: Architecture,
    /// An existing Docker network the function's containers join (to reach a database or a
    /// LocalStack service container).
    pub network: Option<String>,
    /// Extra `/etc/hosts` entries: host name to address.
    pub add_hosts: BTreeMap<String, String>,
    /// How to build the function's image, for `build:`; `image` then only describes it.
    pub build: Option<Build>,
    /// The CloudFront trigger of a Lambda@Edge function, whose rules then apply.
    pub edge: Option<edge::EdgeTrigger>,
    /// Its front doors: routes of REST and HTTP APIs, and its function URL.
    pub http: Vec<crate::gateway::Route>,
    /// The functions its routes' Lambda authorizers invoke, each by its name.
    pub authorizers: Vec<Function>,
    pub pos: Pos,
}

/// A function resource of a deployment template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// The template file read (after `sam build`'s, when there is one).
    pub template: PathBuf,
    /// How the suite names it (`GetOrder`, `Child/GetOrder`, a CDK construct path).
    pub id: String,
    /// Its logical id in `template`.
    pub logical_id: String,
}

/// The instruction set a function is built for, as Lambda names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    #[default]
    X86_64,
    Arm64,
}

impl Architecture {
    /// Every architecture by its name in suites.
    pub const NAMED: &[(&'static str, Architecture)] = &[
        ("x86_64", Architecture::X86_64),
        ("arm64", Architecture::Arm64),
    ];

    /// Lambda's name: `x86_64`, `arm64`.
    pub fn name(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }

    /// The container platform: `linux/amd64`, `linux/arm64`.
    pub fn platform(self) -> &'static str {
        match self {
            Architecture::X86_64 => "linux/amd64",
            Architecture::Arm64 => "linux/arm64",
        }
    }

    /// As images name it: `amd64`, `arm64`.
    pub fn image_arch(self) -> &'static str {
        match self {
            Architecture::X86_64 => "amd64",
            Architecture::Arm64 => "arm64",
        }
    }

    /// From an architecture as an engine or image names it (`x86_64`, `amd64`, `aarch64`).
    pub fn from_engine(name: &str) -> Option<Architecture> {
        match name {
            "x86_64" | "amd64" => Some(Architecture::X86_64),
            "aarch64" | "arm64" => Some(Architecture::Arm64),
            _ => None,
        }
    }
}

/// A container image to build for the function, from a Dockerfile.
#[derive(Debug, Clone, PartialEq)]
pub struct Build {
    /// The build context, absolute.
    pub context: PathBuf,
    /// The Dockerfile, relative to the context.
    pub dockerfile: String,
    /// `--build-arg`s.
    pub args: BTreeMap<String, String>,
    pub pos: Pos,
}

/// Which AWS credentials a function sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Credentials {
    /// Harmless placeholders, so SDK credential chains do not fail on empty values; none of
    /// the caller's credentials reach the function.
    #[default]
    Placeholder,
    /// The caller's `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`.
    Inherit,
}

impl Credentials {
    /// Every choice by its name in suites.
    pub const NAMED: &[(&'static str, Credentials)] = &[
        ("placeholder", Credentials::Placeholder),
        ("inherit", Credentials::Inherit),
    ];
}

/// Whether a case runs in a container that served others, as most invocations in Lambda do,
/// or in a fresh one, to test the function's init path every time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Isolation {
    /// Containers stay up and serve case after case.
    #[default]
    Warm,
    /// A fresh container for each case: every invocation initialises the runtime.
    Cold,
}

impl Isolation {
    /// Every choice by its name in suites.
    pub const NAMED: &[(&'static str, Isolation)] =
        &[("warm", Isolation::Warm), ("cold", Isolation::Cold)];
}

/// What serves the Runtime API in a function's container: lambda-ci's own agent, faithful to
/// the service, or the Runtime Interface Emulator the base image carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum RuntimeApi {
    #[default]
    #[serde(rename = "lambda-ci")]
    LambdaCi,
    #[serde(rename = "rie")]
    Rie,
}

impl RuntimeApi {
    /// Every choice by its name in suites and on the command line.
    pub const NAMED: &[(&'static str, RuntimeApi)] = &[
        ("lambda-ci", RuntimeApi::LambdaCi),
        ("rie", RuntimeApi::Rie),
    ];

    pub fn name(self) -> &'static str {
        match self {
            RuntimeApi::LambdaCi => "lambda-ci",
            RuntimeApi::Rie => "rie",
        }
    }
}

/// Files as they are deployed: a directory, or a `.zip` exactly as uploaded to Lambda.
#[derive(Debug, Clone, PartialEq)]
pub struct Package {
    /// Absolute.
    pub path: PathBuf,
    /// A `.zip` to unpack before the run, rather than a directory.
    pub zip: bool,
    /// Where the suite names it.
    pub pos: Pos,
    /// What keeps its files on disk while it is used (a template's inline code, written out).
    pub held: Option<Held>,
}

/// Keeps something alive (a temporary directory) as long as a package that needs it.
#[derive(Clone)]
pub struct Held(pub std::sync::Arc<dyn std::any::Any + Send + Sync>);

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Held")
    }
}

/// What is held makes no difference to what a package is: its path does.
impl PartialEq for Held {
    fn eq(&self, _: &Held) -> bool {
        true
    }
}

/// One case: an event sent to the function and what must come back.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub event: serde_json::Value,
    /// The invocation's context, as the Invoke API carries it.
    pub context: InvokeContext,
    /// `isolation:` of this case, over the suite's.
    pub isolation: Option<Isolation>,
    pub expect: Expectation,
    /// For a `request:` case, the front door it goes through: the function's answer is
    /// judged as the HTTP response that front door returns.
    pub front: Option<request::Front>,
    /// Where the case starts in its suite file.
    pub pos: Pos,
}

/// What an invocation carries besides its event, as the Invoke API has it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InvokeContext {
    /// `ClientContext`: sent base64-encoded in `X-Amz-Client-Context`; the handler reads it as
    /// `context.client_context` (Python) or `context.clientContext` (Node.js).
    pub client_context: Option<serde_json::Value>,
    /// The X-Ray trace header, sent as `X-Amzn-Trace-Id`; the handler sees `_X_AMZN_TRACE_ID`.
    pub trace_id: Option<String>,
}

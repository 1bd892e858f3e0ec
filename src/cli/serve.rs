//! `lambda-ci serve`'s flags: the suites whose functions to serve, or one function described by
//! flags (the `docker run` of the method in one line), and where to listen.

use std::path::PathBuf;

use super::ContainerArgs;
use crate::config::{InlineFunction, ServeConfig};
use crate::error::Error;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Suite files, or directories searched for suites, whose functions are served (default:
    /// `cases`, unless `--handler` describes one function).
    pub paths: Vec<PathBuf>,

    /// Serve every function of a SAM or CloudFormation template (or of the directory holding
    /// `template.yaml`), each by its logical id and its `FunctionName`; with PATHS, theirs too.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["runtime", "handler", "code"])]
    pub template: Option<PathBuf>,

    #[command(flatten)]
    pub passed: super::TemplateArgs,

    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,

    /// The port to listen on (the port of `docker run -p 9000:8080`).
    #[arg(long, default_value_t = 9000)]
    pub port: u16,

    /// The port the functions' API Gateway routes answer HTTP on (3000, as `sam local
    /// start-api`; 0 picks a free one); each function URL answers on a port of its own after it.
    #[arg(long, value_name = "PORT")]
    pub api_port: Option<u16>,

    /// One function to serve, instead of suites: its runtime (`python3.11`, `nodejs22.x`, ...).
    #[arg(long, requires = "handler")]
    pub runtime: Option<String>,

    /// The function's handler (`app.handler`); with `--runtime` and `--code`.
    #[arg(long, requires_all = ["runtime", "code"])]
    pub handler: Option<String>,

    /// The function's code: a directory or a .zip.
    #[arg(long, requires = "handler")]
    pub code: Option<PathBuf>,

    /// A layer (a directory or a .zip); repeat for several, merged into /opt in order.
    #[arg(long, value_name = "PATH", requires = "handler")]
    pub layer: Vec<PathBuf>,

    /// An environment variable of the function; repeat for several.
    #[arg(long, value_name = "K=V", requires = "handler")]
    pub env: Vec<String>,

    /// The function's memory in MB (default 128).
    #[arg(long, value_name = "MB", requires = "handler")]
    pub memory: Option<u64>,

    /// The function's timeout in seconds (default 3).
    #[arg(long, value_name = "SECONDS", requires = "handler")]
    pub timeout: Option<u64>,

    /// The function's name (default `function`, the name RIE's own path uses).
    #[arg(long, requires = "handler")]
    pub name: Option<String>,

    /// A web page origin allowed to call (`http://localhost:3000`); repeat for several, `*`
    /// for any. Browsers' requests are refused otherwise.
    #[arg(long, value_name = "ORIGIN")]
    pub allow_origin: Vec<String>,

    /// A token every call must carry: `Authorization: Bearer TOKEN`, or TOKEN as the access
    /// key id an AWS SDK signs with. Required with a --host other than loopback.
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,

    /// Boot every function's containers at start instead of on their first calls.
    #[arg(long)]
    pub warm: bool,

    /// Do not replace a function's containers when its suite, code or layers change.
    #[arg(long)]
    pub no_watch: bool,

    /// Poll for changes (every 250 ms) instead of relying on inotify, which does not reach
    /// WSL2's Windows drives, Docker Desktop mounts or network file systems.
    #[arg(long, conflicts_with = "no_watch")]
    pub poll: bool,

    #[command(flatten)]
    pub containers: ContainerArgs,
}

impl ServeArgs {
    /// Checks what can be checked before anything starts.
    pub fn validate(self) -> Result<ServeConfig, Error> {
        let inline = match (self.runtime, self.handler, self.code) {
            (Some(runtime), Some(handler), Some(code)) => {
                if !self.paths.is_empty() {
                    return Err(Error::Usage(
                        "serve either the functions of suites (PATHS) or one function from --runtime, --handler and --code, not both".into(),
                    ));
                }
                let mut environment = Vec::new();
                for pair in self.env {
                    let Some((k, v)) = pair.split_once('=') else {
                        return Err(Error::Usage(format!(
                            "--env {pair:?} is not K=V; write e.g. --env TABLE=orders"
                        )));
                    };
                    environment.push((k.to_string(), v.to_string()));
                }
                Some(InlineFunction {
                    name: self.name.unwrap_or_else(|| "function".into()),
                    runtime,
                    handler,
                    code,
                    layers: self.layer,
                    environment,
                    memory: self.memory,
                    timeout: self.timeout,
                })
            }
            _ => None,
        };
        if !crate::docker::is_loopback(&self.host) && self.token.is_none() {
            return Err(Error::Usage(format!(
                "--host {} listens beyond this machine, where anyone who reaches the port could invoke the functions (and the credentials they hold): give --token TOKEN, which every call must carry, or listen on 127.0.0.1",
                self.host
            )));
        }
        if self.token.as_ref().is_some_and(|t| t.len() < 16) {
            return Err(Error::Usage(
                "--token must be at least 16 characters; e.g. --token \"$(openssl rand -hex 16)\""
                    .into(),
            ));
        }
        let paths = match (&inline, self.paths.is_empty()) {
            (None, true) if self.template.is_none() => vec![PathBuf::from("cases")],
            _ => self.paths,
        };
        Ok(ServeConfig {
            load: self.passed.options()?,
            template: self.template.clone(),
            paths,
            inline,
            host: self.host,
            port: self.port,
            api_port: self.api_port,
            allow_origins: self.allow_origin,
            token: self.token,
            warm: self.warm,
            watch: !self.no_watch,
            poll: self.poll,
            pull: self.containers.pull.into(),
            mount: self.containers.mount.into(),
            invoke_host: self.containers.invoke_host,
            aws_credentials: self.containers.aws_credentials.map(Into::into),
            runtime_api: self.containers.runtime_api.map(Into::into),
            env: crate::config::Environment::read(),
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::super::Command;
    use crate::config::ServeConfig;
    use crate::error::Error;

    fn serve_args(args: &[&str]) -> Result<ServeConfig, Error> {
        match super::super::tests::parsed("serve", args) {
            Command::Serve(serve) => serve.validate(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn suites_by_default_and_one_function_from_flags() {
        let config = serve_args(&[]).unwrap();
        assert_eq!(config.paths, [std::path::PathBuf::from("cases")]);
        assert_eq!((config.host.as_str(), config.port), ("127.0.0.1", 9000));
        let config = serve_args(&[
            "--runtime",
            "python3.11",
            "--handler",
            "app.handler",
            "--code",
            "src",
            "--env",
            "A=1=2",
            "--layer",
            "l1",
            "--layer",
            "l2",
            "--port",
            "9100",
        ])
        .unwrap();
        let f = config.inline.unwrap();
        assert_eq!(f.name, "function");
        assert_eq!(f.environment, [("A".to_string(), "1=2".to_string())]);
        assert_eq!(f.layers.len(), 2);
        assert!(config.paths.is_empty());
        assert_eq!(config.port, 9100);
    }

    #[test]
    fn flags_and_suites_together_or_a_bad_env_pair_are_refused() {
        let function = [
            "--runtime",
            "python3.11",
            "--handler",
            "a.b",
            "--code",
            "src",
        ];
        let both = serve_args(&[&["cases"], &function[..]].concat());
        assert!(both.unwrap_err().to_string().contains("not both"));
        let bad = serve_args(&[&function[..], &["--env", "NOEQUALS"]].concat());
        assert!(
            bad.unwrap_err()
                .to_string()
                .contains("--env \"NOEQUALS\" is not K=V")
        );
        let missing = super::super::Cli::try_parse_from(["lambda-ci", "serve", "--handler", "a.b"]);
        assert!(missing.is_err());
    }
}

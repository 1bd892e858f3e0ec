//! What the agent is told: the command that starts the runtime (its arguments), and the
//! function's settings (the environment lambda-ci gives every function container).

use std::time::Duration;

use lambda_ci_wire as wire;

/// The service's account id in ARNs, as RIE has it.
pub const ACCOUNT: &str = "012345678912";

/// How long the init phase may take before it is retried inside the first invocation.
pub const INIT_LIMIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct Config {
    /// The runtime's command: the image's entrypoint and command.
    pub command: Vec<String>,
    /// `_HANDLER` for the runtime, when the entrypoint does not set it.
    pub handler: Option<String>,
    pub timeout: Duration,
    pub memory_mb: u64,
    pub name: String,
    pub version: String,
    pub region: String,
    /// The `INIT_START` line's runtime version.
    pub runtime_version: String,
    /// Where the caller reaches the agent.
    pub invoke_port: u16,
    /// Where the runtime reaches the Runtime API (`AWS_LAMBDA_RUNTIME_API`).
    pub runtime_port: u16,
    pub init_limit: Duration,
    /// Start the runtime only when told to (or by the first invocation), not at once.
    pub hold_init: bool,
    /// Variables of the container the runtime and extensions must not see (`--hide`): the
    /// engine's `HOME` and `HOSTNAME`, and the timeout the agent reads, which the service
    /// never shows a function. [`KEY`] is always among them.
    pub hidden: Vec<String>,
    /// The container's key ([`KEY`]): it marks the platform's lines, so that a function that
    /// prints `START RequestId: ...` cannot frame its output, and callers must show it.
    pub key: Option<String>,
    /// The container shares the host's network (`--ports`): the agent listens on loopback only.
    pub loopback_only: bool,
}

/// The variable that holds the container's key, which no process the agent starts sees.
pub const KEY: &str = wire::KEY_ENV;

/// Why the command line cannot be used.
#[derive(Debug)]
pub struct Usage(pub String);

impl Config {
    /// `lambda-ci-agent [--handler H] [--runtime-version V] [--hold-init] [--hide NAME]...
    /// [--ports INVOKE,RUNTIME] [--] COMMAND...`.
    pub fn from_args(args: impl Iterator<Item = String>) -> Result<Config, Usage> {
        let mut handler = None;
        let mut runtime_version = None;
        let mut hold_init = false;
        let mut hidden = vec![KEY.to_string()];
        let mut ports = None;
        let mut command = Vec::new();
        let mut args = args.skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                wire::HANDLER => handler = Some(value(&mut args, wire::HANDLER)?),
                wire::RUNTIME_VERSION => {
                    runtime_version = Some(value(&mut args, wire::RUNTIME_VERSION)?)
                }
                wire::HOLD_INIT => hold_init = true,
                wire::HIDE => hidden.push(value(&mut args, wire::HIDE)?),
                wire::PORTS => ports = Some(port_pair(&value(&mut args, wire::PORTS)?)?),
                "--" => {
                    command.extend(args.by_ref());
                    break;
                }
                other if other.starts_with("--") => {
                    return Err(Usage(format!("unknown option {other}")));
                }
                _ => {
                    command.push(arg);
                    command.extend(args.by_ref());
                    break;
                }
            }
        }
        if command.is_empty() {
            return Err(Usage("no command starts the runtime".into()));
        }
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let number = |name: &str, default: u64| {
            env(name)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(default)
        };
        let name = env("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|| "function".into());
        Ok(Config {
            command,
            handler,
            timeout: Duration::from_secs(number("AWS_LAMBDA_FUNCTION_TIMEOUT", 3).max(1)),
            memory_mb: number("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", 128),
            version: env("AWS_LAMBDA_FUNCTION_VERSION").unwrap_or_else(|| "$LATEST".into()),
            region: env("AWS_REGION").unwrap_or_else(|| "us-east-1".into()),
            runtime_version: runtime_version.unwrap_or_else(|| "unknown".into()),
            name,
            invoke_port: ports.map_or(wire::INVOKE_PORT, |(invoke, _)| invoke),
            runtime_port: ports.map_or(wire::RUNTIME_PORT, |(_, runtime)| runtime),
            init_limit: INIT_LIMIT,
            hold_init,
            hidden,
            key: env(KEY),
            loopback_only: ports.is_some(),
        })
    }

    /// The function's ARN, as `/next` names it.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{ACCOUNT}:function:{}",
            self.region, self.name
        )
    }

    /// `AWS_LAMBDA_RUNTIME_API`: plain `host:port`, as every runtime client needs it.
    pub fn runtime_api(&self) -> String {
        format!("127.0.0.1:{}", self.runtime_port)
    }
}

/// `INVOKE,RUNTIME`: two port numbers.
fn port_pair(text: &str) -> Result<(u16, u16), Usage> {
    let bad = || {
        Usage(format!(
            "--ports takes INVOKE,RUNTIME (two port numbers), not {text:?}"
        ))
    };
    let (invoke, runtime) = text.split_once(',').ok_or_else(bad)?;
    let port = |p: &str| p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(bad);
    Ok((port(invoke)?, port(runtime)?))
}

fn value(args: &mut impl Iterator<Item = String>, name: &str) -> Result<String, Usage> {
    args.next()
        .ok_or_else(|| Usage(format!("{name} needs a value")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, Usage> {
        Config::from_args(
            std::iter::once("agent")
                .chain(args.iter().copied())
                .map(String::from),
        )
    }

    #[test]
    fn the_command_follows_the_options() {
        let config = parse(&[
            "--handler",
            "app.handler",
            "--",
            "/lambda-entrypoint.sh",
            "x",
        ])
        .unwrap();
        assert_eq!(config.command, ["/lambda-entrypoint.sh", "x"]);
        assert_eq!(config.handler.as_deref(), Some("app.handler"));
        let config = parse(&["--hide", "HOME", "--hide", "HOSTNAME", "/bin/x"]).unwrap();
        assert_eq!(config.hidden, [KEY, "HOME", "HOSTNAME"]);
        assert_eq!((config.invoke_port, config.runtime_port), (8080, 9001));
        assert!(!config.loopback_only);
        let config = parse(&["--ports", "40001,40002", "/bin/x"]).unwrap();
        assert_eq!((config.invoke_port, config.runtime_port), (40001, 40002));
        assert!(config.loopback_only);
        assert!(parse(&["--ports", "40001", "/bin/x"]).is_err());
        assert!(parse(&["--ports", "0,1", "/bin/x"]).is_err());
        assert!(parse(&["--hide"]).is_err());
        let config = parse(&["/bin/bootstrap", "--flag"]).unwrap();
        assert_eq!(config.command, ["/bin/bootstrap", "--flag"]);
        assert!(parse(&[]).is_err());
        assert!(parse(&["--what"]).is_err());
        assert!(parse(&["--handler"]).is_err());
    }
}

//! `lambda-ci serve`: the functions of the given suites (or one described by flags), each in its
//! base image, behind a Lambda Invoke API endpoint that SDKs, the AWS CLI and curl call, until
//! Ctrl-C; then every container is removed. It stands on the runner: the same preparation
//! (images, delivery, blueprints) and the same container slots as `run`.

mod api;
mod function;
mod http;
mod print;

use std::io::Write;
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::artifact::Unpacked;
use crate::config::{InlineFunction, ServeConfig};
use crate::docker::{Engine, OwnedContainers};
use crate::error::Error;
use crate::plan::SuiteId;
use crate::runner::{self, Runner};
use crate::suite::{self, Suite};
use function::Function;
use print::Printer;

/// How many calls may wait for one function's containers; more are refused with 429.
const QUEUE_LIMIT: usize = 1000;

/// Serves until interrupted; the exit code.
pub async fn serve(config: ServeConfig) -> Result<u8, Error> {
    let scratch = tempfile::Builder::new()
        .prefix("lambda-ci-serve-")
        .tempdir()
        .map_err(|e| Error::Usage(format!("cannot make a temporary directory: {e}")))?;
    let suites = load(&config, scratch.path())?;
    let planned: Vec<&Suite> = suites.iter().collect();
    config.check_inherited_credentials(&planned)?;
    let unpacked = Arc::new(Unpacked::unpack(&suites).map_err(Error::Load)?);
    let engine = Engine::connect().await?;
    let address = format!("{}:{}", config.host, config.port);
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .map_err(|e| Error::Usage(listen_error(&address, &e)))?;
    let run_id = crate::run_id();
    let owned = OwnedContainers::default();
    let (stop, stopped) = tokio::sync::watch::channel(None);
    let names: Vec<String> = suites.iter().map(|s| s.function.name.clone()).collect();
    let runner = Arc::new(Runner {
        engine: engine.clone(),
        owned: owned.clone(),
        suites: Arc::new(suites),
        prepared: Default::default(),
        unpacked,
        pull: config.pull,
        credentials: config.aws_credentials,
        cancellation: Default::default(),
        jobs: usize::MAX,
        mount: config.mount,
        invoke_host: config
            .invoke_host
            .clone()
            .unwrap_or_else(|| engine.host.clone()),
        caller: config.env.caller.clone(),
        keep: false,
        snapshots: Default::default(),
        update_snapshots: false,
        attachments: scratch.path().join("actual"),
        run_id: run_id.clone(),
        stop: stopped,
    });
    let printer = Printer::new(names.clone());
    let (events, received) = tokio::sync::mpsc::unbounded_channel();
    let out = runner::live(events, runner.redactor());
    tokio::spawn(printer.clone().events(received));
    let boots = Arc::new(Semaphore::new(runner::boots_at_once()));
    let functions: Vec<Arc<Function>> = (0..names.len())
        .map(|i| {
            let (runner, boots) = (runner.clone(), boots.clone());
            Function::new(runner, SuiteId(i), QUEUE_LIMIT, boots, out.clone())
        })
        .collect();
    let base = format!("http://{address}/2015-03-31/functions");
    for f in &functions {
        printer.of(&f.name, &format!("{base}/{}/invocations", f.name));
    }
    if let [only] = functions.as_slice() {
        printer.of(
            &only.name,
            &format!("{base}/function/invocations (RIE's path)"),
        );
    }
    printer.line(&format!(
        "serving {} function{} on http://{address} (AWS SDKs: endpoint_url=\"http://{address}\"); Ctrl-C stops and removes the containers",
        functions.len(),
        if functions.len() == 1 { "" } else { "s" }
    ));
    if config.warm {
        for f in &functions {
            f.warm();
        }
    }
    let api = Arc::new(http::Api::new(&functions, printer.clone()));
    let serving = tokio::spawn(api.run(listener));
    let signal = crate::cleanup::interrupted().await;
    serving.abort();
    let _ = stop.send(Some(format!("{} by {}", signal.word, signal.name)));
    printer.line(&format!("{}: removing the containers", signal.word));
    for f in &functions {
        f.stop().await;
    }
    owned.sweep(&engine, &run_id).await;
    Ok(crate::exit::SUCCESS)
}

/// The suites to serve, one per function name: the first that declares a name serves it.
fn load(config: &ServeConfig, scratch: &std::path::Path) -> Result<Vec<Suite>, Error> {
    let paths = match &config.inline {
        Some(f) => vec![inline_suite(f, scratch)?],
        None => config.paths.clone(),
    };
    let loaded = suite::load_paths(&paths).map_err(Error::Load)?;
    let mut suites: Vec<Suite> = Vec::new();
    for suite in loaded {
        match suites
            .iter()
            .find(|s| s.function.name == suite.function.name)
        {
            Some(first) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "warning: function {} is declared in {} and in {}: serving the one in {}",
                    suite.function.name,
                    first.file.display(),
                    suite.file.display(),
                    first.file.display()
                );
            }
            None => suites.push(suite),
        }
    }
    Ok(suites)
}

/// A suite file for the function `serve`'s flags describe, so that it is read and checked
/// as any suite is.
fn inline_suite(
    f: &InlineFunction,
    scratch: &std::path::Path,
) -> Result<std::path::PathBuf, Error> {
    let quote = |s: &str| serde_json::Value::from(s).to_string();
    let path = |p: &std::path::Path| {
        let absolute = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        quote(&absolute.display().to_string())
    };
    let mut yaml = format!(
        "function:\n  name: {}\n  runtime: {}\n  handler: {}\n  code: {}\n",
        quote(&f.name),
        quote(&f.runtime),
        quote(&f.handler),
        path(&f.code)
    );
    if !f.layers.is_empty() {
        let layers: Vec<String> = f.layers.iter().map(|l| path(l)).collect();
        yaml.push_str(&format!("  layers: [{}]\n", layers.join(", ")));
    }
    if !f.environment.is_empty() {
        yaml.push_str("  environment:\n");
        for (k, v) in &f.environment {
            yaml.push_str(&format!("    {}: {}\n", quote(k), quote(v)));
        }
    }
    if let Some(memory) = f.memory {
        yaml.push_str(&format!("  memory: {memory}\n"));
    }
    if let Some(timeout) = f.timeout {
        yaml.push_str(&format!("  timeout: {timeout}\n"));
    }
    // A suite has cases; this one's are never run.
    yaml.push_str("cases:\n  - name: served\n    event: {}\n");
    let file = scratch.join("serve.yaml");
    std::fs::write(&file, yaml)
        .map_err(|e| Error::Usage(format!("cannot write {}: {e}", file.display())))?;
    Ok(file)
}

fn listen_error(address: &str, e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::AddrInUse {
        format!(
            "cannot listen on {address}: the port is in use; stop what listens there, or pick another with --port (e.g. --port 9001)"
        )
    } else {
        format!("cannot listen on {address}: {e}; pick another address with --host and --port")
    }
}

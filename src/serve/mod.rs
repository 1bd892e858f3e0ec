//! `lambda-ci serve`: the functions of the given suites (or one described by flags), each in its
//! base image, behind a Lambda Invoke API endpoint that SDKs, the AWS CLI and curl call, until
//! Ctrl-C; then every container is removed. It stands on the runner: the same preparation
//! (images, delivery, blueprints) and the same container slots as `run`.

mod api;
mod doors;
mod function;
mod guard;
mod http;
mod listen;
mod print;
mod reload;
mod stream;
mod template;

use std::sync::Arc;

use crate::artifact::Unpacked;
use crate::config::{InlineFunction, ServeConfig};
use crate::docker::{Engine, OwnedContainers};
use crate::error::Error;
use crate::gateway;
use crate::plan::SuiteId;
use crate::runner::{self, Runner};
use crate::suite::{self, Suite};
use function::Function;
use print::Printer;

/// Where the functions' API routes answer unless `--api-port` says (as `sam local start-api`).
const DEFAULT_API_PORT: u16 = 3000;

/// How many calls may wait for one function's containers; more are refused with 429.
const QUEUE_LIMIT: usize = 1000;

/// What the server keeps while it runs: the engine, its containers, what it prints, and
/// every version of every function it served.
struct Server {
    config: ServeConfig,
    scratch: tempfile::TempDir,
    /// The suite files served (for flags, the one written at start), read again on reload.
    paths: Vec<std::path::PathBuf>,
    load: suite::LoadOptions,
    engine: Engine,
    owned: OwnedContainers,
    /// This server's run ids: one per set of functions made (at start, then per reload).
    run_ids: Vec<String>,
    stop: tokio::sync::watch::Sender<Option<String>>,
    printer: Printer,
    out: runner::Emitter,
    /// The session of the functions made last: the next version's succeeds it (the same
    /// engine and boot limit).
    session: Option<runner::Session>,
    /// Every version of every function still serving or draining, stopped at the end; a
    /// drained version is gone, and with it its containers, unpacked archives and agent.
    every: Vec<std::sync::Weak<Function>>,
    /// The secrets of every runner made, kept out of what is printed.
    secrets: Vec<(String, String)>,
}

/// Serves until interrupted; the exit code.
pub async fn serve(config: ServeConfig) -> Result<u8, Error> {
    let scratch = crate::scratch::dir("serve")
        .map_err(|e| Error::Usage(format!("cannot make a temporary directory: {e}")))?;
    // The flags' suite is written once: written again on each reload, it would be a change
    // to reload for, for ever.
    let mut said = Vec::new();
    let paths = match (&config.inline, &config.template) {
        (Some(f), _) => vec![inline_suite(f, scratch.path())?],
        (None, Some(t)) => {
            let (mut files, warnings) = template::suites(t, &config.load, scratch.path())?;
            said = warnings;
            files.extend(config.paths.iter().cloned());
            files
        }
        (None, None) => config.paths.clone(),
    };
    let (suites, mut warnings) = load(&paths, &config.load)?;
    said.append(&mut warnings);
    let warnings = said;
    config.check_inherited_credentials(&suites.iter().collect::<Vec<_>>())?;
    let engine = crate::connect_engine(&config.env.engine).await?;
    let address = format!("{}:{}", config.host, config.port);
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .map_err(|e| Error::Usage(listen_error(&address, &e)))?;
    let names: Vec<String> = suites.iter().map(|s| s.function.name.clone()).collect();
    let printer = Printer::new(names);
    // On the server's one stream, in order with everything else it says.
    for warning in &warnings {
        printer.line(warning);
    }
    let (events, received) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(printer.clone().events(received));
    let mut server = Server {
        scratch,
        paths,
        load: config.load.clone(),
        engine,
        owned: OwnedContainers::default(),
        run_ids: Vec::new(),
        stop: tokio::sync::watch::channel(None).0,
        printer,
        out: runner::live(events),
        session: None,
        every: Vec::new(),
        secrets: Vec::new(),
        config,
    };
    let functions = server.functions(suites)?;
    let c = &server.config;
    let guard = guard::Guard::new(&c.host, c.port, c.allow_origins.clone(), c.token.clone());
    let api = Arc::new(http::Api::new(&functions, server.printer.clone(), guard));
    let doors = server.open_doors(&functions, &api).await?;
    server.announce(&functions, &address);
    // The API holds the functions from now on: a version it lets go of is dropped.
    drop(functions);
    let serving = tokio::spawn(api.clone().run(listener));
    let signal = server.until_stopped(&api).await;
    serving.abort();
    for door in doors {
        door.abort();
    }
    let _ = server
        .stop
        .send(Some(format!("{} by {}", signal.word, signal.name)));
    server
        .printer
        .line(&format!("{}: removing the containers", signal.word));
    for f in server.every.iter().filter_map(std::sync::Weak::upgrade) {
        f.stop().await;
    }
    // Newest first: the first run's network, which every version's containers joined, goes last.
    for run_id in server.run_ids.iter().rev() {
        let left = server.owned.sweep(&server.engine, run_id).await;
        crate::docker::OwnedContainers::say_left(&left, run_id);
    }
    Ok(crate::exit::SUCCESS)
}

impl Server {
    /// The functions of `suites`, on a runner of their own.
    fn functions(&mut self, suites: Vec<Suite>) -> Result<Vec<Arc<Function>>, Error> {
        let unpacked = Arc::new(Unpacked::unpack(&suites).map_err(Error::Load)?);
        let run_id = match self.run_ids.first() {
            Some(first) => format!("{first}-{}", self.run_ids.len()),
            None => crate::run_id(),
        };
        self.run_ids.push(run_id.clone());
        let config = &self.config;
        let planned: Vec<&Suite> = suites.iter().collect();
        let caller = config.env.caller_for(&planned)?;
        let count = suites.len();
        let session = match &self.session {
            Some(last) => last.successor(run_id),
            None => runner::Session::new(self.engine.clone(), self.owned.clone(), run_id),
        };
        self.session = Some(session.clone());
        let runner = Runner::builder(&session, suites, unpacked)
            .pull(config.pull)
            .credentials(config.aws_credentials)
            .runtime_api(config.runtime_api)
            // Calls, not cases, bound a server: each function's `concurrency` does.
            .jobs(usize::MAX)
            .mount(config.mount)
            .invoke_host(config.invoke_host.clone())
            .caller(caller)
            .attachments(self.scratch.path().join("actual"))
            .stop(self.stop.subscribe())
            .build();
        let runner = Arc::new(runner);
        crate::check_plain_engine(&self.engine, &config.env.engine, &runner.secrets())?;
        self.secrets.extend(runner.secrets());
        self.printer.redact(&self.secrets);
        let made: Vec<Arc<Function>> = (0..count)
            .map(|i| Function::new(runner.clone(), SuiteId(i), QUEUE_LIMIT, self.out.clone()))
            .collect();
        self.every.retain(|f| f.strong_count() > 0);
        self.every.extend(made.iter().map(Arc::downgrade));
        Ok(made)
    }

    /// Listens for the functions' front doors: their API routes on `--api-port` (3000 when
    /// free, unless given), each function URL on the next port free; each printed.
    async fn open_doors(
        &self,
        functions: &[Arc<Function>],
        api: &Arc<http::Api>,
    ) -> Result<Vec<tokio::task::JoinHandle<()>>, Error> {
        let c = &self.config;
        let with_api: Vec<&Arc<Function>> = functions
            .iter()
            .filter(|f| doors_of(f, false).next().is_some())
            .collect();
        let mut tasks = Vec::new();
        let mut next = c.api_port.unwrap_or(DEFAULT_API_PORT);
        if !with_api.is_empty() {
            let address = format!("{}:{next}", c.host);
            let listener = match tokio::net::TcpListener::bind(&address).await {
                Ok(l) => l,
                Err(e) if c.api_port.is_none() && e.kind() == std::io::ErrorKind::AddrInUse => {
                    self.printer.line(&format!(
                        "warning: port {next} is in use, so the functions' API routes are not served; pick a port with --api-port"
                    ));
                    return Ok(tasks);
                }
                Err(e) => return Err(Error::Usage(listen_error(&address, &e))),
            };
            let port = listener.local_addr().map_or(next, |a| a.port());
            self.say_shadowed(&with_api);
            for f in &with_api {
                for r in doors_of(f, false) {
                    self.printer
                        .of(&f.name, &format!("http://{}:{port} {}", c.host, r.label()));
                }
            }
            let served = with_api.iter().flat_map(|f| doors_of(f, false));
            tasks.push(self.open_door(api, listener, doors::Door::Api, served));
            next = if next == 0 { 0 } else { port + 1 };
        }
        for f in functions
            .iter()
            .filter(|f| doors_of(f, true).next().is_some())
        {
            // The next port, or any free one when it is taken.
            let listener = match tokio::net::TcpListener::bind(format!("{}:{next}", c.host)).await {
                Ok(l) => l,
                Err(_) => tokio::net::TcpListener::bind(format!("{}:0", c.host))
                    .await
                    .map_err(|e| Error::Usage(listen_error(&c.host, &e)))?,
            };
            let port = listener.local_addr().map_or(next, |a| a.port());
            self.printer
                .of(&f.name, &format!("http://{}:{port}/ function URL", c.host));
            let door = doors::Door::Url(f.name.clone());
            tasks.push(self.open_door(api, listener, door, doors_of(f, true)));
            next = if next == 0 { 0 } else { port + 1 };
        }
        Ok(tasks)
    }

    /// Serves `door` on `listener` in a task of its own, its guard letting through the browser
    /// origins the CORS configuration of its `routes` allows, besides `--allow-origin`'s.
    fn open_door<'r>(
        &self,
        api: &Arc<http::Api>,
        listener: tokio::net::TcpListener,
        door: doors::Door,
        routes: impl Iterator<Item = &'r gateway::Route>,
    ) -> tokio::task::JoinHandle<()> {
        let c = &self.config;
        let port = listener.local_addr().map_or(0, |a| a.port());
        let origins = routes
            .filter_map(|r| r.cors.as_ref())
            .flat_map(|cors| cors.allow_origins.iter().cloned());
        let guard = guard::Guard::new(&c.host, port, c.allow_origins.clone(), c.token.clone())
            .with_origins(origins);
        let keys = gateway::Keys::from_pairs(c.env.caller.pairs());
        let door =
            doors::Doors::new(api.clone(), self.printer.clone(), guard, door).with_keys(keys);
        tokio::spawn(Arc::new(door).run(listener))
    }

    /// Warns of a route that several APIs (or functions) declare: on the one port, the first
    /// declared answers it.
    fn say_shadowed(&self, functions: &[&Arc<Function>]) {
        let mut seen: Vec<(String, String)> = Vec::new();
        for f in functions {
            for r in doors_of(f, false) {
                let key = r.key();
                let owner = format!("{} of {}", r.label(), f.name);
                match seen.iter().find(|(k, o)| *k == key && *o != owner) {
                    Some((_, first)) => self.printer.line(&format!(
                        "warning: {key} is declared by {first} and by {owner}: on the one API port, {first} answers it"
                    )),
                    None => seen.push((key, owner)),
                }
            }
        }
    }

    /// Prints each function's URL, and boots them with `--warm`.
    fn announce(&self, functions: &[Arc<Function>], address: &str) {
        let base = format!("http://{address}/2015-03-31/functions");
        for f in functions {
            // A template's function also answers to its resource's name.
            let also = match &f.suite().function.resource {
                Some(r) if r.id != f.name => format!(" (also as {})", r.id),
                _ => String::new(),
            };
            self.printer
                .of(&f.name, &format!("{base}/{}/invocations{also}", f.name));
        }
        // RIE's path names no function: the only one answers it, unless it is its own name.
        if let [only] = functions
            && only.name != "function"
        {
            self.printer.of(
                &only.name,
                &format!("{base}/function/invocations (RIE's path)"),
            );
        }
        self.printer.line(&format!(
            "serving {} function{} on http://{address} (AWS SDKs: endpoint_url=\"http://{address}\"); Ctrl-C stops and removes the containers",
            functions.len(),
            if functions.len() == 1 { "" } else { "s" }
        ));
        if !crate::docker::is_loopback(&self.config.host) {
            self.printer.line(&format!(
                "warning: listening on {} reaches beyond this machine: every call must carry the --token, and its functions run with the credentials they were given",
                self.config.host
            ));
        }
        if self.config.warm {
            for f in functions {
                f.warm();
            }
        }
    }
}

/// `f`'s function URL routes (`url`), or its API routes.
fn doors_of(f: &Function, url: bool) -> impl Iterator<Item = &gateway::Route> {
    f.suite()
        .function
        .http
        .iter()
        .filter(move |r| (r.api == gateway::Api::Url) == url)
}

/// The suites to serve, one per function name: the first that declares a name serves it; and
/// a warning for each name declared again.
fn load(
    paths: &[std::path::PathBuf],
    options: &suite::LoadOptions,
) -> Result<(Vec<Suite>, Vec<String>), Error> {
    let (loaded, said) = suite::load_paths_warning_with(paths, options);
    let mut warnings: Vec<String> = said.iter().map(|w| format!("warning: {w}")).collect();
    let loaded = loaded.map_err(Error::Load)?;
    let mut suites: Vec<Suite> = Vec::new();
    for suite in loaded {
        match suites
            .iter()
            .find(|s| s.function.name == suite.function.name)
        {
            Some(first) => warnings.push(format!(
                "warning: function {} is declared in {} and in {}: serving the one in {}",
                suite.function.name,
                first.file.display(),
                suite.file.display(),
                first.file.display()
            )),
            None => suites.push(suite),
        }
    }
    // A route's Lambda authorizer is served as a function of its own, beside the suites'
    // (a function the suites declare under the same name, as a template's is, serves it).
    let authorizers: Vec<Suite> = suites
        .iter()
        .flat_map(runner::authorize::suites_of)
        .collect();
    for authorizer in authorizers {
        if !suites
            .iter()
            .any(|s| s.function.name == authorizer.function.name)
        {
            suites.push(authorizer);
        }
    }
    Ok((suites, warnings))
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

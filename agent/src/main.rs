//! lambda-ci's agent: PID 1 of a function's container, in place of the Runtime Interface
//! Emulator. It starts the runtime with `AWS_LAMBDA_RUNTIME_API` pointing at its own Runtime
//! API, leads the execution environment's life as the service does ([`sandbox`]), writes the
//! runtime's output with the platform's lines between ([`output`]), and answers lambda-ci on the
//! published port with what each invocation amounted to ([`invoke`]).
//!
//! Built statically, it runs in any image, whatever C library the image has or lacks.

mod api;
mod config;
mod extension_api;
mod extensions;
mod ids;
mod invoke;
mod output;
mod process;
mod sandbox;
mod strays;
mod stream;
mod telemetry;

use std::process::ExitCode;

use config::Config;

fn main() -> ExitCode {
    // Not dumpable: no process of the container, root or not, can read this one's environment,
    // memory or descriptors through /proc (the container has no CAP_SYS_PTRACE), so the key
    // stays the agent's.
    // SAFETY: prctl with plain integer arguments.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--version") {
        println!("lambda-ci-agent {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let config = match Config::from_args(args.into_iter()) {
        Ok(config) => config,
        Err(config::Usage(why)) => {
            output::diagnose(&format!(
                "{why}; usage: lambda-ci-agent [--handler H] [--runtime-version V] [--hold-init] [--hide NAME]... [--ports INVOKE,RUNTIME] [--] COMMAND [ARGS...]"
            ));
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(e) => {
            output::diagnose(&format!("cannot start: {e}"));
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(config))
}

async fn run(config: Config) -> ExitCode {
    // On the host's network, the host's loopback only: nothing beyond the machine reaches it.
    let ip = if config.loopback_only {
        [127, 0, 0, 1]
    } else {
        [0, 0, 0, 0]
    };
    let address = std::net::SocketAddr::from((ip, config.invoke_port));
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(e) => {
            output::diagnose(&format!("cannot listen on {address}: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let mark = output::mark(config.key.as_deref());
    let output = std::sync::Arc::new(output::Output::new(mark));
    let sandbox = sandbox::Sandbox::new(config, output);
    if !sandbox.config.hold_init {
        sandbox.boot();
    }
    let stop = async {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => std::future::pending().await,
        }
    };
    tokio::select! {
        () = invoke::serve(listener, sandbox.clone()) => {}
        () = stop => {}
    }
    sandbox.stop().await;
    ExitCode::SUCCESS
}

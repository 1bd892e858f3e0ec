//! The `lambda-ci` command: parse arguments, run, map the result to an exit code.

use std::process::ExitCode;

use clap::Parser;
use lambda_ci::cli::{Cli, Command};
use lambda_ci::error::Error;
use lambda_ci::exit;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime\ncaused by: {e}");
            return ExitCode::from(exit::INFRASTRUCTURE);
        }
    };
    let result = match cli.command {
        Command::Run(args) => match args.validate() {
            Ok(settings) => runtime.block_on(lambda_ci::run(settings)),
            Err(e) => Err(e),
        },
        Command::Clean(args) => {
            let scope = lambda_ci::clean::Scope {
                dry_run: args.dry_run,
                only: args.run,
                all_hosts: args.all_hosts,
                older_than: args.older_than,
                engine: lambda_ci::config::Environment::read().engine,
            };
            runtime.block_on(lambda_ci::clean::clean(&scope, &mut std::io::stdout()))
        }
        Command::Watch(args) => match args.run.validate() {
            Ok(config) => runtime.block_on(lambda_ci::watch::watch(config, args.poll)),
            Err(e) => Err(e),
        },
        Command::Serve(args) => match args.validate() {
            Ok(config) => runtime.block_on(lambda_ci::serve::serve(config)),
            Err(e) => Err(e),
        },
        Command::List(args) => args
            .validate()
            .and_then(|config| lambda_ci::list::list(&config, &mut std::io::stdout())),
        Command::Event(args) => lambda_ci::events::event(&args, &mut std::io::stdout()),
        Command::Explain(args) => lambda_ci::explain::explain(&args, &mut std::io::stdout()),
        Command::Init(args) => {
            lambda_ci::init::init(&args, &mut std::io::stdout(), &mut std::io::stderr())
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            print_error(&e);
            ExitCode::from(e.exit_code())
        }
    }
}

fn print_error(e: &Error) {
    match e {
        Error::Load(errors) => {
            for problem in &errors.0 {
                eprintln!("error: {problem}");
            }
            let n = errors.0.len();
            eprintln!(
                "{n} problem{} in the suites; nothing was run",
                if n == 1 { "" } else { "s" }
            );
        }
        _ => {
            let mut chain = lambda_ci::error::chain(e);
            if let Some(first) = chain.next() {
                eprintln!("error: {first}");
            }
            for cause in chain {
                eprintln!("caused by: {cause}");
            }
            if let Some(hint) = e.hint() {
                eprintln!("hint: {hint}");
            }
        }
    }
}

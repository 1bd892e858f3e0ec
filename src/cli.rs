//! Command-line arguments, turned once into a validated run configuration.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::docker::PullPolicy;
use crate::error::Error;

/// Tests AWS Lambda functions locally, in their real base images, before they are deployed.
#[derive(Debug, Parser)]
#[command(name = "lambda-ci", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run suites: boot each function's base image, invoke every case, judge and report.
    Run(RunArgs),
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Suite files, or directories searched for suites (`.yaml`/`.yml` with a top-level `cases:`).
    #[arg(default_value = "cases")]
    pub paths: Vec<PathBuf>,

    /// Write a JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// When to pull base images from their registry.
    #[arg(long, value_enum, default_value_t = PullPolicy::Missing)]
    pub pull: PullPolicy,

    /// Leave the containers running after the run and print how to reach them.
    #[arg(long)]
    pub keep: bool,
}

/// A run's settings, checked.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub paths: Vec<PathBuf>,
    pub junit: Option<PathBuf>,
    pub pull: PullPolicy,
    pub keep: bool,
}

impl RunArgs {
    /// Checks what can be checked before anything runs.
    pub fn validate(self) -> Result<RunSettings, Error> {
        if let Some(junit) = &self.junit {
            if junit.is_dir() {
                return Err(Error::Usage(format!(
                    "--junit {}: is a directory; give a file name such as {}/report.xml",
                    junit.display(),
                    junit.display()
                )));
            }
            let parent = junit.parent().filter(|p| !p.as_os_str().is_empty());
            if let Some(parent) = parent
                && !parent.is_dir()
            {
                return Err(Error::Usage(format!(
                    "--junit {}: directory {} does not exist; create it first",
                    junit.display(),
                    parent.display()
                )));
            }
        }
        Ok(RunSettings {
            paths: self.paths,
            junit: self.junit,
            pull: self.pull,
            keep: self.keep,
        })
    }
}

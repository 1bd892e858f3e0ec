//! Hot reload for `serve`: when a served function's files change on this machine, what the
//! change touched is asked of [`watch::reload`], as `watch` asks it. A change to bind-mounted
//! code (or to the suite's cases) restarts the runtime in place in each of its containers,
//! once the call each is serving is over; calls that come meanwhile wait for the new code. A
//! change to the function's definition, layers, build context or zip replaces its containers
//! blue/green — the new version's first container is ready before the old version takes no
//! more calls, and calls already taken finish on the old one. Other functions are untouched.
//! A suite that no longer loads keeps the old version serving, and its errors are printed at
//! their lines.

use std::path::PathBuf;
use std::sync::Arc;

use futures_util::future::join_all;

use super::function::Function;
use super::http::Api;
use super::{Server, load};
use crate::cleanup::{self, Signal};
use crate::error::Error;
use crate::watch::{self, Reload, Watcher};

impl Server {
    /// Serves until a signal comes, reloading functions as their files change (unless
    /// `--no-watch`).
    pub(super) async fn until_stopped(&mut self, api: &Api) -> Signal {
        let signal = cleanup::interrupted();
        tokio::pin!(signal);
        if !self.config.watch {
            return signal.await;
        }
        // Made again only when the functions come to be made of other files, or a watched
        // directory was made anew: a file saved while a reload is under way still counts.
        let mut watching: Option<(Vec<PathBuf>, Watcher)> = None;
        let mut renew = false;
        loop {
            let mut sources: Vec<PathBuf> = api
                .current()
                .iter()
                .flat_map(|f| watch::sources(f.suite()))
                .collect();
            sources.sort();
            sources.dedup();
            if std::mem::take(&mut renew)
                || watching
                    .as_ref()
                    .is_none_or(|(watched, _)| *watched != sources)
            {
                match Watcher::new(&sources, self.config.poll) {
                    Ok(watcher) => watching = Some((sources, watcher)),
                    Err(e) => {
                        let why = crate::chain::one_line(&e);
                        self.printer
                            .line(&format!("warning: hot reload is off: {why}"));
                        return signal.await;
                    }
                }
            }
            let Some((watched, watcher)) = watching.as_mut() else {
                return signal.await;
            };
            tokio::select! {
                s = &mut signal => return s,
                changed = watcher.changed() => match changed {
                    Some(changed) => {
                        renew = watch::rewatch(&changed, watched);
                        self.reload(api, &changed).await;
                    }
                    None => return signal.await,
                },
            }
        }
    }

    /// Replaces the functions that `changed` touches with their new versions.
    async fn reload(&mut self, api: &Api, changed: &[PathBuf]) {
        let hit: Vec<Arc<Function>> = api
            .current()
            .into_iter()
            .filter(|f| {
                let sources = watch::sources(f.suite());
                changed
                    .iter()
                    .any(|c| sources.iter().any(|s| c.starts_with(s)))
            })
            .collect();
        if hit.is_empty() {
            return;
        }
        let names: Vec<String> = hit.iter().map(|f| f.name.clone()).collect();
        let loaded = match load(&self.paths, &self.load) {
            Ok((loaded, warnings)) => {
                for warning in &warnings {
                    self.printer.line(warning);
                }
                loaded
            }
            Err(e) => {
                self.printed_error(&e);
                self.printer.line(&format!(
                    "{} keep{} serving as before; fix the suite and save it again",
                    names.join(", "),
                    if names.len() == 1 { "s" } else { "" }
                ));
                return;
            }
        };
        let mut fresh: Vec<_> = loaded
            .into_iter()
            .filter(|s| names.contains(&s.function.name))
            .collect();
        for name in names
            .iter()
            .filter(|n| !fresh.iter().any(|s| &s.function.name == *n))
        {
            self.printer.of(
                name,
                "is no longer declared by its suites: still serving the version before",
            );
        }
        let in_place: Vec<&Arc<Function>> = hit
            .iter()
            .filter(|f| {
                let new = fresh.iter().find(|s| s.function.name == f.name);
                new.is_some_and(|new| {
                    f.reloads_in_place()
                        && watch::reload(f.suite(), new, changed) == Reload::InPlace
                })
            })
            .collect();
        fresh.retain(|s| !in_place.iter().any(|f| f.name == s.function.name));
        self.restart_in_place(&in_place).await;
        if fresh.is_empty() {
            return;
        }
        let functions = match self.functions(fresh) {
            Ok(functions) => functions,
            Err(e) => {
                self.printed_error(&e);
                return;
            }
        };
        for f in &functions {
            self.printer.of(&f.name, "changed: booting the new version");
        }
        let booted = join_all(functions.iter().map(|f| f.boot_one())).await;
        for (f, booted) in functions.iter().zip(booted) {
            match booted {
                Ok(()) => {
                    if let Some(old) = api.swap(f.clone()) {
                        old.drain();
                        // Held until its slots have finished the calls they took; then the
                        // version is dropped, and its directories with it.
                        tokio::spawn(async move { old.drained().await });
                    }
                    self.printer.of(
                        &f.name,
                        "serving the new version; the old one finishes the calls it took",
                    );
                }
                Err(why) => {
                    self.printer.of(
                        &f.name,
                        &format!(
                            "the new version cannot boot ({why}): still serving the one before"
                        ),
                    );
                    f.stop().await;
                }
            }
        }
    }

    /// Restarts the runtime of `functions` in their containers, each said when done.
    async fn restart_in_place(&self, functions: &[&Arc<Function>]) {
        for f in functions {
            self.printer
                .of(&f.name, "changed: restarting its runtime in place");
        }
        let restarted = functions.iter().map(|f| async move {
            let started = std::time::Instant::now();
            f.reload_in_place().await;
            (f, started.elapsed())
        });
        for (f, took) in join_all(restarted).await {
            self.printer.of(
                &f.name,
                &format!(
                    "serving the new version (its runtime restarted in place in {} ms)",
                    took.as_millis()
                ),
            );
        }
    }

    fn printed_error(&self, e: &Error) {
        match e {
            Error::Load(errors) => {
                for problem in &errors.0 {
                    self.printer.line(&format!("error: {problem}"));
                }
            }
            other => self
                .printer
                .line(&format!("error: {}", crate::chain::one_line(other))),
        }
    }
}

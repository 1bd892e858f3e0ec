//! `lambda-ci watch`: runs the suites, then after each change to what suites are made of (see
//! [`files`]) runs again only the suites the change affects, until Ctrl-C. Each run is a whole
//! `lambda-ci run` of those suites (the same reports, the same exit rules) in one session that
//! lasts as long as the watching: images, blueprints and the network stay ready, and warm
//! containers start their runtime again in place (see [`Reload`]) instead of booting anew.
//! Nothing is left behind when it ends.

mod files;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

pub use files::{Reload, Watcher, affected, reload, rewatch, sources};

use crate::config::RunConfig;
use crate::error::Error;
use crate::runner::Session;
use crate::suite::{self, Suite};

/// Watches until interrupted; the exit code. The watcher runs all along, so a file saved
/// while a run is under way counts too: the next run follows it.
pub async fn watch(config: RunConfig, poll: bool) -> Result<u8, Error> {
    let terminal = std::io::stdout().is_terminal();
    let (mut loaded, mut broken) =
        match suite::load_paths_warning_with(&config.paths, &config.load).0 {
            Ok(suites) => (suites, false),
            Err(_) => (Vec::new(), true),
        };
    let mut watched = to_watch(&config, &loaded);
    let mut watcher = start(&watched, poll)?;
    let mut session: Option<Session> = None;
    let mut code = run_once(config.clone(), &mut session).await?;
    loop {
        if stopped_by_signal(code) {
            // The interrupted run removed what the session owned.
            return Ok(code);
        }
        say(&format!(
            "watching {} suite{} for changes; Ctrl-C stops",
            loaded.len(),
            if loaded.len() == 1 { "" } else { "s" }
        ));
        let (files, now, changed) = loop {
            let changed = tokio::select! {
                changed = watcher.changed() => changed.unwrap_or_default(),
                _ = crate::cleanup::interrupted() => {
                    if let Some(session) = &session {
                        session.close().await;
                    }
                    return Ok(crate::exit::SUCCESS);
                }
            };
            match suite::load_paths_warning_with(&config.paths, &config.load).0 {
                Err(errors) => {
                    for problem in &errors.0 {
                        say(&format!("error: {problem}"));
                    }
                    say("fix the suite and save it again");
                    broken = true;
                }
                Ok(now) => {
                    let files = to_run(&changed, &now, &loaded, broken);
                    if !files.is_empty() {
                        break (files, now, changed);
                    }
                }
            }
        };
        broken = false;
        // Suites may now be made of other files.
        let now_watched = to_watch(&config, &now);
        if now_watched != watched || rewatch(&changed, &watched) {
            watched = now_watched;
            watcher = start(&watched, poll)?;
        }
        if let Some(session) = &session {
            reboot_what_changed(session, &changed, &loaded, &now);
        }
        loaded = now;
        if terminal {
            // Clear the screen and go home, as watch tools do.
            print!("\x1b[2J\x1b[H");
        }
        let mut run = config.clone();
        run.paths = files;
        code = run_once(run, &mut session).await?;
    }
}

/// Forgets what `session` prepared for each function whose change needs new containers
/// (see [`reload`]); the others' warm containers restart their runtime in place.
fn reboot_what_changed(session: &Session, changed: &[PathBuf], before: &[Suite], now: &[Suite]) {
    for old in before {
        let new = now.iter().find(|s| s.file == old.file);
        if new.is_none_or(|new| reload(old, new, changed) == Reload::Reboot) {
            session.rebuild(old);
        }
    }
}

/// What to watch for `suites`: what they are made of, and the paths given, so that new and
/// broken suite files are seen too.
fn to_watch(config: &RunConfig, suites: &[Suite]) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = suites.iter().flat_map(sources).collect();
    paths.extend(
        config
            .paths
            .iter()
            .filter_map(|p| std::path::absolute(p).ok()),
    );
    paths
}

fn start(paths: &[PathBuf], poll: bool) -> Result<Watcher, Error> {
    Watcher::new(paths, poll).map_err(|e| Error::Usage(crate::chain::one_line(&e)))
}

/// The suite files a change calls for: those it affects, those new since `before`, and all
/// when the suites did not load before.
fn to_run(changed: &[PathBuf], now: &[Suite], before: &[Suite], broken: bool) -> Vec<PathBuf> {
    if broken {
        return now.iter().map(|s| s.file.clone()).collect();
    }
    let hit = affected(changed, now);
    now.iter()
        .enumerate()
        .filter(|(i, s)| hit.contains(i) || !before.iter().any(|b| b.file == s.file))
        .map(|(_, s)| s.file.clone())
        .collect()
}

/// One run; an error that stops it (a suite that does not load, no engine) is printed, and
/// watching goes on.
async fn run_once(config: RunConfig, session: &mut Option<Session>) -> Result<u8, Error> {
    match crate::run_kept(config, Some(session)).await {
        Ok(code) => Ok(code),
        Err(Error::Load(errors)) => {
            for problem in &errors.0 {
                say(&format!("error: {problem}"));
            }
            Ok(crate::exit::INVALID_INPUT)
        }
        Err(e) => {
            say(&format!("error: {}", crate::chain::one_line(&e)));
            Ok(e.exit_code())
        }
    }
}

fn stopped_by_signal(code: u8) -> bool {
    code == crate::exit::INTERRUPTED || code == crate::exit::TERMINATED
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_reruns_the_suites_it_touches_and_new_ones_and_all_after_a_broken_load() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str| {
            let code = dir.path().join(format!("code-{name}"));
            std::fs::create_dir_all(&code).unwrap();
            let path = dir.path().join(format!("{name}.yaml"));
            let text = format!(
                "function:\n  runtime: python3.11\n  handler: app.echo\n  code: code-{name}\ncases:\n  - name: a\n    event: {{}}\n"
            );
            std::fs::write(&path, text).unwrap();
            path
        };
        let (a, b) = (write("a"), write("b"));
        let before = suite::load_paths(&[a.clone(), b.clone()]).unwrap();
        let edited = [dir.path().join("code-a/app.py")];
        let files: Vec<PathBuf> = to_run(&edited, &before, &before, false);
        assert_eq!(files, [before[0].file.clone()]);
        assert_eq!(
            to_run(std::slice::from_ref(&b), &before, &before, false),
            [before[1].file.clone()]
        );
        assert!(to_run(&[dir.path().join("elsewhere")], &before, &before, false).is_empty());
        let c = write("c");
        let now = suite::load_paths(&[a, b, c]).unwrap();
        assert_eq!(to_run(&[], &now, &before, false), [now[2].file.clone()]);
        assert_eq!(to_run(&[], &now, &[], true).len(), 3);
    }
}

//! Watching what suites are made of, on this machine: each suite's file, its event files, its
//! code and layers (directories or zips), its `build:` context and its snapshot file. Changes come in debounced
//! batches (one save is several events; an editor's atomic save is a rename), a zip still being
//! written is waited for, and `--poll` polls where inotify does not reach (WSL2, network file
//! systems).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify_debouncer_full::notify::{self, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, new_debouncer, new_debouncer_opt};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use crate::suite::Suite;

/// How long the files must be quiet before a batch of changes counts. An editor's save is over
/// within a millisecond on a local disk, whether it writes in place (2 events), writes a
/// temporary file and renames it over (5), or keeps a backup as vim does (7) or JetBrains' safe
/// write (8) — `scripts/bench.py --only saves` measures it — so 50 ms takes any of them whole
/// and costs little of the save → verdict time; a build writing for longer is run again when it
/// is done. A zip still being written is waited for besides.
const QUIET: Duration = Duration::from_millis(50);
/// How often `--poll` looks.
const POLL_EVERY: Duration = Duration::from_millis(250);

/// The paths a suite is made of: its file, event files, code, layers, build context and
/// snapshot file.
pub fn sources(suite: &Suite) -> Vec<PathBuf> {
    let f = &suite.function;
    let mut paths = vec![absolute(&suite.file), absolute(&suite.snapshot_file())];
    paths.extend(suite.inputs.iter().cloned());
    paths.extend(f.code.iter().map(|p| p.path.clone()));
    paths.extend(f.layers.iter().map(|p| p.path.clone()));
    paths.extend(f.build.iter().map(|b| b.context.clone()));
    // The functions its routes' Lambda authorizers invoke run with its cases.
    for a in &f.authorizers {
        paths.extend(a.code.iter().chain(&a.layers).map(|p| p.path.clone()));
        paths.extend(a.build.iter().map(|b| b.context.clone()));
    }
    paths
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Which of `suites` a change to `changed` affects: one of its sources is, or holds, a
/// changed path.
pub fn affected(changed: &[PathBuf], suites: &[Suite]) -> Vec<usize> {
    suites
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            sources(s)
                .iter()
                .any(|source| changed.iter().any(|c| c.starts_with(source)))
        })
        .map(|(i, _)| i)
        .collect()
}

/// What a change asks of a function's containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reload {
    /// The runtime started again in the same containers: only code bind-mounted from a
    /// directory, the suite's cases, events or snapshots changed.
    InPlace,
    /// New containers: the function's definition (environment, memory, image, runtime...)
    /// changed, or its layers (merged into a copy) or its build context; or it is deployed
    /// from a zip, unpacked anew for each run.
    Reboot,
}

/// What `changed` asks of the function that `before` declared and `now` declares.
pub fn reload(before: &Suite, now: &Suite, changed: &[PathBuf]) -> Reload {
    let f = &now.function;
    // A zip's unpacked tree goes with the run (or `serve`'s version) that unpacked it.
    let zipped = f.code.iter().chain(&f.layers).any(|p| p.zip);
    if zipped || !before.same_function(now) {
        return Reload::Reboot;
    }
    let layers = f.layers.iter().map(|l| &l.path);
    let contexts = f.build.iter().map(|b| &b.context);
    let mut copied = layers.chain(contexts);
    if copied.any(|source| changed.iter().any(|c| c.starts_with(source))) {
        Reload::Reboot
    } else {
        Reload::InPlace
    }
}

/// Whether a batch of `changed` paths calls for watching `watched` afresh: a watched
/// directory was deleted (and perhaps made again), which ends the watch on it.
pub fn rewatch(changed: &[PathBuf], watched: &[PathBuf]) -> bool {
    changed
        .iter()
        .any(|c| watched.contains(c) && (c.is_dir() || !c.exists()))
}

/// Why the files cannot be watched.
#[derive(Debug, thiserror::Error)]
#[error("cannot watch {path} for changes; try --poll, or turn watching off")]
pub struct WatchError {
    path: String,
    #[source]
    source: notify::Error,
}

/// A debounced watcher of some paths.
pub struct Watcher {
    /// Kept: dropping it stops the watching.
    _debouncer: Box<dyn Send>,
    batches: UnboundedReceiver<Vec<PathBuf>>,
}

impl Watcher {
    /// Watches `paths` (directories recursively; a file through its directory, so that an
    /// editor's rename over it is seen), polling with `poll`.
    pub fn new(paths: &[PathBuf], poll: bool) -> Result<Watcher, WatchError> {
        let (to, batches) = unbounded_channel();
        let handler = move |result: DebounceEventResult| {
            if let Ok(events) = result {
                let changed: BTreeSet<PathBuf> = events
                    .into_iter()
                    .filter(|e| !e.kind.is_access())
                    .flat_map(|e| e.event.paths)
                    .collect();
                if !changed.is_empty() {
                    let _ = to.send(changed.into_iter().collect());
                }
            }
        };
        let fail = |path: &Path, source| WatchError {
            path: path.display().to_string(),
            source,
        };
        let roots = roots(paths);
        let watcher: Box<dyn Send> = if poll {
            let config = notify::Config::default().with_poll_interval(POLL_EVERY);
            let mut d = new_debouncer_opt::<_, notify::PollWatcher, _>(
                QUIET,
                None,
                handler,
                notify_debouncer_full::NoCache,
                config,
            )
            .map_err(|e| fail(Path::new("."), e))?;
            for (root, mode) in &roots {
                d.watch(root, *mode).map_err(|e| fail(root, e))?;
            }
            Box::new(d)
        } else {
            let mut d = new_debouncer(QUIET, None, handler).map_err(|e| fail(Path::new("."), e))?;
            for (root, mode) in &roots {
                d.watch(root, *mode).map_err(|e| fail(root, e))?;
            }
            Box::new(d)
        };
        Ok(Watcher {
            _debouncer: watcher,
            batches,
        })
    }

    /// The next batch of changed paths, once the zips among them stopped changing.
    pub async fn changed(&mut self) -> Option<Vec<PathBuf>> {
        let batch = self.batches.recv().await?;
        for zip in batch
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "zip"))
        {
            settled(zip).await;
        }
        Some(batch)
    }
}

/// What to watch for `paths`: each directory recursively, each file's directory (not
/// recursively), without watching a path twice.
fn roots(paths: &[PathBuf]) -> Vec<(PathBuf, RecursiveMode)> {
    let mut roots: Vec<(PathBuf, RecursiveMode)> = Vec::new();
    for path in paths {
        let (root, mode) = if path.is_dir() {
            (path.clone(), RecursiveMode::Recursive)
        } else {
            match path.parent() {
                Some(dir) if dir.is_dir() => (dir.to_path_buf(), RecursiveMode::NonRecursive),
                _ => continue,
            }
        };
        let covered = roots
            .iter()
            .any(|(r, m)| (*r == root) || (*m == RecursiveMode::Recursive && root.starts_with(r)));
        if !covered {
            roots.push((root, mode));
        }
    }
    roots
}

/// Waits (at most 10 s) until a file's size and modification time hold still for 200 ms: a
/// zip being written is not read half-way.
async fn settled(path: &Path) {
    let look = || {
        std::fs::metadata(path)
            .ok()
            .map(|m| (m.len(), m.modified().ok()))
    };
    let mut last = look();
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = look();
        if now == last {
            return;
        }
        last = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_watched_through_its_directory_and_nothing_twice() {
        let dir = tempfile::tempdir().unwrap();
        let code = dir.path().join("code");
        std::fs::create_dir(&code).unwrap();
        let suite = dir.path().join("s.yaml");
        std::fs::write(&suite, "").unwrap();
        let roots = roots(&[suite.clone(), code.clone(), code.join("inner"), suite]);
        assert_eq!(
            roots,
            [
                (dir.path().to_path_buf(), RecursiveMode::NonRecursive),
                (code, RecursiveMode::Recursive)
            ]
        );
    }

    #[tokio::test]
    async fn a_change_under_a_watched_directory_comes_in_one_batch() {
        let dir = tempfile::tempdir().unwrap();
        let mut watcher = Watcher::new(&[dir.path().to_path_buf()], false).unwrap();
        for i in 0..5 {
            std::fs::write(dir.path().join("app.py"), format!("v = {i}\n")).unwrap();
        }
        let batch = tokio::time::timeout(Duration::from_secs(10), watcher.changed())
            .await
            .expect("a batch")
            .unwrap();
        assert!(batch.iter().any(|p| p.ends_with("app.py")), "{batch:?}");
    }

    #[tokio::test]
    async fn polling_sees_a_change_too() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.py"), "v = 0\n").unwrap();
        let mut watcher = Watcher::new(&[dir.path().to_path_buf()], true).unwrap();
        // Saved again and again: on a loaded machine the first scan may come after a save.
        let file = dir.path().join("app.py");
        let saving = tokio::spawn(async move {
            for i in 1.. {
                tokio::time::sleep(Duration::from_millis(400)).await;
                std::fs::write(&file, "v = 1\n".repeat(i)).unwrap();
            }
        });
        let batch = tokio::time::timeout(Duration::from_secs(20), watcher.changed())
            .await
            .expect("a batch")
            .unwrap();
        saving.abort();
        assert!(batch.iter().any(|p| p.ends_with("app.py")), "{batch:?}");
    }
}

//! Builds an image from a directory and a Dockerfile through the Engine API: the build context
//! is sent as a tar that honours `.dockerignore`, and the build's output is reported as it
//! comes.

use std::collections::HashMap;
use std::path::Path;

use bollard::query_parameters::BuildImageOptions;
use futures_util::StreamExt;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::Engine;

/// Why an image could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot read the build context {context}")]
    Context {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`.dockerignore` in {context} has an invalid pattern")]
    Ignore {
        context: String,
        #[source]
        source: ignore::Error,
    },
    #[error("the build of {image} failed: {message}")]
    Failed { image: String, message: String },
}

/// The build context of `dir` as a tar: every file `.dockerignore` does not exclude (the
/// Dockerfile and `.dockerignore` themselves always go, as with `docker build`), in a fixed
/// order and with zeroed times, so that the same content makes the same bytes.
pub fn context_tar(dir: &Path, dockerfile: &str) -> Result<Vec<u8>, BuildError> {
    let context = dir.display().to_string();
    let io = |source| BuildError::Context {
        context: context.clone(),
        source,
    };
    let ignore = dockerignore(dir).map_err(|source| BuildError::Ignore {
        context: context.clone(),
        source,
    })?;
    let mut files = Vec::new();
    collect(dir, dir, &ignore, &mut files).map_err(io)?;
    files.sort();
    let mut tar = tar::Builder::new(Vec::new());
    tar.follow_symlinks(false);
    tar.mode(tar::HeaderMode::Deterministic);
    for relative in files {
        let keep = [dockerfile, ".dockerignore"].contains(&relative.as_str());
        if !keep
            && ignore
                .matched_path_or_any_parents(&relative, false)
                .is_ignore()
        {
            continue;
        }
        tar.append_path_with_name(dir.join(&relative), &relative)
            .map_err(io)?;
    }
    tar.into_inner().map_err(io)
}

/// `.dockerignore` as gitignore rules: Docker anchors every pattern at the context's root,
/// where gitignore matches a slash-less pattern at any depth, so each is anchored.
fn dockerignore(dir: &Path) -> Result<Gitignore, ignore::Error> {
    let mut builder = GitignoreBuilder::new(dir);
    if let Ok(text) = std::fs::read_to_string(dir.join(".dockerignore")) {
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (bang, pattern) = match line.strip_prefix('!') {
                Some(rest) => ("!", rest.trim_start_matches('/')),
                None => ("", line.trim_start_matches('/')),
            };
            let pattern = pattern.trim_start_matches("./");
            let anchored = if pattern.starts_with("**") {
                format!("{bang}{pattern}")
            } else {
                format!("{bang}/{pattern}")
            };
            builder.add_line(None, &anchored)?;
        }
    }
    builder.build()
}

/// Every file and symlink under `dir`, relative to `root`; ignored directories are skipped
/// whole, as long as no exception could bring something inside them back.
fn collect(
    root: &Path,
    dir: &Path,
    ignore: &Gitignore,
    out: &mut Vec<String>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let relative = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        if entry.file_type()?.is_dir() {
            if ignore.matched(&relative, true).is_ignore() && ignore.num_whitelists() == 0 {
                continue;
            }
            collect(root, &path, ignore, out)?;
        } else {
            out.push(relative);
        }
    }
    Ok(())
}

/// Builds `context` (a tar from [`context_tar`]) as `image`, reporting each line of the
/// build's output through `progress`.
pub async fn build_image(
    engine: &Engine,
    image: &str,
    context: Vec<u8>,
    (dockerfile, args): (&str, &HashMap<String, String>),
    platform: &str,
    mut progress: impl FnMut(&str),
) -> Result<(), BuildError> {
    let options = BuildImageOptions {
        dockerfile: dockerfile.to_string(),
        t: Some(image.to_string()),
        rm: true,
        forcerm: true,
        buildargs: Some(args.clone()),
        platform: platform.to_string(),
        ..Default::default()
    };
    let failed = |message: String| BuildError::Failed {
        image: image.to_string(),
        message,
    };
    let body = bollard::body_full(context.into());
    let docker = engine.transfers();
    let mut stream = docker.build_image(options, None, Some(body));
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| {
            failed(match e {
                bollard::errors::Error::DockerResponseServerError { message, .. } => message,
                other => other.to_string(),
            })
        })?;
        if let Some(detail) = info.error_detail {
            return Err(failed(detail.message.unwrap_or_default()));
        }
        if let Some(line) = info
            .stream
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            progress(line);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(tar: &[u8]) -> Vec<String> {
        let mut archive = tar::Archive::new(tar);
        archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect()
    }

    #[test]
    fn the_context_honours_dockerignore_anchored_at_its_root() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for f in [
            "Dockerfile",
            "app.py",
            "secret.txt",
            "notes.md",
            "docs/notes.md",
            "build/out.bin",
            "build/keep.txt",
        ] {
            let path = d.join(f);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, f).unwrap();
        }
        std::fs::write(
            d.join(".dockerignore"),
            "# comment\nsecret.txt\n*.md\nbuild\n!build/keep.txt\nDockerfile\n",
        )
        .unwrap();
        let tar = context_tar(d, "Dockerfile").unwrap();
        assert_eq!(
            names(&tar),
            vec![
                ".dockerignore",
                "Dockerfile",
                "app.py",
                "build/keep.txt",
                "docs/notes.md"
            ]
        );
        // The same content makes the same bytes, whatever the files' times.
        std::fs::write(d.join("app.py"), "app.py").unwrap();
        assert_eq!(context_tar(d, "Dockerfile").unwrap(), tar);
    }
}

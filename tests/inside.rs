//! End-to-end test of lambda-ci run inside a container that shares the engine's socket, as in a
//! GitHub container job or a GitLab runner: its suites exist only inside that container, so a
//! bind mount would be refused, and ports published on the engine's loopback are out of its
//! reach. `auto` must choose copy, the functions must be reached over the shared network (also
//! when its hostname is not its container id, and when a suite puts its function on another
//! network), and the example suites must pass.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// Copies the tree at `from` to `to`.
fn copy_tree(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}

/// A user-defined network, removed when dropped.
struct Network(String);

impl Drop for Network {
    fn drop(&mut self) {
        Command::new("docker")
            .args(["network", "rm", &self.0])
            .output()
            .ok();
    }
}

/// The runner image, removed when dropped.
struct Image(String);

impl Drop for Image {
    fn drop(&mut self) {
        Command::new("docker")
            .args(["rmi", "-f", &self.0])
            .output()
            .ok();
    }
}

/// A directory holding lambda-ci, the example suites and their functions.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(env!("CARGO_BIN_EXE_lambda-ci"), d.join("lambda-ci")).unwrap();
    copy_tree(&root().join("cases"), &d.join("cases"));
    copy_tree(&root().join("examples"), &d.join("examples"));
    dir
}

/// Checks that the run `out` passed with its code and layers copied, as `auto` decided; what
/// it printed.
fn passed_copying(out: &std::process::Output) -> String {
    let (text, err) = (stdout(out), stderr(out));
    assert_eq!(out.status.code(), Some(0), "{text}{err}");
    assert!(
        err.contains("code and layers: copied into each container (the engine cannot see this machine's files: "),
        "{err}"
    );
    text
}

#[test]
fn inside_a_container_auto_copies_and_reaches_functions_over_the_network() {
    let context = workspace();
    let c = context.path();
    // A function on a network of its suite's choosing, which lambda-ci's container is not on.
    let network = Network(format!("lambda-ci-inside-{}", std::process::id()));
    let made = Command::new("docker")
        .args(["network", "create", &network.0])
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", stderr(&made));
    std::fs::create_dir(c.join("more")).unwrap();
    std::fs::write(
        c.join("more/networked.yaml"),
        format!(
            "function:\n  runtime: python3.11\n  handler: app.handler\n  code: ../examples/hello\n  layers: [../examples/greeting-layer]\n  environment: {{GREETING: Hi}}\n  network: {}\ncases:\n  - name: reached on its own network\n    event: {{name: Ada}}\n    expect:\n      response_contains: {{statusCode: 200}}\n",
            network.0
        ),
    )
    .unwrap();
    std::fs::write(
        c.join("Dockerfile"),
        "FROM public.ecr.aws/lambda/provided:al2023\nCOPY lambda-ci /usr/local/bin/lambda-ci\nCOPY cases /work/cases\nCOPY examples /work/examples\nCOPY more /work/more\nWORKDIR /work\nENTRYPOINT [\"/usr/local/bin/lambda-ci\"]\n",
    )
    .unwrap();
    let image = Image(format!("lambda-ci-test/runner:{}", std::process::id()));
    docker_build(&image.0, c);
    let out = Command::new("docker")
        .args([
            "run",
            "--rm",
            "-e",
            "NO_COLOR=1",
            "-v",
            "/var/run/docker.sock:/var/run/docker.sock",
            // As GitLab's runners do: a hostname that is not the container's id.
            "--hostname",
            "runner-abc123-project-1-concurrent-0",
        ])
        .arg(&image.0)
        .args(["run", "cases", "more", "--pull", "never"])
        .output()
        .unwrap();
    let text = passed_copying(&out);
    assert_summary(&text, &format!("{} passed, 0 failed", example_cases() + 1));
    // Its containers and volumes are labelled with the suite paths as it saw them.
    for suite in [
        "cases/hello.yaml",
        "cases/hello-node.yaml",
        "cases/shell-runtime.yaml",
    ] {
        assert!(containers_of(Path::new(suite)).is_empty(), "{suite}");
    }
}

/// As in a CI job container that mounts the workspace at the host's path but keeps its own
/// `/tmp`: the code's files are seen by the engine, the agent lambda-ci writes to its temp
/// directory is not. The engine refuses that bind mount, and `auto` copies everything.
#[test]
fn a_shared_workspace_with_a_private_temp_directory_copies() {
    let work = workspace();
    let w = work.path();
    let shared = format!("{}:{}", w.display(), w.display());
    // A temp directory of its own, at a path the engine's host does not have.
    let private = format!("TMPDIR=/tmp/lambda-ci-private-{}", std::process::id());
    let out = Command::new("docker")
        .args([
            "run",
            "--rm",
            "-e",
            "NO_COLOR=1",
            "-e",
            &private,
            "-v",
            "/var/run/docker.sock:/var/run/docker.sock",
            "-v",
            &shared,
            "-w",
        ])
        .arg(w)
        .args(["--entrypoint"])
        .arg(w.join("lambda-ci"))
        .arg("public.ecr.aws/lambda/provided:al2023")
        .arg("run")
        .arg(w.join("cases/hello.yaml"))
        .args(["--pull", "never"])
        .output()
        .unwrap();
    let text = passed_copying(&out);
    assert!(text.contains(" passed, 0 failed"), "{text}");
    assert!(containers_of(&w.join("cases/hello.yaml")).is_empty());
}

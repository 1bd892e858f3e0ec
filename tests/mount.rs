//! End-to-end tests of how code and layers reach the containers: `--mount copy` through the
//! archive API (no bind mount, still read-only to the function), `bind`, and `auto`'s probe.

mod common;

use std::process::Command;

use common::*;

#[test]
fn copy_mode_passes_the_example_suites_and_zips_as_bind_mode_does() {
    let out = run(&[root().join("cases")], &["--mount", "copy"]);
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{text}{err}");
    assert_summary(&text, &format!("{} passed, 0 failed", example_cases()));
    assert!(
        err.contains("code and layers: copied into each container (--mount copy)"),
        "{err}"
    );
}

#[test]
fn copied_code_stays_read_only_to_the_function_and_no_bind_mount_is_made() {
    let (_dir, suite) = temp_suite(
        "function:\n  runtime: python3.11\n  handler: app.write\n  code: CODE\ncases:\n  - name: code is read-only\n    event: {path: /var/task/new.txt}\n    expect:\n      response: {written: false, errno: 30, error: Read-only file system}\n  - name: tmp is writable\n    event: {path: /tmp/a.txt}\n    expect:\n      response: {written: true}\n",
    );
    let KeptRun {
        out,
        run_id,
        kept,
        temp: _temp,
    } = run_kept(&suite, &["--mount", "copy"]);
    let mounts = kept.first().map(|id| {
        let inspect = Command::new("docker")
            .args([
                "inspect",
                "-f",
                "{{range .Mounts}}{{.Type}}:{{.Destination}}:{{.RW}} {{end}}",
                id,
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&inspect.stdout).trim().to_string()
    });
    for id in &kept {
        Command::new("docker")
            .args(["rm", "-f", id])
            .output()
            .unwrap();
    }
    for volume in volumes_of_run(&run_id) {
        Command::new("docker")
            .args(["volume", "rm", &volume])
            .output()
            .unwrap();
    }
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // The code, and lambda-ci's agent, each copied into a read-only volume (in any order).
    let mut mounts: Vec<&str> = mounts.as_deref().unwrap_or_default().split(' ').collect();
    mounts.sort_unstable();
    assert_eq!(
        mounts,
        ["volume:/var/lambda-ci:false", "volume:/var/task:false"]
    );
}

#[test]
fn auto_binds_where_the_engine_sees_this_machines_files_and_says_so() {
    let out = run(&[fixture("pass.yaml")], &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        err.contains(
            "code and layers: bind-mounted read-only (the engine sees this machine's files)"
        ),
        "{err}"
    );
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The names of the containers run `run_id` created since `since` (Unix seconds), from the
/// engine's event log.
fn created_in_run(run_id: &str, since: u64) -> Vec<String> {
    let until = unix_now() + 1;
    let out = Command::new("docker")
        .args(["events", "--since", &since.to_string()])
        .args(["--until", &until.to_string()])
        .args(["--filter", &format!("label=lambda-ci.run={run_id}")])
        .args([
            "--filter",
            "event=create",
            "--format",
            "{{.Actor.Attributes.name}}",
        ])
        .output()
        .unwrap();
    stdout(&out).lines().map(str::to_string).collect()
}

/// Runs `suite` with `--mount auto` and a JUnit report; its exit code, stderr and the names
/// of the containers it created.
fn run_auto(suite: &std::path::Path) -> (Option<i32>, String, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("run.xml");
    let since = unix_now() - 1;
    let out = lambda_ci()
        .args(["run", "--pull", "never", "--junit"])
        .arg(&junit)
        .arg(suite)
        .output()
        .unwrap();
    let run_id = run_id_in(&junit).expect("a report");
    (
        out.status.code(),
        stderr(&out),
        created_in_run(&run_id, since),
    )
}

// Regression: the mount probe cost a container of its own before the first one could boot.
#[test]
fn auto_finds_out_with_the_first_container_and_probes_apart_only_without_a_small_file() {
    let seen = "code and layers: bind-mounted read-only (the engine sees this machine's files)";
    let (code, err, created) = run_auto(&fixture("pass.yaml"));
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains(seen), "{err}");
    assert!(!created.is_empty(), "{created:?}");
    assert!(
        !created.iter().any(|n| n.ends_with("-probe")),
        "{created:?}"
    );

    // Code with no file at its top: nothing there to read back, so a throwaway container
    // probes with a marker of its own.
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("code/pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("__init__.py"), "").unwrap();
    std::fs::write(
        pkg.join("app.py"),
        "def handler(event, context):\n    return event\n",
    )
    .unwrap();
    let suite = dir.path().join("nested.yaml");
    std::fs::write(
        &suite,
        "function:\n  runtime: python3.11\n  handler: pkg.app.handler\n  code: code\ncases:\n  - name: echo\n    event: {a: 1}\n    expect:\n      response: {a: 1}\n",
    )
    .unwrap();
    let (code, err, created) = run_auto(&suite);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains(seen), "{err}");
    assert!(created.iter().any(|n| n.ends_with("-probe")), "{created:?}");
}

/// A service container on a user network, removed (with its network) when dropped.
struct Service {
    name: String,
    network: String,
}

impl Drop for Service {
    fn drop(&mut self) {
        Command::new("docker")
            .args(["rm", "-f", &self.name])
            .output()
            .ok();
        Command::new("docker")
            .args(["network", "rm", &self.network])
            .output()
            .ok();
    }
}

#[test]
fn network_joins_a_user_network_and_add_hosts_names_an_address() {
    let id = std::process::id();
    let service = Service {
        name: format!("lambda-ci-test-svc-{id}"),
        network: format!("lambda-ci-test-net-{id}"),
    };
    let served = tempfile::tempdir().unwrap();
    std::fs::write(served.path().join("marker.txt"), "hello from the service").unwrap();
    let docker = |args: &[&str]| {
        let out = Command::new("docker").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "docker {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    docker(&["network", "create", &service.network]);
    let volume = format!("{}:/srv:ro", served.path().display());
    docker(&[
        "run",
        "-d",
        "--name",
        &service.name,
        "--network",
        &service.network,
        "--network-alias",
        "backend",
        "-v",
        &volume,
        "--entrypoint",
        "python3",
        "public.ecr.aws/lambda/python:3.11",
        "-m",
        "http.server",
        "8000",
        "--directory",
        "/srv",
    ]);
    let address = docker(&[
        "inspect",
        "-f",
        "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
        &service.name,
    ]);
    let (_dir, suite) = temp_suite(&format!(
        "function:\n  runtime: python3.11\n  handler: app.fetch\n  code: CODE\n  timeout: 15\n  network: {}\n  add_hosts: {{files.internal: \"{address}\"}}\ncases:\n  - name: by its network alias\n    event: {{url: \"http://backend:8000/marker.txt\"}}\n    expect:\n      response: {{status: 200, body: hello from the service}}\n  - name: by an added host name\n    event: {{url: \"http://files.internal:8000/marker.txt\"}}\n    expect:\n      response: {{status: 200, body: hello from the service}}\n",
        service.network
    ));
    let out = run(&[suite], &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_summary(&text, "2 passed, 0 failed");
}

#[test]
fn copied_code_replaces_an_images_own_task_directory_as_a_bind_mount_does() {
    // An image with files of its own in /var/task: copied code must hide them, not mix with them.
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("code");
    std::fs::create_dir(&code).unwrap();
    std::fs::write(
        code.join("app.py"),
        "import os\n\ndef listing(event, context):\n    return sorted(os.listdir('/var/task'))\n",
    )
    .unwrap();
    let suite = dir.path().join("image.yaml");
    std::fs::write(
        &suite,
        format!(
            "function:\n  build: {{context: {}}}\n  handler: app.listing\n  code: code\ncases:\n  - name: only the suite's code\n    expect:\n      response: [app.py]\n",
            fixture("functions/container").display()
        ),
    )
    .unwrap();
    for mount in ["bind", "copy"] {
        let out = run(std::slice::from_ref(&suite), &["--mount", mount]);
        assert_eq!(out.status.code(), Some(0), "{mount}: {}", stdout(&out));
    }
}

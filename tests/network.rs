//! End-to-end tests of where functions sit on the network: each run on a network of its own
//! that no other container reaches, removed with the run; `network: host` with the agent on
//! ports of its own on the host's loopback, admitting lambda-ci only.

mod common;

use std::io::{Read, Write};
use std::process::Command;

use common::*;

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().unwrap();
    stdout(&out).trim().to_string()
}

/// What a throwaway container on `network` gets when it connects to `ip:8080`, three times:
/// `connected` only when all three did. (While other networks are made and removed, the
/// engine rewrites its isolation rules, and a connection may slip through for a moment; a
/// network that isolates nothing lets all three through.)
fn connect_from(network: &str, ip: &str) -> String {
    let script = format!(
        "import socket, time\nwhy = None\nfor _ in range(3):\n    s = socket.socket()\n    s.settimeout(1)\n    try:\n        s.connect(('{ip}', 8080))\n    except OSError as e:\n        why = e\n    s.close()\n    time.sleep(0.3)\nprint('connected' if why is None else f'not connected: {{why}}')\n"
    );
    docker(&[
        "run",
        "--rm",
        "--network",
        network,
        "--entrypoint",
        "python3",
        "public.ecr.aws/lambda/python:3.11",
        "-c",
        &script,
    ])
}

// Regression: every function joined the default bridge, where any other container (another
// case's, another job's on a shared engine) could invoke it or hold it busy.
#[test]
fn each_run_has_a_network_of_its_own_that_no_other_container_reaches() {
    let (_dir, suite) = temp_suite(
        "function:\n  runtime: python3.11\n  handler: app.say\n  code: CODE\ncases:\n  - name: says\n    event: {word: hi}\n",
    );
    let KeptRun {
        out,
        run_id,
        kept,
        temp,
    } = run_kept(&suite, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let network = format!("lambda-ci-{run_id}");
    let mode = docker(&["inspect", "-f", "{{.HostConfig.NetworkMode}}", &kept[0]]);
    let icc = docker(&[
        "network",
        "inspect",
        "-f",
        "{{index .Options \"com.docker.network.bridge.enable_icc\"}}",
        &network,
    ]);
    let ip = docker(&[
        "inspect",
        "-f",
        &format!("{{{{(index .NetworkSettings.Networks \"{network}\").IPAddress}}}}"),
        &kept[0],
    ]);
    let from_bridge = connect_from("bridge", &ip);
    let from_its_network = connect_from(&network, &ip);
    let cleaned = lambda_ci()
        .env("TMPDIR", temp.path())
        .args(["clean", "--run", &run_id])
        .output()
        .unwrap();
    assert_eq!(mode, network);
    assert_eq!(icc, "false");
    assert!(!ip.is_empty());
    assert!(from_bridge.starts_with("not connected"), "{from_bridge}");
    assert!(
        from_its_network.starts_with("not connected"),
        "{from_its_network}"
    );
    assert!(networks_of_run(&run_id).is_empty(), "{}", stdout(&cleaned));

    // A run that ends removes its network with its containers.
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("report.xml");
    let out = run(&[suite], &["--junit", junit.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let run_id = run_id_in(&junit).unwrap();
    assert!(networks_of_run(&run_id).is_empty());
    assert!(containers_of_run(&run_id).is_empty());
}

/// A server on this machine's loopback that answers every request with `body`; its port.
fn loopback_server(body: &'static str) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    port
}

/// The status line of a plain `GET path` to `127.0.0.1:port`.
fn status_of(port: u16, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.lines().next().unwrap_or_default().to_string()
}

// `network: host` was refused; SAM CLI has it, and users need it to reach a database on
// localhost. Two containers of one function share the host's network at once, each agent on
// ports of its own, on loopback, answering only lambda-ci.
#[test]
fn network_host_reaches_the_hosts_loopback_with_each_agent_on_ports_of_its_own() {
    let port = loopback_server("hello from the host");
    let case = |name: &str| {
        format!(
            "  - name: {name}\n    event: {{url: \"http://127.0.0.1:{port}/\"}}\n    expect:\n      response: {{status: 200, body: hello from the host}}\n"
        )
    };
    // Two functions, so two containers share the host's network at once.
    let dir = tempfile::tempdir().unwrap();
    let code = fixture("functions/py");
    let function = "  handler: app.fetch\n  timeout: 15\n  network: host\n";
    for name in ["first", "second"] {
        write_suite(
            dir.path(),
            name,
            ("python3.11", &code),
            function,
            &case(name),
        );
    }
    let suite = dir.path().to_path_buf();
    let KeptRun {
        out,
        run_id,
        kept,
        temp: _temp,
    } = run_kept(&suite, &["-j", "2"]);
    let printed = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(kept.len(), 2, "{printed}");
    let ports: Vec<String> = kept
        .iter()
        .map(|id| {
            let entrypoint = docker(&["inspect", "-f", "{{json .Config.Entrypoint}}", id]);
            let args: Vec<String> = serde_json::from_str(&entrypoint).unwrap();
            let at = args.iter().position(|a| a == "--ports").unwrap();
            args[at + 1].clone()
        })
        .collect();
    let modes: Vec<String> = kept
        .iter()
        .map(|id| docker(&["inspect", "-f", "{{.HostConfig.NetworkMode}}", id]))
        .collect();
    let invoke_port: u16 = ports[0].split(',').next().unwrap().parse().unwrap();
    let unkeyed = status_of(invoke_port, "/lambda-ci/ready");
    for id in &kept {
        docker(&["rm", "-f", id]);
    }
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_summary(&stdout(&out), "2 passed, 0 failed");
    assert_eq!(kept.len(), 2);
    assert_eq!(modes, ["host", "host"]);
    assert_eq!(ports.len(), 2);
    assert_ne!(
        ports[0], ports[1],
        "each container listens on ports of its own"
    );
    assert!(unkeyed.contains("403"), "{unkeyed}");
    assert!(networks_of_run(&run_id).is_empty());

    // Under RIE the container's port is fixed and nothing is published: refused, with why.
    let out = run(&[suite], &["--runtime-api", "rie"]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("`network: host` cannot be used here: under RIE"),
        "{text}"
    );
}

// A killed run leaves its network, and each network takes one of the engine's few address
// ranges (about 30 by default): once they run out, the networks of this machine's ended runs
// are given back before a run fails, and never a live run's.
#[test]
fn the_networks_of_ended_runs_here_are_given_back_and_live_ones_kept() {
    let id = std::process::id();
    let host = lambda_ci::docker::owner()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let ended = format!("lambda-ci-test-ended-{id}");
    let live = format!("lambda-ci-test-live-{id}");
    let other = format!("lambda-ci-test-other-{id}");
    for (name, owner) in [
        (&ended, format!("{host}/1/1")),
        (&live, lambda_ci::docker::owner().to_string()),
        (&other, "another-host/1/1".to_string()),
    ] {
        let made = Command::new("docker")
            .args(["network", "create", "--label", "lambda-ci=1", "--label"])
            .arg(format!("lambda-ci.owner={owner}"))
            .args(["--label", &format!("lambda-ci.run=reclaim{id}")])
            .arg(name)
            .output()
            .unwrap();
        assert!(made.status.success(), "{}", stderr(&made));
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let removed = runtime.block_on(async {
        let engine = lambda_ci::docker::Engine::connect(
            lambda_ci::docker::DEFAULT_TIMEOUT,
            &Default::default(),
        )
        .await
        .unwrap();
        // This test's networks only: other tests' ended runs are theirs to look at.
        lambda_ci::docker::reclaim_networks(&engine, Some(&format!("reclaim{id}"))).await
    });
    let exists = |name: &str| {
        Command::new("docker")
            .args(["network", "inspect", name])
            .output()
            .unwrap()
            .status
            .success()
    };
    let (ended_left, live_left, other_left) = (exists(&ended), exists(&live), exists(&other));
    for name in [&live, &other] {
        docker(&["network", "rm", name]);
    }
    assert!(removed >= 1);
    assert!(!ended_left, "an ended run's network was kept");
    assert!(live_left, "a live run's network was removed");
    assert!(other_left, "another host's network was removed");
}

//! End-to-end tests of engines reached other than through the local socket: over TCP (socat
//! forwards a loopback port to the engine's socket), and over TCP with TLS and client
//! certificates (`DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`, as GitLab's dind sets them; a small
//! TLS front in tests/support plays `dockerd --tlsverify`).

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// A socat forwarder from a loopback port to the engine's socket, stopped when dropped.
struct Forwarder {
    child: Child,
    port: u16,
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `command` (given a free port) and waits until it listens there.
fn forward(command: impl Fn(u16) -> Command) -> Forwarder {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = command(port)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the forwarder (scripts/test.sh installs socat)");
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the forwarder did not listen"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Forwarder { child, port }
}

/// socat forwarding a port on `bind` to the engine's socket.
fn socat_to_engine(bind: &'static str) -> Forwarder {
    forward(move |port| {
        let mut socat = Command::new("socat");
        socat
            .arg(format!("TCP-LISTEN:{port},bind={bind},fork,reuseaddr"))
            .arg("UNIX-CONNECT:/var/run/docker.sock");
        socat
    })
}

#[test]
fn an_engine_over_tcp() {
    let socat = socat_to_engine("127.0.0.1");
    assert_passes_through(&socat, &[]);
}

/// `pass.yaml` passes with the engine reached through `forwarder`, and `env` set.
fn assert_passes_through(forwarder: &Forwarder, env: &[(&str, &std::ffi::OsStr)]) {
    let mut cmd = lambda_ci();
    cmd.env("DOCKER_HOST", format!("tcp://127.0.0.1:{}", forwarder.port));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .args(["run", "--pull", "never"])
        .arg(fixture("pass.yaml"))
        .output()
        .unwrap();
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{text}{err}");
    assert_summary(&text, "1 passed, 0 failed");
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, as `docker` expects
/// them in DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem).
fn certificates(dir: &Path) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca-key.pem",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=lambda-ci test CA",
    ]);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    for (name, ext) in [("server", "server.ext"), ("client", "client.ext")] {
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &format!("{name}-key.pem"),
            "-out",
            &format!("{name}.csr"),
            "-subj",
            &format!("/CN={name}"),
        ]);
        openssl(&[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-out",
            &format!("{name}.pem"),
            "-days",
            "2",
            "-extfile",
            ext,
        ]);
    }
    std::fs::copy(dir.join("client.pem"), dir.join("cert.pem")).unwrap();
    std::fs::copy(dir.join("client-key.pem"), dir.join("key.pem")).unwrap();
}

#[test]
fn an_engine_over_tls() {
    let certs = tempfile::tempdir().unwrap();
    certificates(certs.path());
    let d = certs.path();
    let socat = forward(|port| {
        let mut proxy = Command::new("python3");
        proxy
            .arg(root().join("tests/support/tls_proxy.py"))
            .arg(port.to_string())
            .args([
                d.join("server.pem"),
                d.join("server-key.pem"),
                d.join("ca.pem"),
            ])
            .arg("/var/run/docker.sock");
        proxy
    });
    let tls = [
        ("DOCKER_TLS_VERIFY", std::ffi::OsStr::new("1")),
        ("DOCKER_CERT_PATH", certs.path().as_os_str()),
    ];
    assert_passes_through(&socat, &tls);
    // Without the client certificate the engine refuses the connection: TLS really is used.
    let out = lambda_ci()
        .env("DOCKER_HOST", format!("tcp://127.0.0.1:{}", socat.port))
        .args(["run", "--pull", "never"])
        .arg(fixture("pass.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
}

/// This machine's first address that is not loopback, as `hostname -I` lists them.
fn own_address() -> String {
    let out = Command::new("hostname").arg("-I").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split_whitespace()
        .find(|a| {
            a.parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| !ip.is_loopback())
        })
        .expect("a non-loopback IPv4 address")
        .to_string()
}

// Regression: an engine reached over plain TCP beyond this machine was sent inherited
// credentials and `${VAR}` values in clear, without a word.
#[test]
fn a_plain_tcp_engine_beyond_loopback_is_warned_of_and_refused_secrets() {
    let socat = socat_to_engine("0.0.0.0");
    let host = format!("tcp://{}:{}", own_address(), socat.port);
    let dir = tempfile::tempdir().unwrap();
    let secret = python_suite(
        dir.path(),
        "secret",
        "  handler: app.echo\n  environment: {TOKEN: \"${LAMBDA_CI_TEST_TOKEN}\"}\n",
        "  - name: echoes\n    event: {a: 1}\n    expect:\n      response: {a: 1}\n",
    );
    let run = |suite: &Path, allow: bool| {
        let mut cmd = lambda_ci();
        cmd.env("DOCKER_HOST", &host)
            .env_remove("DOCKER_TLS_VERIFY")
            .env("LAMBDA_CI_TEST_TOKEN", "a-token-of-some-length");
        if allow {
            cmd.env("LAMBDA_CI_ALLOW_PLAIN_ENGINE", "1");
        }
        cmd.args(["run", "--pull", "never"])
            .arg(suite)
            .output()
            .unwrap()
    };
    let refused = run(&secret, false);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains(
            "is reached over plain TCP, and the functions would take LAMBDA_CI_TEST_TOKEN to it in clear"
        ),
        "{}",
        stderr(&refused)
    );
    for (suite, allow) in [
        (secret.as_path(), true),
        (fixture("pass.yaml").as_path(), false),
    ] {
        let out = run(suite, allow);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}{}",
            stdout(&out),
            stderr(&out)
        );
        assert!(
            stderr(&out).contains("is reached over plain TCP"),
            "{}",
            stderr(&out)
        );
    }
}

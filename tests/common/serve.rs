//! Helpers for the end-to-end tests of `lambda-ci serve`: a server started with a temp root
//! of its own, real clients (Python, curl) and suites to serve.

use std::path::PathBuf;
use std::process::Command;

use super::*;

/// A running `lambda-ci serve`.
pub struct Server {
    pub process: Background,
    pub port: u16,
    /// Its temp root, to see what it leaves there.
    pub temp: tempfile::TempDir,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    pub fn start(args: &[&str]) -> Server {
        let port = free_port();
        let temp = tempfile::tempdir().unwrap();
        let mut cmd = lambda_ci();
        cmd.env("TMPDIR", temp.path())
            .args(["serve", "--pull", "never", "--port", &port.to_string()])
            .args(args);
        let process = Background::start(cmd);
        process.wait_for("serving ");
        Server {
            process,
            port,
            temp,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn printed(&self) -> String {
        self.process.printed()
    }

    /// The port a front door was printed at: `http://127.0.0.1:PORT` on the line that says
    /// `what`.
    pub fn printed_port(&self, what: &str) -> u16 {
        let printed = self.printed();
        let line = printed
            .lines()
            .find(|l| l.contains(what) && l.contains("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no `{what}` line in:\n{printed}"));
        let after = line.split("http://127.0.0.1:").nth(1).unwrap();
        after
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }

    pub fn wait_for(&self, text: &str) {
        self.process.wait_for(text);
    }

    /// Stops it as Ctrl-C does; its exit code, once it left nothing in its temp root.
    pub fn interrupt(&mut self) -> Option<i32> {
        let code = self.process.interrupt();
        assert_eq!(
            temp_left(self.temp.path()),
            Vec::<String>::new(),
            "serve left temporary directories"
        );
        code
    }
}

/// Runs a Python script with `ENDPOINT` set; its output, asserting it succeeded.
pub fn python(script: &str, endpoint: &str) -> String {
    let out = Command::new("python3")
        .args(["-c", script])
        .env("ENDPOINT", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .unwrap();
    let (text, err) = (stdout(&out), stderr(&out));
    assert!(out.status.success(), "{text}{err}");
    text
}

/// Suites in a temporary directory: echo (two containers), fail and slow (1 s timeout).
pub fn suites() -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let py = fixture("functions/py");
    let one = |name: &str, handler: &str, extra: &str| {
        let path = dir.path().join(format!("{name}.yaml"));
        let text = format!(
            "function:\n  name: {name}\n  runtime: python3.11\n  handler: {handler}\n  code: {}\n{extra}cases:\n  - name: a\n    event: {{}}\n",
            py.display()
        );
        std::fs::write(&path, text).unwrap();
        path
    };
    let paths = vec![
        one("echo", "app.echo", "concurrency: 2\n"),
        one("fail", "app.fail", ""),
        one("slow", "app.sleep", ""),
    ];
    let slow = std::fs::read_to_string(&paths[2]).unwrap();
    std::fs::write(&paths[2], slow.replace("  code:", "  timeout: 1\n  code:")).unwrap();
    (dir, paths)
}

pub fn args(paths: &[PathBuf]) -> Vec<&str> {
    paths.iter().map(|p| p.to_str().unwrap()).collect()
}

/// A call through curl: status code and body.
pub fn curl_call(url: &str, payload: &str) -> (String, String) {
    let out = Command::new("curl")
        .args([
            "-s",
            "-w",
            "\n%{http_code}",
            "-X",
            "POST",
            url,
            "-d",
            payload,
        ])
        .output()
        .unwrap();
    let text = stdout(&out);
    let (body, code) = text.rsplit_once('\n').unwrap_or((&text, ""));
    (code.to_string(), body.to_string())
}

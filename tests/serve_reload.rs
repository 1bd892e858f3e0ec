//! End-to-end tests of `lambda-ci serve`'s hot reload: a change replaces only its function,
//! blue/green, once per edit, and a replaced version leaves nothing behind.

mod common;

use std::process::Command;
use std::time::Duration;

use common::serve::*;
use common::*;

/// The version a call's answer names, the container that answered, and what `/tmp` held.
fn answered(body: &str) -> (String, String, serde_json::Value) {
    let answer: serde_json::Value = serde_json::from_str(body).unwrap();
    let text = |k: &str| answer[k].as_str().unwrap_or_default().to_string();
    (text("version"), text("host"), answer["tmp"].clone())
}

#[test]
fn a_code_change_restarts_only_its_functions_runtime_in_place_after_the_call_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("code");
    std::fs::create_dir(&code).unwrap();
    let app = |version: &str| {
        format!(
            "import os, socket, time\nVERSION = {version:?}\ndef handler(event, context):\n    time.sleep(event.get('sleep', 0))\n    tmp = sorted(os.listdir('/tmp'))\n    open('/tmp/' + VERSION, 'w').write('x')\n    return {{'version': VERSION, 'host': socket.gethostname(), 'tmp': tmp}}\n"
        )
    };
    std::fs::write(code.join("app.py"), app("v1")).unwrap();
    let versioned = dir.path().join("versioned.yaml");
    std::fs::write(
        &versioned,
        format!(
            "function:\n  name: versioned\n  runtime: python3.11\n  handler: app.handler\n  code: {}\n  timeout: 10\ncases:\n  - name: a\n    event: {{}}\n",
            code.display()
        ),
    )
    .unwrap();
    let (_suites, paths) = suites();
    let server = Server::start(&[versioned.to_str().unwrap(), paths[0].to_str().unwrap()]);
    let url = |f: &str| format!("{}/2015-03-31/functions/{f}/invocations", server.url());
    let (status, body) = curl_call(&url("versioned"), "{}");
    assert_eq!(status, "200", "{body}");
    let (version, host, _) = answered(&body);
    assert_eq!(version, "v1");
    assert_eq!(curl_call(&url("echo"), r#"{"a": 1}"#).0, "200");
    let echo_before = containers_of(&paths[0]);

    let slow = {
        let url = url("versioned");
        std::thread::spawn(move || curl_call(&url, r#"{"sleep": 3}"#))
    };
    std::thread::sleep(Duration::from_millis(800));
    std::fs::write(code.join("app.py"), app("v2")).unwrap();
    server.wait_for("versioned serving the new version (its runtime restarted in place");
    // The call in flight finishes with the old code; the runtime restarts after it.
    assert_eq!(answered(&slow.join().unwrap().1).0, "v1");
    // The same container answers with the new code, in a new execution environment: `/tmp`
    // holds nothing the old runtime wrote.
    let (version, again, tmp) = answered(&curl_call(&url("versioned"), "{}").1);
    assert_eq!((version.as_str(), again.as_str()), ("v2", host.as_str()));
    assert_eq!(tmp, serde_json::json!([]), "/tmp emptied");
    // The other function kept its container.
    assert_eq!(containers_of(&paths[0]), echo_before);
    assert_eq!(
        curl_call(&url("echo"), r#"{"a": 2}"#),
        ("200".into(), r#"{"a": 2}"#.into())
    );

    // A suite that no longer loads keeps the old version serving, and says where it broke.
    let good = std::fs::read_to_string(&versioned).unwrap();
    std::fs::write(
        &versioned,
        good.replace("  timeout: 10\n", "  timeout: 10\n  tmeout: 3\n"),
    )
    .unwrap();
    server.wait_for("keeps serving as before");
    assert!(
        server.printed().contains("versioned.yaml:"),
        "{}",
        server.printed()
    );
    assert_eq!(answered(&curl_call(&url("versioned"), "{}").1).0, "v2");

    // A change of the function's definition is a new version, on new containers.
    std::fs::write(
        &versioned,
        good.replace("  timeout: 10\n", "  timeout: 10\n  memory: 256\n"),
    )
    .unwrap();
    server.wait_for("the old one finishes the calls it took");
    let (version, other, _) = answered(&curl_call(&url("versioned"), "{}").1);
    assert_eq!(version, "v2");
    assert_ne!(other, host, "a new container");
}

// Regression: in flag mode the suite written for the flags was written again on each reload,
// and being watched, made the next reload, for ever; every version's directories piled up.
#[test]
fn one_edit_in_flag_mode_is_one_reload_and_nothing_piles_up_in_the_temp_root() {
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("code");
    std::fs::create_dir(&code).unwrap();
    let app = |v: &str| format!("def handler(event, context):\n    return {{'v': '{v}'}}\n");
    std::fs::write(code.join("app.py"), app("v1")).unwrap();
    let layer = dir.path().join("layer.zip");
    let made = Command::new("python3")
        .args(["-c", "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w') as z: z.writestr('python/extra.py', 'X = 1\\n')"])
        .arg(&layer)
        .status()
        .unwrap();
    assert!(made.success());
    let mut server = Server::start(&[
        "--runtime",
        "python3.11",
        "--handler",
        "app.handler",
        "--code",
        code.to_str().unwrap(),
        "--layer",
        layer.to_str().unwrap(),
    ]);
    let url = format!("{}/2015-03-31/functions/function/invocations", server.url());
    // Regression: the banner gave the flags' function's URL twice, once as RIE's path.
    assert_eq!(
        server.printed().matches(&url).count(),
        1,
        "{}",
        server.printed()
    );
    assert_eq!(curl_call(&url, "{}").1, r#"{"v": "v1"}"#);
    std::fs::write(code.join("app.py"), app("v2")).unwrap();
    server.wait_for("serving the new version");
    assert_eq!(curl_call(&url, "{}").1, r#"{"v": "v2"}"#);
    std::thread::sleep(Duration::from_secs(10));
    let printed = server.printed();
    assert_eq!(
        printed.matches("changed: booting the new version").count(),
        1,
        "{printed}"
    );
    // One version's directories: the old one's went once it drained.
    let mut kinds: Vec<String> = temp_left(server.temp.path())
        .iter()
        .map(|name| name.split('-').nth(2).unwrap_or_default().to_string())
        .collect();
    kinds.sort();
    let before = kinds.len();
    kinds.dedup();
    assert_eq!(kinds.len(), before, "more than one of a kind: {kinds:?}");
    server.interrupt();
}

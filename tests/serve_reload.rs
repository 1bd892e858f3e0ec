//! End-to-end tests of `lambda-ci serve`'s hot reload: a change replaces only its function,
//! blue/green, once per edit, and a replaced version leaves nothing behind.

mod common;

use std::process::Command;
use std::time::Duration;

use common::serve::*;
use common::*;

#[test]
fn a_code_change_replaces_only_its_function_and_a_call_in_flight_answers_from_the_old_code() {
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("code");
    std::fs::create_dir(&code).unwrap();
    let app = |version: &str| {
        format!(
            "import time\nVERSION = {version:?}\ndef handler(event, context):\n    time.sleep(event.get('sleep', 0))\n    return {{'version': VERSION}}\n"
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
    assert_eq!(
        curl_call(&url("versioned"), "{}"),
        ("200".into(), r#"{"version": "v1"}"#.into())
    );
    assert_eq!(curl_call(&url("echo"), r#"{"a": 1}"#).0, "200");
    let echo_before = containers_of(&paths[0]);

    let slow = {
        let url = url("versioned");
        std::thread::spawn(move || curl_call(&url, r#"{"sleep": 3}"#))
    };
    std::thread::sleep(Duration::from_millis(800));
    std::fs::write(code.join("app.py"), app("v2")).unwrap();
    server.wait_for("versioned serving the new version");
    // The call in flight finishes on the old container, with the old code.
    assert_eq!(
        slow.join().unwrap(),
        ("200".into(), r#"{"version": "v1"}"#.into())
    );
    assert_eq!(
        curl_call(&url("versioned"), "{}"),
        ("200".into(), r#"{"version": "v2"}"#.into())
    );
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
    assert_eq!(curl_call(&url("versioned"), "{}").1, r#"{"version": "v2"}"#);
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

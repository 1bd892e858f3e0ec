//! End-to-end tests of `architecture:`: a function built for an instruction set the engine
//! cannot run fails its cases with one clear error naming the fix, and says so up front.
//! `lambda-ci/arm64-rie:standin` (scripts/standin-images.sh) is the real arm64 RIE alone.

mod common;

use std::process::Command;

use common::*;

fn engine_arch() -> String {
    let out = Command::new("docker")
        .args(["info", "-f", "{{.Architecture}}"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn arm64_on_an_engine_without_emulation_is_one_clear_error_per_case() {
    assert_eq!(
        engine_arch(),
        "x86_64",
        "these tests expect an x86_64 engine"
    );
    let emulated = std::path::Path::new("/proc/sys/fs/binfmt_misc/qemu-aarch64").exists();
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("arm.yaml");
    std::fs::write(
        &suite,
        "function:\n  name: arm\n  image: lambda-ci/arm64-rie:standin\n  architecture: arm64\ncases:\n  - name: first\n  - name: second\n",
    )
    .unwrap();
    let out = run(std::slice::from_ref(&suite), &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        stderr(&out).contains("warning: arm is built for arm64 and this engine runs x86_64: it runs under emulation, if at all, and its timings are not representative"),
        "{}",
        stderr(&out)
    );
    // lambda-ci's agent is built for this machine: the function runs under RIE, said once.
    assert_eq!(
        stderr(&out)
            .matches("runtime API: arm64 functions run under the base image's RIE: lambda-ci's agent is built for x86_64")
            .count(),
        1,
        "{}",
        stderr(&out)
    );
    if !emulated {
        assert_eq!(
            text.matches("the engine cannot run arm64 containers (`exec format error`): install QEMU emulation for it (`docker run --privileged --rm tonistiigi/binfmt --install arm64`)").count(),
            // Each case, and each line of the closing list.
            4,
            "{text}"
        );
        assert_summary(&text, "0 passed, 0 failed, 2 errors");
    }
}

/// Runs an x86_64 suite of the arm64-only stand-in image with `extra` arguments.
fn run_arm64_image_as_x86_64(extra: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("x86.yaml");
    std::fs::write(
        &suite,
        "function:\n  image: lambda-ci/arm64-rie:standin\ncases:\n  - name: only\n",
    )
    .unwrap();
    run(std::slice::from_ref(&suite), extra)
}

#[test]
fn an_image_present_only_for_another_architecture_says_how_to_get_the_right_one() {
    let out = run_arm64_image_as_x86_64(&[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("image lambda-ci/arm64-rie:standin is present for arm64 only, and the function is built for amd64; pull its amd64 variant: `docker pull --platform linux/amd64 lambda-ci/arm64-rie:standin`"),
        "{text}"
    );
}

// An arm64-only local image in an x86_64 suite was reported as "could not be pulled".
#[test]
fn an_arm64_only_local_image_that_cannot_be_pulled_for_x86_64_says_so() {
    let out = run_arm64_image_as_x86_64(&["--pull", "missing"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("image lambda-ci/arm64-rie:standin is present for arm64 only, and the function is built for amd64; its amd64 variant could not be pulled ("),
        "{text}"
    );
    assert!(
        text.contains("`docker pull --platform linux/amd64 lambda-ci/arm64-rie:standin`"),
        "{text}"
    );
}

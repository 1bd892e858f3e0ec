//! Builds lambda-ci's agent (`agent/`) for this machine's architecture, statically linked so
//! that it runs in any image whatever C library the image has, and hands it to the crate to
//! embed (`LAMBDA_CI_AGENT`). It is built optimised and stripped whatever the profile: it is
//! delivered into every container that uses it.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=agent/src");
    println!("cargo:rerun-if-changed=agent/Cargo.toml");
    println!("cargo:rerun-if-changed=wire/src");
    println!("cargo:rerun-if-changed=wire/Cargo.toml");
    println!("cargo:rerun-if-changed=Cargo.lock");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let manifest_dir =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let target = std::env::var("TARGET").expect("cargo sets TARGET");
    println!("cargo:rustc-env=LAMBDA_CI_AGENT_TARGET={target}");
    // Function containers are Linux: elsewhere there is no agent to build, and RIE serves.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        let none = out.join("no-agent");
        std::fs::write(&none, b"").expect("OUT_DIR is writable");
        println!("cargo:rustc-env=LAMBDA_CI_AGENT={}", none.display());
        return;
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = out.join("agent");
    let mut command = Command::new(cargo);
    command
        .arg("build")
        .arg("--locked")
        .arg("--release")
        .arg("--manifest-path")
        .arg(manifest_dir.join("agent/Cargo.toml"))
        .arg("--target")
        .arg(&target)
        .arg("--target-dir")
        .arg(&target_dir)
        // With `--target`, these flags reach the agent alone, not build scripts or macros.
        .env("CARGO_ENCODED_RUSTFLAGS", "-Ctarget-feature=+crt-static")
        .env("CARGO_PROFILE_RELEASE_STRIP", "symbols")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CARGO_PRIMARY_PACKAGE");
    let status = command.status().unwrap_or_else(|e| {
        panic!("cannot run cargo to build lambda-ci's agent (agent/): {e}");
    });
    if !status.success() {
        panic!("building lambda-ci's agent (agent/) failed: {status}; see the output above");
    }
    let built = target_dir
        .join(&target)
        .join("release")
        .join("lambda-ci-agent");
    println!("cargo:rustc-env=LAMBDA_CI_AGENT={}", built.display());
}

//! The Docker adapter: the engine, the images it holds, and the containers lambda-ci owns there.
//! It takes plain container specs and knows nothing of suites or Lambda.

mod build;
mod container;
mod copy;
mod image;
mod leftovers;
mod logs;
mod network;
mod owned;
mod probe;

use std::collections::HashMap;
use std::time::Duration;

use bollard::Docker;

pub use build::{BuildError, build_image, context_tar};
pub use container::{Artifact, Container, ContainerSpec, Delivery, StartError, State};
pub use image::{ImageError, PullPolicy, PullProgress, ensure_image, launch};
pub use leftovers::{Kind as LeftoverKind, Leftover, leftovers, remove_leftover};
pub use logs::{
    Framing, KEPT_LINES, LINE_BYTES, LogLine, LogStream, Logs, Matcher, READ_BYTES, Role, Taken,
};
pub use network::{NetworkError, reclaim as reclaim_networks};
pub use owned::OwnedContainers;
pub use probe::{PathProbe, Witness, probe_local_paths};

/// The label every container of lambda-ci carries, so leftovers can be found and swept.
pub const LABEL: &str = "lambda-ci";
/// The label naming the run a container belongs to.
pub const RUN_LABEL: &str = "lambda-ci.run";
/// The label naming the suite file a container serves.
pub const SUITE_LABEL: &str = "lambda-ci.suite";
/// The label naming the process that made a container or volume: `host/pid/start` (its
/// start time, so that a later process reusing the pid is not taken for it), so that
/// `lambda-ci clean` leaves a live run's alone and another host's to that host.
pub const OWNER_LABEL: &str = "lambda-ci.owner";

/// This process, as [`OWNER_LABEL`] names it; read once.
pub fn owner() -> &'static str {
    static OWNER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    OWNER.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        format!("{}/{}", host.trim(), crate::proc::me())
    })
}

/// An owner label (`host/pid/start`) as its host and its process (`pid/start`).
pub fn split_owner(owner: &str) -> (&str, &str) {
    owner.split_once('/').unwrap_or((owner, ""))
}

/// Whether `owner` (an owner label) names a process of this machine that has ended.
pub fn ended_here(owner: &str) -> bool {
    let (host, process) = split_owner(owner);
    host == split_owner(self::owner()).0 && !crate::proc::runs(process)
}

/// `labels`, with this process as their owner.
pub(crate) fn owned_by_me(labels: &HashMap<String, String>) -> HashMap<String, String> {
    let mut labels = labels.clone();
    labels.insert(OWNER_LABEL.to_string(), owner().to_string());
    labels
}

/// The default engine address, when `DOCKER_HOST` is not set.
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// The environment variable that says how long to wait for the engine to answer a request.
pub const TIMEOUT_VAR: &str = "LAMBDA_CI_ENGINE_TIMEOUT";
/// How long a request waits for the engine's answer unless [`TIMEOUT_VAR`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a transfer to the engine (code copied into a container, a build's context) may
/// take before it is answered: the bytes go first.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(600);

/// What the environment says of the engine, read once with the rest of it (see
/// `config::Environment`); the Docker client library reads `DOCKER_HOST` and
/// `DOCKER_CERT_PATH` for itself as it connects.
#[derive(Debug, Clone, Default)]
pub struct EngineEnv {
    /// `DOCKER_HOST`, when set.
    pub host: Option<String>,
    /// `DOCKER_TLS_VERIFY` is set (and not `0`).
    pub tls_verify: bool,
    /// [`TIMEOUT_VAR`], as set.
    pub timeout: Option<String>,
    /// `LAMBDA_CI_ALLOW_PLAIN_ENGINE=1`: secrets may cross plain TCP to a remote engine.
    pub allow_plain: bool,
}

/// How long to wait for the engine to answer a request: [`TIMEOUT_VAR`], else
/// [`DEFAULT_TIMEOUT`]; what is wrong with the variable, when it is.
pub fn request_timeout(env: &EngineEnv) -> Result<Duration, String> {
    let Some(value) = env.timeout.clone() else {
        return Ok(DEFAULT_TIMEOUT);
    };
    value
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (1..=3600).contains(n))
        .map(Duration::from_secs)
        .ok_or_else(|| {
            format!(
                "{TIMEOUT_VAR} is {value:?}, not a number of seconds from 1 to 3600: it says how long lambda-ci waits for the Docker engine to answer a request ({} unless set)",
                DEFAULT_TIMEOUT.as_secs()
            )
        })
}

/// The Docker engine could not be reached.
#[derive(Debug, thiserror::Error)]
#[error("cannot reach the Docker engine at {}", if .host.is_empty() { "\"\" (DOCKER_HOST is empty)" } else { .host.as_str() })]
pub struct ConnectError {
    pub host: String,
    /// Whether `DOCKER_HOST` named the address, rather than the default.
    pub from_env: bool,
    #[source]
    pub cause: EngineCause,
}

/// Why the engine did not answer, in a user's words: the HTTP client's own layers ("hyper
/// legacy client", "client error (Connect)") are left out.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct EngineCause(pub String);

impl EngineCause {
    fn of(e: &bollard::errors::Error, timeout: Duration) -> EngineCause {
        if let bollard::errors::Error::RequestTimeoutError = e {
            return EngineCause(not_answered(timeout));
        }
        let chain: Vec<String> = crate::chain::chain(e).map(|c| c.to_string()).collect();
        let root = chain.last().cloned().unwrap_or_default();
        let dns = chain.iter().any(|c| c == "dns error");
        let words = if dns {
            format!("cannot resolve the engine's host name: {root}")
        } else if let bollard::errors::Error::UnsupportedURISchemeError { .. } = e {
            "the address is not unix://, tcp://, http:// or https://".to_string()
        } else {
            root
        };
        EngineCause(words)
    }
}

/// What an engine that took a request and never answered it is told: how long it was given,
/// and how to give it longer.
fn not_answered(timeout: Duration) -> String {
    format!(
        "the Docker engine did not answer within {} s: is it overloaded or stuck? (`docker info` says; set {TIMEOUT_VAR} to wait longer)",
        timeout.as_secs()
    )
}

/// A connection to the Docker engine, as `DOCKER_HOST` (or the default socket) names it.
#[derive(Clone)]
pub struct Engine {
    pub(crate) docker: Docker,
    /// The host a published port is reached at: this machine for a local engine, the engine's
    /// host for a `tcp://` one.
    pub host: String,
    /// When lambda-ci itself runs in a container of this engine (a CI container job sharing
    /// the engine's socket), the network it is on: published ports on the engine's loopback
    /// are out of its reach, containers on that network are not.
    pub own_network: Option<String>,
    /// The engine's CPU architecture, as its version says.
    arch: Option<String>,
    /// How long a request waits for the engine's answer.
    timeout: Duration,
    /// The address, when the engine is reached over plain TCP beyond this machine: what
    /// lambda-ci sends it (a function's environment included) crosses the network in clear.
    pub in_clear: Option<String>,
}

impl Engine {
    /// Connects and agrees on an API version, each request waiting at most `timeout` for the
    /// engine's answer; fails when no engine answers.
    pub async fn connect(timeout: Duration, env: &EngineEnv) -> Result<Engine, ConnectError> {
        let from_env = env.host.is_some();
        let host = env.host.clone().unwrap_or_else(|| DEFAULT_HOST.into());
        let fail = |source: bollard::errors::Error| ConnectError {
            host: host.clone(),
            from_env,
            cause: EngineCause::of(&source, timeout),
        };
        let docker = Docker::connect_with_defaults()
            .map_err(fail)?
            .with_timeout(timeout);
        let docker = docker.negotiate_version().await.map_err(fail)?;
        // Reaches the engine in the version negotiated, and says its architecture.
        let version = docker.version().await.map_err(fail)?;
        let own_network = own_network(&docker).await;
        let tls = env.tls_verify;
        Ok(Engine {
            docker,
            in_clear: in_clear(&host, tls).then(|| host.clone()),
            host: published_host(&host),
            own_network,
            arch: version.arch,
            timeout,
        })
    }

    /// Why the engine's host network is not this machine's though its socket is local: Docker
    /// Desktop runs the engine in a virtual machine, a rootless engine runs containers in a
    /// network namespace of its own. `None` when it is this machine's (or the engine does not
    /// say).
    pub async fn host_elsewhere(&self) -> Option<String> {
        let info = self.docker.info().await.ok()?;
        let system = info.operating_system.unwrap_or_default();
        let rootless = info
            .security_options
            .unwrap_or_default()
            .iter()
            .any(|o| o.contains("rootless"));
        if system.contains("Docker Desktop") {
            Some(format!(
                "the engine ({system}) runs in a virtual machine, whose host network is not this machine's"
            ))
        } else if rootless {
            Some("the engine is rootless: its containers' host network is a namespace of its own, not this machine's".into())
        } else {
            None
        }
    }

    /// The client for a transfer to the engine, which may take longer than an answer.
    pub(crate) fn transfers(&self) -> Docker {
        self.docker
            .clone()
            .with_timeout(self.timeout.max(TRANSFER_TIMEOUT))
    }

    /// Whether the engine answers a ping within a few seconds (at most its timeout): before
    /// a sweep, so that one that stopped answering is not waited for once per container.
    pub async fn answers(&self) -> bool {
        let within = self.timeout.min(Duration::from_secs(5));
        matches!(
            tokio::time::timeout(within, self.docker.ping()).await,
            Ok(Ok(_))
        )
    }

    /// The error `e`, when it is the engine not answering (see [`engine_gone`]), in a user's
    /// words: what lambda-ci was doing, then what became of the engine, without the HTTP
    /// client's own layers.
    pub fn gone_message(&self, e: &(dyn std::error::Error + 'static)) -> Option<String> {
        use bollard::errors::Error as E;
        if !engine_gone(e) {
            return None;
        }
        let doing = crate::chain::chain(e)
            .next()
            .filter(|c| c.downcast_ref::<E>().is_none());
        let timed_out = crate::chain::chain(e)
            .any(|c| matches!(c.downcast_ref::<E>(), Some(E::RequestTimeoutError)));
        let gone = if timed_out {
            not_answered(self.timeout)
        } else {
            format!(
                "the Docker engine stopped answering ({}): is it still running? `docker info` says",
                crate::chain::root_cause(e)
            )
        };
        Some(match doing {
            Some(doing) => format!("{doing}: {gone}"),
            None => gone,
        })
    }

    /// Whether the engine holds `image` (by name, any platform).
    pub async fn has_image(&self, image: &str) -> bool {
        self.docker.inspect_image(image).await.is_ok()
    }

    /// The engine's CPU architecture as it names it (`amd64`, `arm64`), if it says.
    pub fn architecture(&self) -> Option<&str> {
        self.arch.as_deref()
    }
}

/// The network of the container this process runs in, if it runs in one of this engine's
/// containers and that container does not share the host's network. The container is found
/// by the id in this process's mount table or cgroup (a runner may set any hostname, as
/// GitLab's does), else by its hostname, which Docker sets to the container's id.
async fn own_network(docker: &Docker) -> Option<String> {
    if !std::path::Path::new("/.dockerenv").exists() {
        return None;
    }
    let mut candidates = Vec::new();
    for file in ["/proc/self/mountinfo", "/proc/self/cgroup"] {
        if let Ok(text) = std::fs::read_to_string(file) {
            candidates.extend(container_ids(&text));
        }
    }
    let hostname = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    if !hostname.is_empty() {
        candidates.push(hostname.clone());
    }
    candidates.dedup();
    for candidate in candidates {
        let Ok(info) = docker.inspect_container(&candidate, None).await else {
            continue;
        };
        // Only this process's own container has this process's hostname: an id read from a
        // mount table may be another container's (a machine that is itself a container, with
        // the engine's mounts in view).
        let theirs = info.config.as_ref().and_then(|c| c.hostname.as_deref());
        if !hostname.is_empty() && theirs.is_some_and(|h| h != hostname) {
            continue;
        }
        let networks = info.network_settings?.networks?;
        let mut names: Vec<String> = networks.into_keys().collect();
        names.sort();
        return names.into_iter().find(|n| n != "host" && n != "none");
    }
    None
}

/// Container ids (64 hex digits) that a mount table or cgroup file names: Docker's
/// `/var/lib/docker/containers/<id>/hostname` mounts, `/docker/<id>` and `docker-<id>.scope`.
fn container_ids(text: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for marker in ["containers/", "/docker/", "docker-"] {
        for (at, _) in text.match_indices(marker) {
            let rest = &text[at + marker.len()..];
            let hex: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
            if hex.len() == 64 && !ids.contains(&hex) {
                ids.push(hex);
            }
        }
    }
    ids
}

/// The host part of a `tcp://host:port` (or `http(s)://`) engine address; `127.0.0.1` for a
/// socket.
fn published_host(docker_host: &str) -> String {
    let Some((_, rest)) = docker_host.split_once("://") else {
        return "127.0.0.1".into();
    };
    if docker_host.starts_with("unix://") || docker_host.starts_with("npipe://") {
        return "127.0.0.1".into();
    }
    let authority = rest.split('/').next().unwrap_or(rest);
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    if host.is_empty() {
        "127.0.0.1".into()
    } else {
        host.to_string()
    }
}

/// Whether an engine at `docker_host` is reached without TLS over a network: a `tcp://` or
/// `http://` address that is not this machine's loopback, without `DOCKER_TLS_VERIFY`.
fn in_clear(docker_host: &str, tls: bool) -> bool {
    let plain = docker_host.starts_with("tcp://") || docker_host.starts_with("http://");
    plain && !tls && !is_loopback(&published_host(docker_host))
}

/// Whether `e` (or a cause of it) is the engine not answering at all, rather than answering
/// with a refusal: the connection was refused, closed or timed out.
pub fn engine_gone(e: &(dyn std::error::Error + 'static)) -> bool {
    use bollard::errors::Error as E;
    crate::chain::chain(e).any(|cause| {
        matches!(
            cause.downcast_ref::<E>(),
            Some(
                E::HyperLegacyError { .. }
                    | E::HyperResponseError { .. }
                    | E::IOError { .. }
                    | E::SocketNotFoundError(_)
                    | E::RequestTimeoutError
            )
        )
    })
}

/// Whether `host` names this machine's loopback (an IPv6 address with or without brackets).
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_matches(['[', ']']);
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_ports_are_reached_on_the_engines_host() {
        assert_eq!(published_host("unix:///var/run/docker.sock"), "127.0.0.1");
        assert!(in_clear("tcp://build-box:2375", false));
        assert!(in_clear("http://10.0.0.5:2375", false));
        assert!(!in_clear("tcp://build-box:2376", true));
        assert!(!in_clear("tcp://127.0.0.1:2375", false));
        assert!(!in_clear("tcp://localhost:2375", false));
        assert!(!in_clear("https://build-box:2376", false));
        assert!(!in_clear("unix:///var/run/docker.sock", false));
        assert_eq!(published_host("tcp://127.0.0.1:2375"), "127.0.0.1");
        assert_eq!(published_host("tcp://docker:2376"), "docker");
        assert_eq!(published_host("https://10.0.0.5:2376/"), "10.0.0.5");
        assert_eq!(published_host("tcp://[fd00::1]:2376"), "fd00::1");
        assert!(is_loopback("localhost") && is_loopback("::1") && !is_loopback("docker"));
        assert!(is_loopback("[::1]") && !is_loopback("0.0.0.0") && !is_loopback("[fd00::1]"));
    }

    #[test]
    fn own_container_ids_come_from_the_mount_table_or_cgroup() {
        let id = "4f1c2a".repeat(10) + "abcd";
        let mountinfo = format!(
            "1234 1200 8:1 /var/lib/docker/containers/{id}/hostname /etc/hostname rw,relatime - ext4 /dev/sda1 rw\n"
        );
        assert_eq!(container_ids(&mountinfo), vec![id.clone()]);
        assert_eq!(
            container_ids(&format!("0::/system.slice/docker-{id}.scope\n")),
            vec![id.clone()]
        );
        assert_eq!(container_ids(&format!("12:cpu:/docker/{id}\n")), vec![id]);
        assert!(container_ids("0::/\n").is_empty());
    }
}

//! A Telemetry API subscription (`PUT /2022-07-01/telemetry`), checked as the service checks
//! it: schema version, record types, buffering within the service's ranges, and a destination
//! in the sandbox.

use std::time::Duration;

use serde_json::{Value, json};

use super::Kind;
use crate::extensions::Refused;

const SCHEMAS: &[&str] = &["2022-07-01", "2022-12-13", "2025-01-29"];

/// Where a subscriber listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// `http://sandbox.localdomain:PORT/PATH`, reached at 127.0.0.1.
    Http {
        port: u16,
        path: String,
    },
    Tcp {
        port: u16,
    },
}

/// As the service's messages name it.
impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Destination::Http { port, path } => {
                write!(f, "http://sandbox.localdomain:{port}{path}")
            }
            Destination::Tcp { port } => write!(f, "TCP port {port}"),
        }
    }
}

/// A subscription, as validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub types: Vec<Kind>,
    pub max_items: usize,
    pub max_bytes: usize,
    pub timeout: Duration,
    pub destination: Destination,
}

/// Checks a subscription as the service does.
pub fn parse(body: &[u8]) -> Result<Subscription, Refused> {
    let invalid = |why: String| Refused::new(400, "ValidationError", why);
    let doc: Value =
        serde_json::from_slice(body).map_err(|e| invalid(format!("invalid JSON: {e}")))?;
    match doc.get("schemaVersion").and_then(Value::as_str) {
        Some(v) if SCHEMAS.contains(&v) => {}
        Some(v) => {
            return Err(invalid(format!(
                "unknown schemaVersion {v}; one of {}",
                SCHEMAS.join(", ")
            )));
        }
        None => return Err(invalid("schemaVersion is required".into())),
    }
    let mut types = Vec::new();
    for kind in doc
        .get("types")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        types.push(match kind.as_str() {
            Some("platform") => Kind::Platform,
            Some("function") => Kind::Function,
            Some("extension") => Kind::Extension,
            _ => return Err(invalid(format!("unknown type {kind}"))),
        });
    }
    if types.is_empty() {
        return Err(invalid("types should not be empty".into()));
    }
    let buffering = doc.get("buffering").cloned().unwrap_or(json!({}));
    let bounded = |key: &str, default: u64, low: u64, high: u64| -> Result<u64, Refused> {
        match buffering.get(key) {
            None => Ok(default),
            Some(v) => match v.as_u64() {
                Some(n) if (low..=high).contains(&n) => Ok(n),
                _ => Err(invalid(format!(
                    "buffering.{key} must be from {low} to {high}"
                ))),
            },
        }
    };
    let max_items = bounded("maxItems", 1000, 1000, 10000)? as usize;
    let max_bytes = bounded("maxBytes", 262144, 262144, 1048576)? as usize;
    let timeout = Duration::from_millis(bounded("timeoutMs", 1000, 25, 30000)?);
    let destination = doc
        .get("destination")
        .ok_or_else(|| invalid("destination is required".into()))?;
    let destination = match destination.get("protocol").and_then(Value::as_str) {
        Some("HTTP") => {
            let uri = destination
                .get("URI")
                .and_then(Value::as_str)
                .unwrap_or_default();
            http_destination(uri).map_err(invalid)?
        }
        Some("TCP") => match destination.get("port").and_then(Value::as_u64) {
            Some(port) if (1..=65535).contains(&port) => Destination::Tcp { port: port as u16 },
            _ => return Err(invalid("a TCP destination needs a port".into())),
        },
        _ => return Err(invalid("destination.protocol must be HTTP or TCP".into())),
    };
    Ok(Subscription {
        types,
        max_items,
        max_bytes,
        timeout,
        destination,
    })
}

/// `http://sandbox.localdomain:PORT/PATH`: the sandbox's own name, and a port.
fn http_destination(uri: &str) -> Result<Destination, String> {
    let rest = uri
        .strip_prefix("http://")
        .ok_or_else(|| format!("URI {uri:?} must start with http://"))?;
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/"),
    };
    let (host, port) = authority
        .rsplit_once(':')
        .ok_or_else(|| "URI port is not provided".to_string())?;
    if !matches!(
        host,
        "sandbox.localdomain" | "sandbox" | "localhost" | "127.0.0.1"
    ) {
        return Err(format!(
            "URI host {host} is not the sandbox: use sandbox.localdomain"
        ));
    }
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("URI port {port:?} is not a port"))?;
    Ok(Destination::Http {
        port,
        path: path.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_are_checked_as_the_service_checks_them() {
        let good = br#"{"schemaVersion":"2022-12-13","types":["platform","function"],"buffering":{"maxItems":1000,"maxBytes":262144,"timeoutMs":25},"destination":{"protocol":"HTTP","URI":"http://sandbox.localdomain:4243/telemetry"}}"#;
        let parsed = parse(good).unwrap();
        assert_eq!(parsed.types, [Kind::Platform, Kind::Function]);
        assert_eq!(parsed.timeout, Duration::from_millis(25));
        assert_eq!(
            parsed.destination,
            Destination::Http {
                port: 4243,
                path: "/telemetry".into()
            }
        );
        let bad = |body: &str| parse(body.as_bytes()).unwrap_err().message;
        assert!(bad(r#"{"schemaVersion":"2022-12-13","types":[],"destination":{"protocol":"HTTP","URI":"http://sandbox.localdomain:1"}}"#).contains("types should not be empty"));
        assert!(bad(r#"{"schemaVersion":"2022-12-13","types":["platform"],"destination":{"protocol":"HTTP","URI":"http://sandbox.localdomain"}}"#).contains("URI port is not provided"));
        assert!(bad(r#"{"schemaVersion":"2022-12-13","types":["platform"],"buffering":{"timeoutMs":5},"destination":{"protocol":"TCP","port":9}}"#).contains("timeoutMs"));
        assert!(bad(r#"{"types":["platform"]}"#).contains("schemaVersion"));
    }
}

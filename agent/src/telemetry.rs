//! The Telemetry API (2022-07-01): an extension subscribes to `platform`, `function` and
//! `extension` records, and the agent delivers them in batches (the subscription's buffering:
//! so many records, so many bytes, or so long since the first) to the extension's listener
//! inside the container, as a JSON array POSTed over HTTP or as lines over TCP. The init's
//! platform records are kept and replayed to each subscriber, which subscribes during init,
//! after some of them were emitted.

use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::extensions::Refused;

const SCHEMAS: &[&str] = &["2022-07-01", "2022-12-13", "2025-01-29"];

/// How many times a batch is tried before it is dropped.
const TRIES: u32 = 5;

/// Where a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Platform,
    Function,
    Extension,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Platform => "platform",
            Kind::Function => "function",
            Kind::Extension => "extension",
        }
    }
}

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

/// A subscription, as validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub types: Vec<Kind>,
    pub max_items: usize,
    pub max_bytes: usize,
    pub timeout: Duration,
    pub destination: Destination,
}

struct Subscriber {
    extension: String,
    types: Vec<Kind>,
    records: mpsc::UnboundedSender<Value>,
}

#[derive(Default)]
struct Inner {
    subscribers: Vec<Subscriber>,
    /// The platform records of the generation's init, for subscribers yet to come.
    init: Vec<Value>,
    initialising: bool,
}

#[derive(Default)]
pub struct Telemetry {
    inner: Mutex<Inner>,
}

impl Telemetry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new runtime generation: the old subscribers' extensions are gone.
    pub fn begin_init(&self) {
        let mut inner = self.lock();
        inner.subscribers.clear();
        inner.init.clear();
        inner.initialising = true;
    }

    pub fn end_init(&self) {
        self.lock().initialising = false;
    }

    /// Subscribes `extension` as `body` asks, or says what is wrong with it.
    pub fn subscribe(&self, extension: &str, body: &[u8]) -> Result<(), Refused> {
        let subscription = parse(body)?;
        let (records, receiver) = mpsc::unbounded_channel();
        let mut inner = self.lock();
        inner.subscribers.retain(|s| s.extension != extension);
        if subscription.types.contains(&Kind::Platform) {
            for record in &inner.init {
                let _ = records.send(record.clone());
            }
        }
        inner.subscribers.push(Subscriber {
            extension: extension.to_string(),
            types: subscription.types.clone(),
            records,
        });
        tokio::spawn(deliver(receiver, subscription));
        Ok(())
    }

    /// A platform record: `kind` such as `platform.start`.
    pub fn platform(&self, kind: &str, record: Value) {
        let record = json!({"time": now(), "type": kind, "record": record});
        let mut inner = self.lock();
        if inner.initialising {
            inner.init.push(record.clone());
        }
        send(&inner, Kind::Platform, &record);
    }

    /// A line the function or an extension wrote.
    pub fn line(&self, kind: Kind, line: &str) {
        let inner = self.lock();
        if inner.subscribers.iter().all(|s| !s.types.contains(&kind)) {
            return;
        }
        let record = json!({"time": now(), "type": kind.name(), "record": line});
        send(&inner, kind, &record);
    }

    /// Whether anyone listens for `kind`: lines are split for telemetry only then.
    pub fn wants(&self, kind: Kind) -> bool {
        self.lock()
            .subscribers
            .iter()
            .any(|s| s.types.contains(&kind))
    }
}

fn send(inner: &Inner, kind: Kind, record: &Value) {
    for subscriber in inner.subscribers.iter().filter(|s| s.types.contains(&kind)) {
        let _ = subscriber.records.send(record.clone());
    }
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

/// Batches a subscriber's records as its buffering says and sends each batch.
async fn deliver(mut records: mpsc::UnboundedReceiver<Value>, subscription: Subscription) {
    let mut batch: Vec<Value> = Vec::new();
    let mut bytes = 0;
    let mut due: Option<tokio::time::Instant> = None;
    loop {
        let timer = async {
            match due {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let full = tokio::select! {
            record = records.recv() => match record {
                Some(record) => {
                    bytes += record.to_string().len();
                    batch.push(record);
                    due.get_or_insert_with(|| tokio::time::Instant::now() + subscription.timeout);
                    batch.len() >= subscription.max_items || bytes >= subscription.max_bytes
                }
                None => {
                    send_batch(&subscription.destination, std::mem::take(&mut batch)).await;
                    return;
                }
            },
            () = timer => true,
        };
        if full && !batch.is_empty() {
            send_batch(&subscription.destination, std::mem::take(&mut batch)).await;
            bytes = 0;
            due = None;
        }
    }
}

async fn send_batch(destination: &Destination, batch: Vec<Value>) {
    if batch.is_empty() {
        return;
    }
    for attempt in 0..TRIES {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
        }
        let sent = match destination {
            Destination::Http { port, path } => post(*port, path, &batch).await,
            Destination::Tcp { port } => lines(*port, &batch).await,
        };
        if sent.is_ok() {
            return;
        }
    }
    crate::output::diagnose(&format!(
        "{} telemetry records dropped: the subscriber's listener did not take them",
        batch.len()
    ));
}

async fn post(port: u16, path: &str, batch: &[Value]) -> Result<(), String> {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let body = serde_json::to_vec(batch).map_err(|e| e.to_string())?;
    let request = hyper::Request::post(path)
        .header("Host", format!("sandbox.localdomain:{port}"))
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let answer = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    if answer.status().is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {}", answer.status()))
    }
}

async fn lines(port: u16, batch: &[Value]) -> Result<(), String> {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    let mut text = String::new();
    for record in batch {
        text.push_str(&record.to_string());
        text.push('\n');
    }
    stream
        .write_all(text.as_bytes())
        .await
        .map_err(|e| e.to_string())
}

/// The time now, as records carry it: `2026-12-02T06:03:50.123Z`.
pub fn now() -> String {
    let ms = crate::ids::epoch_ms();
    let (secs, millis) = (ms / 1000, ms % 1000);
    let (days, rest) = (secs / 86400, secs % 86400);
    let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days as i64 + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{millis:03}Z")
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

    #[test]
    fn times_are_written_in_utc_with_milliseconds() {
        let now = now();
        assert_eq!(now.len(), 24, "{now}");
        assert!(now.starts_with("20") && now.ends_with('Z'), "{now}");
    }
}

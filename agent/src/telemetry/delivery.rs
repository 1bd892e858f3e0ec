//! Delivering one subscriber's records to its listener: in batches as its buffering says, each
//! batch tried [`TRIES`] times with at most [`ATTEMPT`] for each try, then dropped. Records
//! wait in a backlog of at most [`BACKLOG_BYTES`]; past it new ones are dropped and counted,
//! and the next batch starts with a `platform.logsDropped` record saying how many, as the
//! service does when a subscriber does not keep up. What is dropped is also said in the
//! function's logs, as notes the invocations write.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::sync::mpsc;

use super::subscription::{Destination, Subscription};

/// How many times a batch is tried before it is dropped.
pub const TRIES: u32 = 5;
/// How long one try may take, from connecting to the listener's answer.
pub const ATTEMPT: Duration = Duration::from_secs(1);
/// How much a subscriber's records may hold the agent's memory while they wait for it.
pub const BACKLOG_BYTES: usize = 16 << 20;

/// What delivery has to say in the function's logs, taken by each invocation as it ends.
pub type Notes = Arc<Mutex<Vec<String>>>;

/// A subscriber's end of its backlog: records go in here, serialised.
pub struct Sender {
    records: mpsc::UnboundedSender<String>,
    backlog: Arc<Backlog>,
}

/// How much is waiting, and how much was dropped since the last batch said so.
struct Backlog {
    limit: usize,
    bytes: AtomicUsize,
    dropped_records: AtomicU64,
    dropped_bytes: AtomicU64,
}

impl Sender {
    /// Queues `record`, or drops it and counts it when the backlog is full.
    pub fn send(&self, record: &serde_json::Value) {
        let text = record.to_string();
        let backlog = &self.backlog;
        if backlog.bytes.load(Ordering::SeqCst) + text.len() > backlog.limit {
            backlog.dropped_records.fetch_add(1, Ordering::SeqCst);
            backlog
                .dropped_bytes
                .fetch_add(text.len() as u64, Ordering::SeqCst);
            return;
        }
        backlog.bytes.fetch_add(text.len(), Ordering::SeqCst);
        let _ = self.records.send(text);
    }
}

/// Where a subscriber's batches go, and what to call it in notes.
struct Listener {
    extension: String,
    subscription: Subscription,
    notes: Notes,
}

/// Starts delivering to `extension`'s listener as `subscription` says.
pub fn start(extension: &str, subscription: Subscription, notes: Notes) -> Sender {
    let (sender, receiver) = backlog(BACKLOG_BYTES);
    let listener = Listener {
        extension: extension.to_string(),
        subscription,
        notes,
    };
    tokio::spawn(deliver(receiver, sender.backlog.clone(), listener));
    sender
}

fn backlog(limit: usize) -> (Sender, mpsc::UnboundedReceiver<String>) {
    let (records, receiver) = mpsc::unbounded_channel();
    let backlog = Arc::new(Backlog {
        limit,
        bytes: AtomicUsize::new(0),
        dropped_records: AtomicU64::new(0),
        dropped_bytes: AtomicU64::new(0),
    });
    (Sender { records, backlog }, receiver)
}

/// Batches the records as the subscription's buffering says and sends each batch.
async fn deliver(
    mut records: mpsc::UnboundedReceiver<String>,
    backlog: Arc<Backlog>,
    to: Listener,
) {
    let buffering = &to.subscription;
    let mut batch: Vec<String> = Vec::new();
    let mut bytes = 0;
    let mut due: Option<tokio::time::Instant> = None;
    loop {
        let timer = async {
            match due {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let (full, last) = tokio::select! {
            record = records.recv() => match record {
                Some(record) => {
                    backlog.bytes.fetch_sub(record.len(), Ordering::SeqCst);
                    bytes += record.len();
                    batch.push(record);
                    due.get_or_insert_with(|| tokio::time::Instant::now() + buffering.timeout);
                    (batch.len() >= buffering.max_items || bytes >= buffering.max_bytes, false)
                }
                None => (true, true),
            },
            () = timer => (true, false),
        };
        if full && !batch.is_empty() {
            let dropped = backlog.take_dropped();
            if let Some((record, _)) = &dropped {
                batch.insert(0, record.clone());
            }
            let sent = std::mem::take(&mut batch);
            match send_batch(&buffering.destination, &sent).await {
                Ok(()) => {
                    if let Some((_, (records, bytes))) = dropped {
                        to.note(format!(
                            "{records} telemetry {} ({bytes} bytes) for extension {} dropped: its listener did not keep up and {} MiB of records were waiting for it; it was sent a platform.logsDropped record saying so",
                            records_word(records),
                            to.extension,
                            backlog.limit >> 20,
                        ));
                    }
                }
                Err(why) => {
                    // The record saying what was dropped is not one of the function's: its
                    // counts wait for the next batch.
                    if let Some((_, (records, bytes))) = dropped {
                        backlog.dropped_records.fetch_add(records, Ordering::SeqCst);
                        backlog.dropped_bytes.fetch_add(bytes, Ordering::SeqCst);
                    }
                    let lost = sent.len() - usize::from(dropped.is_some());
                    to.note(format!(
                        "{lost} telemetry {} for extension {} dropped: its listener at {} did not take them after {TRIES} tries ({why})",
                        records_word(lost as u64),
                        to.extension,
                        buffering.destination,
                    ));
                }
            }
            bytes = 0;
            due = None;
        }
        if last {
            return;
        }
    }
}

impl Backlog {
    /// The `platform.logsDropped` record for what was dropped since the last one, with the
    /// counts (records, bytes) it holds, if anything was dropped.
    fn take_dropped(&self) -> Option<(String, (u64, u64))> {
        let records = self.dropped_records.swap(0, Ordering::SeqCst);
        let bytes = self.dropped_bytes.swap(0, Ordering::SeqCst);
        if records == 0 {
            return None;
        }
        let record = json!({
            "time": super::now(),
            "type": "platform.logsDropped",
            "record": {
                "reason": "Some logs were dropped because the downstream consumer is slower than the logs production rate",
                "droppedRecords": records,
                "droppedBytes": bytes,
            },
        });
        Some((record.to_string(), (records, bytes)))
    }
}

impl Listener {
    fn note(&self, text: String) {
        let mut notes = self.notes.lock().unwrap_or_else(|e| e.into_inner());
        notes.push(format!("lambda-ci: {text}"));
    }
}

fn records_word(n: u64) -> &'static str {
    if n == 1 { "record" } else { "records" }
}

/// Sends `batch`, trying again a little later when the listener does not take it; the last
/// reason when it never does.
async fn send_batch(destination: &Destination, batch: &[String]) -> Result<(), String> {
    let body = match destination {
        Destination::Http { .. } => format!("[{}]", batch.join(",")),
        Destination::Tcp { .. } => batch.iter().map(|r| format!("{r}\n")).collect(),
    };
    let body = Bytes::from(body);
    let mut why = String::new();
    for attempt in 0..TRIES {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
        }
        let sent = match destination {
            Destination::Http { port, path } => {
                tokio::time::timeout(ATTEMPT, post(*port, path, body.clone())).await
            }
            Destination::Tcp { port } => tokio::time::timeout(ATTEMPT, lines(*port, &body)).await,
        };
        match sent {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(e)) => why = e,
            Err(_) => why = format!("no answer within {} s", ATTEMPT.as_secs()),
        }
    }
    Err(why)
}

/// Ends the connection's task when the try that made it is over, answered or not.
struct Aborting(tokio::task::JoinHandle<()>);

impl Drop for Aborting {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn post(port: u16, path: &str, body: Bytes) -> Result<(), String> {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    let _connection = Aborting(tokio::spawn(async move {
        let _ = connection.await;
    }));
    let request = hyper::Request::post(path)
        .header("Host", format!("sandbox.localdomain:{port}"))
        .header("Content-Type", "application/json")
        .body(Full::new(body))
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

async fn lines(port: u16, body: &[u8]) -> Result<(), String> {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    stream.write_all(body).await.map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A port on which nothing listens.
    fn closed_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    fn http(port: u16) -> Destination {
        Destination::Http {
            port,
            path: "/".into(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_listener_that_refuses_gets_every_try_then_the_batch_is_dropped() {
        let started = tokio::time::Instant::now();
        let why = send_batch(&http(closed_port()), &["{}".into()])
            .await
            .unwrap_err();
        assert!(why.to_lowercase().contains("refused"), "{why}");
        // The waits between the five tries: 200, 400, 800 and 1,600 ms.
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(3000) && waited < Duration::from_millis(3500));
    }

    #[tokio::test(start_paused = true)]
    async fn a_listener_that_never_answers_is_given_up_on_in_bounded_time() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let held = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                open.push(stream);
            }
        });
        let started = tokio::time::Instant::now();
        for destination in [http(port), Destination::Tcp { port }] {
            let big = "x".repeat(8 << 20);
            let why = send_batch(&destination, &[big]).await.unwrap_err();
            assert_eq!(why, "no answer within 1 s");
        }
        // Each: five tries of a second and three seconds between them.
        let waited = started.elapsed();
        assert!(waited >= Duration::from_secs(16) && waited < Duration::from_secs(17));
        held.abort();
    }

    #[tokio::test]
    async fn past_the_backlog_records_are_dropped_and_the_next_batch_says_how_many() {
        let (sender, receiver) = backlog(1000);
        let shared = sender.backlog.clone();
        for n in 0..100 {
            sender.send(&json!({"type": "function", "record": format!("line {n:04}")}));
        }
        drop(sender);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let notes = Notes::default();
        let to = Listener {
            extension: "recorder".into(),
            subscription: Subscription {
                types: vec![super::super::Kind::Function],
                max_items: 1000,
                max_bytes: 262144,
                timeout: Duration::from_millis(25),
                destination: Destination::Tcp { port },
            },
            notes: notes.clone(),
        };
        let delivered = tokio::spawn(deliver(receiver, shared, to));
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).await.unwrap();
        stream.shutdown().await.unwrap();
        delivered.await.unwrap();
        let records: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(records[0]["type"], "platform.logsDropped", "{text}");
        let kept = records.len() as u64 - 1;
        assert!(kept > 10 && kept < 100, "{kept}");
        assert_eq!(records[0]["record"]["droppedRecords"], 100 - kept);
        assert_eq!(records[1]["record"], "line 0000");
        let notes = notes.lock().unwrap();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with(&format!("lambda-ci: {} telemetry records (", 100 - kept))
                && notes[0]
                    .contains("for extension recorder dropped: its listener did not keep up"),
            "{notes:?}"
        );
    }
}

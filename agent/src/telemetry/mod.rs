//! The Telemetry API (2022-07-01): an extension subscribes to `platform`, `function` and
//! `extension` records, and the agent delivers them in batches (the subscription's buffering:
//! so many records, so many bytes, or so long since the first) to the extension's listener
//! inside the container, as a JSON array POSTed over HTTP or as lines over TCP. The init's
//! platform records are kept and replayed to each subscriber, which subscribes during init,
//! after some of them were emitted.

mod delivery;
mod subscription;

use std::sync::Mutex;

use serde_json::{Value, json};

use crate::extensions::Refused;
use subscription::parse;

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

struct Subscriber {
    /// The extension's identifier.
    extension: String,
    types: Vec<Kind>,
    records: delivery::Sender,
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
    notes: delivery::Notes,
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

    /// Subscribes the extension `id` (called `name`) as `body` asks, or says what is wrong
    /// with it.
    pub fn subscribe(&self, id: &str, name: &str, body: &[u8]) -> Result<(), Refused> {
        let subscription = parse(body)?;
        let types = subscription.types.clone();
        let records = delivery::start(name, subscription, self.notes.clone());
        let mut inner = self.lock();
        inner.subscribers.retain(|s| s.extension != id);
        if types.contains(&Kind::Platform) {
            for record in &inner.init {
                records.send(record);
            }
        }
        inner.subscribers.push(Subscriber {
            extension: id.to_string(),
            types,
            records,
        });
        Ok(())
    }

    /// What delivery had to say since last asked (records dropped), for the logs.
    pub fn take_notes(&self) -> Vec<String> {
        std::mem::take(&mut *self.notes.lock().unwrap_or_else(|e| e.into_inner()))
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
        subscriber.records.send(record);
    }
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
    fn times_are_written_in_utc_with_milliseconds() {
        let now = now();
        assert_eq!(now.len(), 24, "{now}");
        assert!(now.starts_with("20") && now.ends_with('Z'), "{now}");
    }
}

//! The Extensions API (2020-01-01), as the service answers it: external extensions are the
//! executables in `/opt/extensions`, started before the runtime and waited for until they
//! register; an extension registers for `INVOKE` and `SHUTDOWN` events and takes them from
//! `/event/next`, which also tells that it is done with the last one. Init ends only when the
//! runtime and every extension have asked for their next event; an invocation ends only when
//! each extension it was sent to has.

use std::collections::VecDeque;

use serde_json::{Value, json};

/// Where external extensions are.
pub const DIR: &str = "/opt/extensions";

/// The most extensions a function may have.
pub const MAX: usize = 10;

/// One registered extension.
pub struct Extension {
    pub id: String,
    pub name: String,
    pub invoke: bool,
    pub shutdown: bool,
    /// Events not yet taken.
    pub queue: VecDeque<Value>,
    /// Waiting at `/event/next` with nothing left to do.
    pub idle: bool,
}

/// Why an extension's call cannot be taken, as the service words it.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused {
    pub status: u16,
    pub error_type: &'static str,
    pub message: String,
}

impl Refused {
    pub fn new(status: u16, error_type: &'static str, message: impl Into<String>) -> Refused {
        Refused {
            status,
            error_type,
            message: message.into(),
        }
    }

    pub fn body(&self) -> String {
        json!({"errorType": self.error_type, "errorMessage": self.message}).to_string()
    }
}

/// The executables in /opt/extensions, in name order, as the service starts them.
pub fn external() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(DIR) else {
        return Vec::new();
    };
    let mut found: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(e.path());
            meta.is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .map(|e| e.path().display().to_string())
        .collect();
    found.sort();
    found
}

/// The events a registration asks for: `{"events": ["INVOKE", "SHUTDOWN"]}`.
pub fn events(body: &[u8]) -> Result<(bool, bool), Refused> {
    let invalid = |why: &str| Refused::new(400, "InvalidRequestFormat", why);
    let doc: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body).map_err(|e| invalid(&format!("invalid JSON: {e}")))?
    };
    let mut invoke = false;
    let mut shutdown = false;
    if let Some(events) = doc.get("events") {
        let events = events
            .as_array()
            .ok_or_else(|| invalid("`events` must be an array"))?;
        for event in events {
            match event.as_str() {
                Some("INVOKE") => invoke = true,
                Some("SHUTDOWN") => shutdown = true,
                _ => {
                    return Err(Refused::new(
                        400,
                        "Extension.InvalidEventType",
                        format!("unknown event type {event}"),
                    ));
                }
            }
        }
    }
    if doc.get("configurationKeys").is_some() {
        return Err(Refused::new(
            403,
            "Extension.UnsupportedFeature",
            "configurationKeys are deprecated",
        ));
    }
    Ok((invoke, shutdown))
}

/// The `INVOKE` event of an invocation.
pub fn invoke_event(request_id: &str, deadline_ms: u64, arn: &str, trace_id: &str) -> Value {
    json!({
        "eventType": "INVOKE",
        "deadlineMs": deadline_ms,
        "requestId": request_id,
        "invokedFunctionArn": arn,
        "tracing": {"type": "X-Amzn-Trace-Id", "value": trace_id},
    })
}

/// The `SHUTDOWN` event: `reason` is `spindown`, `timeout` or `failure`.
pub fn shutdown_event(reason: &str, deadline_ms: u64) -> Value {
    json!({"eventType": "SHUTDOWN", "shutdownReason": reason, "deadlineMs": deadline_ms})
}

/// The `EXTENSION` line the service logs for an extension at the end of init.
pub fn log_line(extension: &Extension) -> String {
    let mut events = Vec::new();
    if extension.invoke {
        events.push("INVOKE");
    }
    if extension.shutdown {
        events.push("SHUTDOWN");
    }
    format!(
        "EXTENSION\tName: {}\tState: Ready\tEvents: [{}]",
        extension.name,
        events.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrations_are_checked_as_the_service_checks_them() {
        assert_eq!(
            events(br#"{"events": ["INVOKE", "SHUTDOWN"]}"#),
            Ok((true, true))
        );
        assert_eq!(events(br#"{"events": []}"#), Ok((false, false)));
        assert_eq!(events(b""), Ok((false, false)));
        assert_eq!(
            events(br#"{"events": ["BOOT"]}"#).unwrap_err().error_type,
            "Extension.InvalidEventType"
        );
        assert_eq!(events(b"{").unwrap_err().status, 400);
    }
}

//! `InvokeWithResponseStream` (`POST /2021-11-15/functions/{name}/response-streaming-invocations`)
//! as the SDKs read it: an `application/vnd.amazon.eventstream` body of `PayloadChunk` events,
//! one for each piece of the function's response as it arrives (a whole response is one), then
//! `InvokeComplete` with the error code and details of a failed invocation and the log tail
//! when asked for. Framed with `aws-smithy-eventstream`, as the SDKs decode it.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use hyper::body::{Body, Bytes, Frame};
use tokio::sync::mpsc;

pub const CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";

/// The most one event carries: an event stream frame holds at most 16 MiB, and a function's
/// piece (or whole answer) may be larger, so it goes as several events.
const EVENT_PAYLOAD: usize = 1024 * 1024;

fn event(event_type: &'static str, content_type: &'static str, payload: Bytes) -> Bytes {
    let header = |name: &'static str, value: &'static str| {
        Header::new(name, HeaderValue::String(value.into()))
    };
    let message = Message::new_from_parts(
        vec![
            header(":event-type", event_type),
            header(":content-type", content_type),
            header(":message-type", "event"),
        ],
        payload,
    );
    let mut framed = Vec::new();
    // Three short headers and a payload of at most EVENT_PAYLOAD bytes always frame.
    if aws_smithy_eventstream::frame::write_message_to(&message, &mut framed).is_err() {
        framed.clear();
    }
    Bytes::from(framed)
}

/// One piece of the function's response, as one `PayloadChunk` event for each 1 MiB of it.
pub fn chunk(payload: Vec<u8>) -> Bytes {
    let payload = Bytes::from(payload);
    let mut events = Vec::with_capacity(payload.len() + 128);
    for at in (0..payload.len().max(1)).step_by(EVENT_PAYLOAD) {
        let end = (at + EVENT_PAYLOAD).min(payload.len());
        let piece = payload.slice(at..end);
        events.extend_from_slice(&event("PayloadChunk", "application/octet-stream", piece));
    }
    Bytes::from(events)
}

/// The end of the stream: how the invocation ended, and its log tail.
pub fn complete(error: Option<(&str, &str)>, log_result: Option<&str>) -> Bytes {
    let mut doc = serde_json::Map::new();
    if let Some((code, details)) = error {
        doc.insert("ErrorCode".into(), code.into());
        // Details past one event's payload are cut, at a character.
        let mut end = details.len().min(EVENT_PAYLOAD / 2);
        while !details.is_char_boundary(end) {
            end -= 1;
        }
        doc.insert("ErrorDetails".into(), details[..end].into());
    }
    if let Some(log) = log_result {
        doc.insert("LogResult".into(), log.into());
    }
    let payload = serde_json::Value::Object(doc).to_string();
    event("InvokeComplete", "application/json", payload.into())
}

/// The response body: events as they are sent.
pub struct Events(pub mpsc::UnboundedReceiver<Bytes>);

impl Body for Events {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|event| event.map(|bytes| Ok(Frame::data(bytes))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Regression: a piece over the event stream's 16 MiB frame panicked the server.
    #[test]
    fn a_piece_larger_than_one_frame_goes_as_several_events() {
        let big = vec![b'x'; 17 * 1024 * 1024];
        let mut events = chunk(big.clone());
        let mut payload = Vec::new();
        let mut count = 0;
        while !events.is_empty() {
            let message = aws_smithy_eventstream::frame::read_message_from(&mut events).unwrap();
            payload.extend_from_slice(message.payload());
            count += 1;
        }
        assert_eq!(payload, big);
        assert_eq!(count, 17);
        assert!(!chunk(Vec::new()).is_empty(), "an empty piece is one event");
    }

    #[test]
    fn events_read_back_as_the_sdks_read_them() {
        let read = |bytes: Bytes| {
            aws_smithy_eventstream::frame::read_message_from(bytes).expect("a whole message")
        };
        let message = read(chunk(b"chunk 1\n".to_vec()));
        assert_eq!(message.payload().as_ref(), b"chunk 1\n");
        let event_type = message
            .headers()
            .iter()
            .find(|h| h.name().as_str() == ":event-type")
            .map(|h| h.value().as_string().unwrap().as_str().to_string());
        assert_eq!(event_type.as_deref(), Some("PayloadChunk"));
        let done = read(complete(Some(("Unhandled", "{}")), None));
        let doc: serde_json::Value = serde_json::from_slice(done.payload()).unwrap();
        assert_eq!(
            doc,
            serde_json::json!({"ErrorCode": "Unhandled", "ErrorDetails": "{}"})
        );
    }
}

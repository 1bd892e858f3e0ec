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
    aws_smithy_eventstream::frame::write_message_to(&message, &mut framed)
        .expect("a message of three headers and a payload under 16 MB frames");
    Bytes::from(framed)
}

/// One piece of the function's response.
pub fn chunk(payload: Vec<u8>) -> Bytes {
    event("PayloadChunk", "application/octet-stream", payload.into())
}

/// The end of the stream: how the invocation ended, and its log tail.
pub fn complete(error: Option<(&str, &str)>, log_result: Option<&str>) -> Bytes {
    let mut doc = serde_json::Map::new();
    if let Some((code, details)) = error {
        doc.insert("ErrorCode".into(), code.into());
        doc.insert("ErrorDetails".into(), details.into());
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

//! Response streaming: a runtime that posts `/response` with
//! `Lambda-Runtime-Function-Response-Mode: streaming` has its body passed to the caller piece by
//! piece as it arrives, and a failure part way through (the trailers' error type and body) at
//! the end. To lambda-ci the pieces go framed, so that none is merged with another and the
//! failure cannot be mistaken for data: `D`, a 4-byte big-endian length and the bytes, or `E`,
//! a length and `{"errorType": ..., "errorBody": ...}`.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{BufMut, Bytes, BytesMut};
use hyper::body::{Body, Frame};
use tokio::sync::mpsc;

/// How much a streamed response may carry, as the service allows.
pub const LIMIT: usize = 200 * 1024 * 1024;

/// The content type of the framed stream lambda-ci reads.
pub const CONTENT_TYPE: &str = "application/vnd.lambda-ci.stream";

/// One piece of a streamed response.
#[derive(Debug)]
pub enum Piece {
    Data(Bytes),
    /// The stream ended in a failure of this type, with this body.
    Error {
        error_type: String,
        body: Bytes,
    },
}

impl Piece {
    fn framed(&self) -> Bytes {
        let (tag, payload) = match self {
            Piece::Data(bytes) => (b'D', bytes.clone()),
            Piece::Error { error_type, body } => {
                let doc = serde_json::json!({
                    "errorType": error_type,
                    "errorBody": String::from_utf8_lossy(body),
                });
                (b'E', Bytes::from(doc.to_string()))
            }
        };
        let mut framed = BytesMut::with_capacity(5 + payload.len());
        framed.put_u8(tag);
        framed.put_u32(payload.len() as u32);
        framed.put_slice(&payload);
        framed.freeze()
    }
}

/// The caller's body: the pieces, framed, as they come.
pub struct Framed(pub mpsc::Receiver<Piece>);

impl Body for Framed {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.0.poll_recv(cx) {
            Poll::Ready(Some(piece)) => Poll::Ready(Some(Ok(Frame::data(piece.framed())))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_framed_with_their_kind_and_length() {
        let data = Piece::Data(Bytes::from_static(b"chunk 1\n")).framed();
        assert_eq!(&data[..5], &[b'D', 0, 0, 0, 8]);
        assert_eq!(&data[5..], b"chunk 1\n");
        let error = Piece::Error {
            error_type: "Runtime.StreamError".into(),
            body: Bytes::from_static(b"{}"),
        }
        .framed();
        assert_eq!(error[0], b'E');
        let doc: serde_json::Value = serde_json::from_slice(&error[5..]).unwrap();
        assert_eq!(doc["errorType"], "Runtime.StreamError");
    }
}

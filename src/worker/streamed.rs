//! A streamed response as the agent passes it on: framed pieces (`D`, a 4-byte big-endian
//! length and the bytes; `E`, a length and `{"errorType", "errorBody"}` for a failure part
//! way through), read as they arrive, each with its arrival time; and the HTTP-integration
//! prelude a streamed Function URL or API Gateway response begins with, found by scanning the
//! bytes for its 8 NUL separator, wherever the pieces were cut.

use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::outcome::{Streamed, TransportError};

/// The most a streamed response carries, as the service allows (200 MiB), and a margin for
/// its framing; more is not the agent's.
const MAX_DATA: usize = 201 * 1024 * 1024;
/// The most one framed piece may claim: the agent passes the runtime's writes on as they come,
/// far smaller.
const MAX_PIECE: usize = 16 * 1024 * 1024;

/// The content type of a response with an HTTP-integration prelude.
pub const HTTP_INTEGRATION: &str = "application/vnd.awslambda.http-integration-response";

/// What was read of a streamed response.
#[derive(Debug, Clone, Default)]
pub struct Stream {
    /// The response's bytes, the pieces joined.
    pub data: Vec<u8>,
    /// When each piece arrived, from the request, and its size.
    pub pieces: Vec<(Duration, usize)>,
    /// The failure it ended in: type and body.
    pub error: Option<(String, String)>,
    /// The runtime's content type.
    pub content_type: Option<String>,
    /// Bytes of a piece not yet whole.
    pending: Vec<u8>,
}

impl Stream {
    pub fn new(content_type: Option<String>) -> Stream {
        Stream {
            content_type,
            ..Stream::default()
        }
    }

    /// Takes the bytes that arrived now (timed from `sent`); each piece they complete is also
    /// shown to `piece`. A piece that claims more than any the agent sends, or more data in all
    /// than the service streams, ends the reading.
    pub fn take(
        &mut self,
        bytes: &[u8],
        sent: Instant,
        mut piece: impl FnMut(&[u8]),
    ) -> Result<(), TransportError> {
        self.pending.extend_from_slice(bytes);
        let at = sent.elapsed();
        let mut start = 0;
        while self.pending.len() - start >= 5 {
            let tag = self.pending[start];
            let len = u32::from_be_bytes(
                self.pending[start + 1..start + 5]
                    .try_into()
                    .expect("four bytes"),
            ) as usize;
            if len > MAX_PIECE {
                return Err(TransportError::Oversized {
                    limit: "16 MiB in one streamed piece",
                });
            }
            if self.data.len() + len > MAX_DATA {
                return Err(TransportError::Oversized {
                    limit: "200 MiB streamed",
                });
            }
            if self.pending.len() - start - 5 < len {
                break;
            }
            let payload = &self.pending[start + 5..start + 5 + len];
            match tag {
                b'D' => {
                    self.data.extend_from_slice(payload);
                    self.pieces.push((at, len));
                    piece(payload);
                }
                b'E' => {
                    let doc: serde_json::Value =
                        serde_json::from_slice(payload).unwrap_or_default();
                    let text = |key: &str| doc[key].as_str().unwrap_or_default().to_string();
                    self.error = Some((text("errorType"), text("errorBody")));
                }
                _ => {}
            }
            start += 5 + len;
        }
        self.pending.drain(..start);
        Ok(())
    }

    /// What the stream's timing says, for checks and reports.
    pub fn stats(&self) -> Streamed {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        Streamed {
            chunks: self.pieces.len() as u64,
            bytes: self.data.len() as u64,
            first_chunk_ms: self.pieces.first().map(|(at, _)| ms(*at)),
            last_chunk_ms: self.pieces.last().map(|(at, _)| ms(*at)),
        }
    }

    /// The response as checks read it: with an HTTP-integration prelude, the prelude's
    /// `statusCode`, `headers` and `cookies` with the rest as `body` (base64 and
    /// `isBase64Encoded` when it is not text); otherwise the bytes as they are.
    pub fn response(&self) -> Vec<u8> {
        let prelude = self
            .content_type
            .as_deref()
            .is_some_and(|c| c.starts_with(HTTP_INTEGRATION));
        match prelude.then(|| split_prelude(&self.data)).flatten() {
            Some((mut prelude, payload)) => {
                match std::str::from_utf8(payload) {
                    Ok(text) => prelude["body"] = text.into(),
                    Err(_) => {
                        let encoded = base64::engine::general_purpose::STANDARD.encode(payload);
                        prelude["body"] = encoded.into();
                        prelude["isBase64Encoded"] = true.into();
                    }
                }
                prelude.to_string().into_bytes()
            }
            None => self.data.clone(),
        }
    }
}

/// The JSON prelude and the payload after its 8 NUL separator, found by scanning the bytes.
fn split_prelude(data: &[u8]) -> Option<(serde_json::Value, &[u8])> {
    let at = data.windows(8).position(|w| w == [0u8; 8])?;
    let prelude: serde_json::Value = serde_json::from_slice(&data[..at]).ok()?;
    prelude.is_object().then_some((prelude, &data[at + 8..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(tag: u8, payload: &[u8]) -> Vec<u8> {
        let mut bytes = vec![tag];
        bytes.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        bytes.extend_from_slice(payload);
        bytes
    }

    #[test]
    fn pieces_are_read_whatever_the_reads_cut_them_into() {
        let mut all = framed(
            b'D',
            b"{\"statusCode\":201,\"headers\":{\"a\":\"b\"}}\0\0\0\0",
        );
        all.extend(framed(b'D', b"\0\0\0\0chunk 1\n"));
        all.extend(framed(b'D', b"chunk 2\n"));
        let mut stream = Stream::new(Some(HTTP_INTEGRATION.into()));
        let sent = Instant::now();
        for byte in &all {
            stream
                .take(std::slice::from_ref(byte), sent, |_| {})
                .unwrap();
        }
        assert_eq!(stream.stats().chunks, 3);
        let response: serde_json::Value = serde_json::from_slice(&stream.response()).unwrap();
        assert_eq!(
            response,
            serde_json::json!({"statusCode": 201, "headers": {"a": "b"}, "body": "chunk 1\nchunk 2\n"})
        );
        assert!(stream.error.is_none());
    }

    #[test]
    fn a_failure_part_way_is_kept_and_plain_streams_stay_as_they_are() {
        let mut stream = Stream::new(Some("text/plain".into()));
        let mut all = framed(b'D', b"partial");
        all.extend(framed(
            b'E',
            br#"{"errorType":"Runtime.StreamError","errorBody":"{}"}"#,
        ));
        stream.take(&all, Instant::now(), |_| {}).unwrap();
        assert_eq!(stream.response(), b"partial");
        assert_eq!(
            stream.error,
            Some(("Runtime.StreamError".into(), "{}".into()))
        );
    }

    // Regression: a piece's 4-byte length was trusted, so a frame claiming 4 GiB was buffered
    // for as long as bytes came.
    #[test]
    fn a_piece_claiming_more_than_the_service_streams_ends_the_reading() {
        let mut stream = Stream::new(None);
        let mut claim = vec![b'D'];
        claim.extend_from_slice(&u32::MAX.to_be_bytes());
        claim.extend_from_slice(b"and then some");
        let read = stream.take(&claim, Instant::now(), |_| {});
        assert!(
            matches!(read, Err(TransportError::Oversized { .. })),
            "{read:?}"
        );
        assert!(stream.data.is_empty());
    }
}

//! A function URL in `RESPONSE_STREAM` mode: the function's pieces go to the HTTP client as
//! they are written. The response's head waits for the HTTP-integration prelude (or for the
//! first bytes that cannot begin one); a function that streamed nothing (it answered whole,
//! or failed first) is answered as a buffered call is.

use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::body::Bytes;
use hyper::{Response, StatusCode};
use tokio::sync::mpsc::UnboundedReceiver;

use super::{Answered, Asked, Doors, answer, append_headers, line};
use crate::gateway::{self, Head};
use crate::serve::function::Function;
use crate::serve::http::Answer;
use crate::serve::stream::Events;

impl Doors {
    /// Answers with the function's pieces as they come.
    pub(super) async fn stream(
        &self,
        function: Arc<Function>,
        asked: Asked,
        mut pieces: UnboundedReceiver<Vec<u8>>,
        answered: Answered,
    ) -> Answer {
        let mut first = Vec::new();
        let head = loop {
            let Some(piece) = pieces.recv().await else {
                break None;
            };
            first.extend_from_slice(&piece);
            if let Head::Found(head, from) = gateway::stream_head(&first, false) {
                break Some((head, first.split_off(from)));
            }
        };
        let Some((mut head, body)) = head else {
            let response = asked.response(&function, answered).await;
            let started = Some(asked.started);
            self.say(&function, &asked.route, &asked.request, &response, started);
            return answer(response);
        };
        gateway::stamp(&asked.route, &asked.request, &asked.call, &mut head);
        let (chunks, events) = tokio::sync::mpsc::unbounded_channel();
        if !body.is_empty() {
            let _ = chunks.send(Bytes::from(body));
        }
        let mut out = Response::new(Events(events).boxed());
        *out.status_mut() = StatusCode::from_u16(head.status).unwrap_or(StatusCode::OK);
        append_headers(out.headers_mut(), &head.headers);
        let printer = self.printer.clone();
        tokio::spawn(async move {
            while let Some(piece) = pieces.recv().await {
                // A client that went away reads no more; the function streams on regardless.
                let _ = chunks.send(Bytes::from(piece));
            }
            drop(chunks);
            let ended = asked.response(&function, answered).await;
            let mut said = line(&asked.route, &asked.request, &head, Some(asked.started));
            said.push_str(" (streamed)");
            if let Some(why) = ended.own {
                let why = crate::report::visible(&why);
                said.push_str(&format!(" (the stream was cut: {why})"));
            }
            printer.of(&function.name, &said);
        });
        out
    }
}

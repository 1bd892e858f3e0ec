//! The HTTP client for the Runtime Interface Emulator in one container: a readiness probe and
//! one invocation at a time.

use std::time::{Duration, Instant};

use base64::prelude::{BASE64_STANDARD, Engine as _};

use crate::outcome::TransportError;
use crate::suite::InvokeContext;

/// The invoke path RIE serves; the name segment must be literally `function`.
const INVOKE_PATH: &str = "/2015-03-31/functions/function/invocations";

/// How long the host waits beyond the function's own timeout before giving up on RIE.
pub const GRACE: Duration = Duration::from_secs(5);

/// A client for one container's RIE.
pub struct Rie {
    client: reqwest::Client,
    base: String,
    deadline: Duration,
}

/// An HTTP answer from RIE, as it came.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Rie {
    /// RIE at `base` (`http://host:port`), for a function whose timeout is `timeout`.
    pub fn new(base: String, timeout: Duration) -> Rie {
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("a plain-HTTP client with no TLS always builds");
        Rie {
            client,
            base,
            deadline: timeout + GRACE,
        }
    }

    /// The URL that invokes the function, for people who want to call it themselves.
    pub fn invoke_url(&self) -> String {
        format!("{}{INVOKE_PATH}", self.base)
    }

    /// Whether RIE's own HTTP server answers. RIE answers `GET /` with 404; a bare TCP connect
    /// is no proof (Docker's port proxy accepts before RIE listens), and the invoke path is
    /// never used to probe since RIE runs the function whatever the method.
    pub async fn probe(&self) -> bool {
        let answer = self
            .client
            .get(format!("{}/", self.base))
            .timeout(Duration::from_millis(500))
            .send()
            .await;
        matches!(answer, Ok(r) if r.status() == reqwest::StatusCode::NOT_FOUND)
    }

    /// Sends one payload and returns the answer with its round trip. `&mut self`: RIE exits on a
    /// second request while one is in flight, so a client never sends two at once.
    pub async fn invoke(
        &mut self,
        payload: &[u8],
        context: &InvokeContext,
    ) -> (Result<Answer, TransportError>, Duration) {
        let started = Instant::now();
        let answer = self.send(payload, context).await;
        (answer, started.elapsed())
    }

    async fn send(
        &self,
        payload: &[u8],
        context: &InvokeContext,
    ) -> Result<Answer, TransportError> {
        let mut request = self
            .client
            .post(self.invoke_url())
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        if let Some(client_context) = &context.client_context {
            let encoded = BASE64_STANDARD.encode(client_context.to_string());
            request = request.header("X-Amz-Client-Context", encoded);
        }
        if let Some(trace_id) = &context.trace_id {
            request = request.header("X-Amzn-Trace-Id", trace_id);
        }
        let response = request
            .body(payload.to_vec())
            .timeout(self.deadline)
            .send()
            .await
            .map_err(|e| self.transport_error(&e))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&e))?
            .to_vec();
        Ok(Answer { status, body })
    }

    fn transport_error(&self, e: &reqwest::Error) -> TransportError {
        if e.is_timeout() {
            TransportError::Deadline {
                secs: self.deadline.as_secs_f64(),
                grace_secs: GRACE.as_secs(),
            }
        } else if e.is_connect() {
            TransportError::Connect
        } else {
            // The innermost cause says what happened ("connection closed before message completed").
            TransportError::Broken {
                cause: crate::chain::root_cause(e).to_string(),
            }
        }
    }
}

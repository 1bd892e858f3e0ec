//! The connection loop every listener of `serve` shares: at most [`CONNECTIONS`] at once, each
//! given [`HEADERS_WITHIN`] for a request's headers, so that idle or slow clients cannot hold
//! the server; an accept that fails (out of file descriptors) is retried after a pause, not in
//! a hot loop.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::Request;
use hyper::body::Incoming;
use tokio::net::TcpListener;

use super::http::Answer;

/// How many connections are served at once; more wait to be accepted.
const CONNECTIONS: usize = 1024;
/// How long a client may take to send a request's headers.
const HEADERS_WITHIN: Duration = Duration::from_secs(10);

/// Serves connections from `listener` with `handle` until the task is dropped.
pub async fn serve<H, F>(listener: TcpListener, handle: H)
where
    H: Fn(Request<Incoming>, SocketAddr) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Answer> + Send + 'static,
{
    let open = Arc::new(tokio::sync::Semaphore::new(CONNECTIONS));
    loop {
        let Ok(permit) = open.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let handle = handle.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let answer = handle(request, peer);
                async move { Ok::<_, Infallible>(answer.await) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADERS_WITHIN)
                .serve_connection(io, service)
                .await;
            drop(permit);
        });
    }
}

//! The gateway on HTTP/1.1: `POST /api/call.cgi` (or `GET`, with everything in the query string),
//! keep-alive, capped bodies and headers, a cap on connections, graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use backorder_core::api::{Code, Response as ApiResponse};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use super::Gateway;

/// The path HEXONET clients call.
pub const PATH: &str = "/api/call.cgi";

/// What a [`serve`] run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServeReport {
    /// Connections accepted.
    pub connections: u64,
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn api_answer(body: Vec<u8>) -> Response<Full<Bytes>> {
    text(StatusCode::OK, body)
}

fn refusal(detail: &str, started: std::time::Instant) -> Response<Full<Bytes>> {
    api_answer(ApiResponse::error(Code::InvalidSyntax, detail).to_bytes(Some(started.elapsed())))
}

async fn answer(gateway: Arc<Gateway>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let started = std::time::Instant::now();
    if req.uri().path() != PATH {
        return text(
            StatusCode::NOT_FOUND,
            "not found: the API is POST /api/call.cgi\n",
        );
    }
    if req.method() != Method::POST && req.method() != Method::GET {
        let mut r = text(
            StatusCode::METHOD_NOT_ALLOWED,
            "the API answers POST (and GET)\n",
        );
        r.headers_mut()
            .insert("allow", HeaderValue::from_static("POST, GET"));
        return r;
    }
    let cap = gateway.options().max_body_bytes;
    let query = Bytes::copy_from_slice(req.uri().query().unwrap_or("").as_bytes());
    if query.len() > cap {
        return refusal(&format!("the query string exceeds {cap} bytes"), started);
    }
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > cap as u64) {
        return refusal(&format!("the request body exceeds {cap} bytes"), started);
    }
    let form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    let body = match Limited::new(req.into_body(), cap).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return refusal(&format!("the request body exceeds {cap} bytes"), started)
        }
        Err(_) => return refusal("the request body could not be read", started),
    };
    if form == Some(false) && !body.is_empty() {
        return refusal(
            "send the form as application/x-www-form-urlencoded",
            started,
        );
    }
    // Engine calls block (a store commit, a password hash): off the reactor.
    match tokio::task::spawn_blocking(move || gateway.call(&query, &body)).await {
        Ok(b) => api_answer(b),
        Err(_) => api_answer(ApiResponse::error(Code::CommandFailed, "").to_bytes(None)),
    }
}

/// Serves `gateway` on `listener` until `shutdown` completes, then stops accepting, lets every
/// connection finish the request it is on, and returns.
pub async fn serve(
    gateway: Arc<Gateway>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<ServeReport> {
    let options = gateway.options().clone();
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut report = ServeReport::default();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            p = slots.clone().acquire_owned() => p.expect("the semaphore is never closed"),
        };
        let (stream, _) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of descriptors or a connection reset before accept: go on serving.
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        report.connections += 1;
        let gateway = gateway.clone();
        let mut stop = stop_rx.clone();
        let options = options.clone();
        connections.spawn(async move {
            let _permit = permit;
            let service = service_fn(move |req| {
                let gateway = gateway.clone();
                async move { Ok::<_, Infallible>(answer(gateway, req).await) }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(options.header_timeout)
                .max_buf_size(options.max_body_bytes.max(8192) + 8192)
                .keep_alive(true);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
        // Reap finished connections so the set does not grow without bound.
        while connections.try_join_next().is_some() {}
    }
    let _ = stop_tx.send(true);
    while connections.join_next().await.is_some() {}
    Ok(report)
}

//! A Lambda Runtime API on loopback: enough of it (`next`, `response`, `error`, `init/error`) to run the
//! real Lambda binary as Lambda runs it and hand it events one by one, timing each hand-over.
//!
//! Test and bench infrastructure only (`tests/`, `benches/e2e.rs`): the Lambda binary never calls it.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{oneshot, Notify};

/// The function's response, or its error document (`{"errorType", "errorMessage"}`).
pub type Outcome = Result<Value, Value>;

/// An event waiting for the function: id, the event as sent, deadline in epoch milliseconds.
type Queued = (String, String, u64);

/// Where a handed-over event's outcome goes (with the invocation's duration), and when it was handed over.
type Waiter = (oneshot::Sender<(Outcome, Duration)>, Option<Instant>);

#[derive(Default)]
struct Shared {
    queue: Mutex<VecDeque<Queued>>,
    waiting: Mutex<HashMap<String, Waiter>>,
    ready: Notify,
    polls: Mutex<u32>,
    first_poll: Mutex<Option<Instant>>,
}

/// The Runtime API, serving on `addr` until dropped.
pub struct RuntimeApi {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    next_id: Mutex<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    pub async fn start() -> RuntimeApi {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().expect("a bound address");
        let shared = Arc::new(Shared::default());
        let app = axum::Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(respond),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(|| async { "" }))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        RuntimeApi {
            addr,
            shared,
            next_id: Mutex::new(0),
            task,
        }
    }

    /// Hands `event` to the function; returns its response, or its error document.
    pub async fn invoke(&self, event: Value, timeout: Duration) -> Outcome {
        self.invoke_timed(event, timeout).await.0
    }

    /// As `invoke`, with the invocation's duration: from the moment the `next` request was answered with
    /// the event to the moment the function's response (or error) had arrived in full.
    pub async fn invoke_timed(&self, event: Value, timeout: Duration) -> (Outcome, Duration) {
        let id = {
            let mut n = self.next_id.lock().unwrap_or_else(|p| p.into_inner());
            *n += 1;
            format!("req-{n}")
        };
        let deadline = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            + timeout;
        let (tx, rx) = oneshot::channel();
        self.shared
            .waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.clone(), (tx, None));
        self.shared
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back((id, event.to_string(), deadline.as_millis() as u64));
        self.shared.ready.notify_one();
        tokio::time::timeout(timeout + Duration::from_secs(5), rx)
            .await
            .expect("the function answered in time")
            .expect("the function answered")
    }

    /// How many times the function has asked for its next event.
    pub fn polls(&self) -> u32 {
        *self.shared.polls.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// When the function first asked for an event (the end of its init), if it has.
    pub fn first_poll(&self) -> Option<Instant> {
        *self
            .shared
            .first_poll
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn next(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    {
        *s.polls.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        s.first_poll
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert_with(Instant::now);
    }
    loop {
        let queued = s
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front();
        if let Some((id, event, deadline)) = queued {
            let mut h = HeaderMap::new();
            h.insert(
                "lambda-runtime-aws-request-id",
                HeaderValue::from_str(&id).expect("an ASCII id"),
            );
            h.insert(
                "lambda-runtime-deadline-ms",
                HeaderValue::from_str(&deadline.to_string()).expect("digits"),
            );
            h.insert(
                "lambda-runtime-invoked-function-arn",
                HeaderValue::from_static(
                    "arn:aws:lambda:us-east-1:123456789012:function:unified-llm-service",
                ),
            );
            h.insert(
                "lambda-runtime-trace-id",
                HeaderValue::from_static("Root=1-00000000-000000000000000000000000"),
            );
            h.insert("content-type", HeaderValue::from_static("application/json"));
            if let Some(w) = s
                .waiting
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_mut(&id)
            {
                w.1 = Some(Instant::now());
            }
            return (h, event);
        }
        s.ready.notified().await;
    }
}

async fn respond(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: String,
) -> &'static str {
    let at = Instant::now();
    finish(
        &s,
        &id,
        at,
        Ok(serde_json::from_str(&body).unwrap_or(Value::String(body))),
    );
    "{}"
}

async fn error(State(s): State<Arc<Shared>>, Path(id): Path<String>, body: String) -> &'static str {
    let at = Instant::now();
    finish(
        &s,
        &id,
        at,
        Err(serde_json::from_str(&body).unwrap_or(Value::String(body))),
    );
    "{}"
}

fn finish(s: &Shared, id: &str, at: Instant, outcome: Outcome) {
    let waiting = s
        .waiting
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(id);
    if let Some((tx, handed)) = waiting {
        let took = handed.map_or(Duration::ZERO, |h| at.saturating_duration_since(h));
        let _ = tx.send((outcome, took));
    }
}

/// The Lambda binary at `binary`, started as Lambda starts it (a clean environment with the Runtime API's
/// address and the function's variables), against `api`, with `env` added. Its output is piped.
pub fn spawn_function(
    binary: &std::path::Path,
    api: &RuntimeApi,
    env: &[(&str, String)],
) -> std::io::Result<std::process::Child> {
    let mut cmd = std::process::Command::new(binary);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "unified-llm-service")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "us-east-1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn()
}

//! A stand-in provider on loopback that answers with recorded responses, in order (the last one repeats).
//! The CLI's `--replay` and the tests use it, so the whole path, real HTTP included, runs offline.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A recorded provider response (`tests/recordings/<provider>/<case>.json`).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct Recording {
    pub status: Option<u16>,
    pub headers: BTreeMap<String, String>,
    pub body: Option<Value>,
    /// A body that is not JSON (truncated, HTML).
    pub body_text: Option<String>,
    /// Answer this late (a slow provider).
    pub delay_ms: Option<u64>,
    /// Close the connection without answering (a reset).
    pub reset: bool,
}

impl Recording {
    pub fn load(path: &Path) -> std::io::Result<Recording> {
        let text = std::fs::read_to_string(path)?;
        serde_json::from_str(&text).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        })
    }

    /// A 200 with this JSON body.
    pub fn ok(body: Value) -> Recording {
        Recording {
            status: Some(200),
            body: Some(body),
            ..Default::default()
        }
    }
}

/// One request the stand-in received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub body: Value,
}

#[derive(Default)]
struct Shared {
    answers: Vec<Recording>,
    next: usize,
    received: Vec<Received>,
}

pub struct StandIn {
    pub addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl StandIn {
    pub async fn start(answers: Vec<Recording>) -> std::io::Result<StandIn> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Mutex::new(Shared {
            answers,
            ..Default::default()
        }));
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(StandIn { addr, shared, task })
    }

    /// `http://127.0.0.1:<port>`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .received
            .clone()
    }

    /// Replaces the answers still to come.
    pub fn set_answers(&self, answers: Vec<Recording>) {
        let mut s = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        s.answers = answers;
        s.next = 0;
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(
    State(shared): State<Arc<Mutex<Shared>>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let rec = {
        let mut s = shared.lock().unwrap_or_else(|p| p.into_inner());
        s.received.push(Received {
            path: uri
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
                .collect(),
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        });
        let i = s.next.min(s.answers.len().saturating_sub(1));
        s.next += 1;
        s.answers.get(i).cloned().unwrap_or_default()
    };
    if let Some(ms) = rec.delay_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if rec.reset {
        // Dropping the connection mid-answer: an error body that hyper cannot send as a whole.
        return Response::builder()
            .status(200)
            .header("content-length", "1000")
            .body(axum::body::Body::from("{\"partial\":"))
            .expect("valid response");
    }
    let status = StatusCode::from_u16(rec.status.unwrap_or(200)).unwrap_or(StatusCode::OK);
    let mut builder = Response::builder().status(status);
    let mut has_type = false;
    for (k, v) in &rec.headers {
        has_type |= k.eq_ignore_ascii_case("content-type");
        if !k.eq_ignore_ascii_case("content-length") {
            builder = builder.header(k, v);
        }
    }
    if !has_type {
        builder = builder.header("content-type", "application/json");
    }
    let text = match (&rec.body_text, &rec.body) {
        (Some(t), _) => t.clone(),
        (None, Some(b)) => b.to_string(),
        (None, None) => String::new(),
    };
    builder
        .body(axum::body::Body::from(text))
        .map(IntoResponse::into_response)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

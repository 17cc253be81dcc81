//! A Lambda Runtime API on loopback: enough of it (`next`, `response`, `error`) to run the real Lambda
//! binary as Lambda runs it, and to hand it events one by one.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{oneshot, Notify};

type Outcome = Result<Value, Value>;

#[derive(Default)]
struct Shared {
    queue: Mutex<VecDeque<(String, Value, u64)>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    ready: Notify,
    polls: Mutex<u32>,
}

pub struct RuntimeApi {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    next_id: Mutex<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    pub async fn start() -> RuntimeApi {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
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

    /// Hands `event` to the function; returns its response, or its error document
    /// (`{"errorType", "errorMessage"}`).
    pub async fn invoke(&self, event: Value, timeout: Duration) -> Outcome {
        let id = {
            let mut n = self.next_id.lock().unwrap();
            *n += 1;
            format!("req-{n}")
        };
        let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + timeout;
        let (tx, rx) = oneshot::channel();
        self.shared.waiting.lock().unwrap().insert(id.clone(), tx);
        self.shared
            .queue
            .lock()
            .unwrap()
            .push_back((id, event, deadline.as_millis() as u64));
        self.shared.ready.notify_one();
        tokio::time::timeout(timeout + Duration::from_secs(5), rx)
            .await
            .expect("the function answered in time")
            .expect("the function answered")
    }

    /// How many times the function has asked for its next event.
    pub fn polls(&self) -> u32 {
        *self.shared.polls.lock().unwrap()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn next(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    *s.polls.lock().unwrap() += 1;
    loop {
        if let Some((id, event, deadline)) = s.queue.lock().unwrap().pop_front() {
            let mut h = HeaderMap::new();
            h.insert(
                "lambda-runtime-aws-request-id",
                HeaderValue::from_str(&id).unwrap(),
            );
            h.insert(
                "lambda-runtime-deadline-ms",
                HeaderValue::from_str(&deadline.to_string()).unwrap(),
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
            return (h, event.to_string());
        }
        s.ready.notified().await;
    }
}

async fn respond(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: String,
) -> &'static str {
    finish(
        &s,
        &id,
        Ok(serde_json::from_str(&body).unwrap_or(Value::String(body))),
    );
    "{}"
}

async fn error(State(s): State<Arc<Shared>>, Path(id): Path<String>, body: String) -> &'static str {
    finish(
        &s,
        &id,
        Err(serde_json::from_str(&body).unwrap_or(Value::String(body))),
    );
    "{}"
}

fn finish(s: &Shared, id: &str, outcome: Outcome) {
    if let Some(tx) = s.waiting.lock().unwrap().remove(id) {
        let _ = tx.send(outcome);
    }
}

/// The Lambda binary, started as Lambda starts it, against `api`.
pub fn spawn_function(api: &RuntimeApi, env: &[(&str, String)]) -> std::process::Child {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_unified-llm-service"));
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
    cmd.spawn().expect("the Lambda binary starts")
}

/// The Lambda binary serving a Runtime API, with every provider's key in a secrets file.
pub struct Harness {
    pub api: RuntimeApi,
    pub child: std::process::Child,
    _secrets: tempfile::NamedTempFile,
}

impl Harness {
    pub async fn start() -> Harness {
        let api = RuntimeApi::start().await;
        let secrets = tempfile::NamedTempFile::new().unwrap();
        let keys = json!({"OPENAI_API_KEY": super::API_KEY, "ANTHROPIC_API_KEY": super::API_KEY, "GEMINI_API_KEY": super::API_KEY, "BEDROCK_API_KEY": super::API_KEY});
        std::fs::write(
            secrets.path(),
            json!({"/ai-agent/llm-secrets/prod": keys}).to_string(),
        )
        .unwrap();
        let child = spawn_function(
            &api,
            &[
                ("LLM_SECRETS_FILE", secrets.path().display().to_string()),
                ("ALLOWED_ENDPOINT_HOSTS", "127.0.0.1".into()),
                ("ALLOWED_SECRET_PREFIXES", "/ai-agent/llm-secrets/".into()),
            ],
        );
        Harness {
            api,
            child,
            _secrets: secrets,
        }
    }

    /// Stops the function and returns everything it logged.
    pub fn logs(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut out = String::new();
        if let Some(mut s) = self.child.stdout.take() {
            let _ = s.read_to_string(&mut out);
        }
        if let Some(mut s) = self.child.stderr.take() {
            let _ = s.read_to_string(&mut out);
        }
        out
    }
}

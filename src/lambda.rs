//! The Lambda entry: event in, unified response or named error out, one summary log line per invocation.

use crate::error::{Result, ServiceError};
use crate::event::{self, Invocation};
use crate::guard::MAX_EVENT_BYTES;
use crate::pipeline::Service;
use serde_json::value::{to_raw_value, RawValue};
use serde_json::Value;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Handles one event, given as the JSON text the Runtime API delivered, and answers with the JSON text to
/// return. `deadline_ms` is the invocation's deadline in epoch milliseconds, when known.
pub async fn handle_text(
    service: &Service,
    event: &str,
    deadline_ms: Option<u64>,
    request_id: &str,
) -> Result<Box<RawValue>> {
    let started = Instant::now();
    let deadline = deadline_ms.map(to_instant);
    let result = dispatch(service, event, deadline).await;
    log_summary(request_id, started, &result);
    result.map(|(v, _)| v)
}

/// `handle_text` for a JSON value (the CLI and tests).
pub async fn handle(
    service: &Service,
    payload: Value,
    deadline_ms: Option<u64>,
    request_id: &str,
) -> Result<Value> {
    let text = payload.to_string();
    let out = handle_text(service, &text, deadline_ms, request_id).await?;
    serde_json::from_str(out.get()).map_err(|e| ServiceError::template(e.to_string()))
}

/// What one invocation did, for the summary line.
#[derive(Default)]
struct Summary {
    provider_id: String,
    model_id: String,
    attempts: u32,
    input_tokens: u64,
    output_tokens: u64,
    cost_usd: f64,
}

async fn dispatch(
    service: &Service,
    text: &str,
    deadline: Option<Instant>,
) -> Result<(Box<RawValue>, Summary)> {
    let size = text.len();
    if size > MAX_EVENT_BYTES {
        return Err(ServiceError::invalid(format!(
            "the event is {size} bytes; at most {MAX_EVENT_BYTES} are accepted"
        )));
    }
    // A chat event, the hot path, is read straight from its text into its fields; an action or an
    // AppSync call goes through a JSON value.
    let invocation = if event::is_chat_text(text) {
        event::parse_chat_text(text)?
    } else {
        let payload: Value = serde_json::from_str(text)
            .map_err(|e| ServiceError::invalid(format!("the event is not JSON: {e}")))?;
        if let Some(appsync) = crate::admin::from_appsync(&payload) {
            let (action, body) = appsync?;
            let v = crate::admin::run(service, &action, body, deadline).await?;
            return Ok((raw(&v)?, Summary::default()));
        }
        event::parse(payload)?
    };
    match invocation {
        Invocation::Chat(chat) => {
            let r = service.invoke(&chat, deadline).await?;
            let m = &r.metadata;
            let summary = Summary {
                provider_id: m.provider_id.clone(),
                model_id: m.model_id.clone(),
                attempts: m.attempts,
                input_tokens: m.tokens_used.input_tokens,
                output_tokens: m.tokens_used.output_tokens,
                cost_usd: m.cost_usd,
            };
            Ok((raw(&r)?, summary))
        }
        Invocation::Action { action, body } => {
            let v = crate::admin::run(service, &action, body, deadline).await?;
            Ok((raw(&v)?, Summary::default()))
        }
    }
}

/// The answer's JSON text, written once.
fn raw<T: serde::Serialize>(answer: &T) -> Result<Box<RawValue>> {
    to_raw_value(answer).map_err(|e| ServiceError::template(e.to_string()))
}

fn log_summary(request_id: &str, started: Instant, result: &Result<(Box<RawValue>, Summary)>) {
    let latency_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok((_, s)) => tracing::info!(
            request_id,
            outcome = "ok",
            provider_id = %s.provider_id,
            model_id = %s.model_id,
            attempts = s.attempts,
            latency_ms,
            input_tokens = s.input_tokens,
            output_tokens = s.output_tokens,
            cost_usd = s.cost_usd,
            "invocation"
        ),
        Err(e) => tracing::warn!(
            request_id,
            outcome = "error",
            error_type = e.kind.name(),
            provider_status = e.provider.as_ref().and_then(|p| p.status),
            latency_ms,
            error = %e.full_message(),
            "invocation"
        ),
    }
}

fn to_instant(deadline_ms: u64) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

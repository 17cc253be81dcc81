//! `test_connection`: a minimal request through the full pipeline to an endpoint's real provider, and its
//! outcome written back to the EndpointConfiguration item (`connectionStatus`, `lastTestedAt`, `testResults`)
//! for the console.

use crate::config;
use crate::error::{ErrorKind, Result};
use crate::event::ChatEvent;
use crate::pipeline::Service;
use serde_json::{json, Value};
use std::time::Instant;

pub const PROMPT: &str = "Reply with the single word OK.";

pub async fn test_connection(
    service: &Service,
    endpoint_id: &str,
    deadline: Option<Instant>,
) -> Result<Value> {
    let endpoint = config::endpoint_for_admin(endpoint_id, service.config.as_ref()).await?;
    let model_id = endpoint.model_id.clone();
    let event = ChatEvent {
        messages: Some(json!([{"role": "user", "content": PROMPT}])),
        max_tokens: Some(16),
        ..ChatEvent::default()
    };
    let started = Instant::now();
    let outcome = service.invoke_on(&event, vec![endpoint], deadline).await;
    let latency_ms = started.elapsed().as_millis() as u64;
    let tested_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let (status, results) = match &outcome {
        Ok(r) => (
            "connected",
            json!({
                "status": "ok", "latency_ms": latency_ms, "provider_latency_ms": r.metadata.provider_latency_ms,
                "model_id": model_id, "answer": r.message.content, "finish_reason": r.finish_reason,
                "tokens_used": r.metadata.tokens_used, "tested_at": tested_at,
            }),
        ),
        Err(e) => (
            match e.kind {
                ErrorKind::ProviderUnavailable | ErrorKind::ProviderTimeout => "disconnected",
                _ => "error",
            },
            json!({
                "status": e.kind.name(), "latency_ms": latency_ms, "model_id": model_id,
                "http_status": e.provider.as_ref().and_then(|p| p.status), "error": e.full_message(), "tested_at": tested_at,
            }),
        ),
    };
    service
        .config
        .record_connection_test(endpoint_id, status, &tested_at, &results.to_string())
        .await?;
    Ok(
        json!({"endpoint_id": endpoint_id, "connectionStatus": status, "lastTestedAt": tested_at, "testResults": results}),
    )
}

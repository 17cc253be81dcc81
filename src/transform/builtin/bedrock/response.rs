//! Converse answer -> mapped response.

use super::super::count;
use crate::error::Result;
use crate::model::*;
use serde_json::{json, Value};

pub(super) fn map(raw: &Value) -> Result<MappedResponse> {
    let blocks = raw
        .pointer("/output/message/content")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut text: Option<String> = None;
    let mut tool_calls = Vec::new();
    let mut reasoning = Vec::new();
    for b in blocks {
        if let Some(t) = b.get("text").and_then(Value::as_str) {
            text.get_or_insert_with(String::new).push_str(t);
        } else if let Some(call) = b.get("toolUse") {
            let s = |k: &str| call.get(k).and_then(Value::as_str).unwrap_or_default();
            tool_calls.push(ToolCall {
                id: s("toolUseId").to_string(),
                name: s("name").to_string(),
                arguments: call.get("input").cloned().unwrap_or_else(|| json!({})),
            });
        } else if let Some(r) = b.get("reasoningContent") {
            reasoning.extend(reasoning_block(r));
        }
    }
    let mut finish_reason = match raw.get("stopReason").and_then(Value::as_str) {
        Some("end_turn" | "stop_sequence") => Some(FinishReason::Stop),
        Some("max_tokens" | "model_context_window_exceeded") => Some(FinishReason::Length),
        Some("tool_use") => Some(FinishReason::ToolCalls),
        Some("content_filtered" | "guardrail_intervened") => Some(FinishReason::ContentFilter),
        _ => None,
    };
    if finish_reason == Some(FinishReason::Stop) && !tool_calls.is_empty() {
        finish_reason = Some(FinishReason::ToolCalls);
    }
    Ok(MappedResponse {
        content: text,
        tool_calls,
        reasoning,
        refusal: None,
        finish_reason,
        usage: usage(raw.get("usage").unwrap_or(&Value::Null)),
    })
}

fn reasoning_block(r: &Value) -> Option<ReasoningBlock> {
    let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let (kind, text, signature, data) = if let Some(t) = r.get("reasoningText") {
        let (text, sig) = (s(t.get("text")), s(t.get("signature")));
        (ReasoningKind::Thinking, text, sig, None)
    } else if let Some(d) = r.get("redactedContent") {
        (ReasoningKind::Redacted, None, None, s(Some(d)))
    } else {
        return None;
    };
    Some(ReasoningBlock {
        kind,
        text,
        signature,
        data,
        tool_call_id: None,
        provider: None,
        model: None,
    })
}

/// Converse's `inputTokens` excludes cache reads and writes; the unified count includes them. Older answers
/// name the cache counters `cache*InputTokenCount`: read only when the documented name is absent.
fn usage(u: &Value) -> Usage {
    let either = |a: &str, b: &str| u.get(a).and_then(Value::as_u64).unwrap_or(count(u, b));
    let read = either("cacheReadInputTokens", "cacheReadInputTokenCount");
    let write = either("cacheWriteInputTokens", "cacheWriteInputTokenCount");
    Usage {
        input_tokens: count(u, "inputTokens") + read + write,
        output_tokens: count(u, "outputTokens"),
        cache_read_input_tokens: read,
        cache_creation_input_tokens: write,
        ..Usage::default()
    }
}

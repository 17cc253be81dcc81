//! Messages answer -> mapped response.

use crate::model::*;
use crate::transform::builtin::count;
use serde_json::{json, Value};

/// The mapped response, or why the body is not a usable answer.
pub fn map(raw: &Value) -> Result<MappedResponse, &'static str> {
    let blocks = raw
        .get("content")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut text: Option<String> = None;
    let mut tool_calls = Vec::new();
    let mut reasoning = Vec::new();
    for b in blocks {
        let field = |key: &str| b.get(key).and_then(Value::as_str).map(str::to_string);
        match b.get("type").and_then(Value::as_str) {
            Some("text") => {
                if let Some(t) = b.get("text").and_then(Value::as_str) {
                    text.get_or_insert_with(String::new).push_str(t);
                }
            }
            Some("tool_use") => {
                let (Some(id), Some(name)) = (field("id"), field("name")) else {
                    return Err("a tool_use block has no `id` or no `name`");
                };
                let arguments = b
                    .get("input")
                    .map_or_else(|| json!({}), crate::transform::builtin::same_numbers);
                tool_calls.push(ToolCall {
                    id,
                    name,
                    arguments,
                });
            }
            Some("thinking") => reasoning.push(ReasoningBlock {
                kind: ReasoningKind::Thinking,
                text: field("thinking"),
                signature: field("signature"),
                data: None,
                tool_call_id: None,
                provider: None,
                model: None,
            }),
            Some("redacted_thinking") => reasoning.push(ReasoningBlock {
                kind: ReasoningKind::Redacted,
                text: None,
                signature: None,
                data: field("data"),
                tool_call_id: None,
                provider: None,
                model: None,
            }),
            // server_tool_use, web_search_tool_result and the like ran at Anthropic: not the caller's calls.
            _ => {}
        }
    }
    let finish_reason = match raw.get("stop_reason").and_then(Value::as_str) {
        Some("end_turn" | "stop_sequence" | "pause_turn") => Some(FinishReason::Stop),
        Some("max_tokens" | "model_context_window_exceeded") => Some(FinishReason::Length),
        Some("tool_use") => Some(FinishReason::ToolCalls),
        Some("refusal") => Some(FinishReason::ContentFilter),
        _ => None,
    };
    let usage = raw.get("usage").cloned().unwrap_or(Value::Null);
    let cache_read = count(&usage, "cache_read_input_tokens");
    let cache_write = count(&usage, "cache_creation_input_tokens");
    Ok(MappedResponse {
        content: text,
        tool_calls,
        reasoning,
        refusal: None,
        finish_reason,
        usage: Usage {
            // Anthropic's input_tokens leaves out the cached and cache-written tokens.
            input_tokens: count(&usage, "input_tokens") + cache_read + cache_write,
            output_tokens: count(&usage, "output_tokens"),
            cache_read_input_tokens: cache_read,
            cache_creation_input_tokens: cache_write,
            ..Usage::default()
        },
    })
}

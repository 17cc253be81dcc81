//! generateContent response -> mapped response (docs/unified-model.md §2-3).

use super::MADE_UP_ID_PREFIX;
use crate::model::*;
use crate::transform::builtin::same_numbers;
use serde_json::{json, Value};

pub(super) fn map(raw: &Value) -> MappedResponse {
    let candidate = raw.get("candidates").and_then(|c| c.get(0));
    let parts = candidate
        .and_then(|c| c.pointer("/content/parts"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut text: Option<String> = None;
    let mut tool_calls = Vec::new();
    let mut reasoning = Vec::new();
    for p in parts {
        let signature = p
            .get("thoughtSignature")
            .and_then(Value::as_str)
            .map(str::to_string);
        if p.get("thought") == Some(&Value::Bool(true)) {
            reasoning.push(block(
                ReasoningKind::Thinking,
                Some(str_of(p.get("text")).to_string()),
                signature,
                None,
            ));
        } else if let Some(call) = p.get("functionCall") {
            let id = match call.get("id").and_then(Value::as_str) {
                Some(id) if !id.is_empty() => id.to_string(),
                _ => format!("{MADE_UP_ID_PREFIX}{}", tool_calls.len()),
            };
            if signature.is_some() {
                let kind = ReasoningKind::Signature;
                reasoning.push(block(kind, None, signature, Some(id.clone())));
            }
            tool_calls.push(ToolCall {
                id,
                name: str_of(call.get("name")).to_string(),
                arguments: call.get("args").map_or_else(|| json!({}), same_numbers),
            });
        } else if let Some(t) = p.get("text").and_then(Value::as_str) {
            text.get_or_insert_with(String::new).push_str(t);
            if signature.is_some() {
                reasoning.push(block(ReasoningKind::Signature, None, signature, None));
            }
        }
    }
    let finish_reason = match candidate {
        Some(c) => match c.get("finishReason").and_then(Value::as_str) {
            Some("STOP") if !tool_calls.is_empty() => Some(FinishReason::ToolCalls),
            Some("STOP") => Some(FinishReason::Stop),
            Some("MAX_TOKENS") => Some(FinishReason::Length),
            Some(r) if FILTERED.contains(&r) => Some(FinishReason::ContentFilter),
            _ => None,
        },
        None => raw
            .pointer("/promptFeedback/blockReason")
            .map(|_| FinishReason::ContentFilter),
    };
    let u = raw.get("usageMetadata").unwrap_or(&Value::Null);
    let thoughts = tokens(u, "thoughtsTokenCount");
    MappedResponse {
        content: text,
        tool_calls,
        reasoning,
        refusal: None,
        finish_reason,
        usage: Usage {
            input_tokens: tokens(u, "promptTokenCount") + tokens(u, "toolUsePromptTokenCount"),
            output_tokens: tokens(u, "candidatesTokenCount") + thoughts,
            cache_read_input_tokens: tokens(u, "cachedContentTokenCount"),
            reasoning_tokens: thoughts,
            ..Usage::default()
        },
    }
}

/// Finish reasons that mean a filter withheld the answer.
const FILTERED: [&str; 8] = [
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "IMAGE_RECITATION",
];

fn block(
    kind: ReasoningKind,
    text: Option<String>,
    signature: Option<String>,
    tool_call_id: Option<String>,
) -> ReasoningBlock {
    ReasoningBlock {
        kind,
        text,
        signature,
        data: None,
        tool_call_id,
        provider: None,
        model: None,
    }
}

fn str_of(v: Option<&Value>) -> &str {
    v.and_then(Value::as_str).unwrap_or_default()
}

/// A token count: a whole, non-negative number, else 0.
fn tokens(usage: &Value, key: &str) -> u64 {
    usage
        .get(key)
        .and_then(Value::as_f64)
        .filter(|n| *n >= 0.0 && n.fract() == 0.0)
        .map_or(0, |n| n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    /// The mapping by both paths, which must agree.
    fn map_both(raw: Value) -> MappedResponse {
        let built = map(&raw);
        let (mapped, ran) = crate::transform::map_response("gemini_v1", None, &raw.to_string())
            .expect("the template maps");
        assert_eq!(ran.note, None);
        assert_eq!(mapped, built, "the template and the built-in differ");
        built
    }

    fn signature(sig: &str, call: Option<&str>) -> ReasoningBlock {
        block(
            ReasoningKind::Signature,
            None,
            Some(sig.into()),
            call.map(str::to_string),
        )
    }

    #[test]
    fn usage_counts_thoughts_as_output_and_tool_prompts_as_input() {
        let m = map_both(json!({
            "candidates": [{"content": {"parts": [{"text": "ok"}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 100, "toolUsePromptTokenCount": 20, "candidatesTokenCount": 30,
                              "thoughtsTokenCount": 50, "cachedContentTokenCount": 64, "totalTokenCount": 200}
        }));
        let want = Usage {
            input_tokens: 120,
            output_tokens: 80,
            cache_read_input_tokens: 64,
            reasoning_tokens: 50,
            ..Usage::default()
        };
        assert_eq!(m.usage, want);
        assert_eq!(m.finish_reason, Some(FinishReason::Stop));
    }

    #[test]
    fn calls_without_ids_are_numbered_and_signatures_stay_where_they_came() {
        let m = map_both(json!({
            "candidates": [{"content": {"role": "model", "parts": [
                {"text": "thinking", "thought": true, "thoughtSignature": "st"},
                {"text": "Checking.", "thoughtSignature": "sx"},
                {"functionCall": {"name": "get_weather", "args": {"city": "Oslo", "n": 2.0}}, "thoughtSignature": "s0"},
                {"functionCall": {"name": "get_weather", "args": {"city": "Helsinki"}}},
                {"functionCall": {"name": "now", "id": "abc"}}
            ]}, "finishReason": "STOP"}]
        }));
        let ids: Vec<&str> = m.tool_calls.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["gemini_call_0", "gemini_call_1", "abc"]);
        assert_eq!(m.tool_calls[0].arguments, json!({"city": "Oslo", "n": 2}));
        assert_eq!(m.tool_calls[2].arguments, json!({}));
        assert_eq!(m.content.as_deref(), Some("Checking."));
        assert_eq!(m.finish_reason, Some(FinishReason::ToolCalls));
        let thinking = block(
            ReasoningKind::Thinking,
            Some("thinking".into()),
            Some("st".into()),
            None,
        );
        assert_eq!(
            m.reasoning,
            [
                thinking,
                signature("sx", None),
                signature("s0", Some("gemini_call_0"))
            ]
        );
    }

    #[test]
    fn a_blocked_prompt_and_filtered_answers_are_content_filter() {
        let blocked = map_both(json!({
            "promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
            "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9}
        }));
        assert_eq!(blocked.finish_reason, Some(FinishReason::ContentFilter));
        assert_eq!((blocked.content, blocked.usage.input_tokens), (None, 9));
        for reason in ["SAFETY", "RECITATION", "SPII", "IMAGE_SAFETY"] {
            let m = map_both(json!({"candidates": [{"content": {}, "finishReason": reason}]}));
            assert_eq!(
                m.finish_reason,
                Some(FinishReason::ContentFilter),
                "{reason}"
            );
        }
    }

    #[test]
    fn a_finish_reason_that_is_no_answer_is_refused_by_both_paths() {
        let raw = json!({"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": "MALFORMED_FUNCTION_CALL"}]});
        assert_eq!(map(&raw).finish_reason, None);
        let e = crate::transform::map_response("gemini_v1", None, &raw.to_string())
            .expect_err("not an answer");
        assert_eq!(e.kind, ErrorKind::ProviderResponseInvalid);
    }
}

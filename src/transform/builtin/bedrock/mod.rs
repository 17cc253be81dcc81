//! Amazon Bedrock Runtime Converse (`bedrock_v1`). The model is in the URL; the body is
//! `{messages, system?, inferenceConfig?, toolConfig?, additionalModelRequestFields?, outputConfig?}`
//! (docs/unified-model.md §4). The shipped template renders the same body and leaves only the refusals here.

mod request;
mod response;

use crate::error::Result;
use crate::model::{CanonicalRequest, MappedResponse};
use crate::transform::Builtin;
use serde_json::Value;

pub struct Bedrock;

impl Builtin for Bedrock {
    fn render_request(&self, req: &CanonicalRequest) -> Result<Value> {
        request::render(req)
    }
    fn map_response(&self, raw: &Value) -> Result<MappedResponse> {
        response::map(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{parse, Invocation};
    use crate::model::{FinishReason, ReasoningKind};
    use crate::normalize::{canonical_request, Target};
    use serde_json::{json, Map};

    const MODEL: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";

    fn canonical(mut event: Value, capabilities: Value) -> CanonicalRequest {
        event["provider_config"] = json!({"provider_id": "bedrock", "model_id": MODEL,
            "endpoint": "https://bedrock-runtime.us-east-1.amazonaws.com/model/{model_id}/converse",
            "auth_header_name": "Authorization", "secret_path": "/s", "secret_key_name": "K",
            "request_transformer": "bedrock_v1", "response_transformer": "bedrock_v1"});
        let Ok(Invocation::Chat(chat)) = parse(event) else {
            panic!("not a chat event")
        };
        let defaults = Map::new();
        let target = Target {
            provider_id: "bedrock",
            model_id: MODEL,
            capabilities: serde_json::from_value(capabilities).expect("capabilities"),
            defaults: &defaults,
        };
        let mut req = canonical_request(&chat, &target).expect("a valid request");
        crate::capabilities::check(&mut req, "bedrock_v1").expect("passes the checks");
        req
    }

    fn render(event: Value) -> Result<Value> {
        Bedrock.render_request(&canonical(event, json!({"thinking": "budget"})))
    }

    fn tool_loop() -> Value {
        json!({"messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": "Let me look.",
             "tool_calls": [{"id": "tu_1", "name": "f", "arguments": {"a": 1}},
                            {"id": "tu_2", "name": "f", "arguments": {"a": 2}}],
             "reasoning": [
                {"type": "thinking", "text": "hm", "signature": "SIG", "provider": "bedrock", "model": MODEL},
                {"type": "redacted", "data": "UkVE", "provider": "bedrock", "model": MODEL},
                {"type": "thinking", "text": "other", "signature": "X", "provider": "anthropic", "model": "claude"}]},
            {"role": "tool", "tool_call_id": "tu_1", "content": "one"},
            {"role": "tool", "tool_call_id": "tu_2", "content": "two"},
            {"role": "user", "content": "and?"}],
         "tools": [{"name": "f", "parameters": {"type": "object"}}]})
    }

    #[test]
    fn reasoning_goes_back_first_then_text_then_tool_use_and_results_share_one_user_turn() {
        let body = render(tool_loop()).unwrap();
        let messages = body["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 3, "tool results and the user text merge");
        assert_eq!(
            messages[1]["content"],
            json!([
                {"reasoningContent": {"reasoningText": {"text": "hm", "signature": "SIG"}}},
                {"reasoningContent": {"redactedContent": "UkVE"}},
                {"text": "Let me look."},
                {"toolUse": {"toolUseId": "tu_1", "name": "f", "input": {"a": 1}}},
                {"toolUse": {"toolUseId": "tu_2", "name": "f", "input": {"a": 2}}}
            ]),
            "only this model's blocks, in Converse's order"
        );
        assert_eq!(
            messages[2],
            json!({"role": "user", "content": [
                {"toolResult": {"toolUseId": "tu_1", "content": [{"text": "one"}]}},
                {"toolResult": {"toolUseId": "tu_2", "content": [{"text": "two"}]}},
                {"text": "and?"}]})
        );
        assert!(body["toolConfig"]["tools"].is_array(), "toolConfig present");
    }

    #[test]
    fn after_a_fallback_manual_thinking_is_off_for_the_loop_in_progress() {
        let mut event = tool_loop();
        event["reasoning"] = json!({"budget_tokens": 2048});
        let body = render(event.clone()).unwrap();
        assert_eq!(
            body["additionalModelRequestFields"]["thinking"]["budget_tokens"],
            2048
        );
        assert_eq!(
            body["inferenceConfig"]["maxTokens"], 4096,
            "the limit the budget was checked against"
        );
        // The same loop whose assistant turn another model made: its blocks are dropped, thinking is off.
        for b in event["messages"][1]["reasoning"].as_array_mut().unwrap() {
            b["provider"] = json!("anthropic");
        }
        let body = render(event).unwrap();
        assert!(body.get("additionalModelRequestFields").is_none(), "{body}");
        assert!(body.get("inferenceConfig").is_none(), "{body}");
        assert_eq!(
            body["messages"][1]["content"][0],
            json!({"text": "Let me look."})
        );
    }

    #[test]
    fn tool_choice_none_leaves_the_tools_out_unless_the_history_holds_tool_blocks() {
        let mut event = json!({"messages": [{"role": "user", "content": "q"}],
            "tools": [{"name": "f", "parameters": {"type": "object"}}], "tool_choice": "none"});
        assert!(render(event.clone()).unwrap().get("toolConfig").is_none());
        let mut with_history = tool_loop();
        with_history["tool_choice"] = json!("none");
        let e = render(with_history).unwrap_err();
        assert_eq!(e.kind.name(), "InvalidInvocation");
        event["tool_choice"] = json!("required");
        assert_eq!(
            render(event).unwrap()["toolConfig"]["toolChoice"],
            json!({"any": {}})
        );
    }

    #[test]
    fn cache_points_follow_the_marked_content_with_ttl_and_at_most_four() {
        let event = json!({"messages": [
            {"role": "system", "content": "s", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
            {"role": "user", "content": [{"type": "text", "text": "a", "cache_control": {"type": "ephemeral"}},
                                         {"type": "text", "text": "b"}]}]});
        let body = render(event.clone()).unwrap();
        assert_eq!(
            body["system"],
            json!([{"text": "s"}, {"cachePoint": {"type": "default", "ttl": "1h"}}])
        );
        assert_eq!(
            body["messages"][0]["content"],
            json!([{"text": "a"}, {"cachePoint": {"type": "default"}}, {"text": "b"}])
        );
        let marked = json!({"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}});
        let mut five = event;
        five["messages"][1]["content"] = json!([marked, marked, marked, marked]);
        assert_eq!(render(five).unwrap_err().kind.name(), "InvalidInvocation");
    }

    #[test]
    fn structured_output_schema_is_a_json_string_and_json_object_is_refused_natively() {
        let mut event = json!({"messages": [{"role": "user", "content": "q"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "v",
                "schema": {"type": "object", "properties": {"p": {"type": "number", "maximum": 1.0}},
                           "additionalProperties": false}}}});
        let body = render(event.clone()).unwrap();
        assert_eq!(
            body["outputConfig"]["textFormat"]["structure"]["jsonSchema"],
            json!({"schema": "{\"type\":\"object\",\"properties\":{\"p\":{\"type\":\"number\",\"maximum\":1}},\"additionalProperties\":false}", "name": "v"})
        );
        event["response_format"] = json!({"type": "json_object"});
        assert_eq!(
            render(event.clone()).unwrap_err().kind.name(),
            "InvalidInvocation"
        );
        let nova = canonical(event, json!({"structured_output": "tool"}));
        assert_eq!(
            Bedrock.render_request(&nova).unwrap()["toolConfig"],
            json!({"tools": [{"toolSpec": {"name": "json_output", "inputSchema": {"json": {"type": "object"}}}}],
                   "toolChoice": {"tool": {"name": "json_output"}}})
        );
    }

    #[test]
    fn usage_adds_cache_reads_and_writes_once_whatever_their_names() {
        let answer = |usage: Value| {
            Bedrock
                .map_response(&json!({"output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
                    "stopReason": "end_turn", "usage": usage}))
                .unwrap()
                .usage
        };
        let both = answer(json!({"inputTokens": 9, "outputTokens": 41,
            "cacheReadInputTokens": 3840, "cacheReadInputTokenCount": 3840,
            "cacheWriteInputTokens": 512, "cacheWriteInputTokenCount": 512}));
        assert_eq!(
            (
                both.input_tokens,
                both.cache_read_input_tokens,
                both.cache_creation_input_tokens
            ),
            (4361, 3840, 512)
        );
        let old =
            answer(json!({"inputTokens": 1, "outputTokens": 2, "cacheReadInputTokenCount": 10}));
        assert_eq!((old.input_tokens, old.cache_read_input_tokens), (11, 10));
        let none = answer(json!({"inputTokens": 1, "outputTokens": 2}));
        assert_eq!((none.input_tokens, none.output_tokens), (1, 2));
    }

    #[test]
    fn reasoning_blocks_keep_their_order_and_tool_use_means_tool_calls() {
        let m = Bedrock
            .map_response(
                &json!({"output": {"message": {"role": "assistant", "content": [
                {"text": "a"},
                {"reasoningContent": {"reasoningText": {"text": "t"}}},
                {"reasoningContent": {"redactedContent": "RA=="}},
                {"toolUse": {"toolUseId": "tu", "name": "f", "input": {}}}]}},
                "stopReason": "end_turn"}),
            )
            .unwrap();
        assert_eq!(m.finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(m.content.as_deref(), Some("a"));
        let kinds: Vec<ReasoningKind> = m.reasoning.iter().map(|b| b.kind).collect();
        assert_eq!(kinds, [ReasoningKind::Thinking, ReasoningKind::Redacted]);
        assert_eq!(m.reasoning[0].signature, None, "no signature is forged");
        let odd = Bedrock.map_response(&json!({"stopReason": "malformed_model_output"}));
        assert_eq!(odd.unwrap().finish_reason, None);
    }
}

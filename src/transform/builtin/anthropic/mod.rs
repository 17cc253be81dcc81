//! Anthropic Messages (`anthropic_v1`). The body is `{model, max_tokens, system?, messages, tools?,
//! tool_choice?, temperature?, top_p?, stop_sequences?, thinking?, output_config?}` (docs/unified-model.md §4).
//! The shipped template renders the same body and maps answers the same way; it leaves only the refusals here.

mod request;
mod response;

use crate::error::{Result, ServiceError};
use crate::model::{CanonicalRequest, MappedResponse};
use crate::transform::builtin::same_numbers;
use crate::transform::Builtin;
use serde_json::Value;

pub struct Anthropic;

impl Builtin for Anthropic {
    fn render_request(&self, req: &CanonicalRequest) -> Result<Value> {
        match request::refusal(req) {
            Some(why) => Err(ServiceError::invalid(format!("anthropic_v1: {why}"))),
            None => Ok(same_numbers(&request::body(req))),
        }
    }
    fn map_response(&self, raw: &Value) -> Result<MappedResponse> {
        response::map(raw)
            .map_err(|why| ServiceError::response_invalid(format!("anthropic_v1: {why}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::model::*;
    use crate::transform;
    use serde_json::json;

    fn text(t: &str) -> Part {
        Part::Text {
            text: t.into(),
            cache_control: None,
        }
    }

    fn msg(role: Role, content: Vec<Part>) -> Message {
        Message {
            role,
            content,
            tool_calls: Vec::new(),
            tool_call_id: None,
            name: None,
            reasoning: Vec::new(),
        }
    }

    fn block(kind: ReasoningKind, text: Option<&str>, signature: Option<&str>) -> ReasoningBlock {
        ReasoningBlock {
            kind,
            text: text.map(Into::into),
            signature: signature.map(Into::into),
            data: (kind == ReasoningKind::Redacted).then(|| "REDACTED".into()),
            tool_call_id: None,
            provider: Some("anthropic".into()),
            model: Some("claude-opus-4-7".into()),
        }
    }

    fn weather_tool() -> Tool {
        Tool {
            name: "get_weather".into(),
            description: None,
            parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}}),
            cache_control: None,
        }
    }

    fn request(messages: Vec<Message>) -> CanonicalRequest {
        CanonicalRequest {
            model: "claude-opus-4-7".into(),
            provider_id: "anthropic".into(),
            system: None,
            system_parts: Vec::new(),
            messages,
            tools: Vec::new(),
            tool_choice: None,
            parallel_tool_calls: None,
            temperature: None,
            top_p: None,
            max_tokens: None,
            stop: Vec::new(),
            reasoning: None,
            response_format: None,
            capabilities: Capabilities::default(),
        }
    }

    /// Renders by the shipped template and by the built-in; they must agree byte for byte (key order too).
    fn both(req: &CanonicalRequest) -> Value {
        let (via_template, ran) = transform::render_request("anthropic_v1", None, req).unwrap();
        assert_eq!(
            ran.note, None,
            "the template left this case to the built-in"
        );
        let via_builtin = Anthropic.render_request(req).unwrap();
        assert_eq!(via_template.to_string(), via_builtin.to_string());
        via_builtin
    }

    /// A tool loop: thinking (display omitted) and redacted thinking go first, Gemini-style signatures nowhere;
    /// the user's text after the results is merged into the results' turn, after them.
    #[test]
    fn reasoning_first_and_tool_results_merged_before_text() {
        let mut assistant = msg(Role::Assistant, vec![text("Checking.")]);
        assistant.reasoning = vec![
            block(ReasoningKind::Thinking, None, Some("SIG")),
            block(ReasoningKind::Redacted, None, None),
            block(ReasoningKind::Signature, None, Some("GEMINI")),
        ];
        assistant.tool_calls = vec![ToolCall {
            id: "toolu_1".into(),
            name: "get_weather".into(),
            arguments: json!({}),
        }];
        let mut result = msg(Role::Tool, Vec::new());
        result.tool_call_id = Some("toolu_1".into());
        let mut req = request(vec![
            msg(Role::User, vec![text("Weather?")]),
            assistant,
            result,
            msg(Role::User, vec![text("And tomorrow?")]),
        ]);
        req.tools = vec![weather_tool()];
        let body = both(&req);
        assert_eq!(
            body["messages"][1]["content"],
            json!([
                {"type": "thinking", "thinking": "", "signature": "SIG"},
                {"type": "redacted_thinking", "data": "REDACTED"},
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}
            ])
        );
        assert_eq!(
            body["messages"][2],
            json!({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1"},
                {"type": "text", "text": "And tomorrow?"}
            ]})
        );
        assert_eq!(body["messages"].as_array().map(Vec::len), Some(3));
    }

    /// After a fallback the tool loop's last assistant turn has no Anthropic thinking: manual thinking stays off
    /// for that call (Anthropic refuses it otherwise); with the turn's own thinking block it stays on.
    #[test]
    fn manual_thinking_off_for_a_loop_started_elsewhere() {
        let mut call = msg(Role::Assistant, Vec::new());
        call.tool_calls = vec![ToolCall {
            id: "gemini_call_0".into(),
            name: "get_weather".into(),
            arguments: json!({"city": "Oslo"}),
        }];
        let mut result = msg(Role::Tool, vec![text("{}")]);
        result.tool_call_id = Some("gemini_call_0".into());
        let mut req = request(vec![msg(Role::User, vec![text("Oslo?")]), call, result]);
        req.tools = vec![weather_tool()];
        req.capabilities.thinking = "budget".into();
        req.max_tokens = Some(8000);
        req.reasoning = Some(ReasoningRequest {
            effort: None,
            budget_tokens: Some(2048),
            include_thoughts: false,
        });
        assert_eq!(both(&req).get("thinking"), None);
        req.messages[1].reasoning = vec![block(ReasoningKind::Thinking, Some("t"), Some("SIG"))];
        assert_eq!(
            both(&req)["thinking"],
            json!({"type": "enabled", "budget_tokens": 2048})
        );
    }

    /// Adaptive thinking: effort in output_config (`minimal` has no Anthropic level: `low`), visible thoughts on ask.
    #[test]
    fn adaptive_thinking_with_effort_and_display() {
        let mut req = request(vec![msg(Role::User, vec![text("Think.")])]);
        req.capabilities.thinking = "adaptive".into();
        req.reasoning = Some(ReasoningRequest {
            effort: Some("minimal".into()),
            budget_tokens: None,
            include_thoughts: true,
        });
        req.response_format = Some(ResponseFormat::JsonSchema {
            name: "answer".into(),
            schema: json!({"type": "object", "additionalProperties": false}),
            strict: Some(true),
        });
        req.stop = vec!["END".into()];
        req.top_p = Some(0.95);
        let body = both(&req);
        assert_eq!(body["stop_sequences"], json!(["END"]));
        assert_eq!(body["top_p"], json!(0.95));
        assert_eq!(
            body["thinking"],
            json!({"type": "adaptive", "display": "summarized"})
        );
        assert_eq!(
            body["output_config"],
            json!({"effort": "low", "format": {"type": "json_schema", "schema": {"type": "object", "additionalProperties": false}}})
        );
    }

    /// Structured output by one forced tool; `parallel_tool_calls: false` rides on it; a `none` choice drops it.
    #[test]
    fn forced_structured_tool_and_parallel_flag() {
        let mut req = request(vec![msg(Role::User, vec![text("JSON please.")])]);
        req.capabilities.structured_output = "tool".into();
        req.response_format = Some(ResponseFormat::JsonObject);
        req.parallel_tool_calls = Some(false);
        let body = both(&req);
        assert_eq!(
            body["tools"],
            json!([{"name": "json_output", "input_schema": {"type": "object"}}])
        );
        assert_eq!(
            body["tool_choice"],
            json!({"type": "tool", "name": "json_output", "disable_parallel_tool_use": true})
        );
        let mut req = request(vec![msg(Role::User, vec![text("No tools.")])]);
        req.tools = vec![weather_tool()];
        req.tool_choice = Some(ToolChoice::None);
        req.parallel_tool_calls = Some(false);
        assert_eq!(both(&req)["tool_choice"], json!({"type": "none"}));
    }

    /// A cache mark on a tool result keeps its place: the result goes as text blocks.
    #[test]
    fn cached_tool_result_and_system() {
        let mut call = msg(Role::Assistant, Vec::new());
        call.tool_calls = vec![ToolCall {
            id: "t1".into(),
            name: "get_weather".into(),
            arguments: json!({"city": "Oslo"}),
        }];
        let mut result = msg(
            Role::Tool,
            vec![Part::Text {
                text: "{\"temp\": 3}".into(),
                cache_control: Some(json!({"type": "ephemeral", "ttl": "1h"})),
            }],
        );
        result.tool_call_id = Some("t1".into());
        let mut req = request(vec![msg(Role::User, vec![text("Oslo?")]), call, result]);
        req.tools = vec![weather_tool()];
        req.system = Some("Be brief.".into());
        req.system_parts = vec![Part::Text {
            text: "Be brief.".into(),
            cache_control: Some(json!({"type": "ephemeral"})),
        }];
        let body = both(&req);
        assert_eq!(
            body["system"],
            json!([{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}])
        );
        assert_eq!(
            body["messages"][2]["content"][0]["content"],
            json!([{"type": "text", "text": "{\"temp\": 3}", "cache_control": {"type": "ephemeral", "ttl": "1h"}}])
        );
    }

    /// What the Messages API cannot say (or refuses) is refused on both paths with InvalidInvocation.
    #[test]
    fn refusals() {
        let base = request(vec![msg(Role::User, vec![text("Hi.")])]);
        let mut json_object = base.clone();
        json_object.response_format = Some(ResponseFormat::JsonObject);
        let mut tool_and_tools = json_object.clone();
        tool_and_tools.capabilities.structured_output = "tool".into();
        tool_and_tools.tools = vec![weather_tool()];
        let mut effort_style = base.clone();
        effort_style.capabilities.thinking = "effort".into();
        effort_style.reasoning = Some(ReasoningRequest {
            effort: Some("high".into()),
            budget_tokens: None,
            include_thoughts: false,
        });
        let mut marks = base.clone();
        marks.messages[0].content = (0..5)
            .map(|i| Part::Text {
                text: format!("part {i}"),
                cache_control: Some(json!({"type": "ephemeral"})),
            })
            .collect();
        let mut blank_stop = base.clone();
        blank_stop.stop = vec!["END".into(), "\n\n".into()];
        for req in [json_object, tool_and_tools, effort_style, marks, blank_stop] {
            let e = Anthropic.render_request(&req).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInvocation, "{e}");
            let t = transform::render_request("anthropic_v1", None, &req).unwrap_err();
            assert_eq!(t, e);
        }
    }

    /// Both mapping paths: cache counts added into input, nulls as zero, split text joined, server tools skipped.
    #[test]
    fn usage_arithmetic_and_server_tools() {
        let raw = json!({
            "content": [
                {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "x"}},
                {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
                {"type": "text", "text": "It is "},
                {"type": "text", "text": "sunny.", "citations": []}
            ],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 10, "cache_read_input_tokens": 100, "cache_creation_input_tokens": null,
                      "output_tokens": 5}
        });
        let (via_template, _) =
            transform::map_response("anthropic_v1", None, &raw.to_string()).unwrap();
        let via_builtin = Anthropic.map_response(&raw).unwrap();
        assert_eq!(via_template, via_builtin);
        assert_eq!(via_builtin.content.as_deref(), Some("It is sunny."));
        assert!(via_builtin.tool_calls.is_empty());
        assert_eq!(via_builtin.usage.input_tokens, 110);
        assert_eq!(via_builtin.usage.cache_read_input_tokens, 100);
        assert_eq!(via_builtin.usage.cache_creation_input_tokens, 0);
        assert_eq!(via_builtin.finish_reason, Some(FinishReason::Stop));
    }

    /// Numbers in arguments and schemas come out as the template engine gives them, on both paths.
    #[test]
    fn numbers_as_the_template_engine_gives_them() {
        let mut call = msg(Role::Assistant, Vec::new());
        call.tool_calls = vec![ToolCall {
            id: "t1".into(),
            name: "get_weather".into(),
            arguments: json!({"days": 2.0, "lat": 59.91}),
        }];
        let mut result = msg(Role::Tool, vec![text("{}")]);
        result.tool_call_id = Some("t1".into());
        let mut req = request(vec![msg(Role::User, vec![text("Oslo?")]), call, result]);
        req.tools = vec![weather_tool()];
        req.tools[0].parameters =
            json!({"type": "object", "properties": {"days": {"type": "integer", "maximum": 7.0}}});
        req.temperature = Some(0.0);
        let body = both(&req);
        assert_eq!(
            body["messages"][1]["content"][0]["input"].to_string(),
            r#"{"days":2,"lat":59.91}"#
        );
        assert_eq!(body["temperature"].to_string(), "0");
        let raw = json!({"content": [{"type": "tool_use", "id": "t2", "name": "f", "input": {"n": 10.0}}],
                         "stop_reason": "tool_use"});
        let (via_template, _) =
            transform::map_response("anthropic_v1", None, &raw.to_string()).unwrap();
        let via_builtin = Anthropic.map_response(&raw).unwrap();
        assert_eq!(via_template, via_builtin);
        assert_eq!(
            via_builtin.tool_calls[0].arguments.to_string(),
            r#"{"n":10}"#
        );
    }

    /// A tool_use block without an id is not a usable answer on either path.
    #[test]
    fn tool_use_without_id_is_invalid() {
        let raw = json!({"content": [{"type": "tool_use", "name": "f", "input": {}}], "stop_reason": "tool_use"});
        let t = transform::map_response("anthropic_v1", None, &raw.to_string()).unwrap_err();
        let b = Anthropic.map_response(&raw).unwrap_err();
        assert_eq!(t.kind, ErrorKind::ProviderResponseInvalid, "{t}");
        assert_eq!(b.kind, ErrorKind::ProviderResponseInvalid, "{b}");
    }
}

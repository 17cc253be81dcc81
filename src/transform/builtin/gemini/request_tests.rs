//! Unit tests of the gemini_v1 request: both paths agree on the sharp edges.

use super::*;
use crate::event::ChatEvent;
use crate::normalize::{canonical_request, Target};

const G3: &str = "gemini-3-pro-preview";

fn caps(thinking: &str) -> Capabilities {
    Capabilities {
        thinking: thinking.into(),
        forced_tool_with_thinking: true,
        temperature_with_thinking: true,
        ..Capabilities::default()
    }
}

/// The event normalised and checked as the pipeline does it.
fn canonical(model: &str, caps: Capabilities, event: Value) -> CanonicalRequest {
    let chat: ChatEvent = serde_json::from_value(event).expect("a chat event");
    let defaults = Map::new();
    let target = Target {
        provider_id: "gemini",
        model_id: model,
        capabilities: caps,
        defaults: &defaults,
    };
    let mut req = canonical_request(&chat, &target).expect("the event normalises");
    crate::capabilities::check(&mut req, "gemini_v1").expect("the model takes it");
    req
}

/// The body by both paths (equal unless the template defers), and why the template deferred.
fn render_both(req: &CanonicalRequest) -> (Value, Option<String>) {
    let built = render(req).expect("the built-in renders");
    let (body, ran) =
        crate::transform::render_request("gemini_v1", None, req).expect("the template renders");
    if ran.note.is_none() {
        assert_eq!(body.json(), built, "the template and the built-in differ");
    }
    (built, ran.note)
}

fn weather_call(id: &str, city: &str) -> Value {
    json!({"id": id, "name": "get_weather", "arguments": {"city": city}})
}

fn tagged(mut block: Value, model: &str) -> Value {
    block["provider"] = json!("gemini");
    block["model"] = json!(model);
    block
}

#[test]
fn gemini3_history_it_did_not_make_gets_the_placeholder_on_the_first_call_only() {
    let req = canonical(
        G3,
        caps("level"),
        json!({
            "messages": [
                {"role": "user", "content": "Weather in Oslo and Bergen?"},
                {"role": "assistant", "tool_calls": [weather_call("call_a", "Oslo"), weather_call("call_b", "Bergen")]},
                {"role": "tool", "tool_call_id": "call_a", "content": "cold"},
                {"role": "tool", "tool_call_id": "call_b", "content": "wet"}
            ],
            "reasoning": {"effort": "low"}
        }),
    );
    let (body, note) = render_both(&req);
    assert_eq!(note, None);
    let model = &body["contents"][1]["parts"];
    assert_eq!(model[0]["thoughtSignature"], json!(PLACEHOLDER_SIGNATURE));
    assert_eq!(model[0]["functionCall"]["id"], json!("call_a"));
    assert!(model[1].get("thoughtSignature").is_none(), "never forged");
    let results = &body["contents"][2]["parts"];
    assert_eq!(
        results[1],
        json!({"functionResponse": {"name": "get_weather", "response": {"content": "wet"}, "id": "call_b"}})
    );
    assert_eq!(
        body["generationConfig"]["thinkingConfig"],
        json!({"thinkingLevel": "low", "includeThoughts": false})
    );
}

#[test]
fn signatures_go_back_on_the_parts_they_came_on() {
    let req = canonical(
        G3,
        caps("level"),
        json!({
            "messages": [
                {"role": "user", "content": "Trains to Milan and Munich?"},
                {"role": "assistant", "content": "Let me check.",
                 "tool_calls": [weather_call("53u90pgf", "Milan"), weather_call("b8rv7b85", "Munich")],
                 "reasoning": [
                    tagged(json!({"type": "thinking", "text": "plan", "signature": "sig-t"}), G3),
                    tagged(json!({"type": "signature", "signature": "sig-text"}), G3),
                    tagged(json!({"type": "signature", "signature": "sig-call", "tool_call_id": "53u90pgf"}), G3),
                    tagged(json!({"type": "signature", "signature": "other", "tool_call_id": "b8rv7b85"}), "gemini-2.5-pro")
                 ]},
                {"role": "user", "content": "Thanks"}
            ]
        }),
    );
    let (body, _) = render_both(&req);
    assert_eq!(
        body["contents"][1]["parts"],
        json!([
            {"text": "plan", "thought": true, "thoughtSignature": "sig-t"},
            {"text": "Let me check.", "thoughtSignature": "sig-text"},
            {"functionCall": {"name": "get_weather", "args": {"city": "Milan"}, "id": "53u90pgf"}, "thoughtSignature": "sig-call"},
            {"functionCall": {"name": "get_weather", "args": {"city": "Munich"}, "id": "b8rv7b85"}}
        ])
    );
}

#[test]
fn a_text_signature_without_text_rides_on_an_empty_text_part() {
    let req = canonical(
        G3,
        caps("level"),
        json!({
            "messages": [
                {"role": "user", "content": "Go"},
                {"role": "assistant", "tool_calls": [weather_call("id1", "Rome")],
                 "reasoning": [tagged(json!({"type": "signature", "signature": "sig-text"}), G3)]},
                {"role": "tool", "tool_call_id": "id1", "content": "sunny"}
            ]
        }),
    );
    let (body, _) = render_both(&req);
    assert_eq!(
        body["contents"][1]["parts"],
        json!([
            {"text": "", "thoughtSignature": "sig-text"},
            {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}, "id": "id1"}, "thoughtSignature": PLACEHOLDER_SIGNATURE}
        ])
    );
}

#[test]
fn made_up_ids_stay_home_and_consecutive_turns_merge() {
    let req = canonical(
        "gemini-2.5-flash",
        caps("budget"),
        json!({
            "messages": [
                {"role": "user", "content": "Oslo or Helsinki?"},
                {"role": "assistant", "tool_calls": [weather_call("gemini_call_0", "Oslo"), weather_call("gemini_call_1", "Helsinki")],
                 "reasoning": [tagged(json!({"type": "signature", "signature": "s0", "tool_call_id": "gemini_call_0"}), "gemini-2.5-flash")]},
                {"role": "tool", "tool_call_id": "gemini_call_0", "content": "{\"temp_c\": -3.0}"},
                {"role": "tool", "tool_call_id": "gemini_call_1", "content": "-7"},
                {"role": "user", "content": "Which one?"}
            ],
            "reasoning": {"budget_tokens": 512}
        }),
    );
    let (body, note) = render_both(&req);
    assert_eq!(note, None);
    let contents = body["contents"].as_array().unwrap();
    assert_eq!(contents.len(), 3);
    assert_eq!(
        contents[1]["parts"][0],
        json!({"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}, "thoughtSignature": "s0"})
    );
    assert!(contents[1]["parts"][1].get("thoughtSignature").is_none());
    assert_eq!(
        contents[2]["parts"],
        json!([
            {"functionResponse": {"name": "get_weather", "response": {"temp_c": -3}}},
            {"functionResponse": {"name": "get_weather", "response": {"content": "-7"}}},
            {"text": "Which one?"}
        ])
    );
}

#[test]
fn a_tool_result_is_parsed_only_when_it_is_a_json_object() {
    let results = [
        (
            " {\"a\": 1.0, \"b\": [true, null, {\"c\": \"}{\\\"\"}]} \n",
            Some(json!({"a": 1, "b": [true, null, {"c": "}{\""}]})),
        ),
        ("{\"s\": 1}", Some(json!({"s": 1}))),
        ("{}", Some(json!({}))),
        ("[1, 2]", None),
        ("{not json}", None),
        ("{s: 1}", None),
        ("{\"a\": 1,}", None),
        ("{\"a\": 01}", None),
        ("{\"a\": \"tab\there\"}", None),
        ("{\"a\": 1} {\"b\": 2}", None),
        ("plain text", None),
    ];
    for (text, parsed) in results {
        let req = canonical(
            "gemini-2.5-flash",
            caps("budget"),
            json!({
                "messages": [
                    {"role": "user", "content": "go"},
                    {"role": "assistant", "tool_calls": [weather_call("c1", "Oslo")]},
                    {"role": "tool", "tool_call_id": "c1", "content": text}
                ]
            }),
        );
        let (body, note) = render_both(&req);
        assert_eq!(note, None, "{text}");
        let want = parsed.unwrap_or_else(|| json!({"content": text}));
        assert_eq!(
            body["contents"][2]["parts"][0]["functionResponse"]["response"], want,
            "{text}"
        );
    }
}

#[test]
fn a_function_without_parameters_declares_none() {
    let req = canonical(
        "gemini-2.5-flash",
        caps("budget"),
        json!({
            "messages": [{"role": "user", "content": "What time is it?"}],
            "tools": [{"name": "now"}, {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}],
            "tool_choice": "now"
        }),
    );
    let (body, _) = render_both(&req);
    assert_eq!(
        body["tools"][0]["functionDeclarations"][0],
        json!({"name": "now"})
    );
    assert!(body["tools"][0]["functionDeclarations"][1]["parameters"].is_object());
    assert_eq!(
        body["toolConfig"],
        json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["now"]}})
    );
}

#[test]
fn what_generate_content_cannot_express_is_refused() {
    let adaptive = canonical(
        "gemini-x",
        caps("adaptive"),
        json!({
            "messages": [{"role": "user", "content": "hi"}], "reasoning": {"effort": "high"}
        }),
    );
    let by_tool = canonical(
        "gemini-x",
        Capabilities {
            structured_output: "tool".into(),
            ..caps("none")
        },
        json!({
            "messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "json_object"}
        }),
    );
    for req in [adaptive, by_tool] {
        let e = render(&req).expect_err("refused");
        assert_eq!(e.kind, crate::error::ErrorKind::InvalidInvocation, "{e}");
        // The template defers, so the pipeline refuses with the built-in's words.
        let e = crate::transform::render_request("gemini_v1", None, &req).expect_err("refused");
        assert_eq!(e.kind, crate::error::ErrorKind::InvalidInvocation, "{e}");
    }
}

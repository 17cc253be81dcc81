//! Canonical request -> generateContent body.

use super::{same_numbers, MADE_UP_ID_PREFIX, PLACEHOLDER_SIGNATURE};
use crate::error::{Result, ServiceError};
use crate::model::*;
use crate::transform::functions::{gemini_schema, merge_turns};
use serde_json::{json, Map, Value};

pub(super) fn render(req: &CanonicalRequest) -> Result<Value> {
    refuse_what_gemini_cannot_say(req)?;
    // Gemini 3 (thinking style `level`) validates the signature of each step's first function call.
    let level = req.capabilities.thinking == "level";
    let turns = req
        .messages
        .iter()
        .map(|m| turn(m, level))
        .collect::<Result<Vec<_>>>()?;
    let mut body = Map::new();
    body.insert(
        "contents".into(),
        Value::Array(merge_turns(turns, "role", "parts")),
    );
    if let Some(system) = &req.system {
        body.insert(
            "systemInstruction".into(),
            json!({"parts": [{"text": system}]}),
        );
    }
    if !req.tools.is_empty() {
        let declarations: Vec<Value> = req.tools.iter().map(declaration).collect();
        body.insert(
            "tools".into(),
            json!([{"functionDeclarations": declarations}]),
        );
    }
    if let Some(choice) = &req.tool_choice {
        let config = match choice {
            ToolChoice::Auto => json!({"mode": "AUTO"}),
            ToolChoice::None => json!({"mode": "NONE"}),
            ToolChoice::Required => json!({"mode": "ANY"}),
            ToolChoice::Tool { name } => {
                json!({"mode": "ANY", "allowedFunctionNames": [name]})
            }
        };
        body.insert(
            "toolConfig".into(),
            json!({"functionCallingConfig": config}),
        );
    }
    let generation = generation_config(req);
    if !generation.is_empty() {
        body.insert("generationConfig".into(), Value::Object(generation));
    }
    Ok(Value::Object(body))
}

/// What generateContent cannot express is refused by name, never changed in silence. The template
/// leaves exactly these cases to the built-in (a template cannot raise `InvalidInvocation`).
fn refuse_what_gemini_cannot_say(req: &CanonicalRequest) -> Result<()> {
    let caps = &req.capabilities;
    if req.response_format.is_some() && caps.structured_output == "tool" {
        return Err(ServiceError::invalid(format!(
            "gemini_v1: model `{}` is set up for structured output through a forced tool (structured_output: tool), but generateContent gives it natively (responseMimeType + responseJsonSchema): set the model's structured_output to native",
            req.model
        )));
    }
    if req.reasoning.is_some() && !matches!(caps.thinking.as_str(), "budget" | "level") {
        return Err(ServiceError::invalid(format!(
            "gemini_v1: thinking style `{}` of model `{}` has no generateContent form (budget gives thinkingBudget, level gives thinkingLevel)",
            caps.thinking, req.model
        )));
    }
    Ok(())
}

fn turn(m: &Message, level: bool) -> Result<Value> {
    Ok(match m.role {
        Role::User => {
            let parts = m.content.iter().map(part).collect::<Result<Vec<_>>>()?;
            json!({"role": "user", "parts": parts})
        }
        Role::Tool => {
            json!({"role": "user", "parts": [{"functionResponse": function_response(m)}]})
        }
        Role::Assistant => json!({"role": "model", "parts": model_parts(m, level)?}),
    })
}

fn part(p: &Part) -> Result<Value> {
    match p {
        Part::Text { text, .. } => Ok(json!({"text": text})),
        Part::Image {
            media_type: Some(mime_type),
            data: Some(data),
            ..
        } => Ok(json!({"inlineData": {"mimeType": mime_type, "data": data}})),
        Part::Image { .. } => Err(ServiceError::invalid(
            "gemini_v1 takes images as data only (a data: URL or base64); the service does not fetch URLs",
        )),
    }
}

/// A model turn in the order Gemini wants it back: thought parts, then the content (the last text part
/// carrying the text's signature), then the function calls, each with the signature it came with.
fn model_parts(m: &Message, level: bool) -> Result<Vec<Value>> {
    let mut parts = Vec::new();
    for r in m
        .reasoning
        .iter()
        .filter(|r| r.kind == ReasoningKind::Thinking)
    {
        let mut p = Map::new();
        p.insert("text".into(), json!(r.text.as_deref().unwrap_or_default()));
        p.insert("thought".into(), json!(true));
        if let Some(s) = &r.signature {
            p.insert("thoughtSignature".into(), json!(s));
        }
        parts.push(Value::Object(p));
    }
    let text_signature = signature_for(m, None);
    let last_text = m.content.iter().rposition(|p| p.text().is_some());
    for (i, p) in m.content.iter().enumerate() {
        let mut v = part(p)?;
        if let (Some(s), true, Some(obj)) =
            (text_signature, last_text == Some(i), v.as_object_mut())
        {
            obj.insert("thoughtSignature".into(), json!(s));
        }
        parts.push(v);
    }
    if let (Some(s), None) = (text_signature, last_text) {
        parts.push(json!({"text": "", "thoughtSignature": s}));
    }
    for (i, c) in m.tool_calls.iter().enumerate() {
        let mut call = Map::new();
        call.insert("name".into(), json!(c.name));
        call.insert("args".into(), same_numbers(&c.arguments));
        if let Some(id) = sendable_id(&c.id) {
            call.insert("id".into(), json!(id));
        }
        let mut p = Map::new();
        p.insert("functionCall".into(), Value::Object(call));
        let signature = match signature_for(m, Some(&c.id)) {
            None if i == 0 && level => Some(PLACEHOLDER_SIGNATURE),
            s => s,
        };
        if let Some(s) = signature {
            p.insert("thoughtSignature".into(), json!(s));
        }
        parts.push(Value::Object(p));
    }
    Ok(parts)
}

/// The first signature of a `signature` block for this tool call (or, with `None`, for the text).
fn signature_for<'a>(m: &'a Message, call_id: Option<&str>) -> Option<&'a str> {
    m.reasoning
        .iter()
        .filter(|r| r.kind == ReasoningKind::Signature && r.tool_call_id.as_deref() == call_id)
        .find_map(|r| r.signature.as_deref())
}

fn sendable_id(id: &str) -> Option<&str> {
    (!id.starts_with(MADE_UP_ID_PREFIX)).then_some(id)
}

/// `response` is the result parsed when it is a JSON object, else `{"content": text}`.
fn function_response(m: &Message) -> Value {
    let text = m.text();
    let response = match crate::transform::functions::json_object(&text) {
        Some(v) => same_numbers(&v),
        None => json!({"content": text}),
    };
    let mut f = Map::new();
    f.insert("name".into(), json!(m.name.as_deref().unwrap_or_default()));
    f.insert("response".into(), response);
    if let Some(id) = m.tool_call_id.as_deref().and_then(sendable_id) {
        f.insert("id".into(), json!(id));
    }
    Value::Object(f)
}

/// A declaration; a function without parameters has no `parameters` (Gemini refuses an OBJECT schema
/// with no properties).
fn declaration(t: &Tool) -> Value {
    let mut d = Map::new();
    d.insert("name".into(), json!(t.name));
    if let Some(description) = &t.description {
        d.insert("description".into(), json!(description));
    }
    let schema = same_numbers(&gemini_schema(&t.parameters));
    if !is_empty_object_schema(&schema) {
        d.insert("parameters".into(), schema);
    }
    Value::Object(d)
}

fn is_empty_object_schema(s: &Value) -> bool {
    let ty = s.get("type");
    (ty.is_none() || ty == Some(&json!("object")))
        && s.get("properties")
            .and_then(Value::as_object)
            .is_none_or(Map::is_empty)
        && s.get("anyOf").is_none()
}

fn generation_config(req: &CanonicalRequest) -> Map<String, Value> {
    let mut g = Map::new();
    let put = |g: &mut Map<String, Value>, key: &str, v: Option<Value>| {
        if let Some(v) = v {
            g.insert(key.into(), v);
        }
    };
    put(&mut g, "temperature", req.temperature.map(num));
    put(&mut g, "topP", req.top_p.map(num));
    put(&mut g, "maxOutputTokens", req.max_tokens.map(Value::from));
    if !req.stop.is_empty() {
        g.insert("stopSequences".into(), json!(req.stop));
    }
    if let Some(format) = &req.response_format {
        g.insert("responseMimeType".into(), json!("application/json"));
        if let ResponseFormat::JsonSchema { schema, .. } = format {
            g.insert("responseJsonSchema".into(), same_numbers(schema));
        }
    }
    if let Some(r) = &req.reasoning {
        let mut t = Map::new();
        if req.capabilities.thinking == "budget" {
            put(&mut t, "thinkingBudget", r.budget_tokens.map(Value::from));
        } else {
            put(&mut t, "thinkingLevel", r.effort.clone().map(Value::from));
        }
        t.insert("includeThoughts".into(), json!(r.include_thoughts));
        g.insert("thinkingConfig".into(), Value::Object(t));
    }
    g
}

#[cfg(test)]
mod tests {
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
            assert_eq!(body, built, "the template and the built-in differ");
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
}

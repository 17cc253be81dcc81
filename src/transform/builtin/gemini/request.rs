//! Canonical request -> generateContent body.

use super::{MADE_UP_ID_PREFIX, PLACEHOLDER_SIGNATURE};
use crate::error::{Result, ServiceError};
use crate::model::*;
use crate::transform::builtin::same_numbers;
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
#[path = "request_tests.rs"]
mod tests;

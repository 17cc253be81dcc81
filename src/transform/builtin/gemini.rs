//! Google Gemini `generateContent` (`gemini_v1`). The model is in the URL; the body is
//! `{contents, systemInstruction?, tools?, toolConfig?, generationConfig?}` (docs/unified-model.md §4).
//! The shipped template renders the same body; it leaves to this file only the refusals and tool results
//! that look like JSON objects but that JSONata cannot safely tell apart from text.

use crate::error::{Result, ServiceError};
use crate::model::*;
use crate::transform::functions::{gemini_schema, merge_turns};
use crate::transform::Builtin;
use serde_json::{json, Map, Value};

pub struct Gemini;

/// The signature Gemini 3 documents for a function call it did not make itself (history written by
/// another model or by hand): it goes on the first call of a step that has no signature of its own.
pub const PLACEHOLDER_SIGNATURE: &str = "skip_thought_signature_validator";
/// The prefix of the ids made up for Gemini 2.x calls, which carry none (docs/unified-model.md §2).
/// Such an id is never sent back to Gemini.
pub const MADE_UP_ID_PREFIX: &str = "gemini_call_";

impl Builtin for Gemini {
    fn render_request(&self, req: &CanonicalRequest) -> Result<Value> {
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

    fn map_response(&self, raw: &Value) -> Result<MappedResponse> {
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
        Ok(MappedResponse {
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
        })
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
    let response = match serde_json::from_str::<Value>(&text) {
        Ok(v @ Value::Object(_)) => same_numbers(&v),
        _ => json!({"content": text}),
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

/// Numbers as the template engine gives them (it holds every number as an f64), so both paths agree.
fn same_numbers(v: &Value) -> Value {
    match v {
        Value::Number(n) => num(n.as_f64().unwrap_or(0.0)),
        Value::Array(items) => Value::Array(items.iter().map(same_numbers).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), same_numbers(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

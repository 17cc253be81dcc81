//! Canonical request -> Messages body, and the refusals the shipped template leaves to the built-in.

use crate::capabilities::DEFAULT_MAX_TOKENS;
use crate::model::*;
use crate::response::structured_tool_name;
use crate::transform::functions::merge_turns;
use serde_json::{json, Map, Value};

/// The Messages API takes at most four `cache_control` breakpoints in one request.
const MAX_CACHE_BREAKPOINTS: usize = 4;

/// The body; `refusal` has been asked first.
pub fn body(req: &CanonicalRequest) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), json!(req.model));
    body.insert(
        "max_tokens".into(),
        json!(req.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)),
    );
    if let Some(system) = system(req) {
        body.insert("system".into(), system);
    }
    body.insert("messages".into(), Value::Array(messages(&req.messages)));
    let tools = tools(req);
    // A choice about tools means nothing without tools (the Messages API takes none then).
    if !tools.is_empty() {
        body.insert("tools".into(), Value::Array(tools));
        if let Some(choice) = tool_choice(req) {
            body.insert("tool_choice".into(), choice);
        }
    }
    if let Some(t) = req.temperature {
        body.insert("temperature".into(), num(t));
    }
    if let Some(p) = req.top_p {
        body.insert("top_p".into(), num(p));
    }
    if !req.stop.is_empty() {
        body.insert("stop_sequences".into(), json!(req.stop));
    }
    if let Some(thinking) = thinking(req) {
        body.insert("thinking".into(), thinking);
    }
    let output = output_config(req);
    if !output.is_empty() {
        body.insert("output_config".into(), Value::Object(output));
    }
    Value::Object(body)
}

/// What the Messages API cannot be told (or refuses), said in words: refused by name, never dropped in silence.
pub fn refusal(req: &CanonicalRequest) -> Option<String> {
    let caps = &req.capabilities;
    if req.reasoning.is_some() && !matches!(caps.thinking.as_str(), "budget" | "adaptive") {
        return Some(format!(
            "model `{}` has thinking style `{}`, which the Messages API has no form for (it takes `budget` or `adaptive`)",
            req.model, caps.thinking
        ));
    }
    match (&req.response_format, caps.structured_output.as_str()) {
        (None, _) | (Some(ResponseFormat::JsonSchema { .. }), "native") => {}
        (Some(ResponseFormat::JsonObject), "native") => {
            return Some(format!("model `{}` gives JSON through output_config.format, whose schema must close every object (`additionalProperties: false`), so `response_format: json_object` (any object) cannot be expressed; send a `json_schema` response_format", req.model));
        }
        (Some(_), "tool") if !req.tools.is_empty() => {
            return Some(format!("model `{}` gives structured output through one forced tool call, so `response_format` cannot be combined with `tools`", req.model));
        }
        (Some(_), "tool") => {}
        (Some(_), other) => {
            return Some(format!(
                "model `{}` has structured output `{other}`, which the Messages API has no form for",
                req.model
            ));
        }
    }
    if let Some(s) = req.stop.iter().find(|s| s.trim().is_empty()) {
        return Some(format!("the stop sequence {s:?} holds only whitespace, which the Messages API refuses (each stop sequence must contain non-whitespace); drop it or add a visible character"));
    }
    let marks = req
        .system_parts
        .iter()
        .filter_map(Part::cache_control)
        .count()
        + req
            .messages
            .iter()
            .flat_map(|m| &m.content)
            .filter_map(Part::cache_control)
            .count()
        + req
            .tools
            .iter()
            .filter(|t| t.cache_control.is_some())
            .count();
    if marks > MAX_CACHE_BREAKPOINTS {
        return Some(format!("the request marks {marks} places with `cache_control`; the Messages API takes at most {MAX_CACHE_BREAKPOINTS} (system, messages and tools together)"));
    }
    None
}

fn by_tool(req: &CanonicalRequest) -> bool {
    req.response_format.is_some() && req.capabilities.structured_output == "tool"
}

/// A string, unless a part carries `cache_control`: then the parts as text blocks.
fn system(req: &CanonicalRequest) -> Option<Value> {
    if req.system_parts.iter().any(|p| p.cache_control().is_some()) {
        return Some(Value::Array(req.system_parts.iter().map(block).collect()));
    }
    req.system.as_ref().map(|s| json!(s))
}

fn with_cache(mut block: Map<String, Value>, cc: Option<&Value>) -> Value {
    if let Some(cc) = cc {
        block.insert("cache_control".into(), cc.clone());
    }
    Value::Object(block)
}

fn block(p: &Part) -> Value {
    let mut b = Map::new();
    match p {
        Part::Text { text, .. } => {
            b.insert("type".into(), json!("text"));
            b.insert("text".into(), json!(text));
        }
        Part::Image { url: Some(url), .. } => {
            b.insert("type".into(), json!("image"));
            b.insert("source".into(), json!({"type": "url", "url": url}));
        }
        Part::Image {
            media_type, data, ..
        } => {
            b.insert("type".into(), json!("image"));
            b.insert(
                "source".into(),
                json!({"type": "base64", "media_type": media_type, "data": data}),
            );
        }
    }
    with_cache(b, p.cache_control())
}

/// Each message as one turn, consecutive turns of one role merged, tool results first in a user turn.
fn messages(msgs: &[Message]) -> Vec<Value> {
    let turns = msgs.iter().map(turn).collect();
    merge_turns(turns, "role", "content")
        .into_iter()
        .map(|mut t| {
            if t["role"] == "user" {
                if let Some(Value::Array(blocks)) = t.get_mut("content") {
                    let (mut results, rest): (Vec<Value>, Vec<Value>) = std::mem::take(blocks)
                        .into_iter()
                        .partition(|b| b["type"] == "tool_result");
                    results.extend(rest);
                    *blocks = results;
                }
            }
            t
        })
        .collect()
}

fn turn(m: &Message) -> Value {
    match m.role {
        Role::User => {
            json!({"role": "user", "content": m.content.iter().map(block).collect::<Vec<_>>()})
        }
        Role::Tool => json!({"role": "user", "content": [tool_result(m)]}),
        Role::Assistant => {
            let mut content: Vec<Value> = m.reasoning.iter().filter_map(reasoning_block).collect();
            content.extend(m.content.iter().map(block));
            content.extend(m.tool_calls.iter().map(
                |c| json!({"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments}),
            ));
            json!({"role": "assistant", "content": content})
        }
    }
}

/// The result as a string, or as text blocks when a part carries `cache_control`; no `content` when empty.
fn tool_result(m: &Message) -> Value {
    let mut b = Map::new();
    b.insert("type".into(), json!("tool_result"));
    b.insert("tool_use_id".into(), json!(m.tool_call_id));
    if m.content.iter().any(|p| p.cache_control().is_some()) {
        b.insert(
            "content".into(),
            Value::Array(m.content.iter().map(block).collect()),
        );
    } else if !m.content.is_empty() {
        b.insert("content".into(), json!(m.text()));
    }
    Value::Object(b)
}

/// Thinking and redacted thinking go back as they came; Gemini-style signature blocks have no Anthropic form.
fn reasoning_block(r: &ReasoningBlock) -> Option<Value> {
    match r.kind {
        ReasoningKind::Thinking => {
            let mut b = Map::new();
            b.insert("type".into(), json!("thinking"));
            b.insert(
                "thinking".into(),
                json!(r.text.as_deref().unwrap_or_default()),
            );
            if let Some(s) = &r.signature {
                b.insert("signature".into(), json!(s));
            }
            Some(Value::Object(b))
        }
        ReasoningKind::Redacted => {
            let mut b = Map::new();
            b.insert("type".into(), json!("redacted_thinking"));
            if let Some(d) = &r.data {
                b.insert("data".into(), json!(d));
            }
            Some(Value::Object(b))
        }
        ReasoningKind::Signature => None,
    }
}

/// The caller's tools, or the one tool that carries structured output on models without native JSON output.
fn tools(req: &CanonicalRequest) -> Vec<Value> {
    if let Some(format) = req.response_format.as_ref().filter(|_| by_tool(req)) {
        let schema = match format {
            ResponseFormat::JsonSchema { schema, .. } => schema.clone(),
            ResponseFormat::JsonObject => json!({"type": "object"}),
        };
        return vec![json!({"name": structured_tool_name(format), "input_schema": schema})];
    }
    req.tools
        .iter()
        .map(|t| {
            let mut b = Map::new();
            b.insert("name".into(), json!(t.name));
            if let Some(d) = &t.description {
                b.insert("description".into(), json!(d));
            }
            b.insert("input_schema".into(), t.parameters.clone());
            with_cache(b, t.cache_control.as_ref())
        })
        .collect()
}

/// The structured-output tool is forced; else the caller's choice. `parallel_tool_calls: false` becomes
/// `disable_parallel_tool_use` on any choice but `none` (which calls no tool at all), on `auto` when none was given.
fn tool_choice(req: &CanonicalRequest) -> Option<Value> {
    let forced = req.response_format.as_ref().filter(|_| by_tool(req));
    let mut choice = match (forced, &req.tool_choice) {
        (Some(format), _) => json!({"type": "tool", "name": structured_tool_name(format)}),
        (None, Some(ToolChoice::Tool { name })) => json!({"type": "tool", "name": name}),
        (None, Some(ToolChoice::Auto)) => json!({"type": "auto"}),
        (None, Some(ToolChoice::None)) => json!({"type": "none"}),
        (None, Some(ToolChoice::Required)) => json!({"type": "any"}),
        (None, None) if req.parallel_tool_calls == Some(false) => json!({"type": "auto"}),
        (None, None) => return None,
    };
    if req.parallel_tool_calls == Some(false) && choice["type"] != "none" {
        if let Some(obj) = choice.as_object_mut() {
            obj.insert("disable_parallel_tool_use".into(), json!(true));
        }
    }
    Some(choice)
}

fn thinking(req: &CanonicalRequest) -> Option<Value> {
    let r = req.reasoning.as_ref()?;
    match req.capabilities.thinking.as_str() {
        "budget" if req.tool_turn_lacks_own_reasoning() => None,
        "budget" => Some(json!({"type": "enabled", "budget_tokens": r.budget_tokens})),
        "adaptive" if r.include_thoughts => {
            Some(json!({"type": "adaptive", "display": "summarized"}))
        }
        "adaptive" => Some(json!({"type": "adaptive"})),
        _ => None,
    }
}

/// `effort` for adaptive thinking (Anthropic has no `minimal`: it becomes `low`), `format` for native JSON.
fn output_config(req: &CanonicalRequest) -> Map<String, Value> {
    let mut out = Map::new();
    let effort = req
        .reasoning
        .as_ref()
        .filter(|_| req.capabilities.thinking == "adaptive")
        .and_then(|r| r.effort.as_deref());
    if let Some(e) = effort {
        let e = if e == "minimal" { "low" } else { e };
        out.insert("effort".into(), json!(e));
    }
    if let Some(ResponseFormat::JsonSchema { schema, .. }) = &req.response_format {
        if req.capabilities.structured_output == "native" {
            out.insert(
                "format".into(),
                json!({"type": "json_schema", "schema": schema}),
            );
        }
    }
    out
}

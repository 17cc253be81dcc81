//! Canonical request -> Converse body. What Converse cannot express is refused here by name; the template
//! leaves exactly those cases to this file.

use crate::capabilities::DEFAULT_MAX_TOKENS;
use crate::error::{Result, ServiceError};
use crate::model::*;
use crate::response::structured_tool_name;
use crate::transform::functions::merge_turns;
use serde_json::{json, Map, Value};

/// Converse takes at most four cache checkpoints in one request (system, messages and tools together).
pub(super) const MAX_CACHE_POINTS: usize = 4;

pub(super) fn render(req: &CanonicalRequest) -> Result<Value> {
    refuse_what_converse_cannot_say(req)?;
    let mut body = Map::new();
    let turns = req.messages.iter().map(turn).collect::<Result<Vec<_>>>()?;
    body.insert(
        "messages".into(),
        Value::Array(merge_turns(turns, "role", "content")),
    );
    if !req.system_parts.is_empty() {
        let mut system = Vec::new();
        for p in &req.system_parts {
            system.push(json!({"text": p.text().unwrap_or_default()}));
            system.extend(p.cache_control().map(cache_point));
        }
        body.insert("system".into(), Value::Array(system));
    }
    let inference = inference_config(req);
    if !inference.is_empty() {
        body.insert("inferenceConfig".into(), Value::Object(inference));
    }
    if let Some(tc) = tool_config(req) {
        body.insert("toolConfig".into(), tc);
    }
    if let Some(fields) = reasoning_fields(req) {
        body.insert("additionalModelRequestFields".into(), fields);
    }
    if let (Some(ResponseFormat::JsonSchema { name, schema, .. }), false) =
        (&req.response_format, structured_by_tool(req))
    {
        let definition = json!({"schema": json_string(schema), "name": name});
        body.insert(
            "outputConfig".into(),
            json!({"textFormat": {"type": "json_schema", "structure": {"jsonSchema": definition}}}),
        );
    }
    let body = Value::Object(body);
    let points = cache_points(&body);
    if points > MAX_CACHE_POINTS {
        return Err(ServiceError::invalid(format!(
            "bedrock_v1: the request marks {points} places with `cache_control`; Converse takes at most {MAX_CACHE_POINTS} cache points (system, messages and tools together)"
        )));
    }
    Ok(body)
}

/// What the Converse API cannot express is refused by name, never changed in silence. The template
/// leaves exactly these cases to the built-in (a template cannot raise `InvalidInvocation`).
fn refuse_what_converse_cannot_say(req: &CanonicalRequest) -> Result<()> {
    let refuse = |what: &str| Err(ServiceError::invalid(format!("bedrock_v1: {what}")));
    let history_has_tools = history_has_tools(req);
    if structured_by_tool(req) && !req.tools.is_empty() {
        return refuse(&format!("model `{}` gives structured output through one forced tool call, so `response_format` cannot be combined with `tools`", req.model));
    }
    if matches!(req.response_format, Some(ResponseFormat::JsonObject)) && !structured_by_tool(req) {
        return refuse("Converse structured output (outputConfig.textFormat) needs a JSON schema whose objects are closed (`additionalProperties: false`), so `response_format: json_object` (any object) cannot be expressed; send a `json_schema` response_format");
    }
    if req.tool_choice == Some(ToolChoice::None) && history_has_tools {
        return refuse("Converse has no tool_choice `none`, and the tools cannot be left out because the history holds tool calls (Converse then needs toolConfig): the model could still call them; use tool_choice `auto`");
    }
    if history_has_tools && req.tools.is_empty() && !structured_by_tool(req) {
        return refuse("the history holds tool calls or results, and Converse then needs `toolConfig`: send the `tools` they were made with");
    }
    if req.reasoning.is_some()
        && !matches!(
            req.capabilities.thinking.as_str(),
            "budget" | "adaptive" | "nova"
        )
    {
        return refuse(&format!(
            "thinking style `{}` has no Converse form (budget, adaptive and nova do)",
            req.capabilities.thinking
        ));
    }
    Ok(())
}

fn history_has_tools(req: &CanonicalRequest) -> bool {
    req.messages
        .iter()
        .any(|m| m.role == Role::Tool || !m.tool_calls.is_empty())
}

fn structured_by_tool(req: &CanonicalRequest) -> bool {
    req.response_format.is_some() && req.capabilities.structured_output == "tool"
}

fn cache_point(cache_control: &Value) -> Value {
    let mut point = Map::new();
    point.insert("type".into(), json!("default"));
    if let Some(ttl) = cache_control.get("ttl").filter(|t| !t.is_null()) {
        point.insert("ttl".into(), ttl.clone());
    }
    json!({"cachePoint": point})
}

/// One content block per part, each marked part followed by its cache point.
fn blocks(parts: &[Part], out: &mut Vec<Value>) -> Result<()> {
    for p in parts {
        out.push(match p {
            Part::Text { text, .. } => json!({"text": text}),
            Part::Image {
                media_type: Some(mt),
                data: Some(data),
                ..
            } => {
                let format = mt.strip_prefix("image/").unwrap_or(mt);
                json!({"image": {"format": format, "source": {"bytes": data}}})
            }
            Part::Image { .. } => {
                return Err(ServiceError::invalid(
                    "bedrock_v1 takes images as data only (a data: URL or base64)",
                ))
            }
        });
        out.extend(p.cache_control().map(cache_point));
    }
    Ok(())
}

fn turn(m: &Message) -> Result<Value> {
    let mut content = Vec::new();
    let role = match m.role {
        Role::User => {
            blocks(&m.content, &mut content)?;
            "user"
        }
        Role::Assistant => {
            for r in &m.reasoning {
                match r.kind {
                    ReasoningKind::Thinking => {
                        let mut t = Map::new();
                        t.insert("text".into(), json!(r.text.as_deref().unwrap_or_default()));
                        if let Some(sig) = &r.signature {
                            t.insert("signature".into(), json!(sig));
                        }
                        content.push(json!({"reasoningContent": {"reasoningText": t}}));
                    }
                    ReasoningKind::Redacted => content.push(
                        json!({"reasoningContent": {"redactedContent": r.data.as_deref().unwrap_or_default()}}),
                    ),
                    // Gemini's thought signatures have no Converse form; a Bedrock answer never carries one.
                    ReasoningKind::Signature => {}
                }
            }
            blocks(&m.content, &mut content)?;
            for c in &m.tool_calls {
                content.push(
                    json!({"toolUse": {"toolUseId": c.id, "name": c.name, "input": c.arguments}}),
                );
            }
            "assistant"
        }
        Role::Tool => {
            content.push(json!({"toolResult": {"toolUseId": m.tool_call_id, "content": [{"text": m.text()}]}}));
            content.extend(
                m.content
                    .iter()
                    .find_map(Part::cache_control)
                    .map(cache_point),
            );
            "user"
        }
    };
    Ok(json!({"role": role, "content": content}))
}

fn inference_config(req: &CanonicalRequest) -> Map<String, Value> {
    let mut c = Map::new();
    // A thinking budget is checked against max_tokens (default 4096): send the limit it was checked against.
    let budget_thinking = req.reasoning.is_some()
        && req.capabilities.thinking == "budget"
        && !req.tool_turn_lacks_own_reasoning();
    let max = req
        .max_tokens
        .or(budget_thinking.then_some(DEFAULT_MAX_TOKENS));
    if let Some(n) = max {
        c.insert("maxTokens".into(), json!(n));
    }
    if let Some(t) = req.temperature {
        c.insert("temperature".into(), num(t));
    }
    if let Some(p) = req.top_p {
        c.insert("topP".into(), num(p));
    }
    if !req.stop.is_empty() {
        c.insert("stopSequences".into(), json!(req.stop));
    }
    c
}

fn tool_config(req: &CanonicalRequest) -> Option<Value> {
    if let Some(format) = req
        .response_format
        .as_ref()
        .filter(|_| structured_by_tool(req))
    {
        let name = structured_tool_name(format);
        let schema = match format {
            ResponseFormat::JsonSchema { schema, .. } => schema.clone(),
            ResponseFormat::JsonObject => json!({"type": "object"}),
        };
        return Some(json!({
            "tools": [{"toolSpec": {"name": name, "inputSchema": {"json": schema}}}],
            "toolChoice": {"tool": {"name": name}}
        }));
    }
    if req.tools.is_empty() || req.tool_choice == Some(ToolChoice::None) {
        return None;
    }
    let mut tools = Vec::new();
    for t in &req.tools {
        let mut spec = Map::new();
        spec.insert("name".into(), json!(t.name));
        if let Some(d) = &t.description {
            spec.insert("description".into(), json!(d));
        }
        spec.insert("inputSchema".into(), json!({"json": t.parameters}));
        tools.push(json!({"toolSpec": spec}));
        tools.extend(t.cache_control.as_ref().map(cache_point));
    }
    let mut config = Map::new();
    config.insert("tools".into(), Value::Array(tools));
    let choice = match &req.tool_choice {
        Some(ToolChoice::Auto) => Some(json!({"auto": {}})),
        Some(ToolChoice::Required) => Some(json!({"any": {}})),
        Some(ToolChoice::Tool { name }) => Some(json!({"tool": {"name": name}})),
        Some(ToolChoice::None) | None => None,
    };
    if let Some(choice) = choice {
        config.insert("toolChoice".into(), choice);
    }
    Some(Value::Object(config))
}

/// Converse's efforts are low, medium and high; `minimal` asks for the least, which is `low`.
fn effort(req: &CanonicalRequest) -> &str {
    match req.reasoning.as_ref().and_then(|r| r.effort.as_deref()) {
        Some("minimal") | None => "low",
        Some(e) => e,
    }
}

fn reasoning_fields(req: &CanonicalRequest) -> Option<Value> {
    let reasoning = req.reasoning.as_ref()?;
    match req.capabilities.thinking.as_str() {
        "budget" if req.tool_turn_lacks_own_reasoning() => None,
        "budget" => {
            Some(json!({"thinking": {"type": "enabled", "budget_tokens": reasoning.budget_tokens}}))
        }
        "adaptive" => Some(
            json!({"thinking": {"type": "adaptive"}, "output_config": {"effort": effort(req)}}),
        ),
        "nova" => {
            Some(json!({"reasoningConfig": {"type": "enabled", "maxReasoningEffort": effort(req)}}))
        }
        _ => None,
    }
}

/// Compact JSON text, whole numbers written whole, as JSONata's `$string` writes it.
fn json_string(v: &Value) -> String {
    fn whole(v: &Value) -> Value {
        match v {
            Value::Number(n) => n.as_f64().filter(|_| n.is_f64()).map_or(v.clone(), num),
            Value::Array(items) => Value::Array(items.iter().map(whole).collect()),
            Value::Object(o) => {
                Value::Object(o.iter().map(|(k, v)| (k.clone(), whole(v))).collect())
            }
            other => other.clone(),
        }
    }
    whole(v).to_string()
}

fn cache_points(body: &Value) -> usize {
    let points = |list: Option<&Value>| {
        list.and_then(Value::as_array).map_or(0, |l| {
            l.iter().filter(|b| b.get("cachePoint").is_some()).count()
        })
    };
    let in_messages: usize = body["messages"]
        .as_array()
        .map_or(0, |ms| ms.iter().map(|m| points(m.get("content"))).sum());
    points(body.get("system")) + in_messages + points(body.pointer("/toolConfig/tools"))
}

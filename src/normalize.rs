//! Event request -> canonical request (docs/unified-model.md §1). Every shape the event may take is
//! accepted here and nowhere else; every refusal names the field at fault.

use crate::error::{Result, ServiceError};
use crate::event::{kind_of, ChatEvent};
use crate::guard;
use crate::model::*;
use serde_json::{Map, Value};

/// What the call is for: the model and what it can do, and the endpoint's sampling defaults.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub provider_id: &'a str,
    pub model_id: &'a str,
    pub capabilities: Capabilities,
    /// The endpoint's `modelParameters`: used where the event gives no value.
    pub defaults: &'a Map<String, Value>,
}

pub fn canonical_request(event: &ChatEvent, target: &Target) -> Result<CanonicalRequest> {
    let raw_messages = match event.messages.as_ref() {
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(invalid(
                "messages",
                format!("must be an array, got {}", kind_of(other)),
            ))
        }
        None => return Err(ServiceError::invalid("`messages` is missing")),
    };
    if raw_messages.is_empty() {
        return Err(ServiceError::invalid("`messages` is empty"));
    }
    if raw_messages.len() > guard::MAX_MESSAGES {
        return Err(ServiceError::invalid(format!(
            "`messages` has {} items; at most {} are accepted",
            raw_messages.len(),
            guard::MAX_MESSAGES
        )));
    }
    let mut system_parts = Vec::new();
    let mut messages: Vec<Message> = Vec::with_capacity(raw_messages.len());
    for (i, raw) in raw_messages.iter().enumerate() {
        let at = format!("messages[{i}]");
        let obj = raw
            .as_object()
            .ok_or_else(|| invalid(&at, format!("must be an object, got {}", kind_of(raw))))?;
        let role = str_field(obj, "role", &at)?.ok_or_else(|| invalid(&at, "has no `role`"))?;
        match role {
            "system" => {
                if !messages.is_empty() {
                    return Err(invalid(
                        &at,
                        "a system message must come before the conversation",
                    ));
                }
                let parts = content_parts(obj, &at)?;
                if parts.iter().any(|p| p.text().is_none()) {
                    return Err(invalid(&at, "a system message holds text only"));
                }
                system_parts.extend(parts);
            }
            "user" | "assistant" | "tool" => {
                messages.push(message(obj, role, &at, target, &messages)?)
            }
            other => {
                return Err(invalid(
                    &at,
                    format!("unknown role `{other}` (expected system, user, assistant or tool)"),
                ))
            }
        }
    }
    if messages.is_empty() {
        return Err(ServiceError::invalid("`messages` holds no user message"));
    }
    let system = (!system_parts.is_empty()).then(|| {
        system_parts
            .iter()
            .filter_map(Part::text)
            .collect::<Vec<_>>()
            .join("\n\n")
    });
    let tools = tools(event.tools.as_ref())?;
    let tool_choice = tool_choice(event.tool_choice.as_ref(), &tools)?;
    let d = target.defaults;
    Ok(CanonicalRequest {
        model: target.model_id.to_string(),
        provider_id: target.provider_id.to_string(),
        system,
        system_parts,
        messages,
        tools,
        tool_choice,
        parallel_tool_calls: event.parallel_tool_calls,
        temperature: event
            .temperature
            .or_else(|| d.get("temperature").and_then(Value::as_f64)),
        top_p: event
            .top_p
            .or_else(|| d.get("top_p").and_then(Value::as_f64)),
        max_tokens: event
            .max_tokens
            .or_else(|| d.get("max_tokens").and_then(Value::as_u64)),
        stop: stop(event.stop.as_ref().or_else(|| d.get("stop")))?,
        reasoning: reasoning(event.reasoning.as_ref().or_else(|| d.get("reasoning")))?,
        response_format: response_format(event.response_format.as_ref())?,
        capabilities: target.capabilities.clone(),
    })
}

fn invalid(at: &str, what: impl std::fmt::Display) -> ServiceError {
    ServiceError::invalid(format!("`{at}` {what}"))
}

fn str_field<'a>(obj: &'a Map<String, Value>, key: &str, at: &str) -> Result<Option<&'a str>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(invalid(
            &format!("{at}.{key}"),
            format!("must be a string, got {}", kind_of(other)),
        )),
    }
}

fn message(
    obj: &Map<String, Value>,
    role: &str,
    at: &str,
    target: &Target,
    earlier: &[Message],
) -> Result<Message> {
    let content = content_parts(obj, at)?;
    let mut msg = Message {
        role: match role {
            "user" => Role::User,
            "assistant" => Role::Assistant,
            _ => Role::Tool,
        },
        content,
        tool_calls: Vec::new(),
        tool_call_id: None,
        name: None,
        reasoning: Vec::new(),
    };
    match msg.role {
        Role::Assistant => {
            msg.tool_calls = tool_calls(obj.get("tool_calls"), at)?;
            msg.reasoning = reasoning_blocks(obj.get("reasoning"), at, target)?;
            if msg.content.is_empty() && msg.tool_calls.is_empty() && msg.reasoning.is_empty() {
                return Err(invalid(
                    at,
                    "is an assistant message with no content and no tool calls",
                ));
            }
        }
        Role::Tool => {
            let id = str_field(obj, "tool_call_id", at)?
                .ok_or_else(|| invalid(at, "is a tool message without `tool_call_id`"))?;
            let name = earlier
                .iter()
                .rev()
                .flat_map(|m| m.tool_calls.iter())
                .find(|c| c.id == id)
                .map(|c| c.name.clone())
                .ok_or_else(|| {
                    invalid(
                        at,
                        format!(
                            "answers tool call `{id}`, which no earlier assistant message made"
                        ),
                    )
                })?;
            if msg.content.iter().any(|p| p.text().is_none()) {
                return Err(invalid(at, "a tool result holds text only"));
            }
            msg.tool_call_id = Some(id.to_string());
            msg.name = Some(name);
        }
        Role::User => {
            if msg.content.is_empty() {
                return Err(invalid(at, "has empty content"));
            }
        }
    }
    for key in obj.keys() {
        if !matches!(
            key.as_str(),
            "role"
                | "content"
                | "tool_calls"
                | "tool_call_id"
                | "name"
                | "cache_control"
                | "reasoning"
                | "refusal"
                | "parsed"
        ) {
            return Err(invalid(at, format!("has an unknown field `{key}`")));
        }
    }
    Ok(msg)
}

/// `content` as a list of parts; a message-level `cache_control` lands on the last part.
fn content_parts(obj: &Map<String, Value>, at: &str) -> Result<Vec<Part>> {
    let mut parts = match obj.get("content") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) if s.is_empty() => Vec::new(),
        Some(Value::String(s)) => vec![Part::Text {
            text: s.clone(),
            cache_control: None,
        }],
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(j, p)| part(p, &format!("{at}.content[{j}]")))
            .collect::<Result<Vec<_>>>()?,
        Some(other) => {
            return Err(invalid(
                &format!("{at}.content"),
                format!(
                    "must be a string or a list of parts, got {}",
                    kind_of(other)
                ),
            ))
        }
    };
    if let Some(cc) = obj.get("cache_control").filter(|v| !v.is_null()) {
        match parts.last_mut() {
            Some(Part::Text { cache_control, .. } | Part::Image { cache_control, .. }) => {
                *cache_control = Some(cc.clone())
            }
            None => return Err(invalid(at, "has `cache_control` but no content to mark")),
        }
    }
    Ok(parts)
}

fn part(p: &Value, at: &str) -> Result<Part> {
    let obj = p
        .as_object()
        .ok_or_else(|| invalid(at, format!("must be an object, got {}", kind_of(p))))?;
    let cache_control = obj.get("cache_control").filter(|v| !v.is_null()).cloned();
    match str_field(obj, "type", at)? {
        Some("text") => {
            let text = str_field(obj, "text", at)?
                .ok_or_else(|| invalid(at, "is a text part without `text`"))?;
            Ok(Part::Text {
                text: text.to_string(),
                cache_control,
            })
        }
        Some("image") => {
            if let Some(url) = str_field(obj, "url", at)? {
                return guard::image_from_url(url, cache_control).map_err(|e| invalid(at, e));
            }
            let media_type = str_field(obj, "media_type", at)?.ok_or_else(|| {
                invalid(
                    at,
                    "is an image part without `url` or `media_type` + `data`",
                )
            })?;
            let data = str_field(obj, "data", at)?
                .ok_or_else(|| invalid(at, "is an image part without `data`"))?;
            guard::image_from_base64(media_type, data, cache_control).map_err(|e| invalid(at, e))
        }
        Some("image_url") => {
            let url = match obj.get("image_url") {
                Some(Value::String(s)) => s.as_str(),
                Some(Value::Object(o)) => o
                    .get("url")
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid(at, "has `image_url` without `url`"))?,
                _ => return Err(invalid(at, "is an image_url part without `image_url`")),
            };
            guard::image_from_url(url, cache_control).map_err(|e| invalid(at, e))
        }
        Some(other) => Err(invalid(
            at,
            format!("has unknown part type `{other}` (expected text, image or image_url)"),
        )),
        None => Err(invalid(at, "has no `type`")),
    }
}

fn tool_calls(v: Option<&Value>, at: &str) -> Result<Vec<ToolCall>> {
    let items = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(invalid(
                &format!("{at}.tool_calls"),
                format!("must be an array, got {}", kind_of(other)),
            ))
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(j, c)| {
            let at = format!("{at}.tool_calls[{j}]");
            let obj = c
                .as_object()
                .ok_or_else(|| invalid(&at, "must be an object"))?;
            let id = str_field(obj, "id", &at)?.ok_or_else(|| invalid(&at, "has no `id`"))?;
            // OpenAI nests name and arguments under `function`.
            let inner = obj
                .get("function")
                .and_then(Value::as_object)
                .unwrap_or(obj);
            let name =
                str_field(inner, "name", &at)?.ok_or_else(|| invalid(&at, "has no `name`"))?;
            let arguments = match inner.get("arguments") {
                None | Some(Value::Null) => Value::Object(Map::new()),
                Some(Value::Object(o)) => Value::Object(o.clone()),
                Some(Value::String(s)) if s.trim().is_empty() => Value::Object(Map::new()),
                Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                    Ok(v @ Value::Object(_)) => v,
                    _ => return Err(invalid(&at, "has `arguments` that are not a JSON object")),
                },
                Some(other) => {
                    return Err(invalid(
                        &at,
                        format!(
                            "has `arguments` of type {}; expected an object",
                            kind_of(other)
                        ),
                    ))
                }
            };
            Ok(ToolCall {
                id: id.to_string(),
                name: name.to_string(),
                arguments,
            })
        })
        .collect()
}

/// Keeps the blocks this provider and model made; a signature is worthless to any other model.
fn reasoning_blocks(v: Option<&Value>, at: &str, target: &Target) -> Result<Vec<ReasoningBlock>> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let blocks: Vec<ReasoningBlock> = serde_json::from_value(v.clone()).map_err(|e| {
        invalid(
            &format!("{at}.reasoning"),
            format!("is not a list of reasoning blocks: {e}"),
        )
    })?;
    for (j, b) in blocks.iter().enumerate() {
        if b.provider.is_none() || b.model.is_none() {
            return Err(invalid(
                &format!("{at}.reasoning[{j}]"),
                "has no `provider` / `model` tag",
            ));
        }
    }
    Ok(blocks
        .into_iter()
        .filter(|b| {
            b.provider.as_deref() == Some(target.provider_id)
                && b.model.as_deref() == Some(target.model_id)
        })
        .collect())
}

fn tools(v: Option<&Value>) -> Result<Vec<Tool>> {
    let items = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(invalid(
                "tools",
                format!("must be an array, got {}", kind_of(other)),
            ))
        }
    };
    let mut out: Vec<Tool> = Vec::with_capacity(items.len());
    for (i, t) in items.iter().enumerate() {
        let at = format!("tools[{i}]");
        let obj = t
            .as_object()
            .ok_or_else(|| invalid(&at, "must be an object"))?;
        let inner = obj
            .get("function")
            .and_then(Value::as_object)
            .unwrap_or(obj);
        let name = str_field(inner, "name", &at)?.ok_or_else(|| invalid(&at, "has no `name`"))?;
        if out.iter().any(|t| t.name == name) {
            return Err(invalid(&at, format!("repeats the tool name `{name}`")));
        }
        let parameters = match inner
            .get("parameters")
            .or_else(|| inner.get("input_schema"))
        {
            None | Some(Value::Null) => serde_json::json!({"type": "object", "properties": {}}),
            Some(p @ Value::Object(_)) => p.clone(),
            Some(other) => {
                return Err(invalid(
                    &at,
                    format!(
                        "has `parameters` of type {}; expected a JSON Schema object",
                        kind_of(other)
                    ),
                ))
            }
        };
        out.push(Tool {
            name: name.to_string(),
            description: str_field(inner, "description", &at)?.map(str::to_string),
            parameters,
            cache_control: obj.get("cache_control").filter(|v| !v.is_null()).cloned(),
        });
    }
    Ok(out)
}

fn tool_choice(v: Option<&Value>, tools: &[Tool]) -> Result<Option<ToolChoice>> {
    let choice = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => match s.as_str() {
            "auto" => ToolChoice::Auto,
            "none" => ToolChoice::None,
            "required" | "any" => ToolChoice::Required,
            name => ToolChoice::Tool {
                name: name.to_string(),
            },
        },
        Some(Value::Object(o)) => {
            let name = o
                .get("function")
                .and_then(|f| f.get("name"))
                .or_else(|| o.get("name"))
                .and_then(Value::as_str);
            match (o.get("type").and_then(Value::as_str), name) {
                (Some("function" | "tool"), Some(name)) => ToolChoice::Tool { name: name.to_string() },
                (Some("auto"), _) => ToolChoice::Auto,
                (Some("none"), _) => ToolChoice::None,
                (Some("required" | "any"), _) => ToolChoice::Required,
                _ => return Err(invalid("tool_choice", "must be auto, none, required, a tool name or {\"type\":\"function\",\"function\":{\"name\"}}")),
            }
        }
        Some(other) => {
            return Err(invalid(
                "tool_choice",
                format!("must be a string or an object, got {}", kind_of(other)),
            ))
        }
    };
    match &choice {
        ToolChoice::Tool { name } if !tools.iter().any(|t| &t.name == name) => Err(invalid(
            "tool_choice",
            format!("names the tool `{name}`, which `tools` does not hold"),
        )),
        ToolChoice::Required | ToolChoice::Tool { .. } if tools.is_empty() => Err(invalid(
            "tool_choice",
            "asks for a tool call but `tools` is empty",
        )),
        _ => Ok(Some(choice)),
    }
}

fn stop(v: Option<&Value>) -> Result<Vec<String>> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|s| {
                s.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| invalid("stop", "must hold strings only"))
            })
            .collect(),
        Some(other) => Err(invalid(
            "stop",
            format!(
                "must be a string or a list of strings, got {}",
                kind_of(other)
            ),
        )),
    }
}

fn reasoning(v: Option<&Value>) -> Result<Option<ReasoningRequest>> {
    let obj = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(o)) => o,
        Some(other) => {
            return Err(invalid(
                "reasoning",
                format!("must be an object, got {}", kind_of(other)),
            ))
        }
    };
    for key in obj.keys() {
        if !matches!(
            key.as_str(),
            "effort" | "budget_tokens" | "include_thoughts"
        ) {
            return Err(invalid("reasoning", format!("has an unknown field `{key}` (expected effort, budget_tokens, include_thoughts)")));
        }
    }
    let effort = str_field(obj, "effort", "reasoning")?.map(str::to_string);
    if let Some(e) = &effort {
        if !matches!(e.as_str(), "minimal" | "low" | "medium" | "high") {
            return Err(invalid(
                "reasoning.effort",
                format!("is `{e}`; expected minimal, low, medium or high"),
            ));
        }
    }
    let budget_tokens = match obj.get("budget_tokens") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .filter(|n| *n > 0)
                .ok_or_else(|| invalid("reasoning.budget_tokens", "must be a positive integer"))?,
        ),
    };
    if effort.is_none() && budget_tokens.is_none() {
        return Err(invalid("reasoning", "needs `effort` or `budget_tokens`"));
    }
    let include_thoughts = match obj.get("include_thoughts") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid("reasoning.include_thoughts", "must be a boolean")),
    };
    Ok(Some(ReasoningRequest {
        effort,
        budget_tokens,
        include_thoughts,
    }))
}

fn response_format(v: Option<&Value>) -> Result<Option<ResponseFormat>> {
    let obj = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(o)) => o,
        Some(other) => {
            return Err(invalid(
                "response_format",
                format!("must be an object, got {}", kind_of(other)),
            ))
        }
    };
    match obj.get("type").and_then(Value::as_str) {
        Some("text") => Ok(None),
        Some("json_object") => Ok(Some(ResponseFormat::JsonObject)),
        Some("json_schema") => {
            let inner = obj
                .get("json_schema")
                .and_then(Value::as_object)
                .unwrap_or(obj);
            let schema = inner
                .get("schema")
                .filter(|s| s.is_object())
                .cloned()
                .ok_or_else(|| {
                    invalid(
                        "response_format",
                        "of type json_schema needs a `schema` object",
                    )
                })?;
            Ok(Some(ResponseFormat::JsonSchema {
                name: inner
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("response")
                    .to_string(),
                schema,
                strict: inner.get("strict").and_then(Value::as_bool),
            }))
        }
        _ => Err(invalid(
            "response_format",
            "`type` must be text, json_object or json_schema",
        )),
    }
}

//! Messages: roles, content parts, tool calls and results, reasoning state.

use super::{invalid, str_field, Target};
use crate::error::Result;
use crate::event::kind_of;
use crate::guard;
use crate::model::*;
use serde_json::{Map, Value};

pub(super) fn message(
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
pub(super) fn content_parts(obj: &Map<String, Value>, at: &str) -> Result<Vec<Part>> {
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

//! Request options: tools, tool choice, stop sequences, reasoning, response format.

use super::{invalid, str_field};
use crate::error::Result;
use crate::event::kind_of;
use crate::model::*;
use serde_json::Value;

pub(super) fn tools(v: Option<&Value>) -> Result<Vec<Tool>> {
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

pub(super) fn tool_choice(v: Option<&Value>, tools: &[Tool]) -> Result<Option<ToolChoice>> {
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

pub(super) fn stop(v: Option<&Value>) -> Result<Vec<String>> {
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

pub(super) fn reasoning(v: Option<&Value>) -> Result<Option<ReasoningRequest>> {
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

pub(super) fn response_format(v: Option<&Value>) -> Result<Option<ResponseFormat>> {
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

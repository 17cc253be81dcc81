//! OpenAI Chat Completions (`openai_v1`), also spoken by OpenAI-compatible providers.

use super::count;
use crate::error::{Result, ServiceError};
use crate::model::*;
use crate::transform::Builtin;
use serde_json::{json, Map, Value};

pub struct OpenAi;

impl Builtin for OpenAi {
    fn render_request(&self, req: &CanonicalRequest) -> Result<Value> {
        let reasons_by_effort = req.capabilities.thinking == "effort";
        let mut messages = Vec::with_capacity(req.messages.len() + 1);
        if let Some(system) = &req.system {
            messages.push(json!({"role": "system", "content": system}));
        }
        for m in &req.messages {
            messages.push(message(m));
        }
        let mut body = Map::new();
        body.insert("model".into(), json!(req.model));
        body.insert("messages".into(), Value::Array(messages));
        if !req.tools.is_empty() {
            let tools = req.tools.iter().map(|t| {
                let mut f = Map::new();
                f.insert("name".into(), json!(t.name));
                if let Some(d) = &t.description {
                    f.insert("description".into(), json!(d));
                }
                f.insert("parameters".into(), t.parameters.clone());
                json!({"type": "function", "function": f})
            });
            body.insert("tools".into(), Value::Array(tools.collect()));
        }
        if let Some(choice) = &req.tool_choice {
            body.insert(
                "tool_choice".into(),
                match choice {
                    ToolChoice::Auto => json!("auto"),
                    ToolChoice::None => json!("none"),
                    ToolChoice::Required => json!("required"),
                    ToolChoice::Tool { name } => {
                        json!({"type": "function", "function": {"name": name}})
                    }
                },
            );
        }
        insert_opt(
            &mut body,
            "parallel_tool_calls",
            req.parallel_tool_calls.map(Value::from),
        );
        insert_opt(&mut body, "temperature", req.temperature.map(num));
        insert_opt(&mut body, "top_p", req.top_p.map(num));
        let max_key = if reasons_by_effort {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        insert_opt(&mut body, max_key, req.max_tokens.map(Value::from));
        if !req.stop.is_empty() {
            body.insert("stop".into(), json!(req.stop));
        }
        if reasons_by_effort {
            let effort = req.reasoning.as_ref().and_then(|r| r.effort.clone());
            insert_opt(&mut body, "reasoning_effort", effort.map(Value::from));
        }
        if let Some(format) = &req.response_format {
            body.insert(
                "response_format".into(),
                match format {
                    ResponseFormat::JsonObject => json!({"type": "json_object"}),
                    ResponseFormat::JsonSchema {
                        name,
                        schema,
                        strict,
                    } => {
                        let mut s = Map::new();
                        s.insert("name".into(), json!(name));
                        s.insert("schema".into(), schema.clone());
                        if let Some(strict) = strict {
                            s.insert("strict".into(), json!(strict));
                        }
                        json!({"type": "json_schema", "json_schema": s})
                    }
                },
            );
        }
        Ok(Value::Object(body))
    }

    fn map_response(&self, raw: &Value) -> Result<MappedResponse> {
        let choice = raw.get("choices").and_then(|c| c.get(0));
        let message = choice.and_then(|c| c.get("message"));
        let mut tool_calls = Vec::new();
        for call in message
            .and_then(|m| m.get("tool_calls"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let function = call.get("function");
            let name = function
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            let args = function
                .and_then(|f| f.get("arguments"))
                .and_then(Value::as_str)
                .unwrap_or("{}");
            let arguments = serde_json::from_str::<Value>(args).map_err(|e| {
                ServiceError::response_invalid(format!(
                    "tool call `{name}` has arguments that are not JSON: {e}"
                ))
            })?;
            tool_calls.push(ToolCall {
                id: call
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                name: name.to_string(),
                arguments,
            });
        }
        let finish_reason = match choice
            .and_then(|c| c.get("finish_reason"))
            .and_then(Value::as_str)
        {
            Some("stop") => Some(FinishReason::Stop),
            Some("length") => Some(FinishReason::Length),
            Some("tool_calls" | "function_call") => Some(FinishReason::ToolCalls),
            Some("content_filter") => Some(FinishReason::ContentFilter),
            _ => None,
        };
        let usage = raw.get("usage").cloned().unwrap_or(Value::Null);
        let text = |key: &str| {
            message
                .and_then(|m| m.get(key))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        Ok(MappedResponse {
            content: text("content"),
            tool_calls,
            reasoning: Vec::new(),
            refusal: text("refusal"),
            finish_reason,
            usage: Usage {
                input_tokens: count(&usage, "prompt_tokens"),
                output_tokens: count(&usage, "completion_tokens"),
                cache_read_input_tokens: usage
                    .get("prompt_tokens_details")
                    .map_or(0, |d| count(d, "cached_tokens")),
                reasoning_tokens: usage
                    .get("completion_tokens_details")
                    .map_or(0, |d| count(d, "reasoning_tokens")),
                ..Usage::default()
            },
        })
    }
}

fn insert_opt(body: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        body.insert(key.into(), v);
    }
}

fn message(m: &Message) -> Value {
    match m.role {
        Role::Tool => json!({"role": "tool", "tool_call_id": m.tool_call_id, "content": m.text()}),
        Role::Assistant => {
            let has_text = m.content.iter().any(|p| p.text().is_some());
            let mut out = Map::new();
            out.insert("role".into(), json!("assistant"));
            out.insert(
                "content".into(),
                if has_text {
                    json!(m.text())
                } else {
                    Value::Null
                },
            );
            if !m.tool_calls.is_empty() {
                let calls = m.tool_calls.iter().map(|c| {
                    json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments.to_string()}})
                });
                out.insert("tool_calls".into(), Value::Array(calls.collect()));
            }
            Value::Object(out)
        }
        Role::User => {
            let content = match m.content.as_slice() {
                [Part::Text { text, .. }] => json!(text),
                parts => Value::Array(parts.iter().map(part).collect()),
            };
            json!({"role": "user", "content": content})
        }
    }
}

fn part(p: &Part) -> Value {
    match p {
        Part::Text { text, .. } => json!({"type": "text", "text": text}),
        Part::Image { url: Some(url), .. } => {
            json!({"type": "image_url", "image_url": {"url": url}})
        }
        Part::Image {
            media_type, data, ..
        } => {
            let url = format!(
                "data:{};base64,{}",
                media_type.as_deref().unwrap_or_default(),
                data.as_deref().unwrap_or_default()
            );
            json!({"type": "image_url", "image_url": {"url": url}})
        }
    }
}

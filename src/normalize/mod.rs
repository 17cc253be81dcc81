//! Event request -> canonical request (docs/unified-model.md §1). Every shape the event may take is
//! accepted here and nowhere else; every refusal names the field at fault.

mod messages;
mod options;

use crate::error::{Result, ServiceError};
use crate::event::{kind_of, ChatEvent};
use crate::guard;
use crate::model::*;
use messages::{content_parts, message};
use options::{reasoning, response_format, stop, tool_choice, tools};
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

pub(crate) fn invalid(at: &str, what: impl std::fmt::Display) -> ServiceError {
    ServiceError::invalid(format!("`{at}` {what}"))
}

pub(crate) fn str_field<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    at: &str,
) -> Result<Option<&'a str>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(invalid(
            &format!("{at}.{key}"),
            format!("must be a string, got {}", kind_of(other)),
        )),
    }
}

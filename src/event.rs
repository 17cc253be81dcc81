//! The Lambda event: both forms (README, "The event": inline `provider_config`, or by reference), parsed
//! strictly. `null` means absent everywhere, as Step Functions sends it. An unknown field is refused rather than
//! ignored: a parameter the service does not know would otherwise be dropped in silence.

use crate::error::{Result, ServiceError};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::BTreeMap;

/// `provider_config` exactly as the existing agent and evaluation state machines pass it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InlineProviderConfig {
    pub provider_id: String,
    pub model_id: String,
    pub endpoint: String,
    pub auth_header_name: String,
    #[serde(default)]
    pub auth_header_prefix: Option<String>,
    pub secret_path: String,
    pub secret_key_name: String,
    pub request_transformer: String,
    pub response_transformer: String,
    /// Seconds.
    #[serde(default)]
    pub timeout: Option<f64>,
    #[serde(default)]
    pub custom_headers: Option<BTreeMap<String, String>>,
}

/// A chat invocation: what to call, and the unified request.
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ChatEvent {
    #[serde(default)]
    pub provider_config: Option<InlineProviderConfig>,
    /// Inline endpoints tried in order after `provider_config` fails with a retryable error.
    #[serde(default)]
    pub fallbacks: Option<Vec<InlineProviderConfig>>,
    #[serde(default)]
    pub endpoint_id: Option<String>,
    #[serde(default)]
    pub agent_id: Option<String>,
    #[serde(default)]
    pub evaluation_id: Option<String>,

    #[serde(default)]
    pub messages: Option<Value>,
    #[serde(default)]
    pub tools: Option<Value>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub max_tokens: Option<u64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub stop: Option<Value>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub tool_choice: Option<Value>,
    #[serde(default)]
    pub parallel_tool_calls: Option<bool>,
    #[serde(default)]
    pub reasoning: Option<Value>,
    #[serde(default)]
    pub response_format: Option<Value>,
}

/// Everything the handler accepts.
#[derive(Debug, Clone, PartialEq)]
pub enum Invocation {
    Chat(Box<ChatEvent>),
    /// `{"action": ..., ...}`: admin actions (template validation, connection test).
    Action {
        action: String,
        body: Value,
    },
}

/// Parses an event, naming the field at fault.
pub fn parse(event: Value) -> Result<Invocation> {
    let Value::Object(map) = &event else {
        return Err(ServiceError::invalid(format!(
            "the event must be a JSON object, got {}",
            kind_of(&event)
        )));
    };
    if let Some(action) = map.get("action").filter(|a| !a.is_null()) {
        let Some(action) = action.as_str() else {
            return Err(ServiceError::invalid("`action` must be a string"));
        };
        return Ok(Invocation::Action {
            action: action.to_string(),
            body: event.clone(),
        });
    }
    let chat: ChatEvent = serde_path_to_error::deserialize(event).map_err(field_error)?;
    chat.check_form()?;
    Ok(Invocation::Chat(Box::new(chat)))
}

/// Whether the event's text is a chat event rather than an action or an AppSync call: a scan of its top
/// level that builds nothing. The hot path then reads the chat event straight from the text.
pub fn is_chat_text(text: &str) -> bool {
    #[derive(Deserialize)]
    struct TopLevel<'a> {
        #[serde(borrow, default)]
        action: Option<&'a RawValue>,
        #[serde(borrow, default, rename = "fieldName")]
        field_name: Option<&'a RawValue>,
        #[serde(borrow, default)]
        info: Option<&'a RawValue>,
        #[serde(borrow, default)]
        arguments: Option<&'a RawValue>,
    }
    serde_json::from_str::<TopLevel>(text).is_ok_and(|t| {
        t.action.is_none() && t.field_name.is_none() && t.info.is_none() && t.arguments.is_none()
    })
}

/// Parses a chat event from its text (`is_chat_text`), with the errors `parse` gives.
pub fn parse_chat_text(text: &str) -> Result<Invocation> {
    let mut de = serde_json::Deserializer::from_str(text);
    let chat: ChatEvent = serde_path_to_error::deserialize(&mut de).map_err(field_error)?;
    de.end()
        .map_err(|e| ServiceError::invalid(format!("event: {e}")))?;
    chat.check_form()?;
    Ok(Invocation::Chat(Box::new(chat)))
}

/// The field an event fails on, and why, without serde_json's position (the path says where).
fn field_error(e: serde_path_to_error::Error<serde_json::Error>) -> ServiceError {
    let path = e.path().to_string();
    let inner = crate::error::json_cause(e.inner());
    if path == "." {
        ServiceError::invalid(format!("event: {inner}"))
    } else {
        ServiceError::invalid(format!("event field `{path}`: {inner}"))
    }
}

impl ChatEvent {
    fn check_form(&self) -> Result<()> {
        let forms = [self.provider_config.is_some(), self.endpoint_id.is_some()]
            .iter()
            .filter(|x| **x)
            .count();
        if forms > 1 {
            return Err(ServiceError::invalid(
                "give either `provider_config` or `endpoint_id`, not both",
            ));
        }
        if forms == 0 && self.agent_id.is_none() {
            return Err(ServiceError::invalid(
                "the event names no provider: give `provider_config`, `endpoint_id` or `agent_id`",
            ));
        }
        if self.stream == Some(true) {
            return Err(ServiceError::invalid(
                "`stream: true` is not supported: the service returns one whole response to Step Functions",
            ));
        }
        if self.messages.as_ref().is_none_or(Value::is_null) {
            return Err(ServiceError::invalid("`messages` is missing"));
        }
        Ok(())
    }
}

pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The Lambda reads chat events from their text; the CLI and tests from values. Both must agree.
    #[test]
    fn a_chat_event_reads_the_same_from_text_and_from_a_value() {
        let ok = json!({"endpoint_id": "e1", "messages": [{"role": "user", "content": "hi"}],
                        "max_tokens": 10, "stop": null});
        let events = [
            ok.clone(),
            json!({"endpoint_id": "e1", "messages": [], "max_tokens": -1}),
            json!({"endpoint_id": "e1", "messages": [], "temprature": 0.2}),
            json!({"endpoint_id": "e1", "provider_config": {"provider_id": "p"}, "messages": []}),
            json!({"agent_id": "a", "stream": true, "messages": []}),
            json!({"agent_id": "a"}),
            json!({"endpoint_id": "e1", "messages": [], "top_p": "high"}),
        ];
        for event in events {
            let text = event.to_string();
            assert!(is_chat_text(&text), "{text}");
            let from_text = parse_chat_text(&text).map_err(|e| e.message);
            let from_value = parse(event).map_err(|e| e.message);
            assert_eq!(from_text, from_value, "{text}");
        }
        assert!(parse_chat_text(&ok.to_string()).is_ok());
    }

    #[test]
    fn actions_and_appsync_calls_are_not_read_as_chat_events() {
        for text in [
            r#"{"action": "validate_template", "template": {}}"#,
            r#"{"fieldName": "testConnection", "arguments": {}}"#,
            r#"{"info": {"fieldName": "validateTemplate"}, "arguments": {}}"#,
            r#"["not", "an", "object"]"#,
            "42",
        ] {
            assert!(!is_chat_text(text), "{text}");
        }
        assert!(is_chat_text(r#"{"action": null, "agent_id": "a"}"#));
    }
}

//! The unified model: the canonical request every transformer reads, the mapped response every transformer
//! returns, and the unified response the service gives back. docs/unified-model.md is the prose of this file.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
    Tool,
}

/// One piece of message content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Part {
    Text {
        text: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        cache_control: Option<Value>,
    },
    /// Either `media_type` + base64 `data`, or an https `url`.
    Image {
        #[serde(skip_serializing_if = "Option::is_none", default)]
        media_type: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        data: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        url: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        cache_control: Option<Value>,
    },
}

impl Part {
    pub fn text(&self) -> Option<&str> {
        match self {
            Part::Text { text, .. } => Some(text),
            Part::Image { .. } => None,
        }
    }
    pub fn cache_control(&self) -> Option<&Value> {
        match self {
            Part::Text { cache_control, .. } | Part::Image { cache_control, .. } => {
                cache_control.as_ref()
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// Always a JSON object.
    pub arguments: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasoningKind {
    Thinking,
    Redacted,
    Signature,
}

/// One piece of a provider's reasoning state, in the order the provider sent it (docs/unified-model.md §3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReasoningBlock {
    #[serde(rename = "type")]
    pub kind: ReasoningKind,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signature: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tool_call_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub model: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub role: Role,
    pub content: Vec<Part>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// For a tool message: the name of the call it answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasoning: Vec<ReasoningBlock>,
}

impl Message {
    /// All text parts joined with no separator.
    pub fn text(&self) -> String {
        self.content.iter().filter_map(Part::text).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tool {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub parameters: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ToolChoice {
    Auto,
    None,
    Required,
    Tool { name: String },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReasoningRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_tokens: Option<u64>,
    pub include_thoughts: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    JsonObject,
    JsonSchema {
        name: String,
        schema: Value,
        #[serde(skip_serializing_if = "Option::is_none")]
        strict: Option<bool>,
    },
}

/// What a model can do, from the ProviderTemplate's model table (README: "Model capabilities").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Capabilities {
    /// `none | effort | budget | adaptive | level | nova`
    pub thinking: String,
    pub forced_tool_with_thinking: bool,
    pub temperature_with_thinking: bool,
    /// `native | tool | none`
    pub structured_output: String,
    pub images: bool,
}

impl Default for Capabilities {
    fn default() -> Self {
        Capabilities {
            thinking: "none".into(),
            forced_tool_with_thinking: false,
            temperature_with_thinking: false,
            structured_output: "native".into(),
            images: true,
        }
    }
}

/// The canonical request: `$` in a request template, and the input of every built-in transformer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CanonicalRequest {
    pub model: String,
    pub provider_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub system_parts: Vec<Part>,
    pub messages: Vec<Message>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<ReasoningRequest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    pub capabilities: Capabilities,
}

impl CanonicalRequest {
    /// The last assistant turn made tool calls but carries no reasoning of this model (another model made
    /// it, before a fallback). Claude's manual thinking needs that turn to open with its thinking block, so
    /// Anthropic's documented remedy is thinking off for this one call; it resumes on the next user turn.
    pub fn tool_turn_lacks_own_reasoning(&self) -> bool {
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == Role::Assistant)
            .is_some_and(|m| {
                !m.tool_calls.is_empty()
                    && !m
                        .reasoning
                        .iter()
                        .any(|r| r.kind != ReasoningKind::Signature)
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    Length,
    ToolCalls,
    ContentFilter,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub total_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub reasoning_tokens: u64,
}

/// What a response transformer (template or built-in) returns, before the service adds metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MappedResponse {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub tool_calls: Vec<ToolCall>,
    #[serde(default)]
    pub reasoning: Vec<ReasoningBlock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    pub finish_reason: Option<FinishReason>,
    #[serde(default)]
    pub usage: Usage,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResponseMessage {
    pub role: &'static str,
    pub content: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parsed: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasoning: Vec<ReasoningBlock>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TransformPath {
    Template,
    Builtin,
}

/// One try at one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attempt {
    pub endpoint: String,
    pub provider_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_type: Option<&'static str>,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metadata {
    pub model_id: String,
    pub provider_id: String,
    pub latency_ms: u64,
    pub provider_latency_ms: u64,
    pub attempts: u32,
    pub transform: TransformPath,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transform_note: Option<String>,
    pub tokens_used: Usage,
    pub cost_usd: f64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attempt_log: Vec<Attempt>,
    #[serde(skip_serializing_if = "is_false")]
    pub reasoning_text_dropped: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnifiedResponse {
    pub message: ResponseMessage,
    pub function_calls: Vec<ToolCall>,
    pub finish_reason: FinishReason,
    pub metadata: Metadata,
}

/// A JSON object from a map, for building provider bodies in key order.
pub fn object(pairs: impl IntoIterator<Item = (&'static str, Value)>) -> Value {
    let mut map = Map::new();
    for (k, v) in pairs {
        map.insert(k.to_string(), v);
    }
    Value::Object(map)
}

/// A JSON number from an f64, whole numbers kept whole (`0`, not `0.0`), as the template engine gives them.
pub fn num(n: f64) -> Value {
    match whole(n) {
        Some(i) => Value::Number(serde_json::Number::from(i)),
        None => serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number),
    }
}

/// `n` as an integer when it is a whole number an f64 holds exactly (below 2^53 in magnitude).
pub fn whole(n: f64) -> Option<i64> {
    (n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15).then_some(n as i64)
}

//! Built-in transformers, one file per wire format. They render exactly the bodies the shipped templates
//! render (a test compares them on every case) and carry the tool-calling edge cases templates leave to them.

mod anthropic;
mod bedrock;
mod gemini;
mod openai;

use super::Builtin;

pub fn get(name: &str) -> Option<&'static dyn Builtin> {
    match name {
        "openai_v1" => Some(&openai::OpenAi),
        "anthropic_v1" => Some(&anthropic::Anthropic),
        "gemini_v1" => Some(&gemini::Gemini),
        "bedrock_v1" => Some(&bedrock::Bedrock),
        _ => None,
    }
}

/// Reads a whole-number token count, treating absent and null as zero.
pub(crate) fn count(v: &serde_json::Value, key: &str) -> u64 {
    v.get(key).and_then(serde_json::Value::as_u64).unwrap_or(0)
}

/// Numbers as the template engine holds them (every number an f64: `1.0` is `1`, integers past 2^53 round),
/// so that both paths give the same JSON for the caller's arguments and schemas and the provider's inputs.
pub(crate) fn same_numbers(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Number(n) => n.as_f64().map_or_else(|| v.clone(), crate::model::num),
        Value::Array(items) => Value::Array(items.iter().map(same_numbers).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), same_numbers(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

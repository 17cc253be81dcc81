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

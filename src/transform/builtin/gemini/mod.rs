//! Google Gemini `generateContent` (`gemini_v1`). The model is in the URL; the body is
//! `{contents, systemInstruction?, tools?, toolConfig?, generationConfig?}` (docs/unified-model.md §4).
//! The shipped template renders the same body; it leaves to this module only the refusals, and tool
//! results that look like JSON objects but hold a number or escape the template cannot vouch for.

mod request;
mod response;

use crate::error::Result;
use crate::model::{CanonicalRequest, MappedResponse};
use crate::transform::Builtin;
use serde_json::Value;

pub struct Gemini;

/// The signature Gemini 3 documents for a function call it did not make itself (history written by
/// another model or by hand): it goes on the first call of a step that has no signature of its own.
pub const PLACEHOLDER_SIGNATURE: &str = "skip_thought_signature_validator";
/// The prefix of the ids made up for Gemini 2.x calls, which carry none (docs/unified-model.md §2).
/// Such an id is never sent back to Gemini.
pub const MADE_UP_ID_PREFIX: &str = "gemini_call_";

impl Builtin for Gemini {
    fn render_request(&self, req: &CanonicalRequest) -> Result<Value> {
        request::render(req)
    }

    fn map_response(&self, raw: &Value) -> Result<MappedResponse> {
        Ok(response::map(raw))
    }
}

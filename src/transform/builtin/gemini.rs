//! Gemini: being written.

use crate::error::{Result, ServiceError};
use crate::model::{CanonicalRequest, MappedResponse};
use crate::transform::Builtin;
use serde_json::Value;

pub struct Gemini;

impl Builtin for Gemini {
    fn render_request(&self, _req: &CanonicalRequest) -> Result<Value> {
        Err(ServiceError::template(
            "the gemini_v1 built-in transformer is not written yet",
        ))
    }
    fn map_response(&self, _raw: &Value) -> Result<MappedResponse> {
        Err(ServiceError::template(
            "the gemini_v1 built-in transformer is not written yet",
        ))
    }
}

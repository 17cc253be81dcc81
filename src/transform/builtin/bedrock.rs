//! Bedrock: being written.

use crate::error::{Result, ServiceError};
use crate::model::{CanonicalRequest, MappedResponse};
use crate::transform::Builtin;
use serde_json::Value;

pub struct Bedrock;

impl Builtin for Bedrock {
    fn render_request(&self, _req: &CanonicalRequest) -> Result<Value> {
        Err(ServiceError::template(
            "the bedrock_v1 built-in transformer is not written yet",
        ))
    }
    fn map_response(&self, _raw: &Value) -> Result<MappedResponse> {
        Err(ServiceError::template(
            "the bedrock_v1 built-in transformer is not written yet",
        ))
    }
}

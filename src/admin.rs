//! Admin actions (`{"action": ...}`): template validation and connection tests.

use crate::error::{Result, ServiceError};
use crate::pipeline::Service;
use serde_json::Value;

pub async fn run(_service: &Service, action: &str, _body: Value) -> Result<Value> {
    Err(ServiceError::invalid(format!("unknown action `{action}`")))
}

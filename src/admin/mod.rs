//! Admin actions: `{"action": "validate_template", ...}` and `{"action": "test_connection", ...}`, also
//! reached as the AppSync operations `validateTemplate` / `testConnection` (the Lambda is their resolver).

pub mod connection;
pub mod validate;

use crate::config::ProviderTemplate;
use crate::error::{Result, ServiceError};
use crate::pipeline::Service;
use serde_json::Value;
use std::time::Instant;

/// The Cognito group allowed to call the AppSync operations (the schema says so too; this is the second lock).
pub const ADMIN_GROUP: &str = "admin";

pub async fn run(
    service: &Service,
    action: &str,
    body: Value,
    deadline: Option<Instant>,
) -> Result<Value> {
    match action {
        "validate_template" => {
            let template = match (
                body.get("template"),
                body.get("template_id").and_then(Value::as_str),
            ) {
                (Some(t), _) => template_from(t)?,
                (None, Some(id)) => {
                    service.config.provider_template(id).await?.ok_or_else(|| {
                        ServiceError::config_not_found(format!(
                            "no ProviderTemplate for provider `{id}`"
                        ))
                    })?
                }
                (None, None) => {
                    return Err(ServiceError::invalid(
                        "validate_template needs `template` or `template_id`",
                    ))
                }
            };
            let requests = json_arg(body.get("requests"), "requests")?.map(|v| match v {
                Value::Array(items) => items,
                single => vec![single],
            });
            let response = json_arg(body.get("response"), "response")?;
            validate::validate(template, requests, response).await
        }
        "test_connection" => {
            let id = body
                .get("endpoint_id")
                .and_then(Value::as_str)
                .ok_or_else(|| ServiceError::invalid("test_connection needs `endpoint_id`"))?;
            connection::test_connection(service, id, deadline).await
        }
        other => Err(ServiceError::invalid(format!(
            "unknown action `{other}` (expected validate_template or test_connection)"
        ))),
    }
}

/// An AppSync resolver event (`fieldName` + `arguments`) as an action, after checking the caller's group.
pub fn from_appsync(event: &Value) -> Option<Result<(String, Value)>> {
    let field = event
        .get("fieldName")
        .or_else(|| event.get("info").and_then(|i| i.get("fieldName")))?
        .as_str()?;
    let args = event.get("arguments")?;
    let groups: Vec<&str> = event
        .get("identity")
        .and_then(|i| i.get("groups"))
        .and_then(Value::as_array)
        .map(|g| g.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !groups.contains(&ADMIN_GROUP) {
        return Some(Err(ServiceError::access_denied(format!(
            "`{field}` is for the `{ADMIN_GROUP}` group only"
        ))));
    }
    Some(match field {
        "validateTemplate" => {
            let mut body = serde_json::json!({"template": args.get("template").cloned().unwrap_or(Value::Null)});
            if let Some(Value::Object(samples)) =
                json_arg(args.get("samples"), "samples").ok().flatten()
            {
                body.as_object_mut().expect("an object").extend(samples);
            }
            Ok(("validate_template".into(), body))
        }
        "testConnection" => Ok((
            "test_connection".into(),
            serde_json::json!({"endpoint_id": args.get("endpointId")}),
        )),
        other => Err(ServiceError::invalid(format!(
            "unknown AppSync field `{other}`"
        ))),
    })
}

/// An AWSJSON argument: a JSON string (as AppSync passes it) or JSON itself.
fn json_arg(v: Option<&Value>, name: &str) -> Result<Option<Value>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => serde_json::from_str(s)
            .map(Some)
            .map_err(|e| ServiceError::invalid(format!("`{name}` is not valid JSON: {e}"))),
        Some(other) => Ok(Some(other.clone())),
    }
}

fn template_from(v: &Value) -> Result<ProviderTemplate> {
    let v = json_arg(Some(v), "template")?.unwrap_or(Value::Null);
    serde_path_to_error::deserialize(v).map_err(|e| {
        ServiceError::invalid(format!(
            "`template` is not a ProviderTemplate: `{}`: {}",
            e.path(),
            e.inner()
        ))
    })
}

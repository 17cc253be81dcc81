//! The items as Amplify Gen 2 writes them: camelCase attributes, `id` as key, JSON-typed fields stored as
//! JSON strings (accepted as plain JSON too, as the shipped files hold them).

use crate::error::{Result, ServiceError};
use crate::model::Capabilities;
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ProviderTemplate {
    pub id: String,
    pub name: String,
    pub provider_id: String,
    pub base_url: String,
    pub endpoint_path: String,
    pub auth_header_name: String,
    pub auth_header_prefix: Option<String>,
    pub secret_path: String,
    pub secret_key_name: String,
    pub request_transformer: String,
    pub response_transformer: String,
    pub request_template: Option<String>,
    pub response_mapping: Option<String>,
    pub supports_tools: Option<bool>,
    pub default_timeout: Option<f64>,
    pub max_retries: Option<u32>,
    pub rate_limit_per_minute: Option<u32>,
    pub available_models: Option<Value>,
    pub default_headers: Option<Value>,
    pub metadata: Option<Value>,
    pub is_active: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct EndpointConfiguration {
    pub id: String,
    pub name: String,
    pub provider_id: String,
    pub model_id: String,
    pub model_parameters: Option<Value>,
    pub custom_endpoint: Option<String>,
    pub custom_headers: Option<Value>,
    pub custom_timeout: Option<f64>,
    pub environment: Option<String>,
    pub priority: Option<i64>,
    pub cost_per_token: Option<f64>,
    pub allowed_agents: Option<Vec<String>>,
    pub allowed_evaluations: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct AgentModelAssignment {
    pub id: String,
    pub agent_id: Option<String>,
    /// Endpoint ids in priority order.
    pub endpoint_ids: Vec<String>,
}

/// One row of a ProviderTemplate's model table (`availableModels`): a model id (a trailing `*` matches any
/// suffix), what it can do, and its prices in USD per million tokens.
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(default)]
pub struct ModelRow {
    pub id: String,
    #[serde(flatten)]
    pub capabilities: Option<Capabilities>,
    pub input_per_mtok: Option<f64>,
    pub output_per_mtok: Option<f64>,
    pub cache_read_per_mtok: Option<f64>,
    pub cache_write_per_mtok: Option<f64>,
}

/// A JSON-typed field: a JSON string (as DynamoDB holds it) or JSON itself. `null` and `""` are absent.
pub fn json_field(value: Option<&Value>, item: &str, field: &str) -> Result<Option<Value>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => serde_json::from_str(s).map(Some).map_err(|e| {
            ServiceError::config_not_found(format!(
                "{item}: field `{field}` is not valid JSON: {e}"
            ))
        }),
        Some(v) => Ok(Some(v.clone())),
    }
}

/// A JSON-typed field that must hold an object of strings (headers).
pub fn string_map(value: Option<&Value>, item: &str, field: &str) -> Result<Vec<(String, String)>> {
    match json_field(value, item, field)? {
        None => Ok(Vec::new()),
        Some(Value::Object(m)) => m
            .into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k, s)),
                _ => Err(ServiceError::config_not_found(format!(
                    "{item}: `{field}.{k}` must be a string"
                ))),
            })
            .collect(),
        Some(_) => Err(ServiceError::config_not_found(format!(
            "{item}: field `{field}` must be a JSON object"
        ))),
    }
}

pub fn object_field(value: Option<&Value>, item: &str, field: &str) -> Result<Map<String, Value>> {
    match json_field(value, item, field)? {
        None => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m),
        Some(_) => Err(ServiceError::config_not_found(format!(
            "{item}: field `{field}` must be a JSON object"
        ))),
    }
}

impl ProviderTemplate {
    /// The model table; plain strings are models with default capabilities.
    pub fn model_rows(&self) -> Result<Vec<ModelRow>> {
        let item = format!("ProviderTemplate {}", self.id);
        let Some(v) = json_field(self.available_models.as_ref(), &item, "availableModels")? else {
            return Ok(Vec::new());
        };
        let Value::Array(rows) = v else {
            return Err(ServiceError::config_not_found(format!(
                "{item}: field `availableModels` must be a JSON array"
            )));
        };
        rows.into_iter()
            .enumerate()
            .map(|(i, r)| match r {
                Value::String(id) => Ok(ModelRow {
                    id,
                    ..Default::default()
                }),
                row => serde_json::from_value(row).map_err(|e| {
                    ServiceError::config_not_found(format!(
                        "{item}: `availableModels[{i}]` is not a model row: {e}"
                    ))
                }),
            })
            .collect()
    }

    pub fn metadata(&self) -> Result<Map<String, Value>> {
        object_field(
            self.metadata.as_ref(),
            &format!("ProviderTemplate {}", self.id),
            "metadata",
        )
    }
}

/// The row for `model`: an exact id first, else the longest matching pattern (`*` matches any run).
pub fn find_row<'a>(rows: &'a [ModelRow], model: &str) -> Option<&'a ModelRow> {
    rows.iter().find(|r| r.id == model).or_else(|| {
        rows.iter()
            .filter(|r| glob(&r.id, model))
            .max_by_key(|r| r.id.len())
    })
}

fn glob(pattern: &str, text: &str) -> bool {
    let pieces: Vec<&str> = pattern.split('*').collect();
    if pieces.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (pieces[0], pieces[pieces.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for piece in &pieces[1..pieces.len() - 1] {
        match rest.find(piece) {
            Some(i) => rest = &rest[i + piece.len()..],
            None => return false,
        }
    }
    true
}

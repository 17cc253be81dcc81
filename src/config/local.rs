//! The config store with no tables: the default ProviderTemplates shipped in `templates/providers/`.
//! Endpoints and assignments live only in DynamoDB, so by-reference events need the tables.

use super::{AgentModelAssignment, ConfigStore, EndpointConfiguration, ProviderTemplate};
use crate::error::Result;
use async_trait::async_trait;

const SHIPPED: [&str; 6] = [
    include_str!("../../templates/providers/openai.json"),
    include_str!("../../templates/providers/anthropic.json"),
    include_str!("../../templates/providers/gemini.json"),
    include_str!("../../templates/providers/bedrock.json"),
    include_str!("../../templates/providers/groq.json"),
    include_str!("../../templates/providers/cohere.json"),
];

/// The shipped default ProviderTemplates, parsed.
pub fn shipped_templates() -> Vec<ProviderTemplate> {
    SHIPPED
        .iter()
        .map(|s| serde_json::from_str(s).expect("shipped provider templates are valid (tested)"))
        .collect()
}

#[derive(Debug, Clone)]
pub struct LocalConfigStore {
    templates: Vec<ProviderTemplate>,
}

impl Default for LocalConfigStore {
    fn default() -> Self {
        LocalConfigStore {
            templates: shipped_templates(),
        }
    }
}

impl LocalConfigStore {
    pub fn with_templates(templates: Vec<ProviderTemplate>) -> Self {
        LocalConfigStore { templates }
    }
}

#[async_trait]
impl ConfigStore for LocalConfigStore {
    async fn provider_template(&self, provider_id: &str) -> Result<Option<ProviderTemplate>> {
        Ok(self
            .templates
            .iter()
            .find(|t| t.provider_id == provider_id)
            .cloned())
    }
    async fn endpoint(&self, _id: &str) -> Result<Option<EndpointConfiguration>> {
        Ok(None)
    }
    async fn assignment(&self, _agent_id: &str) -> Result<Option<AgentModelAssignment>> {
        Ok(None)
    }
    async fn record_connection_test(
        &self,
        endpoint_id: &str,
        _status: &str,
        _at: &str,
        _results: &str,
    ) -> Result<()> {
        Err(crate::error::ServiceError::config_not_found(format!(
            "cannot record the test of `{endpoint_id}`: no EndpointConfiguration table is configured"
        )))
    }
    fn describe(&self, item: &str) -> String {
        format!("the shipped defaults (no {item} table is configured)")
    }
}

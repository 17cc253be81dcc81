//! The config store with no tables: the default ProviderTemplates shipped in `templates/providers/`.
//! Endpoints and assignments live only in DynamoDB, so by-reference events need the tables.

use super::{AgentModelAssignment, ConfigStore, EndpointConfiguration, ProviderTemplate};
use crate::error::Result;
use async_trait::async_trait;

const SHIPPED: [&str; 4] = [
    include_str!("../../templates/providers/openai.json"),
    include_str!("../../templates/providers/anthropic.json"),
    include_str!("../../templates/providers/gemini.json"),
    include_str!("../../templates/providers/bedrock.json"),
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
    fn describe(&self, item: &str) -> String {
        format!("the shipped defaults (no {item} table is configured)")
    }
}

//! The config store on DynamoDB: Amplify's tables, read fresh on every call, items converted by serde_dynamo.

use super::{AgentModelAssignment, ConfigStore, EndpointConfiguration, ProviderTemplate};
use crate::error::{Result, ServiceError};
use crate::settings::Settings;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use serde::de::DeserializeOwned;

#[derive(Debug, Clone)]
pub struct DynamoConfigStore {
    client: Client,
    provider_templates: Option<String>,
    endpoints: Option<String>,
    assignments: Option<String>,
    index: String,
    /// Used for provider templates when no ProviderTemplate table is set.
    fallback: super::local::LocalConfigStore,
}

impl DynamoConfigStore {
    pub fn new(client: Client, settings: &Settings) -> Self {
        DynamoConfigStore {
            client,
            provider_templates: settings.provider_template_table.clone(),
            endpoints: settings.endpoint_configuration_table.clone(),
            assignments: settings.agent_model_assignment_table.clone(),
            index: settings.provider_template_index.clone(),
            fallback: Default::default(),
        }
    }

    async fn get<T: DeserializeOwned>(
        &self,
        table: &Option<String>,
        model: &str,
        id: &str,
    ) -> Result<Option<T>> {
        let Some(table) = table else { return Ok(None) };
        let out = self
            .client
            .get_item()
            .table_name(table)
            .key("id", AttributeValue::S(id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable(table, e))?;
        out.item
            .map(|item| {
                serde_dynamo::from_item(item).map_err(|e| {
                    ServiceError::config_not_found(format!(
                        "{model} `{id}` in table {table} is malformed: {e}"
                    ))
                })
            })
            .transpose()
    }
}

/// A DynamoDB call that failed, with the SDK's whole error chain.
fn unavailable(table: &str, e: impl std::error::Error) -> ServiceError {
    let why = aws_sdk_dynamodb::error::DisplayErrorContext(e);
    ServiceError::config_not_found(format!("reading DynamoDB table {table} failed: {why}"))
}

#[async_trait]
impl ConfigStore for DynamoConfigStore {
    async fn provider_template(&self, provider_id: &str) -> Result<Option<ProviderTemplate>> {
        let Some(table) = &self.provider_templates else {
            return self.fallback.provider_template(provider_id).await;
        };
        let out = self
            .client
            .query()
            .table_name(table)
            .index_name(&self.index)
            .key_condition_expression("providerId = :p")
            .expression_attribute_values(":p", AttributeValue::S(provider_id.to_string()))
            .send()
            .await
            .map_err(|e| unavailable(table, e))?;
        let mut found: Vec<ProviderTemplate> = Vec::new();
        for item in out.items.unwrap_or_default() {
            let id = item
                .get("id")
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default();
            found.push(serde_dynamo::from_item(item).map_err(|e| {
                ServiceError::config_not_found(format!(
                    "ProviderTemplate `{id}` in table {table} is malformed: {e}"
                ))
            })?);
        }
        // Several items for one provider: an active one wins over an inactive one.
        found.sort_by_key(|t| t.is_active == Some(false));
        Ok(found.into_iter().next())
    }
    async fn endpoint(&self, id: &str) -> Result<Option<EndpointConfiguration>> {
        self.get(&self.endpoints, "EndpointConfiguration", id).await
    }
    async fn assignment(&self, agent_id: &str) -> Result<Option<AgentModelAssignment>> {
        self.get(&self.assignments, "AgentModelAssignment", agent_id)
            .await
    }
    async fn record_connection_test(
        &self,
        endpoint_id: &str,
        status: &str,
        tested_at: &str,
        results: &str,
    ) -> Result<()> {
        let Some(table) = &self.endpoints else {
            return Err(ServiceError::config_not_found(
                "no EndpointConfiguration table is configured",
            ));
        };
        let s = |v: &str| AttributeValue::S(v.to_string());
        self.client
            .update_item()
            .table_name(table)
            .key("id", s(endpoint_id))
            .update_expression(
                "SET connectionStatus = :s, lastTestedAt = :t, testResults = :r, updatedAt = :t",
            )
            .condition_expression("attribute_exists(id)")
            .expression_attribute_values(":s", s(status))
            .expression_attribute_values(":t", s(tested_at))
            .expression_attribute_values(":r", s(results))
            .send()
            .await
            .map_err(|e| unavailable(table, e))?;
        Ok(())
    }
    fn describe(&self, item: &str) -> String {
        let table = match item {
            "ProviderTemplate" => &self.provider_templates,
            "EndpointConfiguration" => &self.endpoints,
            _ => &self.assignments,
        };
        match table {
            Some(t) => format!("table {t}"),
            None => format!("DynamoDB (no {item} table is configured)"),
        }
    }
}

//! Provider configuration: the Amplify items (ProviderTemplate, EndpointConfiguration, AgentModelAssignment)
//! behind the `ConfigStore` trait, and their merge with the event into the endpoints one invocation tries.

pub mod dynamo;
mod items;
pub mod local;
mod resolve;

pub use items::{AgentModelAssignment, EndpointConfiguration, ModelRow, ProviderTemplate};
pub use resolve::{endpoint_for_admin, resolve, Auth, Endpoint, Pricing};

use crate::error::Result;
use async_trait::async_trait;

/// Where configuration items are read from. Read fresh on every invocation: admins expect an edit to take
/// effect at once.
#[async_trait]
pub trait ConfigStore: Send + Sync {
    /// The ProviderTemplate whose `providerId` is `provider_id` (through the secondary index).
    async fn provider_template(&self, provider_id: &str) -> Result<Option<ProviderTemplate>>;
    async fn endpoint(&self, id: &str) -> Result<Option<EndpointConfiguration>>;
    async fn assignment(&self, agent_id: &str) -> Result<Option<AgentModelAssignment>>;
    /// Writes a connection test's outcome back to the EndpointConfiguration item, for the console.
    async fn record_connection_test(
        &self,
        endpoint_id: &str,
        status: &str,
        tested_at: &str,
        results: &str,
    ) -> Result<()>;
    /// Table names for error messages.
    fn describe(&self, item: &str) -> String;
}

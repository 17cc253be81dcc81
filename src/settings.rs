//! Settings from the environment (README, "Settings (environment)"), read once at start.

use std::time::Duration;

#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub provider_template_table: Option<String>,
    pub endpoint_configuration_table: Option<String>,
    pub agent_model_assignment_table: Option<String>,
    pub provider_template_index: String,
    pub secrets_file: Option<String>,
    pub secrets_cache_ttl: Duration,
    pub allowed_secret_prefixes: Vec<String>,
    pub allowed_endpoint_hosts: Vec<String>,
}

/// The ProviderTemplate table's secondary index on `providerId`, declared here once.
pub const DEFAULT_PROVIDER_TEMPLATE_INDEX: &str = "byProviderId";

impl Settings {
    pub fn from_env() -> Self {
        Settings {
            provider_template_table: var("PROVIDER_TEMPLATE_TABLE"),
            endpoint_configuration_table: var("ENDPOINT_CONFIGURATION_TABLE"),
            agent_model_assignment_table: var("AGENT_MODEL_ASSIGNMENT_TABLE"),
            provider_template_index: var("PROVIDER_TEMPLATE_INDEX")
                .unwrap_or_else(|| DEFAULT_PROVIDER_TEMPLATE_INDEX.into()),
            secrets_file: var("LLM_SECRETS_FILE"),
            secrets_cache_ttl: Duration::from_secs(
                var("SECRETS_CACHE_TTL_SECONDS")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(300),
            ),
            allowed_secret_prefixes: list_var("ALLOWED_SECRET_PREFIXES"),
            allowed_endpoint_hosts: list_var("ALLOWED_ENDPOINT_HOSTS"),
        }
    }

    pub fn uses_dynamodb(&self) -> bool {
        self.provider_template_table.is_some()
            || self.endpoint_configuration_table.is_some()
            || self.agent_model_assignment_table.is_some()
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A comma-separated setting as a list, blanks dropped.
pub fn list_var(name: &str) -> Vec<String> {
    var(name)
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

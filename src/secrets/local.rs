//! Secrets from a local JSON file (`LLM_SECRETS_FILE`): `{"<secret_path>": {"<KEY_NAME>": "<value>"}}`,
//! read on each fetch so an edit is seen once the cache entry expires.

use super::{FetchError, SecretSource};
use async_trait::async_trait;
use serde_json::Value;
use std::path::PathBuf;

pub struct FileSecrets {
    path: PathBuf,
}

impl FileSecrets {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileSecrets { path: path.into() }
    }
}

#[async_trait]
impl SecretSource for FileSecrets {
    async fn fetch(&self, secret_id: &str) -> Result<String, FetchError> {
        let text = std::fs::read_to_string(&self.path).map_err(|e| {
            FetchError::Unavailable(format!("secrets file {}: {e}", self.path.display()))
        })?;
        let all: Value = serde_json::from_str(&text).map_err(|_| {
            FetchError::Unavailable(format!("secrets file {} is not JSON", self.path.display()))
        })?;
        match all.get(secret_id) {
            None => Err(FetchError::NotFound),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(v) => Ok(v.to_string()),
        }
    }
}

/// Secrets held in memory, `secret id -> JSON text`: for `--replay` runs and tests that need no file.
pub struct MemorySecrets {
    pub secrets: std::collections::HashMap<String, String>,
}

#[async_trait]
impl SecretSource for MemorySecrets {
    async fn fetch(&self, secret_id: &str) -> Result<String, FetchError> {
        self.secrets
            .get(secret_id)
            .cloned()
            .ok_or(FetchError::NotFound)
    }
}

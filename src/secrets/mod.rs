//! API keys: a JSON secret of several keys, fetched only when needed, cached per secret id (moka, TTL from
//! `SECRETS_CACHE_TTL_SECONDS`), concurrent misses for one secret coalesced into one fetch.

pub mod aws;
pub mod local;

use crate::error::{ErrorKind, Result, ServiceError};
use async_trait::async_trait;
use moka::future::Cache;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;

/// Why a secret could not be read. Never holds a secret value.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchError {
    NotFound,
    Denied(String),
    Unavailable(String),
}

/// Where secret strings come from.
#[async_trait]
pub trait SecretSource: Send + Sync {
    /// The secret's string value.
    async fn fetch(&self, secret_id: &str) -> std::result::Result<String, FetchError>;
}

type Parsed = Arc<Map<String, Value>>;

pub struct SecretStore {
    source: Arc<dyn SecretSource>,
    cache: Cache<String, Parsed>,
    allowed_prefixes: Vec<String>,
}

impl SecretStore {
    pub fn new(
        source: Arc<dyn SecretSource>,
        ttl: Duration,
        allowed_prefixes: Vec<String>,
    ) -> Self {
        SecretStore {
            source,
            cache: Cache::builder().time_to_live(ttl).max_capacity(256).build(),
            allowed_prefixes,
        }
    }

    /// The value of `key` in the JSON secret `secret_id`.
    pub async fn api_key(&self, secret_id: &str, key: &str) -> Result<String> {
        crate::guard::check_secret_id(secret_id, &self.allowed_prefixes)
            .map_err(ServiceError::access_denied)?;
        let source = self.source.clone();
        let id = secret_id.to_string();
        let parsed = self
            .cache
            .try_get_with(id.clone(), async move { load(source.as_ref(), &id).await })
            .await
            .map_err(|e: Arc<ServiceError>| (*e).clone())?;
        match parsed.get(key) {
            Some(Value::String(v)) if !v.is_empty() => Ok(v.clone()),
            Some(_) => Err(ServiceError::new(
                ErrorKind::SecretNotFound,
                format!("key `{key}` in secret `{secret_id}` is not a non-empty string"),
            )),
            None => Err(ServiceError::new(
                ErrorKind::SecretNotFound,
                format!("secret `{secret_id}` has no key `{key}`"),
            )),
        }
    }

    /// Drops the cached copy (after the provider refused the key: it may have been rotated).
    pub async fn invalidate(&self, secret_id: &str) {
        self.cache.invalidate(secret_id).await;
    }
}

async fn load(source: &dyn SecretSource, id: &str) -> std::result::Result<Parsed, ServiceError> {
    let text = source.fetch(id).await.map_err(|e| match e {
        FetchError::NotFound => ServiceError::new(
            ErrorKind::SecretNotFound,
            format!("secret `{id}` does not exist"),
        ),
        FetchError::Denied(why) => {
            ServiceError::access_denied(format!("reading secret `{id}` was denied: {why}"))
        }
        FetchError::Unavailable(why) => ServiceError::new(
            ErrorKind::SecretNotFound,
            format!("secret `{id}` could not be read: {why}"),
        ),
    })?;
    // The parse error would quote the secret's text: say only what is wrong.
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(Arc::new(map)),
        _ => Err(ServiceError::new(
            ErrorKind::SecretNotFound,
            format!("secret `{id}` is not a JSON object of keys"),
        )),
    }
}

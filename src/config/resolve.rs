//! The event and the stored items merged into the endpoints one invocation tries, in priority order.

use super::items::{find_row, object_field, string_map, EndpointConfiguration, ProviderTemplate};
use super::ConfigStore;
use crate::error::{Result, ServiceError};
use crate::event::{ChatEvent, InlineProviderConfig};
use crate::model::{Capabilities, Usage};
use serde_json::{Map, Value};
use std::time::Duration;

const DEFAULT_TIMEOUT_SECS: f64 = 30.0;
const DEFAULT_MAX_RETRIES: u32 = 3;

#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    /// `auth_header_name: auth_header_prefix + key`
    Header,
    /// AWS SigV4 with the Lambda role's credentials (Bedrock), no key from Secrets Manager.
    SigV4 { region: String, service: String },
}

/// Prices in USD per million tokens.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pricing {
    pub input: f64,
    pub output: f64,
    pub cache_read: f64,
    pub cache_write: f64,
}

impl Pricing {
    /// Each part priced as billed: uncached input, cache reads, cache writes, output (reasoning included).
    pub fn cost(&self, u: &Usage) -> f64 {
        let uncached = u
            .input_tokens
            .saturating_sub(u.cache_read_input_tokens + u.cache_creation_input_tokens);
        let usd = (uncached as f64 * self.input
            + u.cache_read_input_tokens as f64 * self.cache_read
            + u.cache_creation_input_tokens as f64 * self.cache_write
            + u.output_tokens as f64 * self.output)
            / 1_000_000.0;
        (usd * 1e9).round() / 1e9
    }
}

/// Everything one attempt at one endpoint needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub endpoint_id: Option<String>,
    pub provider_id: String,
    pub model_id: String,
    pub url: String,
    pub auth: Auth,
    pub auth_header_name: String,
    pub auth_header_prefix: String,
    pub secret_path: String,
    pub secret_key_name: String,
    pub request_transformer: String,
    pub response_transformer: String,
    pub request_template: Option<String>,
    pub response_mapping: Option<String>,
    pub headers: Vec<(String, String)>,
    pub timeout: Duration,
    pub max_retries: u32,
    pub rate_limit_per_minute: Option<u32>,
    pub capabilities: Capabilities,
    pub model_parameters: Map<String, Value>,
    pub pricing: Pricing,
    /// Hosts the provider's template names: a key may be sent there.
    pub template_hosts: Vec<String>,
}

impl Endpoint {
    pub fn label(&self) -> String {
        self.endpoint_id
            .clone()
            .unwrap_or_else(|| format!("{}/{}", self.provider_id, self.model_id))
    }
}

/// The endpoints to try, first to last.
pub async fn resolve(event: &ChatEvent, store: &dyn ConfigStore) -> Result<Vec<Endpoint>> {
    if let Some(inline) = &event.provider_config {
        let mut out = vec![from_inline(inline, store).await?];
        for fb in event.fallbacks.iter().flatten() {
            out.push(from_inline(fb, store).await?);
        }
        return Ok(out);
    }
    let ids = match (&event.endpoint_id, &event.agent_id) {
        (Some(id), _) => vec![id.clone()],
        (None, Some(agent)) => {
            let a = store.assignment(agent).await?.ok_or_else(|| {
                ServiceError::config_not_found(format!(
                    "no AgentModelAssignment `{agent}` in {}",
                    store.describe("AgentModelAssignment")
                ))
            })?;
            if a.endpoint_ids.is_empty() {
                return Err(ServiceError::config_not_found(format!(
                    "AgentModelAssignment `{agent}` lists no endpoints"
                )));
            }
            a.endpoint_ids
        }
        (None, None) => return Err(ServiceError::invalid("the event names no provider")),
    };
    let mut out = Vec::with_capacity(ids.len());
    for id in &ids {
        let ec = store.endpoint(id).await?.ok_or_else(|| {
            ServiceError::config_not_found(format!(
                "no EndpointConfiguration `{id}` in {}",
                store.describe("EndpointConfiguration")
            ))
        })?;
        check_access(&ec, event)?;
        let pt = active_template(store, &ec.provider_id).await?.ok_or_else(|| {
            ServiceError::config_not_found(format!(
                "EndpointConfiguration `{id}` names provider `{}`, which has no ProviderTemplate in {}",
                ec.provider_id,
                store.describe("ProviderTemplate")
            ))
        })?;
        out.push(from_items(&ec, &pt)?);
    }
    Ok(out)
}

/// One endpoint by id, for an admin's connection test: no caller to check against its access lists.
pub async fn endpoint_for_admin(id: &str, store: &dyn ConfigStore) -> Result<Endpoint> {
    let ec = store.endpoint(id).await?.ok_or_else(|| {
        ServiceError::config_not_found(format!(
            "no EndpointConfiguration `{id}` in {}",
            store.describe("EndpointConfiguration")
        ))
    })?;
    let pt = active_template(store, &ec.provider_id)
        .await?
        .ok_or_else(|| {
            ServiceError::config_not_found(format!(
                "provider `{}` has no ProviderTemplate in {}",
                ec.provider_id,
                store.describe("ProviderTemplate")
            ))
        })?;
    from_items(&ec, &pt)
}

async fn active_template(
    store: &dyn ConfigStore,
    provider_id: &str,
) -> Result<Option<ProviderTemplate>> {
    match store.provider_template(provider_id).await? {
        Some(pt) if pt.is_active == Some(false) => Err(ServiceError::config_not_found(format!(
            "ProviderTemplate `{}` for provider `{provider_id}` is inactive (isActive is false)",
            pt.id
        ))),
        other => Ok(other),
    }
}

fn check_access(ec: &EndpointConfiguration, event: &ChatEvent) -> Result<()> {
    let agents = ec.allowed_agents.as_deref().unwrap_or_default();
    let evals = ec.allowed_evaluations.as_deref().unwrap_or_default();
    if agents.is_empty() && evals.is_empty() {
        return Ok(());
    }
    let agent_ok = event.agent_id.as_ref().is_some_and(|a| agents.contains(a));
    let eval_ok = event
        .evaluation_id
        .as_ref()
        .is_some_and(|e| evals.contains(e));
    if agent_ok || eval_ok {
        return Ok(());
    }
    let who = match (&event.agent_id, &event.evaluation_id) {
        (Some(a), _) => format!("agent `{a}`"),
        (None, Some(e)) => format!("evaluation `{e}`"),
        (None, None) => "a caller that names no agent_id or evaluation_id".to_string(),
    };
    Err(ServiceError::access_denied(format!(
        "EndpointConfiguration `{}` does not allow {who} (see its allowedAgents / allowedEvaluations)",
        ec.id
    )))
}

async fn from_inline(c: &InlineProviderConfig, store: &dyn ConfigStore) -> Result<Endpoint> {
    let pt = active_template(store, &c.provider_id).await?;
    let mut e = Endpoint {
        endpoint_id: None,
        provider_id: c.provider_id.clone(),
        model_id: c.model_id.clone(),
        url: substitute(&c.endpoint, &c.model_id),
        auth: Auth::Header,
        auth_header_name: c.auth_header_name.clone(),
        auth_header_prefix: c.auth_header_prefix.clone().unwrap_or_default(),
        secret_path: c.secret_path.clone(),
        secret_key_name: c.secret_key_name.clone(),
        request_transformer: c.request_transformer.clone(),
        response_transformer: c.response_transformer.clone(),
        request_template: None,
        response_mapping: None,
        headers: Vec::new(),
        timeout: secs(c.timeout.unwrap_or(DEFAULT_TIMEOUT_SECS))?,
        max_retries: DEFAULT_MAX_RETRIES,
        rate_limit_per_minute: None,
        capabilities: Capabilities::default(),
        model_parameters: Map::new(),
        pricing: Pricing::default(),
        template_hosts: Vec::new(),
    };
    if let Some(pt) = &pt {
        apply_template(&mut e, pt)?;
    }
    e.headers.extend(
        c.custom_headers
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    check_transformers(&e)?;
    Ok(e)
}

fn from_items(ec: &EndpointConfiguration, pt: &ProviderTemplate) -> Result<Endpoint> {
    let item = format!("EndpointConfiguration {}", ec.id);
    let base = ec
        .custom_endpoint
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("{}{}", pt.base_url.trim_end_matches('/'), pt.endpoint_path));
    let mut e = Endpoint {
        endpoint_id: Some(ec.id.clone()),
        provider_id: ec.provider_id.clone(),
        model_id: ec.model_id.clone(),
        url: substitute(&base, &ec.model_id),
        auth: Auth::Header,
        auth_header_name: pt.auth_header_name.clone(),
        auth_header_prefix: pt.auth_header_prefix.clone().unwrap_or_default(),
        secret_path: pt.secret_path.clone(),
        secret_key_name: pt.secret_key_name.clone(),
        request_transformer: pt.request_transformer.clone(),
        response_transformer: pt.response_transformer.clone(),
        request_template: None,
        response_mapping: None,
        headers: Vec::new(),
        timeout: secs(
            ec.custom_timeout
                .or(pt.default_timeout)
                .unwrap_or(DEFAULT_TIMEOUT_SECS),
        )?,
        max_retries: DEFAULT_MAX_RETRIES,
        rate_limit_per_minute: None,
        capabilities: Capabilities::default(),
        model_parameters: object_field(ec.model_parameters.as_ref(), &item, "modelParameters")?,
        pricing: Pricing::default(),
        template_hosts: Vec::new(),
    };
    apply_template(&mut e, pt)?;
    e.headers.extend(string_map(
        ec.custom_headers.as_ref(),
        &item,
        "customHeaders",
    )?);
    if let Some(per_token) = ec
        .cost_per_token
        .filter(|_| e.pricing == Pricing::default())
    {
        let m = per_token * 1_000_000.0;
        e.pricing = Pricing {
            input: m,
            output: m,
            cache_read: m,
            cache_write: m,
        };
    }
    check_transformers(&e)?;
    Ok(e)
}

/// What the ProviderTemplate adds to an endpoint: its stored templates, headers, limits, model table, auth.
fn apply_template(e: &mut Endpoint, pt: &ProviderTemplate) -> Result<()> {
    let item = format!("ProviderTemplate {}", pt.id);
    e.request_template = pt.request_template.clone().filter(|s| !s.trim().is_empty());
    e.response_mapping = pt.response_mapping.clone().filter(|s| !s.trim().is_empty());
    e.headers = string_map(pt.default_headers.as_ref(), &item, "defaultHeaders")?;
    e.max_retries = pt.max_retries.unwrap_or(DEFAULT_MAX_RETRIES);
    e.rate_limit_per_minute = pt.rate_limit_per_minute.filter(|n| *n > 0);
    let rows = pt.model_rows()?;
    if let Some(row) = find_row(&rows, &e.model_id) {
        e.capabilities = row.capabilities.clone().unwrap_or_default();
        e.pricing = Pricing {
            input: row.input_per_mtok.unwrap_or(0.0),
            output: row.output_per_mtok.unwrap_or(0.0),
            cache_read: row
                .cache_read_per_mtok
                .or(row.input_per_mtok)
                .unwrap_or(0.0),
            cache_write: row
                .cache_write_per_mtok
                .or(row.input_per_mtok)
                .unwrap_or(0.0),
        };
    }
    let meta = pt.metadata()?;
    if let Ok(u) = url::Url::parse(&pt.base_url) {
        e.template_hosts.extend(u.host_str().map(str::to_string));
    }
    if let Some(Value::Array(hosts)) = meta.get("allowedHosts") {
        e.template_hosts
            .extend(hosts.iter().filter_map(Value::as_str).map(str::to_string));
    }
    if meta.get("auth").and_then(Value::as_str) == Some("sigv4") {
        let region = meta
            .get("region")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| region_from_url(&e.url))
            .ok_or_else(|| {
                ServiceError::config_not_found(format!(
                    "{item}: SigV4 auth needs `metadata.region`"
                ))
            })?;
        let service = meta
            .get("service")
            .and_then(Value::as_str)
            .unwrap_or("bedrock")
            .to_string();
        e.auth = Auth::SigV4 { region, service };
    }
    Ok(())
}

fn check_transformers(e: &Endpoint) -> Result<()> {
    for t in [&e.request_transformer, &e.response_transformer] {
        if !crate::transform::is_known(t) {
            let stored = if t == &e.request_transformer {
                e.request_template.is_some()
            } else {
                e.response_mapping.is_some()
            };
            if !stored {
                return Err(crate::transform::unknown(t));
            }
        }
    }
    Ok(())
}

/// `{model_id}` in a URL, the model id percent-encoded as one path segment (Bedrock ids hold `:`).
fn substitute(url: &str, model_id: &str) -> String {
    if !url.contains("{model_id}") {
        return url.to_string();
    }
    let encoded: String = url::form_urlencoded::byte_serialize(model_id.as_bytes()).collect();
    url.replace("{model_id}", &encoded.replace('+', "%20"))
}

fn region_from_url(url: &str) -> Option<String> {
    let host = url::Url::parse(url).ok()?.host_str()?.to_string();
    // bedrock-runtime.<region>.amazonaws.com
    host.split('.')
        .nth(1)
        .filter(|r| r.contains('-'))
        .map(str::to_string)
}

fn secs(s: f64) -> Result<Duration> {
    if s.is_finite() && s > 0.0 && s <= 900.0 {
        Ok(Duration::from_secs_f64(s))
    } else {
        Err(ServiceError::invalid(format!(
            "timeout {s} s is out of range (0-900 s)"
        )))
    }
}

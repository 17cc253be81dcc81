//! One invocation, stage by stage: resolve config -> per endpoint: canonical request -> request transform ->
//! key -> HTTP call (retries) -> response transform -> unified response. A retryable failure moves on to
//! the next endpoint; anything else ends the invocation.

use crate::capabilities;
use crate::config::{self, ConfigStore, Endpoint};
use crate::error::{ProviderErrorInfo, Result, ServiceError};
use crate::event::ChatEvent;
use crate::guard::HostPolicy;
use crate::model::{Attempt, CanonicalRequest, Metadata, UnifiedResponse};
use crate::normalize::{canonical_request, Target};
use crate::provider::rate_limit::RateLimiter;
use crate::provider::{self, retry, HttpCaller};
use crate::response;
use crate::secrets::SecretStore;
use crate::transform;
use aws_credential_types::provider::SharedCredentialsProvider;
use serde_json::Value;
use std::sync::Arc;
use std::time::Instant;

/// Everything built once per container and shared by all invocations.
pub struct Service {
    pub config: Arc<dyn ConfigStore>,
    pub secrets: SecretStore,
    pub http: HttpCaller,
    pub hosts: HostPolicy,
    pub limiter: RateLimiter,
    pub aws_credentials: Option<SharedCredentialsProvider>,
}

/// The provider body one endpoint would receive, and which transform made it.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub endpoint: Endpoint,
    pub request: CanonicalRequest,
    pub body: transform::Body,
    pub ran: transform::Ran,
}

impl Service {
    /// Renders the first endpoint's request without sending it (the CLI's `render`).
    pub async fn render(&self, event: &ChatEvent) -> Result<Rendered> {
        let endpoints = config::resolve(event, self.config.as_ref()).await?;
        let ep = endpoints
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::invalid("no endpoint"))?;
        render_for(event, ep)
    }

    pub async fn invoke(
        &self,
        event: &ChatEvent,
        deadline: Option<Instant>,
    ) -> Result<UnifiedResponse> {
        let endpoints = config::resolve(event, self.config.as_ref()).await?;
        self.invoke_on(event, endpoints, deadline).await
    }

    /// Tries `endpoints` in order for `event`.
    pub async fn invoke_on(
        &self,
        event: &ChatEvent,
        endpoints: Vec<Endpoint>,
        deadline: Option<Instant>,
    ) -> Result<UnifiedResponse> {
        let started = Instant::now();
        let mut attempts: Vec<Attempt> = Vec::new();
        let mut last_err = None;
        let count = endpoints.len();
        for (i, ep) in endpoints.into_iter().enumerate() {
            match self
                .try_endpoint(event, ep, deadline, started, &mut attempts)
                .await
            {
                Ok(r) => return Ok(r),
                Err(e) if e.kind.is_retryable() && i + 1 < count => {
                    tracing::warn!(
                        error_type = e.kind.name(),
                        "endpoint failed; falling back to the next one"
                    );
                    last_err = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_err.unwrap_or_else(|| ServiceError::invalid("no endpoint to call")))
    }

    async fn try_endpoint(
        &self,
        event: &ChatEvent,
        ep: Endpoint,
        deadline: Option<Instant>,
        started: Instant,
        attempts: &mut Vec<Attempt>,
    ) -> Result<UnifiedResponse> {
        let rendered = render_for(event, ep)?;
        let ep = &rendered.endpoint;
        let url = url::Url::parse(&ep.url).map_err(|e| {
            ServiceError::invalid(format!("endpoint URL `{}` does not parse: {e}", ep.url))
        })?;
        self.hosts
            .check(&url, &ep.template_hosts)
            .map_err(ServiceError::access_denied)?;
        let body = rendered.body.0.clone();
        let caller = retry::Caller {
            http: &self.http,
            secrets: &self.secrets,
            limiter: &self.limiter,
            aws: self.aws_credentials.as_ref(),
        };
        let before = attempts.len();
        let reply = retry::call(&caller, ep, &url, body, deadline, attempts).await?;
        let with_reply = |mut e: ServiceError| {
            if e.provider.is_none() {
                e.provider = Some(Box::new(ProviderErrorInfo {
                    status: Some(reply.status),
                    request_id: provider::errors::request_id(&reply.headers, &Value::Null),
                    ..Default::default()
                }));
            }
            e
        };
        let raw = json_text(&reply.body).map_err(|e| {
            with_reply(ServiceError::response_invalid(format!(
                "the provider at {} sent a body that is not JSON: {e}",
                url.host_str().unwrap_or_default()
            )))
        })?;
        let (mapped, ran_resp) = transform::map_response(
            &ep.response_transformer,
            ep.response_mapping.as_deref(),
            raw,
        )
        .map_err(with_reply)?;
        let ran_template = rendered.ran.path == crate::model::TransformPath::Template
            && ran_resp.path == crate::model::TransformPath::Template;
        let metadata = Metadata {
            model_id: ep.model_id.clone(),
            provider_id: ep.provider_id.clone(),
            latency_ms: started.elapsed().as_millis() as u64,
            provider_latency_ms: reply.elapsed.as_millis() as u64,
            attempts: attempts.len() as u32,
            transform: if ran_template {
                crate::model::TransformPath::Template
            } else {
                crate::model::TransformPath::Builtin
            },
            transform_note: rendered.ran.note.clone().or(ran_resp.note),
            tokens_used: Default::default(),
            cost_usd: 0.0,
            attempt_log: if attempts.len() > 1 || before > 0 {
                attempts.clone()
            } else {
                Vec::new()
            },
            reasoning_text_dropped: false,
            endpoint_id: ep.endpoint_id.clone(),
        };
        response::build(mapped, &rendered.request, ep, metadata).map_err(with_reply)
    }
}

/// `body` as text, once it is known to be one JSON document (a scan; no value is built).
fn json_text(body: &[u8]) -> std::result::Result<&str, String> {
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|e| e.to_string())?;
    Ok(text)
}

/// The canonical request for `ep`, checked against its model, and the body its transformer renders.
pub fn render_for(event: &ChatEvent, ep: Endpoint) -> Result<Rendered> {
    let target = Target {
        provider_id: &ep.provider_id,
        model_id: &ep.model_id,
        capabilities: ep.capabilities.clone(),
        defaults: &ep.model_parameters,
    };
    let mut request = canonical_request(event, &target)?;
    capabilities::check(&mut request, &ep.request_transformer)?;
    let (body, ran) = transform::render_request(
        &ep.request_transformer,
        ep.request_template.as_deref(),
        &request,
    )?;
    Ok(Rendered {
        endpoint: ep,
        request,
        body,
        ran,
    })
}

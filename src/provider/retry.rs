//! One endpoint, tried until it answers, up to its `maxRetries`: exponential backoff with full jitter
//! (the exponential sequence from `backon`), the provider's own `Retry-After` honoured, never past the
//! Lambda's deadline, and one fresh key after a 401/403 (the secret may have been rotated).

use super::{auth, errors, rate_limit::RateLimiter, HttpCaller, Reply};
use crate::config::{Auth, Endpoint};
use crate::error::{ErrorKind, ServiceError};
use crate::model::Attempt;
use crate::secrets::SecretStore;
use aws_credential_types::provider::SharedCredentialsProvider;
use backon::{BackoffBuilder, ExponentialBuilder};
use bytes::Bytes;
use rand::Rng;
use std::time::{Duration, Instant};

/// Kept free before the Lambda deadline, to return a named error rather than be killed.
pub const SAFETY_MARGIN: Duration = Duration::from_millis(500);
/// An attempt with less time than this is not started.
pub const MIN_ATTEMPT: Duration = Duration::from_millis(200);

pub struct Caller<'a> {
    pub http: &'a HttpCaller,
    pub secrets: &'a SecretStore,
    pub limiter: &'a RateLimiter,
    pub aws: Option<&'a SharedCredentialsProvider>,
}

/// The endpoint's answer (a 2xx reply), or the error that ended the tries. Every try is logged in `attempts`.
pub async fn call(
    c: &Caller<'_>,
    ep: &Endpoint,
    url: &url::Url,
    body: Bytes,
    deadline: Option<Instant>,
    attempts: &mut Vec<Attempt>,
) -> Result<Reply, ServiceError> {
    let mut key = match ep.auth {
        Auth::Header => Some(
            c.secrets
                .api_key(&ep.secret_path, &ep.secret_key_name)
                .await?,
        ),
        Auth::SigV4 { .. } => None,
    };
    let redact = |e: ServiceError, key: &Option<String>| match key {
        Some(k) => e.redact(k),
        None => e,
    };
    let mut delays = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(250))
        .with_max_delay(Duration::from_secs(8))
        .with_max_times(ep.max_retries as usize)
        .build();
    let mut rotated = false;
    loop {
        let now = Instant::now();
        let latest = deadline.map(|d| d.checked_sub(SAFETY_MARGIN).unwrap_or(now));
        let remaining = latest.map(|l| l.saturating_duration_since(now));
        if remaining.is_some_and(|r| r < MIN_ATTEMPT) {
            return Err(out_of_time(attempts.len(), None));
        }
        if let Some(per_minute) = ep.rate_limit_per_minute {
            let far = latest.unwrap_or(now + Duration::from_secs(3600));
            match c.limiter.reserve(&ep.provider_id, per_minute, now, far.checked_sub(MIN_ATTEMPT).unwrap_or(now)) {
                Some(wait) if !wait.is_zero() => tokio::time::sleep(wait).await,
                Some(_) => {}
                None => {
                    return Err(ServiceError::new(
                        ErrorKind::ProviderThrottled,
                        format!("the rate limit of {per_minute} calls a minute to provider `{}` leaves no slot before the deadline", ep.provider_id),
                    ))
                }
            }
        }
        let timeout = match latest {
            Some(l) => ep.timeout.min(l.saturating_duration_since(Instant::now())),
            None => ep.timeout,
        };
        let headers = auth::headers(ep, key.as_deref(), url, &body, c.aws).await?;
        let started = Instant::now();
        let result = c.http.post(url, &headers, body.clone(), timeout).await;
        let err = match result {
            Ok(reply) if (200..300).contains(&reply.status) => {
                attempts.push(attempt(ep, Some(reply.status), None, started));
                return Ok(reply);
            }
            Ok(reply) => {
                let e = errors::classify(
                    reply.status,
                    &reply.headers,
                    &reply.body,
                    url.host_str().unwrap_or_default(),
                );
                attempts.push(attempt(ep, Some(reply.status), Some(e.kind), started));
                if matches!(reply.status, 401 | 403) && !rotated && matches!(ep.auth, Auth::Header)
                {
                    rotated = true;
                    c.secrets.invalidate(&ep.secret_path).await;
                    let fresh = c
                        .secrets
                        .api_key(&ep.secret_path, &ep.secret_key_name)
                        .await?;
                    if Some(&fresh) != key.as_ref() {
                        tracing::info!(provider = %ep.provider_id, "key refused; retrying once with the secret read again");
                        key = Some(fresh);
                        continue;
                    }
                }
                e
            }
            Err(e) => {
                attempts.push(attempt(ep, None, Some(e.kind), started));
                e
            }
        };
        let err = redact(err, &key);
        if !err.kind.is_retryable() {
            return Err(err);
        }
        let Some(base) = delays.next() else {
            return Err(err);
        };
        let jittered = Duration::from_millis(rand::rng().random_range(0..=base.as_millis() as u64));
        let asked = err
            .provider
            .as_ref()
            .and_then(|p| p.retry_after_ms)
            .map(Duration::from_millis);
        let wait = asked.map_or(jittered, |a| a.max(jittered));
        if latest.is_some_and(|l| Instant::now() + wait + MIN_ATTEMPT > l) {
            return Err(out_of_time(attempts.len(), Some(&err)));
        }
        tracing::info!(provider = %ep.provider_id, error_type = err.kind.name(), wait_ms = wait.as_millis() as u64, "retrying");
        tokio::time::sleep(wait).await;
    }
}

fn attempt(
    ep: &Endpoint,
    status: Option<u16>,
    kind: Option<ErrorKind>,
    started: Instant,
) -> Attempt {
    Attempt {
        endpoint: ep.label(),
        provider_id: ep.provider_id.clone(),
        status,
        error_type: kind.map(ErrorKind::name),
        duration_ms: started.elapsed().as_millis() as u64,
    }
}

fn out_of_time(tries: usize, last: Option<&ServiceError>) -> ServiceError {
    let mut e = ServiceError::new(
        ErrorKind::ProviderTimeout,
        format!("stopped after {tries} attempt(s): the Lambda deadline leaves no time for another"),
    );
    if let Some(last) = last {
        e.message.push_str(&format!(
            "; the last attempt: {}: {}",
            last.kind.name(),
            last.full_message()
        ));
    }
    e
}

//! The provider call: one HTTP POST of a rendered body, with its timeout, the body read up to a cap.
//! Retries, deadlines and key rotation are in `retry.rs`; errors in `errors.rs`; auth in `auth.rs`.

pub mod auth;
pub mod errors;
pub mod rate_limit;
pub mod retry;

use crate::error::{ErrorKind, ServiceError};
use crate::guard::MAX_PROVIDER_BODY_BYTES;
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::time::{Duration, Instant};

/// What came back from one HTTP exchange.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub elapsed: Duration,
}

/// One reqwest client for the container's life: its connection pool survives across invocations.
#[derive(Clone)]
pub struct HttpCaller {
    client: reqwest::Client,
}

impl Default for HttpCaller {
    fn default() -> Self {
        HttpCaller::new()
    }
}

impl HttpCaller {
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("the TLS backend initialises");
        HttpCaller { client }
    }

    /// POSTs `body` to `url`. Errors are named: a timeout is `ProviderTimeout`, a refused or reset connection
    /// `ProviderUnavailable`, an over-long body `ProviderResponseInvalid`.
    pub async fn post(
        &self,
        url: &url::Url,
        headers: &[(String, String)],
        body: Bytes,
        timeout: Duration,
    ) -> Result<Reply, ServiceError> {
        let start = Instant::now();
        let mut map = HeaderMap::with_capacity(headers.len() + 1);
        map.insert(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        for (k, v) in headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| ServiceError::invalid(format!("header name `{k}` is not valid")))?;
            let mut value = HeaderValue::from_str(v).map_err(|_| {
                ServiceError::invalid(format!("the value of header `{k}` is not valid"))
            })?;
            value.set_sensitive(true);
            map.insert(name, value);
        }
        let host = url.host_str().unwrap_or_default().to_string();
        let send = async {
            let mut resp = self
                .client
                .post(url.clone())
                .headers(map)
                .body(body)
                .send()
                .await?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let mut buf =
                Vec::with_capacity(resp.content_length().unwrap_or(4096).min(1 << 20) as usize);
            while let Some(chunk) = resp.chunk().await? {
                if buf.len() + chunk.len() > MAX_PROVIDER_BODY_BYTES {
                    return Ok(Err(ServiceError::response_invalid(format!(
                        "the provider at {host} sent a body over {} MB",
                        MAX_PROVIDER_BODY_BYTES / 1024 / 1024
                    ))));
                }
                buf.extend_from_slice(&chunk);
            }
            Ok::<_, reqwest::Error>(Ok((status, headers, Bytes::from(buf))))
        };
        match tokio::time::timeout(timeout, send).await {
            Err(_) => Err(ServiceError::new(
                ErrorKind::ProviderTimeout,
                format!(
                    "the provider at {host} did not answer within {} ms",
                    timeout.as_millis()
                ),
            )),
            Ok(Err(e)) => Err(transport_error(&host, &e, timeout)),
            Ok(Ok(Err(e))) => Err(e),
            Ok(Ok(Ok((status, headers, body)))) => Ok(Reply {
                status,
                headers,
                body,
                elapsed: start.elapsed(),
            }),
        }
    }
}

fn transport_error(host: &str, e: &reqwest::Error, timeout: Duration) -> ServiceError {
    if e.is_timeout() {
        return ServiceError::new(
            ErrorKind::ProviderTimeout,
            format!(
                "the provider at {host} did not answer within {} ms",
                timeout.as_millis()
            ),
        );
    }
    // reqwest's Display names the URL; the chain's sources say why. No header is ever in it.
    let mut why = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        why = s.to_string();
        source = s.source();
    }
    if why.is_empty() {
        why = e.to_string();
    }
    ServiceError::new(
        ErrorKind::ProviderUnavailable,
        format!("the connection to the provider at {host} failed: {why}"),
    )
}

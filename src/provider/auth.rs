//! Credentials on the request: the API key in the configured header, or AWS SigV4 (Bedrock with the
//! Lambda role's credentials).

use crate::config::{Auth, Endpoint};
use crate::error::{ErrorKind, ServiceError};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use std::time::SystemTime;

/// The headers of one request: the endpoint's own, then the credential.
pub async fn headers(
    endpoint: &Endpoint,
    key: Option<&str>,
    url: &url::Url,
    body: &[u8],
    aws: Option<&SharedCredentialsProvider>,
) -> Result<Vec<(String, String)>, ServiceError> {
    let mut headers = endpoint.headers.clone();
    match &endpoint.auth {
        Auth::Header => {
            let key = key.ok_or_else(|| {
                ServiceError::new(ErrorKind::SecretNotFound, "no API key was loaded")
            })?;
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&endpoint.auth_header_name));
            headers.push((
                endpoint.auth_header_name.clone(),
                format!("{}{key}", endpoint.auth_header_prefix),
            ));
        }
        Auth::SigV4 { region, service } => {
            let provider = aws.ok_or_else(|| {
                ServiceError::access_denied(
                    "SigV4 auth needs AWS credentials, and none are configured",
                )
            })?;
            let creds = provider.provide_credentials().await.map_err(|e| {
                ServiceError::access_denied(format!("AWS credentials could not be loaded: {e}"))
            })?;
            let identity = creds.into();
            let params = v4::SigningParams::builder()
                .identity(&identity)
                .region(region)
                .name(service)
                .time(SystemTime::now())
                .settings(SigningSettings::default())
                .build()
                .map_err(|e| ServiceError::access_denied(format!("SigV4 signing failed: {e}")))?
                .into();
            let mut to_sign: Vec<(String, String)> = headers.clone();
            to_sign.push(("content-type".into(), "application/json".into()));
            let signable = SignableRequest::new(
                "POST",
                url.as_str(),
                to_sign.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                SignableBody::Bytes(body),
            )
            .map_err(|e| ServiceError::access_denied(format!("SigV4 signing failed: {e}")))?;
            let (instructions, _) = sign(signable, &params)
                .map_err(|e| ServiceError::access_denied(format!("SigV4 signing failed: {e}")))?
                .into_parts();
            for (name, value) in instructions.headers() {
                headers.push((name.to_string(), value.to_string()));
            }
        }
    }
    Ok(headers)
}

//! Secrets from AWS Secrets Manager through the SDK (honours `AWS_ENDPOINT_URL`).

use super::{FetchError, SecretSource};
use async_trait::async_trait;
use aws_sdk_secretsmanager::error::{DisplayErrorContext, SdkError};
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use aws_sdk_secretsmanager::Client;

pub struct AwsSecrets {
    client: Client,
}

impl AwsSecrets {
    pub fn new(client: Client) -> Self {
        AwsSecrets { client }
    }
}

#[async_trait]
impl SecretSource for AwsSecrets {
    async fn fetch(&self, secret_id: &str) -> Result<String, FetchError> {
        match self
            .client
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await
        {
            Ok(out) => out
                .secret_string
                .ok_or_else(|| FetchError::Unavailable("the secret has no string value".into())),
            Err(SdkError::ServiceError(e)) => match e.err() {
                GetSecretValueError::ResourceNotFoundException(_) => Err(FetchError::NotFound),
                other if other.meta().code() == Some("AccessDeniedException") => {
                    Err(FetchError::Denied(
                        other
                            .meta()
                            .message()
                            .unwrap_or("access denied")
                            .to_string(),
                    ))
                }
                other => Err(FetchError::Unavailable(
                    other.meta().code().unwrap_or("error").to_string(),
                )),
            },
            Err(e) => Err(FetchError::Unavailable(DisplayErrorContext(e).to_string())),
        }
    }
}

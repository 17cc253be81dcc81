//! Builds the service once per container from the settings: AWS clients only where the settings ask for
//! AWS (tables, Secrets Manager, SigV4), so a local run touches no AWS code path.

use crate::config::{dynamo::DynamoConfigStore, local::LocalConfigStore, ConfigStore};
use crate::guard::HostPolicy;
use crate::pipeline::Service;
use crate::provider::HttpCaller;
use crate::secrets::{aws::AwsSecrets, local::FileSecrets, SecretSource, SecretStore};
use crate::settings::Settings;
use std::sync::Arc;

pub async fn service(settings: &Settings) -> Service {
    let needs_aws = settings.uses_dynamodb() || settings.secrets_file.is_none();
    let aws = if needs_aws {
        Some(aws_config_loader().load().await)
    } else {
        None
    };
    service_with_aws(settings, aws)
}

/// The AWS SDK's configuration loader, its HTTPS client on ring: the TLS crypto provider reqwest uses, so
/// the binary carries one instead of two (the SDK's default, aws-lc-rs, adds ~0.8 MB).
pub fn aws_config_loader() -> aws_config::ConfigLoader {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https)
}

/// The service with a given AWS configuration (`None`: no AWS at all; a secrets file must then be set).
pub fn service_with_aws(settings: &Settings, aws: Option<aws_config::SdkConfig>) -> Service {
    let config: Arc<dyn ConfigStore> = match (&aws, settings.uses_dynamodb()) {
        (Some(c), true) => Arc::new(DynamoConfigStore::new(
            aws_sdk_dynamodb::Client::new(c),
            settings,
        )),
        _ => Arc::new(LocalConfigStore::default()),
    };
    let source: Arc<dyn SecretSource> = match (&settings.secrets_file, &aws) {
        (Some(path), _) => Arc::new(FileSecrets::new(path)),
        (None, Some(c)) => Arc::new(AwsSecrets::new(aws_sdk_secretsmanager::Client::new(c))),
        (None, None) => Arc::new(crate::secrets::local::MemorySecrets {
            secrets: Default::default(),
        }),
    };
    with_parts(
        settings,
        config,
        source,
        aws.as_ref().and_then(|c| c.credentials_provider()),
    )
}

/// The service from given stores (tests and the CLI use this with local parts).
pub fn with_parts(
    settings: &Settings,
    config: Arc<dyn ConfigStore>,
    source: Arc<dyn SecretSource>,
    aws_credentials: Option<aws_credential_types::provider::SharedCredentialsProvider>,
) -> Service {
    match crate::transform::engine::select() {
        Ok(engine) => tracing::info!(engine = engine.name(), "JSONata engine"),
        Err(why) => tracing::warn!("{why}"),
    }
    Service {
        config,
        secrets: SecretStore::new(
            source,
            settings.secrets_cache_ttl,
            settings.allowed_secret_prefixes.clone(),
        ),
        http: HttpCaller::new(),
        hosts: HostPolicy {
            extra_hosts: settings.allowed_endpoint_hosts.clone(),
        },
        limiter: Default::default(),
        aws_credentials,
    }
}

/// JSON log lines on stdout (CloudWatch reads them), level from `RUST_LOG` (`info` by default).
pub fn init_logging() {
    let level = match std::env::var("RUST_LOG")
        .unwrap_or_default()
        .to_ascii_lowercase()
        .as_str()
    {
        "trace" => tracing::Level::TRACE,
        "debug" => tracing::Level::DEBUG,
        "warn" => tracing::Level::WARN,
        "error" => tracing::Level::ERROR,
        _ => tracing::Level::INFO,
    };
    let _ = tracing_subscriber::fmt()
        .json()
        .with_max_level(level)
        .with_current_span(false)
        .with_span_list(false)
        .without_time()
        .with_writer(std::io::stderr)
        .try_init();
}

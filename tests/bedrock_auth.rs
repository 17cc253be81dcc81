//! Bedrock auth: SigV4 with the Lambda role's credentials when the ProviderTemplate's metadata says so
//! (no key is read from any secret), and a Bedrock API key as a bearer header otherwise.

mod common;

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use common::*;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use unified_llm_service::config::local::{shipped_templates, LocalConfigStore};
use unified_llm_service::event::{self, Invocation};
use unified_llm_service::replay::{Recording, StandIn};
use unified_llm_service::secrets::local::MemorySecrets;
use unified_llm_service::settings::Settings;
use unified_llm_service::setup;

#[tokio::test]
async fn sigv4_signs_with_role_credentials_and_reads_no_secret() {
    let mut templates = shipped_templates();
    let bedrock = templates
        .iter_mut()
        .find(|t| t.provider_id == "bedrock")
        .unwrap();
    bedrock.metadata = Some(json!({"auth": "sigv4", "region": "us-west-2"}));
    let settings = Settings {
        allowed_endpoint_hosts: vec!["127.0.0.1".into()],
        ..Settings::default()
    };
    let creds = Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        Some("session-token-1".into()),
        None,
        "role",
    );
    // No secret at all: SigV4 needs none.
    let svc = setup::with_parts(
        &settings,
        Arc::new(LocalConfigStore::with_templates(templates)),
        Arc::new(MemorySecrets {
            secrets: HashMap::new(),
        }),
        Some(SharedCredentialsProvider::new(creds)),
    );
    let s = StandIn::start(vec![Recording::load(
        &root().join("tests/recordings/bedrock/text.json"),
    )
    .unwrap()])
    .await
    .unwrap();
    let model = "us.amazon.nova-micro-v1:0";
    let event = json!({"provider_config": provider_config("bedrock", model, Some(&s.base_url())), "messages": [{"role": "user", "content": "hi"}]});
    let Ok(Invocation::Chat(chat)) = event::parse(event) else {
        panic!()
    };
    let r = svc.invoke(&chat, None).await.unwrap();
    assert_eq!(
        r.finish_reason,
        unified_llm_service::model::FinishReason::Stop
    );
    let got = &s.received()[0];
    assert_eq!(
        got.path, "/model/us.amazon.nova-micro-v1%3A0/converse",
        "the model id is one encoded path segment"
    );
    let auth = &got.headers["authorization"];
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
        "{auth}"
    );
    assert!(auth.contains("/us-west-2/bedrock/aws4_request"), "{auth}");
    assert!(
        auth.contains("SignedHeaders=") && auth.contains("Signature="),
        "{auth}"
    );
    assert!(got.headers.contains_key("x-amz-date"));
    assert_eq!(got.headers["x-amz-security-token"], "session-token-1");
    assert!(
        !auth.contains("wJalrXUtnFEMI"),
        "the secret key never leaves"
    );
}

#[tokio::test]
async fn a_bedrock_api_key_goes_as_a_bearer_header() {
    let svc = local_service(Some(0));
    let s = StandIn::start(vec![Recording::load(
        &root().join("tests/recordings/bedrock/text.json"),
    )
    .unwrap()])
    .await
    .unwrap();
    let event = json!({"provider_config": provider_config("bedrock", "us.amazon.nova-micro-v1:0", Some(&s.base_url())), "messages": [{"role": "user", "content": "hi"}]});
    let Ok(Invocation::Chat(chat)) = event::parse(event) else {
        panic!()
    };
    svc.invoke(&chat, None).await.unwrap();
    assert_eq!(
        s.received()[0].headers["authorization"],
        format!("Bearer {API_KEY}")
    );
}

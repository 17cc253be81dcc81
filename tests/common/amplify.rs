//! Amplify's tables and items, created through the real DynamoDB and Secrets Manager APIs (on moto).

use super::moto::Moto;
use super::*;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use serde_json::{json, Value};
use std::time::Duration;
use unified_llm_service::event::{self, ChatEvent, Invocation};
use unified_llm_service::pipeline::Service;
use unified_llm_service::replay::{Recording, StandIn};
use unified_llm_service::settings::Settings;
use unified_llm_service::setup;

/// The secret the shipped ProviderTemplates name.
pub const SECRET: &str = "/ai-agent/llm-secrets/prod";

pub const PT: &str = "ProviderTemplate-abc123-NONE";
pub const EC: &str = "EndpointConfiguration-abc123-NONE";
pub const AMA: &str = "AgentModelAssignment-abc123-NONE";

pub async fn create_tables(db: &aws_sdk_dynamodb::Client) {
    for table in [PT, EC, AMA] {
        let mut req = db
            .create_table()
            .table_name(table)
            .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
            .attribute_definitions(attr("id"))
            .key_schema(key("id"));
        if table == PT {
            req = req
                .attribute_definitions(attr("providerId"))
                .global_secondary_indexes(
                    GlobalSecondaryIndex::builder()
                        .index_name("byProviderId")
                        .key_schema(key("providerId"))
                        .projection(
                            Projection::builder()
                                .projection_type(ProjectionType::All)
                                .build(),
                        )
                        .build()
                        .unwrap(),
                );
        }
        req.send().await.unwrap();
    }
}

fn attr(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .unwrap()
}

fn key(name: &str) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(KeyType::Hash)
        .build()
        .unwrap()
}

/// Writes `item` as Amplify does: JSON-typed fields as JSON strings, plus `__typename`, timestamps, owner.
pub async fn put(db: &aws_sdk_dynamodb::Client, table: &str, typename: &str, mut item: Value) {
    let obj = item.as_object_mut().unwrap();
    for field in [
        "availableModels",
        "defaultHeaders",
        "metadata",
        "modelParameters",
        "customHeaders",
        "testResults",
    ] {
        if let Some(v) = obj.get_mut(field) {
            if !v.is_string() && !v.is_null() {
                *v = json!(v.to_string());
            }
        }
    }
    obj.retain(|_, v| !v.is_null());
    obj.insert("__typename".into(), json!(typename));
    obj.insert("createdAt".into(), json!("2026-11-01T10:00:00.000Z"));
    obj.insert("updatedAt".into(), json!("2026-11-20T10:00:00.000Z"));
    obj.insert("owner".into(), json!("admin-sub-1234::admin"));
    let attrs: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> =
        serde_dynamo::to_item(item).unwrap();
    db.put_item()
        .table_name(table)
        .set_item(Some(attrs))
        .send()
        .await
        .unwrap();
}

/// The shipped default ProviderTemplate for `provider`, as a JSON item.
pub fn shipped(provider: &str) -> Value {
    load(&root().join(format!("templates/providers/{provider}.json")))
}

pub fn endpoint(id: &str, provider: &str, model: &str, base: &str) -> Value {
    let path = shipped(provider)["endpointPath"]
        .as_str()
        .unwrap()
        .to_string();
    json!({
        "id": id, "name": format!("{provider} {model}"), "providerId": provider, "modelId": model,
        "customEndpoint": format!("{base}{path}"), "environment": "test", "priority": 1,
        "allowedAgents": ["agent-1"], "allowedEvaluations": ["eval-1"]
    })
}

pub async fn put_secret(sm: &aws_sdk_secretsmanager::Client, id: &str, value: &str) {
    match sm
        .create_secret()
        .name(id)
        .secret_string(value)
        .send()
        .await
    {
        Ok(_) => {}
        Err(_) => {
            sm.put_secret_value()
                .secret_id(id)
                .secret_string(value)
                .send()
                .await
                .unwrap();
        }
    }
}

pub struct World {
    pub moto: Moto,
    pub db: aws_sdk_dynamodb::Client,
    pub sm: aws_sdk_secretsmanager::Client,
}

pub async fn world() -> World {
    let moto = Moto::start();
    let conf = moto.sdk_config().await;
    let db = aws_sdk_dynamodb::Client::new(&conf);
    let sm = aws_sdk_secretsmanager::Client::new(&conf);
    create_tables(&db).await;
    for p in PROVIDERS {
        put(&db, PT, "ProviderTemplate", shipped(p)).await;
    }
    let keys = json!({"OPENAI_API_KEY": API_KEY, "ANTHROPIC_API_KEY": API_KEY, "GEMINI_API_KEY": API_KEY, "BEDROCK_API_KEY": API_KEY});
    put_secret(&sm, SECRET, &keys.to_string()).await;
    World { moto, db, sm }
}

impl World {
    pub async fn service(&self, ttl: Duration) -> Service {
        let settings = Settings {
            provider_template_table: Some(PT.into()),
            endpoint_configuration_table: Some(EC.into()),
            agent_model_assignment_table: Some(AMA.into()),
            provider_template_index: "byProviderId".into(),
            secrets_cache_ttl: ttl,
            allowed_secret_prefixes: vec!["/ai-agent/llm-secrets/".into()],
            allowed_endpoint_hosts: vec!["127.0.0.1".into()],
            ..Settings::default()
        };
        setup::service_with_aws(&settings, Some(self.moto.sdk_config().await))
    }

    pub async fn put_template(&self, item: Value) {
        put(&self.db, PT, "ProviderTemplate", item).await
    }

    pub async fn put_endpoint(&self, item: Value) {
        put(&self.db, EC, "EndpointConfiguration", item).await
    }

    pub async fn put_assignment(&self, item: Value) {
        put(&self.db, AMA, "AgentModelAssignment", item).await
    }
}

pub fn chat(v: Value) -> Box<ChatEvent> {
    match event::parse(v).unwrap() {
        Invocation::Chat(c) => c,
        _ => unreachable!(),
    }
}

pub fn hello(extra: Value) -> Box<ChatEvent> {
    let mut e = json!({"messages": [{"role": "user", "content": "hello"}]});
    e.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    chat(e)
}

/// An inline `provider_config` whose key lives in the Secrets Manager secret.
pub fn inline(provider: &str, model: &str, base: &str) -> Value {
    let mut c = provider_config(provider, model, Some(base));
    c["secret_path"] = json!(SECRET);
    c
}

pub async fn stand_in(provider: &str) -> StandIn {
    StandIn::start(vec![Recording::load(
        &root().join(format!("tests/recordings/{provider}/text.json")),
    )
    .unwrap()])
    .await
    .unwrap()
}

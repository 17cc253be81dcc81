//! Amplify's tables and items, created through the real DynamoDB and Secrets Manager APIs (on moto).

use aws_sdk_dynamodb::types::{
    AttributeDefinition, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use serde_json::{json, Value};

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
    crate::common::load(&crate::common::root().join(format!("templates/providers/{provider}.json")))
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

//! Admin actions: template validation (Lambda action, AppSync operation and CLI) tells an admin what to fix
//! and where; a connection test goes through the whole pipeline and writes its outcome to the endpoint item.

mod common;

use common::amplify::*;
use common::*;
use serde_json::{json, Value};
use std::time::Duration;
use unified_llm_service::lambda;
use unified_llm_service::replay::{Recording, StandIn};

async fn validate(template: Value, extra: Value) -> Value {
    let svc = local_service(None);
    let mut event = json!({"action": "validate_template", "template": template});
    event
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    lambda::handle(&svc, event, None, "test").await.unwrap()
}

#[tokio::test]
async fn the_shipped_templates_validate() {
    for p in PROVIDERS {
        let r = validate(shipped(p), json!({})).await;
        assert_eq!(r["valid"], true, "{p}: {r:#}");
        let cases = r["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 4, "the built-in sample set");
        assert!(
            cases.iter().all(|c| c["matches_builtin"] == true),
            "{p}: template and built-in agree"
        );
    }
}

#[tokio::test]
async fn a_syntax_error_is_named_with_its_position() {
    let mut t = shipped("openai");
    t["requestTemplate"] =
        json!("{\n  \"model\": model,\n  \"messages\": messages.{ \"role\": role ]\n}");
    let r = validate(t, json!({})).await;
    assert_eq!(r["valid"], false);
    let err = r["expressions"]["requestTemplate"]["error"]
        .as_str()
        .unwrap();
    assert!(
        err.contains("openai_v1.requestTemplate") && err.contains("does not compile"),
        "{err}"
    );
    assert!(err.contains("line 3"), "the position is given: {err}");
    assert_eq!(r["expressions"]["requestTemplate"]["source"], "stored");
}

#[tokio::test]
async fn a_body_missing_a_required_field_is_named() {
    let mut t = shipped("anthropic");
    t["requestTemplate"] = json!(
        "{\"model\": model, \"messages\": [messages.{\"role\": role, \"content\": content}]}"
    );
    let r = validate(t, json!({})).await;
    assert_eq!(r["valid"], false);
    let problems = r["cases"][0]["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.as_str().unwrap().contains("no `max_tokens`")),
        "{problems:?}"
    );
}

#[tokio::test]
async fn a_failing_response_mapping_is_named() {
    let mut t = shipped("openai");
    t["responseMapping"] = json!("{\"content\": choices[0].message.content, \"usage\": {\"input_tokens\": $number(usage.prompt_tokens & \"x\")}}");
    let body = load(&root().join("tests/recordings/openai/text.json"))["body"].clone();
    let r = validate(t.clone(), json!({"response": body})).await;
    assert_eq!(r["valid"], false);
    assert_eq!(r["response"]["ok"], false);
    assert_eq!(r["response"]["error"]["type"], "TemplateError", "{r:#}");
    assert!(r["response"]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("openai_v1.responseMapping"));

    // A mapping that runs but gives no finish reason: the admin is told that is what is missing.
    t["responseMapping"] = json!("{\"content\": choices[0].message.content}");
    let r = validate(t, json!({"response": body})).await;
    assert!(
        r["response"]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no finish reason"),
        "{r:#}"
    );
}

#[tokio::test]
async fn validation_warns_about_known_gaps_and_takes_sample_requests() {
    let mut t = shipped("openai");
    t["requestTemplate"] = json!(
        "{\"model\": model, \"messages\": [{\"role\": \"user\", \"content\": $string($now())}]}"
    );
    let r = validate(
        t,
        json!({"requests": [{"messages": [{"role": "user", "content": "one"}]}]}),
    )
    .await;
    assert_eq!(
        r["expressions"]["requestTemplate"]["warnings"][0]["construct"],
        "$now("
    );
    assert_eq!(r["cases"].as_array().unwrap().len(), 1);
    assert_eq!(r["cases"][0]["matches_builtin"], false);
}

#[tokio::test]
async fn the_appsync_operations_are_for_admins_only() {
    let svc = local_service(None);
    let op = |groups: Value| {
        json!({"typeName": "Query", "fieldName": "validateTemplate", "arguments": {"template": shipped("gemini").to_string()},
               "identity": {"sub": "u1", "username": "ana", "groups": groups}})
    };
    let r = lambda::handle(&svc, op(json!(["admin"])), None, "t")
        .await
        .unwrap();
    assert_eq!(r["valid"], true);
    let e = lambda::handle(&svc, op(json!(["viewers"])), None, "t")
        .await
        .unwrap_err();
    assert_eq!(e.kind.name(), "AccessDenied");
}

#[test]
fn the_cli_checks_a_template_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut bad = shipped("bedrock");
    bad["requestTemplate"] = json!("{\"messages\": messages.(");
    let path = dir.path().join("bad.json");
    std::fs::write(&path, bad.to_string()).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_unified-llm"))
            .args(args)
            .output()
            .unwrap()
    };
    let ok = run(&[
        "template",
        "check",
        "templates/providers/openai.json",
        "--response",
        "tests/recordings/openai/tool_single.json",
    ]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let report: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(report["response"]["mapped"]["finish_reason"], "tool_calls");
    let bad = run(&["template", "check", path.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(report["valid"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_test_writes_its_outcome_to_the_endpoint() {
    let w = world().await;
    let svc = w.service(Duration::from_secs(300)).await;
    let s = StandIn::start(vec![Recording::load(
        &root().join("tests/recordings/openai/text.json"),
    )
    .unwrap()])
    .await
    .unwrap();
    w.put_endpoint(endpoint("ep-o", "openai", "gpt-4o", &s.base_url()))
        .await;
    let r = lambda::handle(
        &svc,
        json!({"action": "test_connection", "endpoint_id": "ep-o"}),
        None,
        "t",
    )
    .await
    .unwrap();
    assert_eq!(r["connectionStatus"], "connected");
    let sent = &s.received()[0].body;
    assert_eq!(sent["max_tokens"], 16, "a minimal request");
    let item = get(&w.db, "ep-o").await;
    assert_eq!(item["connectionStatus"], "connected");
    assert_eq!(item["lastTestedAt"], r["lastTestedAt"]);
    let results: Value = serde_json::from_str(item["testResults"].as_str().unwrap()).unwrap();
    assert_eq!(results["status"], "ok");
    assert!(results["answer"].is_string() && results["latency_ms"].is_u64());

    // A provider that is down: the failure is recorded, with the error, and returned.
    s.set_answers(vec![Recording {
        status: Some(503),
        body: Some(json!({"error": {"message": "down"}})),
        ..Default::default()
    }]);
    let mut pt = shipped("openai");
    pt["maxRetries"] = json!(0);
    w.put_template(pt).await;
    let r = lambda::handle(
        &svc,
        json!({"action": "test_connection", "endpoint_id": "ep-o"}),
        None,
        "t",
    )
    .await
    .unwrap();
    assert_eq!(r["connectionStatus"], "disconnected");
    let item = get(&w.db, "ep-o").await;
    assert_eq!(item["connectionStatus"], "disconnected");
    let results: Value = serde_json::from_str(item["testResults"].as_str().unwrap()).unwrap();
    assert_eq!(results["status"], "ProviderUnavailable");
    assert_eq!(results["http_status"], 503);

    let e = lambda::handle(
        &svc,
        json!({"action": "test_connection", "endpoint_id": "nope"}),
        None,
        "t",
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind.name(), "ConfigNotFound");
}

async fn get(db: &aws_sdk_dynamodb::Client, id: &str) -> Value {
    let out = db
        .get_item()
        .table_name(EC)
        .key("id", aws_sdk_dynamodb::types::AttributeValue::S(id.into()))
        .send()
        .await
        .unwrap();
    serde_dynamo::from_item(out.item.unwrap()).unwrap()
}

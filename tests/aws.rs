//! Configuration from DynamoDB through the real AWS SDK, against moto's server on loopback, with items in
//! Amplify's shape and a stand-in provider over HTTP.

mod common;

use common::amplify::*;
use common::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_event_forms_for_all_four_providers() {
    let w = world().await;
    let svc = w.service(Duration::from_secs(300)).await;
    for p in PROVIDERS {
        let s = stand_in(p).await;
        let mut pt = shipped(p);
        pt["defaultHeaders"] = json!({"x-team": "agents"});
        w.put_template(pt).await;
        let model = model_for(p, "");
        w.put_endpoint(endpoint(&format!("ep-{p}"), p, model, &s.base_url()))
            .await;
        w.put_assignment(json!({"id": format!("agent-{p}"), "agentId": format!("agent-{p}"), "endpointIds": [format!("ep-{p}")]})).await;

        let by_endpoint = svc
            .invoke(
                &hello(json!({"endpoint_id": format!("ep-{p}"), "agent_id": "agent-1"})),
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            by_endpoint.metadata.endpoint_id.as_deref(),
            Some(format!("ep-{p}").as_str())
        );
        assert_eq!(by_endpoint.metadata.model_id, model);
        let by_eval = svc
            .invoke(
                &hello(json!({"endpoint_id": format!("ep-{p}"), "evaluation_id": "eval-1"})),
                None,
            )
            .await
            .unwrap();
        assert_eq!(by_eval.finish_reason, by_endpoint.finish_reason);
        // An agent whose assignment lists this endpoint, and whom the endpoint allows.
        let mut ec = endpoint(&format!("ep-{p}"), p, model, &s.base_url());
        ec["allowedAgents"] = json!(["agent-1", format!("agent-{p}")]);
        w.put_endpoint(ec).await;
        let by_agent = svc
            .invoke(&hello(json!({"agent_id": format!("agent-{p}")})), None)
            .await
            .unwrap();
        assert_eq!(by_agent.metadata.provider_id, p);
        let inline = svc
            .invoke(
                &hello(json!({"provider_config": inline(p, model, &s.base_url())})),
                None,
            )
            .await
            .unwrap();
        assert_eq!(inline.metadata.provider_id, p);
        let got = s.received();
        assert_eq!(got.len(), 4, "{p}");
        assert!(
            got.iter()
                .all(|r| r.headers.get("x-team").map(String::as_str) == Some("agents")),
            "{p}: the stored defaultHeaders are sent in both forms"
        );
        assert!(
            got.iter()
                .all(|r| r.headers.values().any(|v| v.contains(API_KEY))),
            "{p}: the key from Secrets Manager is sent"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_overrides_win_and_the_event_wins_over_them() {
    let w = world().await;
    let svc = w.service(Duration::from_secs(300)).await;
    let s = stand_in("openai").await;
    let mut ec = endpoint("ep-o", "openai", "gpt-4o", &s.base_url());
    ec["customHeaders"] = json!({"x-custom": "yes"});
    ec["modelParameters"] = json!({"temperature": 0.3, "max_tokens": 77});
    ec["customTimeout"] = json!(12);
    w.put_endpoint(ec).await;
    svc.invoke(
        &hello(json!({"endpoint_id": "ep-o", "agent_id": "agent-1"})),
        None,
    )
    .await
    .unwrap();
    svc.invoke(
        &hello(json!({"endpoint_id": "ep-o", "agent_id": "agent-1", "max_tokens": 5})),
        None,
    )
    .await
    .unwrap();
    let got = s.received();
    assert_eq!(
        got[0].headers.get("x-custom").map(String::as_str),
        Some("yes")
    );
    assert_eq!(got[0].body["temperature"], json!(0.3));
    assert_eq!(got[0].body["max_tokens"], json!(77));
    assert_eq!(
        got[1].body["max_tokens"],
        json!(5),
        "the event overrides modelParameters"
    );
    assert_eq!(got[1].body["temperature"], json!(0.3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_name_what_is_wrong() {
    let w = world().await;
    let svc = w.service(Duration::from_secs(300)).await;
    let s = stand_in("openai").await;
    w.put_endpoint(endpoint("ep-o", "openai", "gpt-4o", &s.base_url()))
        .await;
    let mut bad = endpoint("ep-bad", "openai", "gpt-4o", &s.base_url());
    bad["modelParameters"] = json!("{not json");
    w.put_endpoint(bad).await;
    w.put_endpoint(endpoint(
        "ep-a",
        "anthropic",
        "claude-sonnet-4-5-20250929",
        &s.base_url(),
    ))
    .await;
    let mut inactive = shipped("anthropic");
    inactive["isActive"] = json!(false);
    w.put_template(inactive).await;
    let cases = [
        (
            json!({"endpoint_id": "ep-o", "agent_id": "agent-2"}),
            "AccessDenied",
            "does not allow agent `agent-2`",
        ),
        (
            json!({"endpoint_id": "ep-o", "evaluation_id": "eval-9"}),
            "AccessDenied",
            "evaluation `eval-9`",
        ),
        (
            json!({"endpoint_id": "ep-o"}),
            "AccessDenied",
            "names no agent_id",
        ),
        (
            json!({"endpoint_id": "ep-missing", "agent_id": "agent-1"}),
            "ConfigNotFound",
            &format!("no EndpointConfiguration `ep-missing` in table {EC}"),
        ),
        (
            json!({"agent_id": "agent-nobody"}),
            "ConfigNotFound",
            &format!("no AgentModelAssignment `agent-nobody` in table {AMA}"),
        ),
        (
            json!({"endpoint_id": "ep-bad", "agent_id": "agent-1"}),
            "ConfigNotFound",
            "`modelParameters` is not valid JSON",
        ),
        (
            json!({"endpoint_id": "ep-a", "agent_id": "agent-1"}),
            "ConfigNotFound",
            "is inactive",
        ),
    ];
    for (event, kind, words) in cases {
        let e = svc
            .invoke(&hello(event.clone()), None)
            .await
            .expect_err(&event.to_string());
        assert_eq!(e.kind.name(), kind, "{event}: {e}");
        assert!(
            e.full_message().contains(words),
            "{event}: `{}` should say `{words}`",
            e.full_message()
        );
    }
    assert!(
        s.received().is_empty(),
        "no refused call reached the provider"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_template_takes_effect_on_the_next_invocation() {
    let w = world().await;
    let svc = w.service(Duration::from_secs(300)).await;
    let s = stand_in("openai").await;
    w.put_endpoint(endpoint("ep-o", "openai", "gpt-4o", &s.base_url()))
        .await;
    for version in ["v1", "v2"] {
        let mut pt = shipped("openai");
        pt["requestTemplate"] = json!(format!("{{\"model\": model, \"messages\": [{{\"role\": \"user\", \"content\": \"{version}\"}}]}}"));
        w.put_template(pt).await;
        let r = svc
            .invoke(
                &hello(json!({"endpoint_id": "ep-o", "agent_id": "agent-1"})),
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            r.metadata.transform,
            unified_llm_service::model::TransformPath::Template
        );
    }
    let got = s.received();
    assert_eq!(got[0].body["messages"][0]["content"], "v1");
    assert_eq!(got[1].body["messages"][0]["content"], "v2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lambda_binary_reads_dynamodb_and_secrets_manager_through_aws_endpoint_url() {
    use common::runtime_api::{spawn_function, RuntimeApi};
    let w = world().await;
    let s = stand_in("openai").await;
    w.put_endpoint(endpoint("ep-o", "openai", "gpt-4o", &s.base_url()))
        .await;
    let api = RuntimeApi::start().await;
    let mut child = spawn_function(
        &api,
        &[
            ("AWS_ENDPOINT_URL", w.moto.url.clone()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("PROVIDER_TEMPLATE_TABLE", PT.into()),
            ("ENDPOINT_CONFIGURATION_TABLE", EC.into()),
            ("AGENT_MODEL_ASSIGNMENT_TABLE", AMA.into()),
            ("ALLOWED_SECRET_PREFIXES", "/ai-agent/llm-secrets/".into()),
            ("ALLOWED_ENDPOINT_HOSTS", "127.0.0.1".into()),
        ],
    );
    let t = Duration::from_secs(20);
    let msg = json!([{"role": "user", "content": "hello"}]);
    let by_ref = api
        .invoke(
            json!({"endpoint_id": "ep-o", "agent_id": "agent-1", "messages": msg}),
            t,
        )
        .await
        .unwrap();
    assert_eq!(by_ref["metadata"]["endpoint_id"], "ep-o");
    let inline = api
        .invoke(
            json!({"provider_config": inline("openai", "gpt-4o", &s.base_url()), "messages": msg}),
            t,
        )
        .await
        .unwrap();
    assert_eq!(inline["finish_reason"], "stop");
    let denied = api
        .invoke(
            json!({"endpoint_id": "ep-o", "agent_id": "agent-x", "messages": msg}),
            t,
        )
        .await
        .unwrap_err();
    assert_eq!(denied["errorType"], "AccessDenied");
    let missing = api
        .invoke(
            json!({"endpoint_id": "nope", "agent_id": "agent-1", "messages": msg}),
            t,
        )
        .await
        .unwrap_err();
    assert_eq!(missing["errorType"], "ConfigNotFound");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(s.received().len(), 2);
}

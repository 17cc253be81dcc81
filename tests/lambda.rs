//! The real Lambda binary under a Lambda Runtime API on loopback, against a stand-in provider: the
//! two state-machine payloads of `examples/` for all four providers, and the named errors a state machine catches.

mod common;

use common::runtime_api::Harness;
use common::*;
use serde_json::{json, Value};
use std::time::Duration;
use unified_llm_service::replay::{Recording, StandIn};

const T: Duration = Duration::from_secs(20);

/// An example event with its endpoint pointed at the stand-in.
fn example(name: &str, base: &str) -> Value {
    let mut event = load(&root().join("examples").join(format!("{name}.json")));
    let endpoint = event["provider_config"]["endpoint"]
        .as_str()
        .unwrap()
        .to_string();
    let path = url::Url::parse(&endpoint.replace("{model_id}", "MODEL"))
        .unwrap()
        .path()
        .replace("MODEL", "{model_id}");
    event["provider_config"]["endpoint"] = json!(format!("{base}{path}"));
    event
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_state_machine_payloads_work_for_every_provider() {
    let h = Harness::start().await;
    for provider in PROVIDERS {
        for (flow, recording, finish) in [
            ("agent", "tool_single", "tool_calls"),
            ("evaluation", "text", "stop"),
        ] {
            let rec = Recording::load(
                &root().join(format!("tests/recordings/{provider}/{recording}.json")),
            )
            .unwrap();
            let stand_in = StandIn::start(vec![rec]).await.unwrap();
            let event = example(&format!("{flow}-{provider}"), &stand_in.base_url());
            let out = h
                .api
                .invoke(event, T)
                .await
                .unwrap_or_else(|e| panic!("{flow}-{provider}: {e}"));
            assert_eq!(out["finish_reason"], finish, "{flow}-{provider}: {out}");
            assert_eq!(out["metadata"]["provider_id"], provider);
            assert!(
                out["metadata"]["tokens_used"]["input_tokens"]
                    .as_u64()
                    .unwrap()
                    > 0
            );
            let got = stand_in.received();
            assert_eq!(got.len(), 1, "{flow}-{provider}: one provider call");
            let sent_key = got[0].headers.values().any(|v| v.contains(API_KEY));
            assert!(
                sent_key,
                "{flow}-{provider}: the key went in the auth header"
            );
            if flow == "agent" {
                assert_eq!(out["function_calls"], out["message"]["tool_calls"]);
                assert!(!out["function_calls"].as_array().unwrap().is_empty());
            }
        }
    }
    assert!(h.api.polls() >= 8, "one container served every invocation");
    let logs = h.logs();
    assert!(!logs.contains(API_KEY), "no key in the logs");
    assert!(
        logs.contains("\"message\":\"invocation\""),
        "one summary line per invocation: {logs}"
    );
    assert!(!logs.contains("Lisbon"), "no message contents in the logs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_events_get_named_errors_not_panics() {
    let h = Harness::start().await;
    let stand_in = StandIn::start(vec![Recording::load(
        &root().join("tests/recordings/openai/text.json"),
    )
    .unwrap()])
    .await
    .unwrap();
    let good = example("evaluation-openai", &stand_in.base_url());
    let with = |f: &dyn Fn(&mut Value)| {
        let mut e = good.clone();
        f(&mut e);
        e
    };
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "not an object",
            json!([1, 2]),
            "InvalidInvocation",
            "JSON object",
        ),
        (
            "no messages",
            with(&|e| {
                e.as_object_mut().unwrap().remove("messages");
            }),
            "InvalidInvocation",
            "`messages` is missing",
        ),
        (
            "empty messages",
            with(&|e| e["messages"] = json!([])),
            "InvalidInvocation",
            "`messages` is empty",
        ),
        (
            "messages of wrong type",
            with(&|e| e["messages"] = json!("hi")),
            "InvalidInvocation",
            "must be an array",
        ),
        (
            "unknown role",
            with(&|e| e["messages"][0]["role"] = json!("wizard")),
            "InvalidInvocation",
            "unknown role `wizard`",
        ),
        (
            "empty user content",
            with(&|e| e["messages"][0]["content"] = json!("")),
            "InvalidInvocation",
            "empty content",
        ),
        (
            "temperature of wrong type",
            with(&|e| e["temperature"] = json!("hot")),
            "InvalidInvocation",
            "`temperature`",
        ),
        (
            "unknown field",
            with(&|e| e["frequency_penalty"] = json!(0.5)),
            "InvalidInvocation",
            "frequency_penalty",
        ),
        (
            "unknown transformer",
            with(&|e| e["provider_config"]["request_transformer"] = json!("cohere_v9")),
            "InvalidInvocation",
            "unknown transformer `cohere_v9`",
        ),
        (
            "stream asked for",
            with(&|e| e["stream"] = json!(true)),
            "InvalidInvocation",
            "stream",
        ),
        (
            "missing secret key",
            with(&|e| e["provider_config"]["secret_key_name"] = json!("NOPE")),
            "SecretNotFound",
            "no key `NOPE`",
        ),
        (
            "secret outside the prefixes",
            with(&|e| e["provider_config"]["secret_path"] = json!("/other/team")),
            "AccessDenied",
            "ALLOWED_SECRET_PREFIXES",
        ),
        (
            "host not allowed",
            with(&|e| {
                e["provider_config"]["endpoint"] =
                    json!("https://evil.example.com/v1/chat/completions")
            }),
            "AccessDenied",
            "evil.example.com",
        ),
        (
            "metadata address",
            with(&|e| e["provider_config"]["endpoint"] = json!("http://169.254.169.254/latest")),
            "AccessDenied",
            "metadata",
        ),
        (
            "by reference with no tables",
            json!({"endpoint_id": "ep-1", "messages": [{"role": "user", "content": "hi"}]}),
            "ConfigNotFound",
            "ep-1",
        ),
    ];
    for (name, event, kind, words) in cases {
        let err = h.api.invoke(event, T).await.expect_err(name);
        assert_eq!(err["errorType"], kind, "{name}: {err}");
        let msg = err["errorMessage"].as_str().unwrap();
        assert!(msg.contains(words), "{name}: `{msg}` should say `{words}`");
        assert!(!msg.contains(API_KEY), "{name}: no key in errors");
    }
    // The container is still alive and serving after all of that.
    let ok = h
        .api
        .invoke(good, T)
        .await
        .expect("a good event after the bad ones");
    assert_eq!(ok["finish_reason"], "stop");
    assert_eq!(
        stand_in.received().len(),
        1,
        "no bad event reached the provider"
    );
    assert!(!h.logs().contains(API_KEY));
}

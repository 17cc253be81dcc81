//! Issue 9 end to end, through the Lambda binary under a Runtime API and a stand-in provider: a two-turn
//! tool loop with reasoning on for each provider, the second request carrying the first turn's reasoning
//! state where the provider wants it; JSON-schema evaluations returning `message.parsed`; images and cache
//! markers in each provider's own form; an oversized answer never returned.

mod common;

use common::runtime_api::Harness;
use common::*;
use serde_json::{json, Value};
use std::time::Duration;
use unified_llm_service::replay::{Recording, StandIn};

const T: Duration = Duration::from_secs(20);

fn rec(provider: &str, case: &str) -> Recording {
    Recording::load(&root().join(format!("tests/recordings/{provider}/{case}.json"))).unwrap()
}

/// `provider_config` for the binary's secrets file (the examples' secret path).
fn config(provider: &str, model: &str, base: &str) -> Value {
    let mut c = provider_config(provider, model, Some(base));
    c["secret_path"] = json!("/ai-agent/llm-secrets/prod");
    c
}

fn weather_tools() -> Value {
    json!([{"name": "get_weather", "description": "Current weather for a city.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}])
}

/// Turn 1 -> the returned assistant message, appended as it came, with a result for each tool call -> turn 2.
async fn two_turns(h: &Harness, provider: &str, model: &str, first: &str) -> (Value, Value, Value) {
    let s = StandIn::start(vec![
        rec(provider, first),
        rec(provider, "thinking_tool_turn2"),
    ])
    .await
    .unwrap();
    let mut messages =
        vec![json!({"role": "user", "content": "What should I wear in the cities you check?"})];
    let base = json!({"provider_config": config(provider, model, &s.base_url()), "tools": weather_tools(),
                      "reasoning": {"effort": "low"}, "max_tokens": 4096});
    let mut event = base.clone();
    event["messages"] = json!(messages);
    let turn1 = h
        .api
        .invoke(event, T)
        .await
        .unwrap_or_else(|e| panic!("{provider} turn 1: {e}"));
    assert_eq!(
        turn1["finish_reason"], "tool_calls",
        "{provider}: {turn1:#}"
    );
    messages.push(turn1["message"].clone());
    for call in turn1["message"]["tool_calls"].as_array().unwrap() {
        messages.push(
            json!({"role": "tool", "tool_call_id": call["id"], "content": "{\"temp_c\": 12}"}),
        );
    }
    let mut event = base;
    event["messages"] = json!(messages);
    let turn2 = h
        .api
        .invoke(event, T)
        .await
        .unwrap_or_else(|e| panic!("{provider} turn 2: {e}"));
    let sent = s.received()[1].body.clone();
    (turn1, turn2, sent)
}

fn blocks<'a>(turn: &'a Value, kind: &str) -> Vec<&'a Value> {
    turn["message"]["reasoning"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["type"] == kind)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reasoning_state_survives_the_tool_loop_on_every_provider() {
    let h = Harness::start().await;

    // Anthropic: the thinking block, signature and all, first in the assistant turn, unmodified.
    let (t1, _, sent) = two_turns(
        &h,
        "anthropic",
        "claude-sonnet-4-5-20250929",
        "thinking_tool",
    )
    .await;
    let thinking = blocks(&t1, "thinking")[0];
    assert_eq!(thinking["provider"], "anthropic");
    let assistant = &sent["messages"][1];
    assert_eq!(assistant["role"], "assistant");
    assert_eq!(
        assistant["content"][0],
        json!({"type": "thinking", "thinking": thinking["text"], "signature": thinking["signature"]})
    );
    assert_eq!(sent["thinking"]["type"], "enabled");
    let last = &sent["messages"][2];
    assert!(
        last["content"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["type"] == "tool_result"),
        "all results in one user turn"
    );

    // Bedrock: reasoningContent first, then text, then toolUse; toolConfig present.
    let (t1, _, sent) = two_turns(
        &h,
        "bedrock",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "reasoning_tool",
    )
    .await;
    let thinking = blocks(&t1, "thinking")[0];
    let content = sent["messages"][1]["content"].as_array().unwrap();
    assert_eq!(
        content[0]["reasoningContent"]["reasoningText"]["signature"],
        thinking["signature"]
    );
    assert_eq!(
        content[0]["reasoningContent"]["reasoningText"]["text"],
        thinking["text"]
    );
    assert!(content.last().unwrap().get("toolUse").is_some());
    assert!(sent.get("toolConfig").is_some());

    // Gemini 2.5: the signature on the first functionCall part only; none forged on the others.
    let (t1, _, sent) = two_turns(&h, "gemini", "gemini-2.5-flash", "tool_parallel").await;
    let sig = blocks(&t1, "signature")[0];
    let parts = sent["contents"][1]["parts"].as_array().unwrap();
    let calls: Vec<&Value> = parts
        .iter()
        .filter(|p| p.get("functionCall").is_some())
        .collect();
    assert!(calls.len() >= 2, "{sent:#}");
    assert_eq!(calls[0]["thoughtSignature"], sig["signature"]);
    assert!(
        calls[1..]
            .iter()
            .all(|c| c.get("thoughtSignature").is_none()),
        "no forged signatures"
    );
    assert!(
        calls.iter().all(|c| c["functionCall"].get("id").is_none()),
        "Gemini 2.x ids are not sent back"
    );

    // Gemini 3: the provider's call ids go back in functionCall and functionResponse.
    let (t1, _, sent) = two_turns(&h, "gemini", "gemini-3-pro-preview", "gemini3_call_ids").await;
    let id = t1["message"]["tool_calls"][0]["id"].clone();
    let parts = sent["contents"][1]["parts"].as_array().unwrap();
    assert!(
        parts.iter().any(|p| p["functionCall"]["id"] == id),
        "{sent:#}"
    );
    let results = sent["contents"][2]["parts"].as_array().unwrap();
    assert!(
        results.iter().any(|p| p["functionResponse"]["id"] == id),
        "{sent:#}"
    );

    // OpenAI: no reasoning state, the loop still closes with reasoning_effort on both turns.
    let (_, t2, sent) = two_turns(&h, "openai", "o4-mini", "reasoning_tool").await;
    assert_eq!(sent["reasoning_effort"], "low");
    assert_eq!(t2["finish_reason"], "stop");
    assert!(!h.logs().contains(API_KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fallback_mid_loop_drops_the_other_models_signatures() {
    let h = Harness::start().await;
    let gemini = StandIn::start(vec![rec("gemini", "tool_parallel")])
        .await
        .unwrap();
    let mut messages = vec![json!({"role": "user", "content": "Weather in three cities?"})];
    let event = json!({"provider_config": config("gemini", "gemini-2.5-flash", &gemini.base_url()), "tools": weather_tools(), "messages": messages.clone()});
    let t1 = h.api.invoke(event, T).await.unwrap();
    messages.push(t1["message"].clone());
    for call in t1["message"]["tool_calls"].as_array().unwrap() {
        messages.push(json!({"role": "tool", "tool_call_id": call["id"], "content": "sunny"}));
    }
    let anthropic = StandIn::start(vec![rec("anthropic", "text")])
        .await
        .unwrap();
    let event = json!({"provider_config": config("anthropic", "claude-sonnet-4-5-20250929", &anthropic.base_url()), "tools": weather_tools(), "messages": messages, "max_tokens": 512});
    let t2 = h.api.invoke(event, T).await.unwrap();
    assert_eq!(t2["finish_reason"], "stop");
    let sent = anthropic.received()[0].body.to_string();
    assert!(
        !sent.contains("thoughtSignature") && !sent.contains("\"thinking\""),
        "no foreign reasoning state: {sent}"
    );
    assert!(sent.contains("tool_use") && sent.contains("tool_result"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_schema_evaluations_return_parsed_on_every_provider() {
    let h = Harness::start().await;
    let schema = load(&root().join("tests/requests/common/structured_json_schema.json"));
    for p in PROVIDERS {
        let s = StandIn::start(vec![rec(p, "structured")]).await.unwrap();
        let mut event = schema.clone();
        event["provider_config"] = config(p, model_for(p, ""), &s.base_url());
        let out = h
            .api
            .invoke(event, T)
            .await
            .unwrap_or_else(|e| panic!("{p}: {e}"));
        assert!(out["message"]["parsed"].is_object(), "{p}: {out:#}");
        let text: Value =
            serde_json::from_str(out["message"]["content"].as_str().unwrap()).unwrap();
        assert_eq!(out["message"]["parsed"], text, "{p}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_and_cache_markers_reach_each_provider_in_its_own_form() {
    let h = Harness::start().await;
    let multipart = load(&root().join("tests/requests/common/multipart.json"));
    let cache = load(&root().join("tests/requests/common/cache_markers.json"));
    let image_form = [
        ("openai", "image_url"),
        ("anthropic", "\"source\""),
        ("gemini", "inlineData"),
        ("bedrock", "\"bytes\""),
    ];
    for (p, marker) in image_form {
        let s = StandIn::start(vec![rec(p, "text")]).await.unwrap();
        let mut event = multipart.clone();
        event["provider_config"] = config(p, model_for(p, ""), &s.base_url());
        h.api
            .invoke(event, T)
            .await
            .unwrap_or_else(|e| panic!("{p}: {e}"));
        let mut event = cache.clone();
        event["provider_config"] = config(p, model_for(p, ""), &s.base_url());
        h.api
            .invoke(event, T)
            .await
            .unwrap_or_else(|e| panic!("{p}: {e}"));
        let got = s.received();
        assert!(
            got[0].body.to_string().contains(marker),
            "{p}: image as {marker}: {}",
            got[0].body
        );
        let cached = got[1].body.to_string();
        match p {
            "anthropic" => assert!(
                cached.matches("cache_control").count() >= 3,
                "{p}: {cached}"
            ),
            "bedrock" => assert!(cached.contains("cachePoint"), "{p}: {cached}"),
            _ => assert!(
                !cached.contains("cache_control"),
                "{p} caches by itself: {cached}"
            ),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_answer_never_comes_back() {
    let h = Harness::start().await;
    let s = StandIn::start(vec![rec("openai", "oversized")])
        .await
        .unwrap();
    let event = json!({"provider_config": config("openai", "gpt-4o", &s.base_url()), "messages": [{"role": "user", "content": "Write a lot."}]});
    let e = h.api.invoke(event, T).await.unwrap_err();
    assert_eq!(e["errorType"], "ResponseTooLarge");
    let s = StandIn::start(vec![rec("anthropic", "oversized")])
        .await
        .unwrap();
    let event = json!({"provider_config": config("anthropic", "claude-3-7-sonnet-20250219", &s.base_url()), "messages": [{"role": "user", "content": "Think hard."}], "max_tokens": 4096});
    let out = h.api.invoke(event, T).await.unwrap();
    assert!(out.to_string().len() <= 256 * 1024);
    assert_eq!(out["metadata"]["reasoning_text_dropped"], true);
    assert!(
        blocks(&out, "thinking")
            .iter()
            .all(|b| b["signature"].is_string()),
        "signatures kept"
    );
}

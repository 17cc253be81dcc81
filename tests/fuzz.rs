//! Arbitrary events and provider bodies through parsing and both transform paths: errors, never panics.

mod common;

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use unified_llm_service::config::local::LocalConfigStore;
use unified_llm_service::event::{self, Invocation};
use unified_llm_service::pipeline::render_for;
use unified_llm_service::transform::{self, builtin};

const TRANSFORMERS: [&str; 4] = ["openai_v1", "anthropic_v1", "gemini_v1", "bedrock_v1"];

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![
            Just("user"),
            Just("assistant"),
            Just("tool"),
            Just("system"),
            Just("text"),
            Just("image"),
            Just("{}"),
            Just("")
        ]
        .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let keys = prop_oneof![
            Just("role"),
            Just("content"),
            Just("type"),
            Just("text"),
            Just("tool_calls"),
            Just("id"),
            Just("name"),
            Just("arguments"),
            Just("function"),
            Just("tool_call_id"),
            Just("reasoning"),
            Just("choices"),
            Just("message"),
            Just("candidates"),
            Just("parts"),
            Just("output"),
            Just("usage"),
            Just("stop_reason"),
            Just("finish_reason"),
            Just("functionCall"),
            Just("toolUse"),
            Just("signature"),
            Just("url"),
            Just("cache_control"),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((keys, inner), 0..6).prop_map(|kv| Value::Object(
                kv.into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect::<Map<_, _>>()
            )),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_messages_never_panic(messages in any_json(), tools in any_json(), choice in any_json(), rf in any_json()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        for (provider, t) in common::PROVIDERS.iter().zip(TRANSFORMERS) {
            let mut e = json!({"provider_config": common::provider_config(provider, common::model_for(provider, ""), None)});
            e["messages"] = messages.clone();
            e["tools"] = tools.clone();
            e["tool_choice"] = choice.clone();
            e["response_format"] = rf.clone();
            if let Ok(Invocation::Chat(chat)) = event::parse(e) {
                let store = LocalConfigStore::default();
                if let Ok(eps) = rt.block_on(unified_llm_service::config::resolve(&chat, &store)) {
                    if let Ok(r) = render_for(&chat, eps[0].clone()) {
                        let _ = builtin::get(t).unwrap().render_request(&r.request);
                    }
                }
            }
        }
    }

    #[test]
    fn arbitrary_provider_bodies_never_panic(body in any_json()) {
        for t in TRANSFORMERS {
            let _ = builtin::get(t).unwrap().map_response(&body);
            let _ = transform::map_response(t, None, &body.to_string());
        }
    }

    #[test]
    fn arbitrary_top_level_events_never_panic(e in any_json()) {
        let _ = event::parse(e);
    }
}

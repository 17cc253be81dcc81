//! Every request case through both transform paths, and every recording through the whole pipeline.
//! Requests: the template and the built-in must render the same body (or the template names the case it
//! leaves to the built-in); the body is snapshotted. Recordings: each is served over loopback HTTP and the
//! unified response (or the named error) must match the recording's `expect`; the response is snapshotted.

mod common;

use common::*;
use serde_json::{json, Value};
use unified_llm_service::config::{self};
use unified_llm_service::event::{self, Invocation};
use unified_llm_service::model::UnifiedResponse;
use unified_llm_service::pipeline::render_for;
use unified_llm_service::replay::{Recording, StandIn};
use unified_llm_service::transform::{self, builtin};

fn chat(event: Value) -> Box<unified_llm_service::event::ChatEvent> {
    match event::parse(event).expect("the case parses") {
        Invocation::Chat(c) => c,
        Invocation::Action { .. } => panic!("not a chat event"),
    }
}

/// Renders one case by both paths; returns what the snapshot records.
async fn render_case(provider: &str, case: &str, event: Value, model: &str) -> Value {
    let service = local_service(None);
    let chat = chat(with_config(event, provider_config(provider, model, None)));
    let endpoints = config::resolve(&chat, service.config.as_ref())
        .await
        .expect("config resolves");
    let ep = endpoints.into_iter().next().unwrap();
    let rendered = match render_for(&chat, ep) {
        Ok(r) => r,
        Err(e) => return json!({"error": {"type": e.kind.name(), "message": e.full_message()}}),
    };
    let builtin_body = builtin::get(&format!("{provider}_v1"))
        .unwrap()
        .render_request(&rendered.request);
    match (&rendered.ran.note, builtin_body) {
        (None, Ok(b)) => assert_eq!(
            rendered.body.json(),
            b,
            "{provider}/{case}: the template and the built-in render different bodies"
        ),
        (Some(_), Ok(_)) => {}
        (_, Err(e)) => panic!("{provider}/{case}: the built-in fails: {e}"),
    }
    json!({"url": rendered.endpoint.url, "transform": rendered.ran.path, "left_to_builtin": rendered.ran.note, "body": rendered.body})
}

async fn request_cases_for(provider: &str) {
    let settings = snapshot_settings();
    for (case, event, model) in request_cases(provider) {
        let out = render_case(provider, &case, event, &model).await;
        settings.bind(|| insta::assert_json_snapshot!(format!("request__{provider}__{case}"), out));
    }
}

/// Maps a 200 body by both paths; they must agree unless the template defers.
fn both_paths_agree(provider: &str, case: &str, body: &Value) {
    let name = format!("{provider}_v1");
    let via_builtin = builtin::get(&name).unwrap().map_response(body);
    let via_template = transform::map_response(&name, None, &body.to_string());
    match (via_template, via_builtin) {
        (Ok((t, ran)), Ok(b)) if ran.note.is_none() => assert_eq!(
            t, b,
            "{provider}/{case}: template and built-in map differently"
        ),
        (Ok(_), Ok(_)) => {}
        (Err(t), Err(b)) => assert_eq!(
            t.kind, b.kind,
            "{provider}/{case}: the paths fail differently: {t} / {b}"
        ),
        (Err(t), Ok(_))
            if t.kind == unified_llm_service::error::ErrorKind::ProviderResponseInvalid => {}
        (t, b) => panic!("{provider}/{case}: template {t:?} vs built-in {b:?}"),
    }
}

fn check_expect(
    provider: &str,
    case: &str,
    got: &Result<UnifiedResponse, unified_llm_service::error::ServiceError>,
    expect: &Value,
) {
    let at = format!("{provider}/{case}");
    if let Some(kind) = expect.get("error_type").and_then(Value::as_str) {
        let e = got.as_ref().expect_err(&format!("{at}: expected {kind}"));
        assert_eq!(e.kind.name(), kind, "{at}: {e}");
        let p = e.provider.clone().unwrap_or_default();
        if let Some(s) = expect.get("provider_status").and_then(Value::as_u64) {
            assert_eq!(p.status, Some(s as u16), "{at}: status");
        }
        if let Some(c) = expect.get("provider_code").and_then(Value::as_str) {
            assert_eq!(p.code.as_deref(), Some(c), "{at}: code");
        }
        if let Some(r) = expect.get("request_id").and_then(Value::as_str) {
            assert_eq!(p.request_id.as_deref(), Some(r), "{at}: request id");
        }
        assert!(
            !e.full_message().contains(API_KEY),
            "{at}: the key leaked into the error"
        );
        return;
    }
    let r = got.as_ref().unwrap_or_else(|e| panic!("{at}: {e}"));
    let content = r
        .message
        .content
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let want = expect
        .get("content")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|c| !c.is_empty());
    assert_eq!(content, want, "{at}: content");
    let calls: Vec<Value> = r
        .message
        .tool_calls
        .iter()
        .map(|c| json!({"id": c.id, "name": c.name, "arguments": c.arguments}))
        .collect();
    let want_calls = expect.get("tool_calls").cloned().unwrap_or(json!([]));
    assert_eq!(Value::Array(calls), want_calls, "{at}: tool calls");
    assert_eq!(
        json!(r.finish_reason),
        expect["finish_reason"],
        "{at}: finish reason"
    );
    let u = &r.metadata.tokens_used;
    for (k, v) in expect["usage"].as_object().unwrap() {
        let got = match k.as_str() {
            "input_tokens" => u.input_tokens,
            "output_tokens" => u.output_tokens,
            "cache_read_input_tokens" => u.cache_read_input_tokens,
            "cache_creation_input_tokens" => u.cache_creation_input_tokens,
            "reasoning_tokens" => u.reasoning_tokens,
            _ => continue,
        };
        assert_eq!(Some(got), v.as_u64(), "{at}: usage {k}");
    }
    let blocks: Vec<Value> = r
        .message
        .reasoning
        .iter()
        .map(|b| {
            let mut v = serde_json::to_value(b).unwrap();
            v.as_object_mut()
                .unwrap()
                .retain(|k, _| k != "provider" && k != "model");
            v
        })
        .collect();
    let mut want_blocks = expect.get("reasoning").cloned().unwrap_or(json!([]));
    if expect.get("reasoning_text_dropped") == Some(&json!(true)) {
        assert!(
            r.metadata.reasoning_text_dropped,
            "{at}: reasoning text should be dropped"
        );
    }
    // Blocks compare without empty text fields, which a provider may or may not send.
    for list in [&mut want_blocks] {
        for b in list.as_array_mut().into_iter().flatten() {
            b.as_object_mut()
                .unwrap()
                .retain(|k, v| !(k == "text" && v == ""));
        }
    }
    let blocks: Vec<Value> = blocks
        .into_iter()
        .map(|mut b| {
            b.as_object_mut()
                .unwrap()
                .retain(|k, v| !(k == "text" && v == ""));
            b
        })
        .collect();
    assert_eq!(Value::Array(blocks), want_blocks, "{at}: reasoning");
    for b in &r.message.reasoning {
        assert_eq!(
            b.provider.as_deref(),
            Some(provider),
            "{at}: reasoning tagged with its provider"
        );
    }
}

async fn recordings_for(provider: &str) {
    let settings = snapshot_settings();
    let service = local_service(Some(0));
    for file in json_files(&root().join("tests/recordings").join(provider)) {
        let case = stem(&file);
        let raw = load(&file);
        let rec = Recording::load(&file).unwrap();
        if rec.status == Some(200) {
            if let Some(body) = &rec.body {
                both_paths_agree(provider, &case, body);
            }
        }
        let stand_in = StandIn::start(vec![rec]).await.unwrap();
        let event = json!({"messages": [{"role": "user", "content": "hello"}]});
        let event = with_config(
            event,
            provider_config(
                provider,
                model_for(provider, ""),
                Some(&stand_in.base_url()),
            ),
        );
        let got = service.invoke(&chat(event), None).await;
        check_expect(provider, &case, &got, &raw["expect"]);
        let snap = response_snapshot(got, stand_in.addr.port());
        settings
            .bind(|| insta::assert_json_snapshot!(format!("response__{provider}__{case}"), snap));
    }
}

/// Error messages name the stand-in's host and port; the port changes every run.
macro_rules! provider_tests {
    ($($p:ident),*) => {$(
        mod $p {
            #[tokio::test]
            async fn request_cases() {
                super::request_cases_for(stringify!($p)).await;
            }
            #[tokio::test]
            async fn recordings() {
                super::recordings_for(stringify!($p)).await;
            }
        }
    )*};
}

provider_tests!(openai, anthropic, gemini, bedrock);

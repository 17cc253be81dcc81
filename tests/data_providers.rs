//! The two providers added as data only (docs/admin-guide.md): Groq, OpenAI-compatible, served by the shipped
//! openai_v1 templates; and Cohere, whose own wire format is handled by the JSONata pair stored in its
//! ProviderTemplate (`templates/providers/cohere.json`), with no built-in and no shipped .jsonata file.
//!
//! Every request case is rendered for both and snapshotted (a case the provider cannot take gives a named
//! error, snapshotted too); every recording in `tests/recordings/{groq,cohere}/` runs through the whole
//! pipeline over loopback HTTP, is checked against its `expect` and snapshotted; and the Cohere
//! transformer is shown to be exactly its stored template, found inline and by reference.

mod common;

use common::*;
use serde_json::{json, Value};
use unified_llm_service::config::{self, local::shipped_templates, ProviderTemplate};
use unified_llm_service::error::ServiceError;
use unified_llm_service::event::{self, ChatEvent, Invocation};
use unified_llm_service::model::{TransformPath, UnifiedResponse};
use unified_llm_service::pipeline::{render_for, Service};
use unified_llm_service::replay::{Recording, StandIn};
use unified_llm_service::transform::{self, builtin};

const KEYS: [&str; 2] = ["GROQ_API_KEY", "COHERE_API_KEY"];

fn chat(event: Value) -> Box<ChatEvent> {
    match event::parse(event).expect("the case parses") {
        Invocation::Chat(c) => c,
        Invocation::Action { .. } => panic!("not a chat event"),
    }
}

/// The shipped ProviderTemplate file of `provider`, as JSON.
fn template_file(provider: &str) -> Value {
    load(&root().join(format!("templates/providers/{provider}.json")))
}

fn template_item(provider: &str) -> ProviderTemplate {
    serde_json::from_value(template_file(provider)).unwrap()
}

/// The model a case (or recording) runs on: a reasoning model for the reasoning and thinking ones, a vision
/// model for the image cases, one that takes a JSON schema for Groq's schema case, else the everyday model.
fn model_for_case(provider: &str, case: &str) -> &'static str {
    let reasoning = case.starts_with("reasoning") || case.starts_with("thinking");
    let images = matches!(case, "multipart" | "image_url_https");
    match (provider, reasoning, images) {
        ("groq", true, _) => "openai/gpt-oss-120b",
        ("groq", _, true) => "meta-llama/llama-4-scout-17b-16e-instruct",
        // Groq takes json_schema on gpt-oss, not on llama-3.3 (which takes json_object only).
        ("groq", _, _) if case == "structured_json_schema" => "openai/gpt-oss-120b",
        ("groq", _, _) => "llama-3.3-70b-versatile",
        ("cohere", true, _) => "command-a-reasoning-08-2025",
        ("cohere", _, true) => "command-a-vision-07-2025",
        ("cohere", _, _) => "command-a-03-2025",
        _ => unreachable!(),
    }
}

/// A service holding the shipped templates (with no retries) and the two providers' keys.
fn service() -> Service {
    let mut templates = shipped_templates();
    templates.iter_mut().for_each(|t| t.max_retries = Some(0));
    local_service_with_keys(templates, &KEYS)
}

fn error_json(e: &ServiceError) -> Value {
    json!({"error": {"type": e.kind.name(), "message": e.full_message()}})
}

/// Renders one case as the Lambda would; what the snapshot records.
async fn render_case(
    service: &Service,
    provider: &str,
    case: &str,
    event: Value,
    model: &str,
) -> Value {
    let config = provider_config_from_template(&template_file(provider), model, None);
    let chat = chat(with_config(event, config));
    let endpoints = match config::resolve(&chat, service.config.as_ref()).await {
        Ok(e) => e,
        Err(e) => return error_json(&e),
    };
    let rendered = match render_for(&chat, endpoints.into_iter().next().unwrap()) {
        Ok(r) => r,
        Err(e) => return error_json(&e),
    };
    match provider {
        // Groq is OpenAI's wire format: the shipped template and the built-in must agree on it too.
        "groq" => {
            if rendered.ran.note.is_none() {
                let b = builtin::get("openai_v1")
                    .unwrap()
                    .render_request(&rendered.request)
                    .unwrap_or_else(|e| panic!("groq/{case}: the built-in fails: {e}"));
                assert_eq!(
                    rendered.body.to_string(),
                    b.to_string(),
                    "groq/{case}: the openai_v1 template and built-in render different bodies"
                );
            }
        }
        // Cohere has no built-in: the stored template is the whole transformer.
        _ => assert_eq!(
            rendered.ran.path,
            TransformPath::Template,
            "{provider}/{case}"
        ),
    }
    json!({"url": rendered.endpoint.url, "transform": rendered.ran.path, "left_to_builtin": rendered.ran.note, "body": rendered.body})
}

/// The common request cases, then the provider's own (`tests/requests/<provider>/`, each naming its
/// `model_id`): `(name, event without provider_config, model)`.
fn cases(provider: &str) -> Vec<(String, Value, String)> {
    let mut out = Vec::new();
    for f in json_files(&root().join("tests/requests/common")) {
        let case = stem(&f);
        let model = model_for_case(provider, &case).to_string();
        out.push((case, load(&f), model));
    }
    for f in json_files(&root().join("tests/requests").join(provider)) {
        let mut v = load(&f);
        let model = v.as_object_mut().unwrap().remove("model_id");
        let model = model.as_ref().and_then(Value::as_str);
        let model = model
            .unwrap_or_else(|| model_for_case(provider, ""))
            .to_string();
        out.push((stem(&f), v, model));
    }
    out
}

async fn request_cases_for(provider: &str) {
    let settings = snapshot_settings();
    let service = service();
    for (case, event, model) in cases(provider) {
        let out = render_case(&service, provider, &case, event, &model).await;
        settings.bind(|| insta::assert_json_snapshot!(format!("request__{provider}__{case}"), out));
    }
}

/// The unified response (or the named error) must be what the recording's `expect` says.
fn check_expect(at: &str, got: &Result<UnifiedResponse, ServiceError>, expect: &Value) {
    if let Some(kind) = expect.get("error_type").and_then(Value::as_str) {
        let e = got.as_ref().expect_err(&format!("{at}: expected {kind}"));
        assert_eq!(e.kind.name(), kind, "{at}: {e}");
        let p = e.provider.clone().unwrap_or_default();
        if let Some(s) = expect.get("provider_status").and_then(Value::as_u64) {
            assert_eq!(p.status, Some(s as u16), "{at}: status");
        }
        let code = expect.get("provider_code").and_then(Value::as_str);
        assert_eq!(p.code.as_deref(), code, "{at}: code");
        let id = expect.get("request_id").and_then(Value::as_str);
        assert_eq!(p.request_id.as_deref(), id, "{at}: request id");
        assert!(!e.full_message().contains(API_KEY), "{at}: the key leaked");
        return;
    }
    let r = got.as_ref().unwrap_or_else(|e| panic!("{at}: {e}"));
    assert_eq!(
        r.message.content.as_deref(),
        expect["content"].as_str(),
        "{at}: content"
    );
    let calls: Vec<Value> = r
        .message
        .tool_calls
        .iter()
        .map(|c| json!({"id": c.id, "name": c.name, "arguments": c.arguments}))
        .collect();
    assert_eq!(
        Value::Array(calls),
        expect.get("tool_calls").cloned().unwrap_or(json!([])),
        "{at}: tool calls"
    );
    assert_eq!(
        r.function_calls, r.message.tool_calls,
        "{at}: function_calls"
    );
    assert_eq!(
        json!(r.finish_reason),
        expect["finish_reason"],
        "{at}: finish reason"
    );
    let mut usage = serde_json::to_value(&r.metadata.tokens_used).unwrap();
    usage.as_object_mut().unwrap().remove("total_tokens");
    assert_eq!(usage, expect["usage"], "{at}: usage");
    let blocks: Vec<Value> = r
        .message
        .reasoning
        .iter()
        .map(|b| {
            assert_eq!(b.provider.as_deref(), at.split('/').next(), "{at}: tagged");
            let mut v = serde_json::to_value(b).unwrap();
            v.as_object_mut()
                .unwrap()
                .retain(|k, _| k != "provider" && k != "model");
            v
        })
        .collect();
    assert_eq!(
        Value::Array(blocks),
        expect.get("reasoning").cloned().unwrap_or(json!([])),
        "{at}: reasoning"
    );
}

async fn recordings_for(provider: &str) {
    let settings = snapshot_settings();
    let service = service();
    let files = json_files(&root().join("tests/recordings").join(provider));
    assert!(files.len() >= 7, "{provider}: recordings are missing");
    for file in files {
        let case = stem(&file);
        let raw = load(&file);
        let rec = Recording::load(&file).unwrap();
        // Groq bodies name their model (priced by its row); Cohere's do not.
        let model = raw["body"]["model"]
            .as_str()
            .unwrap_or_else(|| model_for_case(provider, &case))
            .to_string();
        let stand_in = StandIn::start(vec![rec]).await.unwrap();
        let config = provider_config_from_template(
            &template_file(provider),
            &model,
            Some(&stand_in.base_url()),
        );
        let event = with_config(
            json!({"messages": [{"role": "user", "content": "hello"}]}),
            config,
        );
        let got = service.invoke(&chat(event), None).await;
        check_expect(&format!("{provider}/{case}"), &got, &raw["expect"]);
        let received = stand_in.received();
        assert_eq!(received.len(), 1, "{provider}/{case}: one call");
        assert_eq!(
            received[0].headers.get("authorization").map(String::as_str),
            Some(format!("Bearer {API_KEY}").as_str()),
            "{provider}/{case}: the key goes as a bearer token"
        );
        let snap = response_snapshot(got, stand_in.addr.port());
        settings
            .bind(|| insta::assert_json_snapshot!(format!("response__{provider}__{case}"), snap));
    }
}

mod groq {
    #[tokio::test]
    async fn request_cases() {
        super::request_cases_for("groq").await;
    }
    #[tokio::test]
    async fn recordings() {
        super::recordings_for("groq").await;
    }
}

mod cohere {
    #[tokio::test]
    async fn request_cases() {
        super::request_cases_for("cohere").await;
    }
    #[tokio::test]
    async fn recordings() {
        super::recordings_for("cohere").await;
    }
}

fn hello(config: Value) -> Box<ChatEvent> {
    chat(with_config(
        json!({"messages": [{"role": "user", "content": "hello"}]}),
        config,
    ))
}

/// `cohere_v2` names no built-in and no shipped template: without Cohere's stored ProviderTemplate the
/// transformer is unknown, and with it (found by `provider_id`) the stored pair is the whole transformer.
#[tokio::test]
async fn the_cohere_transformer_is_its_stored_template() {
    assert!(builtin::get("cohere_v2").is_none());
    assert!(!transform::is_known("cohere_v2"));
    let config = provider_config_from_template(&template_file("cohere"), "command-a-03-2025", None);

    let others: Vec<ProviderTemplate> = shipped_templates()
        .into_iter()
        .filter(|t| t.provider_id != "cohere")
        .collect();
    let without = local_service_with_keys(others, &KEYS);
    let e = without.render(&hello(config.clone())).await.unwrap_err();
    assert_eq!(e.kind.name(), "InvalidInvocation", "{e}");
    assert!(e.message.contains("unknown transformer `cohere_v2`"), "{e}");

    let only = local_service_with_keys(vec![template_item("cohere")], &KEYS);
    let r = only.render(&hello(config)).await.unwrap();
    assert_eq!(r.ran.path, TransformPath::Template);
    assert_eq!(
        r.body.json(),
        json!({"model": "command-a-03-2025", "messages": [{"role": "user", "content": "hello"}]})
    );
}

/// The same file's response mapping, called as the service calls it: the stored text wins, by name.
#[test]
fn the_cohere_mapping_is_found_by_its_transformer_name() {
    let t = template_item("cohere");
    let raw = load(&root().join("tests/recordings/cohere/tool_single.json"))["body"].clone();
    let (mapped, ran) =
        transform::map_response("cohere_v2", t.response_mapping.as_deref(), &raw.to_string())
            .unwrap();
    assert_eq!(ran.path, TransformPath::Template);
    assert_eq!(mapped.tool_calls[0].name, "lookup_order_status");
    let e = transform::map_response("cohere_v2", None, &raw.to_string()).unwrap_err();
    assert_eq!(e.kind.name(), "InvalidInvocation", "{e}");
}

/// Precedence: a template stored with the provider wins over the shipped one of its transformer. Groq's
/// item names openai_v1; an admin who stores a `requestTemplate` on it changes Groq's bodies only.
#[tokio::test]
async fn a_stored_template_wins_over_the_shipped_one() {
    let mut groq = template_item("groq");
    groq.request_template = Some(format!(
        "/* Groq: the OpenAI body plus Groq's own service_tier */ $merge([{}, {{\"service_tier\": \"flex\"}}])",
        transform::shipped_request_template("openai_v1").unwrap()
    ));
    let svc = local_service_with_keys(vec![groq, template_item("openai")], &KEYS);
    let config =
        provider_config_from_template(&template_file("groq"), "llama-3.3-70b-versatile", None);
    let r = svc.render(&hello(config)).await.unwrap();
    assert_eq!(r.body.json()["service_tier"], "flex");
    assert_eq!(r.body.json()["messages"][0]["content"], "hello");
    let openai = provider_config("openai", "gpt-4o", None);
    let o = svc.render(&hello(openai)).await.unwrap();
    assert!(
        o.body.json().get("service_tier").is_none(),
        "openai keeps the shipped template"
    );
}

/// By reference, from Amplify's tables in DynamoDB (moto's server): the EndpointConfiguration names the
/// provider, whose stored ProviderTemplate item brings its URL, key name and JSONata pair. Needs moto's
/// server (`MOTO_SERVER`, or `moto_server` on PATH; ./scripts/test.sh installs it); skipped without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_reference_from_dynamodb() {
    use common::amplify::{create_tables, endpoint, put, AMA, EC, PT};
    use std::sync::Arc;
    use unified_llm_service::config::dynamo::DynamoConfigStore;
    use unified_llm_service::secrets::local::MemorySecrets;
    use unified_llm_service::settings::Settings;

    let found = std::env::var("MOTO_SERVER").is_ok()
        || std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("moto_server").is_file()));
    if !found {
        eprintln!("by_reference_from_dynamodb: skipped, moto's server is not installed (./scripts/test.sh installs it)");
        return;
    }
    let moto = common::moto::Moto::start();
    let db = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    create_tables(&db).await;
    let settings = Settings {
        provider_template_table: Some(PT.into()),
        endpoint_configuration_table: Some(EC.into()),
        agent_model_assignment_table: Some(AMA.into()),
        provider_template_index: "byProviderId".into(),
        allowed_endpoint_hosts: vec!["127.0.0.1".into()],
        ..Settings::default()
    };
    let keys: serde_json::Map<String, Value> = KEYS
        .iter()
        .map(|k| (k.to_string(), json!(API_KEY)))
        .collect();
    let svc = unified_llm_service::setup::with_parts(
        &settings,
        Arc::new(DynamoConfigStore::new(db.clone(), &settings)),
        Arc::new(MemorySecrets {
            secrets: [(
                "/ai-agent/llm-secrets/prod".to_string(),
                Value::Object(keys).to_string(),
            )]
            .into(),
        }),
        None,
    );
    for (provider, model) in [
        ("cohere", "command-a-03-2025"),
        ("groq", "llama-3.3-70b-versatile"),
    ] {
        let rec =
            Recording::load(&root().join(format!("tests/recordings/{provider}/tool_single.json")))
                .unwrap();
        let stand_in = StandIn::start(vec![rec]).await.unwrap();
        put(&db, PT, "ProviderTemplate", template_file(provider)).await;
        put(
            &db,
            EC,
            "EndpointConfiguration",
            endpoint(
                &format!("ep-{provider}"),
                provider,
                model,
                &stand_in.base_url(),
            ),
        )
        .await;
        let event = chat(json!({
            "endpoint_id": format!("ep-{provider}"), "agent_id": "agent-1",
            "messages": [{"role": "user", "content": "Where is order A-10482?"}]
        }));
        let r = svc.invoke(&event, None).await.unwrap();
        assert_eq!(
            r.metadata.endpoint_id.as_deref(),
            Some(format!("ep-{provider}").as_str())
        );
        assert_eq!(r.metadata.transform, TransformPath::Template, "{provider}");
        assert_eq!(
            r.message.tool_calls[0].name, "lookup_order_status",
            "{provider}"
        );
        let sent = &stand_in.received()[0];
        assert_eq!(
            sent.body["messages"][0],
            json!({"role": "user", "content": "Where is order A-10482?"}),
            "{provider}"
        );
        assert_eq!(
            sent.headers.get("authorization").map(String::as_str),
            Some(format!("Bearer {API_KEY}").as_str())
        );
    }
}

/// The template tells the caller's mistakes (`$refuse`: InvalidInvocation) from the admin's (`$error`:
/// TemplateError, naming the template): a Cohere model row that is not budget-style cannot carry reasoning.
#[tokio::test]
async fn cohere_refusals_tell_the_callers_mistake_from_the_admins() {
    let mut item = template_file("cohere");
    item["availableModels"] = json!([{"id": "command-a-reasoning-08-2025", "thinking": "effort"}]);
    let svc = local_service_with_keys(vec![serde_json::from_value(item).unwrap()], &KEYS);
    let config = |model: &str| provider_config_from_template(&template_file("cohere"), model, None);
    let ask = |config: Value, extra: Value| {
        let mut e = json!({"messages": [{"role": "user", "content": "hello"}]});
        e.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        chat(with_config(e, config))
    };
    let e = svc
        .render(&ask(
            config("command-a-reasoning-08-2025"),
            json!({"reasoning": {"effort": "low"}}),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.kind.name(), "TemplateError", "{e}");
    assert!(
        e.message.contains("cohere_v2.requestTemplate")
            && e.message
                .contains("Cohere takes reasoning as a token budget"),
        "{e}"
    );
    let e = svc
        .render(&ask(
            config("command-a-03-2025"),
            json!({"parallel_tool_calls": false}),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.kind.name(), "InvalidInvocation", "{e}");
}

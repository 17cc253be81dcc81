//! Shared test helpers: provider configs, the request cases and recordings on disk, a local service.
#![allow(dead_code)]

pub mod amplify;
pub mod moto;
pub mod runtime_api;

use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use unified_llm_service::config::local::{shipped_templates, LocalConfigStore};
use unified_llm_service::pipeline::Service;
use unified_llm_service::secrets::local::MemorySecrets;
use unified_llm_service::settings::Settings;
use unified_llm_service::setup;

pub const PROVIDERS: [&str; 4] = ["openai", "anthropic", "gemini", "bedrock"];
pub const SECRET_PATH: &str = "/ai-agent/llm-secrets/test";
pub const API_KEY: &str = "sk-test-0123456789abcdef";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn load(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `*.json` files of a folder, by name.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|x| x == "json"));
    files.sort();
    files
}

pub fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

/// The model a provider's common cases run on: one that reasons for the reasoning cases.
pub fn model_for(provider: &str, case: &str) -> &'static str {
    let reasoning = case.starts_with("reasoning");
    match (provider, reasoning) {
        ("openai", false) => "gpt-4o",
        ("openai", true) => "o4-mini",
        ("anthropic", _) => "claude-sonnet-4-5-20250929",
        ("gemini", _) => "gemini-2.5-flash",
        ("bedrock", _) => "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        _ => unreachable!(),
    }
}

/// An inline `provider_config` for `provider`, pointed at `base` (a stand-in) or the real host.
pub fn provider_config(provider: &str, model: &str, base: Option<&str>) -> Value {
    let (host, path, header, prefix, key_name) = match provider {
        "openai" => (
            "https://api.openai.com",
            "/v1/chat/completions",
            "Authorization",
            "Bearer ",
            "OPENAI_API_KEY",
        ),
        "anthropic" => (
            "https://api.anthropic.com",
            "/v1/messages",
            "x-api-key",
            "",
            "ANTHROPIC_API_KEY",
        ),
        "gemini" => (
            "https://generativelanguage.googleapis.com",
            "/v1beta/models/{model_id}:generateContent",
            "x-goog-api-key",
            "",
            "GEMINI_API_KEY",
        ),
        "bedrock" => (
            "https://bedrock-runtime.us-east-1.amazonaws.com",
            "/model/{model_id}/converse",
            "Authorization",
            "Bearer ",
            "BEDROCK_API_KEY",
        ),
        other => panic!("unknown provider {other}"),
    };
    json!({
        "provider_id": provider,
        "model_id": model,
        "endpoint": format!("{}{path}", base.unwrap_or(host)),
        "auth_header_name": header,
        "auth_header_prefix": prefix,
        "secret_path": SECRET_PATH,
        "secret_key_name": key_name,
        "request_transformer": format!("{provider}_v1"),
        "response_transformer": format!("{provider}_v1"),
        "timeout": 5
    })
}

/// The request cases for `provider`: `(name, event without provider_config, model)`.
pub fn request_cases(provider: &str) -> Vec<(String, Value, String)> {
    let mut out = Vec::new();
    for f in json_files(&root().join("tests/requests/common")) {
        let case = stem(&f);
        let model = model_for(provider, &case).to_string();
        out.push((case, load(&f), model));
    }
    for f in json_files(&root().join("tests/requests").join(provider)) {
        let mut v = load(&f);
        let model = v
            .as_object_mut()
            .unwrap()
            .remove("model_id")
            .and_then(|m| m.as_str().map(str::to_string));
        out.push((
            stem(&f),
            v,
            model.unwrap_or_else(|| model_for(provider, "").to_string()),
        ));
    }
    out
}

pub fn with_config(mut event: Value, config: Value) -> Value {
    event
        .as_object_mut()
        .unwrap()
        .insert("provider_config".into(), config);
    event
}

/// A service with the shipped templates (with `max_retries`), a key for every provider, and loopback allowed.
pub fn local_service(max_retries: Option<u32>) -> Service {
    let mut templates = shipped_templates();
    if let Some(n) = max_retries {
        for t in &mut templates {
            t.max_retries = Some(n);
        }
    }
    local_service_with(templates)
}

/// A service with these provider templates, a key for every provider, and loopback allowed.
pub fn local_service_with(
    templates: Vec<unified_llm_service::config::ProviderTemplate>,
) -> Service {
    local_service_with_keys(
        templates,
        &[
            "OPENAI_API_KEY",
            "ANTHROPIC_API_KEY",
            "GEMINI_API_KEY",
            "BEDROCK_API_KEY",
        ],
    )
}

/// insta settings: snapshots in the top-level `snapshots/` folder.
pub fn snapshot_settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(root().join("snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s
}

/// An inline `provider_config` made from a ProviderTemplate JSON file (as shipped in
/// `templates/providers/`): its URL (or `base` + its `endpointPath`, for a stand-in), auth header,
/// key name and transformers, with the test secret path.
pub fn provider_config_from_template(template: &Value, model: &str, base: Option<&str>) -> Value {
    let field = |k: &str| template[k].as_str().unwrap_or_default().to_string();
    let base = base.map_or_else(|| field("baseUrl"), str::to_string);
    json!({
        "provider_id": field("providerId"),
        "model_id": model,
        "endpoint": format!("{}{}", base.trim_end_matches('/'), field("endpointPath")),
        "auth_header_name": field("authHeaderName"),
        "auth_header_prefix": field("authHeaderPrefix"),
        "secret_path": SECRET_PATH,
        "secret_key_name": field("secretKeyName"),
        "request_transformer": field("requestTransformer"),
        "response_transformer": field("responseTransformer"),
        "timeout": 5
    })
}

/// A service with these provider templates, the test key under each of `key_names`, and loopback allowed.
pub fn local_service_with_keys(
    templates: Vec<unified_llm_service::config::ProviderTemplate>,
    key_names: &[&str],
) -> Service {
    let keys: serde_json::Map<String, Value> = key_names
        .iter()
        .map(|k| (k.to_string(), json!(API_KEY)))
        .collect();
    let settings = Settings {
        allowed_endpoint_hosts: vec!["127.0.0.1".into()],
        secrets_cache_ttl: std::time::Duration::from_secs(300),
        ..Settings::default()
    };
    setup::with_parts(
        &settings,
        Arc::new(LocalConfigStore::with_templates(templates)),
        Arc::new(MemorySecrets {
            secrets: HashMap::from([(SECRET_PATH.to_string(), Value::Object(keys).to_string())]),
        }),
        None,
    )
}

/// A unified response (or the named error) as a snapshot records it: timings zeroed, the stand-in's port
/// (new every run) and an oversized response's byte count (it counts latency digits) made constant.
pub fn response_snapshot(
    got: Result<
        unified_llm_service::model::UnifiedResponse,
        unified_llm_service::error::ServiceError,
    >,
    port: u16,
) -> Value {
    let v = match got {
        Ok(mut r) => {
            r.metadata.latency_ms = 0;
            r.metadata.provider_latency_ms = 0;
            r.metadata
                .attempt_log
                .iter_mut()
                .for_each(|a| a.duration_ms = 0);
            serde_json::to_value(&r).unwrap()
        }
        Err(e) => json!({"errorType": e.kind.name(), "errorMessage": e.full_message()}),
    };
    let text = v
        .to_string()
        .replace(&format!("127.0.0.1:{port}"), "127.0.0.1:PORT");
    let text = match text.split_once("the response is ") {
        Some((before, after)) => match after.split_once(" bytes") {
            Some((n, rest)) if n.chars().all(|c| c.is_ascii_digit()) => {
                format!("{before}the response is N bytes{rest}")
            }
            _ => text.clone(),
        },
        None => text.clone(),
    };
    serde_json::from_str(&text).unwrap()
}

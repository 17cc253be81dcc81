//! What the benches share: the benchmark requests (bench/requests/), inline events for each provider, and
//! the recorded answers the response mapping reads.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::path::PathBuf;

pub const PROVIDERS: [&str; 4] = ["openai", "anthropic", "gemini", "bedrock"];
pub const SIZES: [&str; 2] = ["small", "large"];
pub const SECRET_PATH: &str = "/ai-agent/llm-secrets/bench";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn load(rel: &str) -> Value {
    let path = root().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `small` (one message) or `large` (40 messages, 8 tools, about 16 KB), in the OpenAI chat form.
pub fn request(size: &str) -> Value {
    load(&format!("bench/requests/{size}.json"))
}

pub fn model(provider: &str) -> &'static str {
    match provider {
        "openai" => "gpt-4o",
        "anthropic" => "claude-sonnet-4-5-20250929",
        "gemini" => "gemini-2.5-flash",
        "bedrock" => "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        other => panic!("unknown provider {other}"),
    }
}

/// An inline `provider_config` made from the shipped ProviderTemplate of `provider`, its URL at `base`
/// (a stand-in) or at the provider's own host.
pub fn provider_config(provider: &str, base: Option<&str>) -> Value {
    let t = load(&format!("templates/providers/{provider}.json"));
    let field = |k: &str| t[k].as_str().unwrap_or_default().to_string();
    let base = base.map_or_else(|| field("baseUrl"), str::to_string);
    json!({
        "provider_id": field("providerId"),
        "model_id": model(provider),
        "endpoint": format!("{}{}", base.trim_end_matches('/'), field("endpointPath")),
        "auth_header_name": field("authHeaderName"),
        "auth_header_prefix": field("authHeaderPrefix"),
        "secret_path": SECRET_PATH,
        "secret_key_name": field("secretKeyName"),
        "request_transformer": field("requestTransformer"),
        "response_transformer": field("responseTransformer"),
        "timeout": 30
    })
}

/// The inline event the state machine would send: the request with its `provider_config`.
pub fn event(provider: &str, size: &str, base: Option<&str>) -> Value {
    let mut e = request(size);
    e.as_object_mut()
        .expect("a request object")
        .insert("provider_config".into(), provider_config(provider, base));
    e
}

/// A recorded provider answer's body: `text` (plain text) or `tool_single` (one tool call).
pub fn answer(provider: &str, case: &str) -> Value {
    load(&format!("tests/recordings/{provider}/{case}.json"))["body"].clone()
}

/// The engines this build has: jsonata-core always, jsonata-rs with `--features jsonata-rs`.
pub fn engines() -> Vec<unified_llm_service::transform::engine::Engine> {
    use unified_llm_service::transform::engine::Engine;
    #[allow(unused_mut)]
    let mut all = vec![Engine::JsonataCore];
    #[cfg(feature = "jsonata-rs")]
    all.push(Engine::JsonataRs);
    all
}

//! Template fidelity: admins try templates on jsonata-js (the reference implementation, the engine of the
//! public playground) while the service runs a Rust engine. Every shipped template runs here on every
//! snapshot input through the service's engine and through jsonata-js (npm `jsonata` under node, in
//! tools/jsonata-reference), and both must give the same JSON, object key order aside.

mod common;

use common::*;
use serde_json::{json, Value};
use unified_llm_service::config::{self, ProviderTemplate};
use unified_llm_service::event::{self, Invocation};
use unified_llm_service::pipeline::render_for;
use unified_llm_service::transform::{self, engine};

/// Every template the service ships: `(provider, transformer, request source, response source)`.
fn shipped_sources() -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for file in json_files(&root().join("templates/providers")) {
        let t: ProviderTemplate = serde_json::from_value(load(&file)).unwrap();
        let request = t
            .request_template
            .clone()
            .or(transform::shipped_request_template(&t.request_transformer).map(str::to_string));
        let response = t
            .response_mapping
            .clone()
            .or(transform::shipped_response_mapping(&t.response_transformer).map(str::to_string));
        if let (Some(req), Some(resp)) = (request, response) {
            out.push((t.provider_id, t.request_transformer, req, resp));
        }
    }
    out
}

/// The service engine's answer in the comparison's terms.
fn rust_result(name: &str, source: &str, input: &Value) -> Value {
    match engine::compile(name, source).map(|t| t.evaluate(input, &[])) {
        Ok(Ok(v)) => v,
        Ok(Err(engine::Outcome::UseBuiltin(why))) => json!({"__builtin__": why}),
        _ => json!({"__error__": true}),
    }
}

fn inline_config(provider: &str, model: &str) -> Value {
    let t = load(&root().join(format!("templates/providers/{provider}.json")));
    json!({
        "provider_id": provider, "model_id": model,
        "endpoint": format!("{}{}", t["baseUrl"].as_str().unwrap(), t["endpointPath"].as_str().unwrap()),
        "auth_header_name": t["authHeaderName"], "auth_header_prefix": t["authHeaderPrefix"],
        "secret_path": SECRET_PATH, "secret_key_name": t["secretKeyName"],
        "request_transformer": t["requestTransformer"], "response_transformer": t["responseTransformer"],
    })
}

/// The request cases: the four providers' own, or the common ones on a data-only provider's first model.
fn cases_for(provider: &str) -> Vec<(String, Value, String)> {
    if PROVIDERS.contains(&provider) {
        return request_cases(provider);
    }
    let m = first_model(provider);
    json_files(&root().join("tests/requests/common"))
        .iter()
        .map(|f| (stem(f), load(f), m.clone()))
        .collect()
}

fn first_model(provider: &str) -> String {
    let t: ProviderTemplate = serde_json::from_value(load(
        &root().join(format!("templates/providers/{provider}.json")),
    ))
    .unwrap();
    t.model_rows()
        .unwrap()
        .first()
        .map(|r| r.id.trim_matches('*').to_string())
        .unwrap_or_else(|| "model".into())
}

#[tokio::test]
async fn shipped_templates_give_the_same_json_on_jsonata_js() {
    let reference = root().join("tools/jsonata-reference");
    assert!(
        reference.join("node_modules/jsonata").exists(),
        "jsonata-js is not installed: run ./scripts/test.sh (it runs `npm ci` in tools/jsonata-reference)"
    );
    let service = local_service(None);
    let mut cases = Vec::new();
    for (provider, _transformer, request_src, response_src) in shipped_sources() {
        for (case, mut event, m) in cases_for(&provider) {
            event["provider_config"] = inline_config(&provider, &m);
            let Ok(Invocation::Chat(chat)) = event::parse(event) else {
                continue;
            };
            let Ok(eps) = config::resolve(&chat, service.config.as_ref()).await else {
                continue;
            };
            // Cases the capability checks refuse never reach a template.
            let Ok(rendered) = render_for(&chat, eps[0].clone()) else {
                continue;
            };
            let input = serde_json::to_value(&rendered.request).unwrap();
            let name = format!("{provider}/request/{case}");
            cases.push(json!({"name": name, "source": request_src, "input": input, "expected": rust_result(&name, &request_src, &input)}));
        }
        for file in json_files(&root().join("tests/recordings").join(&provider)) {
            let rec = load(&file);
            let Some(body) = rec.get("body").filter(|_| rec["status"] == 200) else {
                continue;
            };
            let name = format!("{provider}/response/{}", stem(&file));
            cases.push(json!({"name": name, "source": response_src, "input": body, "expected": rust_result(&name, &response_src, body)}));
        }
    }
    assert!(
        cases.len() > 100,
        "every template on every snapshot input: {} cases",
        cases.len()
    );
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), Value::Array(cases).to_string()).unwrap();
    let out = std::process::Command::new("node")
        .arg(reference.join("check.js"))
        .arg(file.path())
        .output()
        .expect("node runs (the machine has Node.js)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the Rust engine and jsonata-js differ:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" same, 0 different"), "{stdout}");
}

//! `validate_template`: compile a ProviderTemplate's expressions, run them on sample requests (by default a
//! built-in set) and on a sample raw response, and say what to fix and where. Nothing is sent to a provider.

use crate::capabilities;
use crate::config::{self, local::LocalConfigStore, ProviderTemplate};
use crate::error::{Result, ServiceError};
use crate::event::{self, Invocation};
use crate::normalize::{canonical_request, Target};
use crate::transform::{self, builtin, engine, gaps};
use serde_json::{json, Value};

/// What an admin gets back: `valid`, and per expression, per case and for the response, what went wrong.
pub async fn validate(
    template: ProviderTemplate,
    requests: Option<Vec<Value>>,
    response: Option<Value>,
) -> Result<Value> {
    if template.provider_id.is_empty() || template.request_transformer.is_empty() {
        return Err(ServiceError::invalid("the template needs at least `providerId`, `requestTransformer` and `responseTransformer`"));
    }
    let mut valid = true;
    let engine_name = engine::engine().name();
    let mut expressions = serde_json::Map::new();
    for (field, transformer, stored) in [
        (
            "requestTemplate",
            &template.request_transformer,
            &template.request_template,
        ),
        (
            "responseMapping",
            &template.response_transformer,
            &template.response_mapping,
        ),
    ] {
        let report = expression_report(field, transformer, stored.as_deref(), engine_name);
        valid &= report["ok"] == json!(true);
        expressions.insert(field.to_string(), report);
    }
    let store = LocalConfigStore::with_templates(vec![template.clone()]);
    let model = sample_model(&template);
    let samples = match requests {
        Some(r) if !r.is_empty() => r
            .into_iter()
            .enumerate()
            .map(|(i, v)| (format!("request[{i}]"), v))
            .collect(),
        _ => default_samples(),
    };
    let mut cases = Vec::new();
    for (name, sample) in samples {
        let case = run_case(&template, &store, &model, &name, sample).await;
        valid &= case["ok"] == json!(true);
        cases.push(case);
    }
    let response = response.map(|raw| {
        match transform::map_response(
            &template.response_transformer,
            template.response_mapping.as_deref(),
            &raw.to_string(),
        ) {
            Ok((mapped, ran)) => json!({"ok": true, "transform": ran.path, "mapped": mapped}),
            Err(e) => {
                valid = false;
                json!({"ok": false, "error": {"type": e.kind.name(), "message": e.full_message()}})
            }
        }
    });
    Ok(json!({
        "valid": valid,
        "provider_id": template.provider_id,
        "engine": engine_name,
        "model_id": model,
        "expressions": expressions,
        "cases": cases,
        "response": response,
    }))
}

fn expression_report(
    field: &str,
    transformer: &str,
    stored: Option<&str>,
    engine_name: &str,
) -> Value {
    let shipped = match field {
        "requestTemplate" => transform::shipped_request_template(transformer),
        _ => transform::shipped_response_mapping(transformer),
    };
    let (source, text) = match (stored.filter(|s| !s.trim().is_empty()), shipped) {
        (Some(s), _) => ("stored", s),
        (None, Some(s)) => ("shipped", s),
        (None, None) if builtin::get(transformer).is_some() => {
            return json!({"ok": true, "source": "builtin"})
        }
        (None, None) => {
            return json!({"ok": false, "source": "none", "error": format!(
                "`{transformer}` has no built-in transformer and no shipped template: store a {field}"
            )})
        }
    };
    let warnings: Vec<Value> = gaps::scan(text, engine_name)
        .iter()
        .map(|g| json!({"construct": g.construct, "why": g.why}))
        .collect();
    match engine::compile(&format!("{transformer}.{field}"), text) {
        Ok(_) => json!({"ok": true, "source": source, "warnings": warnings}),
        Err(e) => json!({"ok": false, "source": source, "error": e.message, "warnings": warnings}),
    }
}

async fn run_case(
    template: &ProviderTemplate,
    store: &LocalConfigStore,
    model: &str,
    name: &str,
    mut sample: Value,
) -> Value {
    let model = sample
        .as_object_mut()
        .and_then(|o| o.remove("model_id"))
        .and_then(|m| m.as_str().map(str::to_string))
        .unwrap_or_else(|| model.to_string());
    if let Some(o) = sample.as_object_mut() {
        o.insert("provider_config".into(), inline_config(template, &model));
    }
    let fail = |e: ServiceError| json!({"name": name, "ok": false, "error": {"type": e.kind.name(), "message": e.full_message()}});
    let chat = match event::parse(sample) {
        Ok(Invocation::Chat(c)) => c,
        Ok(_) => {
            return fail(ServiceError::invalid(
                "a sample request must be a chat event",
            ))
        }
        Err(e) => return fail(e),
    };
    let ep = match config::resolve(&chat, store).await {
        Ok(mut eps) => eps.remove(0),
        Err(e) => return fail(e),
    };
    let target = Target {
        provider_id: &ep.provider_id,
        model_id: &ep.model_id,
        capabilities: ep.capabilities.clone(),
        defaults: &ep.model_parameters,
    };
    let mut request = match canonical_request(&chat, &target) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    if let Err(e) = capabilities::check(&mut request, &ep.request_transformer) {
        return fail(e);
    }
    let (body, ran) = match transform::render_request(
        &ep.request_transformer,
        ep.request_template.as_deref(),
        &request,
    ) {
        Ok((body, ran)) => (body.json(), ran),
        Err(e) => return fail(e),
    };
    let missing: Vec<String> = required_fields(template)
        .into_iter()
        .filter(|f| body.get(f.as_str()).is_none_or(Value::is_null))
        .collect();
    let matches_builtin = builtin::get(&ep.request_transformer)
        .map(|b| b.render_request(&request).ok() == Some(body.clone()));
    let mut problems: Vec<String> = missing
        .iter()
        .map(|f| format!("the body has no `{f}`, which the provider requires"))
        .collect();
    if matches_builtin == Some(false) && ran.note.is_none() {
        problems.push(format!(
            "the body differs from the built-in `{}` transformer's for the same request",
            ep.request_transformer
        ));
    }
    json!({
        "name": name,
        "ok": missing.is_empty(),
        "transform": ran.path,
        "left_to_builtin": ran.note,
        "problems": problems,
        "matches_builtin": matches_builtin,
        "body": body,
    })
}

/// The body fields a provider refuses to go without: `metadata.requiredFields`, else the known formats'.
fn required_fields(template: &ProviderTemplate) -> Vec<String> {
    if let Some(Value::Array(list)) = template
        .metadata()
        .ok()
        .and_then(|m| m.get("requiredFields").cloned())
    {
        return list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
    }
    let known: &[&str] = match template.request_transformer.as_str() {
        "openai_v1" => &["model", "messages"],
        "anthropic_v1" => &["model", "max_tokens", "messages"],
        "gemini_v1" => &["contents"],
        "bedrock_v1" => &["messages"],
        _ => &[],
    };
    known.iter().map(|s| s.to_string()).collect()
}

/// A model to render for: the first row of the template's model table (its pattern made concrete).
fn sample_model(t: &ProviderTemplate) -> String {
    t.model_rows()
        .ok()
        .and_then(|rows| rows.first().map(|r| r.id.trim_matches('*').to_string()))
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "model".into())
}

/// An inline `provider_config` that reaches this template's provider.
fn inline_config(t: &ProviderTemplate, model: &str) -> Value {
    json!({
        "provider_id": t.provider_id,
        "model_id": model,
        "endpoint": format!("{}{}", t.base_url.trim_end_matches('/'), t.endpoint_path),
        "auth_header_name": t.auth_header_name,
        "auth_header_prefix": t.auth_header_prefix,
        "secret_path": t.secret_path,
        "secret_key_name": t.secret_key_name,
        "request_transformer": t.request_transformer,
        "response_transformer": t.response_transformer,
    })
}

/// The built-in sample set: text, system + multi-turn, tools, a completed tool round-trip.
pub fn default_samples() -> Vec<(String, Value)> {
    let weather = json!({"name": "get_weather", "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}});
    vec![
        (
            "text".into(),
            json!({"messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 64}),
        ),
        (
            "system_multiturn".into(),
            json!({"messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Name a colour."},
            {"role": "assistant", "content": "Blue."},
            {"role": "user", "content": "Another."}], "temperature": 0.2, "max_tokens": 64}),
        ),
        (
            "tools".into(),
            json!({"messages": [{"role": "user", "content": "Weather in Oslo?"}], "tools": [weather], "tool_choice": "auto", "max_tokens": 256}),
        ),
        (
            "tool_roundtrip".into(),
            json!({"messages": [
            {"role": "user", "content": "Weather in Oslo?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "name": "get_weather", "arguments": {"city": "Oslo"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\": 4}"}], "tools": [weather], "max_tokens": 256}),
        ),
    ]
}

//! Request and response transforms: the provider's template (stored with the provider, else shipped in
//! `templates/`), else the built-in Rust transformer of the same name. Which ran is reported in metadata.

pub mod builtin;
pub mod engine;
pub mod engine_input;
#[cfg(feature = "jsonata-rs")]
mod engine_rs;
pub mod functions;
pub mod gaps;
pub mod values;

use crate::error::{ErrorKind, Result, ServiceError};
use crate::model::{CanonicalRequest, FinishReason, MappedResponse, TransformPath};
use bytes::Bytes;
use serde_json::Value;

/// A provider request body: the JSON text sent as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Body(pub Bytes);

impl Body {
    fn from_json(v: &Value) -> Result<Body> {
        serde_json::to_vec(v)
            .map(|b| Body(b.into()))
            .map_err(|e| ServiceError::template(e.to_string()))
    }

    /// The body as a JSON value (validation, the CLI, tests); `null` if it were not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.0).unwrap_or(Value::Null)
    }
}

/// The JSON text.
impl std::fmt::Display for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

/// As the JSON it holds (the CLI's and the validation's reports embed it).
impl serde::Serialize for Body {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.json().serialize(s)
    }
}

/// A built-in transformer: one per wire format, in `builtin/`.
pub trait Builtin: Send + Sync {
    fn render_request(&self, req: &CanonicalRequest) -> Result<Value>;
    fn map_response(&self, raw: &Value) -> Result<MappedResponse>;
}

/// The shipped templates, compiled into the binary: `(transformer, request template, response mapping)`.
const SHIPPED: [(&str, &str, &str); 4] = [
    (
        "openai_v1",
        include_str!("../../templates/openai_v1.request.jsonata"),
        include_str!("../../templates/openai_v1.response.jsonata"),
    ),
    (
        "anthropic_v1",
        include_str!("../../templates/anthropic_v1.request.jsonata"),
        include_str!("../../templates/anthropic_v1.response.jsonata"),
    ),
    (
        "gemini_v1",
        include_str!("../../templates/gemini_v1.request.jsonata"),
        include_str!("../../templates/gemini_v1.response.jsonata"),
    ),
    (
        "bedrock_v1",
        include_str!("../../templates/bedrock_v1.request.jsonata"),
        include_str!("../../templates/bedrock_v1.response.jsonata"),
    ),
];

pub fn shipped_request_template(transformer: &str) -> Option<&'static str> {
    SHIPPED.iter().find(|s| s.0 == transformer).map(|s| s.1)
}

pub fn shipped_response_mapping(transformer: &str) -> Option<&'static str> {
    SHIPPED.iter().find(|s| s.0 == transformer).map(|s| s.2)
}

pub fn is_known(transformer: &str) -> bool {
    builtin::get(transformer).is_some() || shipped_request_template(transformer).is_some()
}

/// Which transform produced a result, and why the built-in ran when it did.
#[derive(Debug, Clone, PartialEq)]
pub struct Ran {
    pub path: TransformPath,
    pub note: Option<String>,
}

impl Ran {
    fn template() -> Ran {
        Ran {
            path: TransformPath::Template,
            note: None,
        }
    }

    fn builtin(note: Option<String>) -> Ran {
        Ran {
            path: TransformPath::Builtin,
            note,
        }
    }
}

/// The template source for a transformer: the stored one wins over the shipped one.
fn source<'a>(stored: Option<&'a str>, shipped: Option<&'static str>) -> Option<&'a str> {
    stored.filter(|s| !s.trim().is_empty()).or(shipped)
}

/// The provider body for `req`. On the template path the canonical request is built straight into the
/// engine's values and the engine writes the body's text: no JSON tree or text in between.
pub fn render_request(
    transformer: &str,
    stored: Option<&str>,
    req: &CanonicalRequest,
) -> Result<(Body, Ran)> {
    if let Some(src) = source(stored, shipped_request_template(transformer)) {
        let name = format!("{transformer}.requestTemplate");
        let template = engine::compile(&name, src)?;
        match template.evaluate_serialize(req) {
            Ok(body) if body.first() == Some(&b'{') => {
                return Ok((Body(body.into()), Ran::template()));
            }
            Ok(other) => {
                let kind = serde_json::from_slice(&other).unwrap_or(Value::Null);
                return Err(ServiceError::template(format!(
                    "template `{name}` gave {}, not a JSON object",
                    crate::event::kind_of(&kind)
                )));
            }
            Err(engine::Outcome::UseBuiltin(why)) => {
                return run_builtin_request(transformer, req, Some(why))
            }
            Err(engine::Outcome::Failed(e)) => return Err(e),
        }
    }
    run_builtin_request(transformer, req, None)
}

fn run_builtin_request(
    transformer: &str,
    req: &CanonicalRequest,
    note: Option<String>,
) -> Result<(Body, Ran)> {
    let b = builtin::get(transformer).ok_or_else(|| unknown(transformer))?;
    Ok((
        Body::from_json(&b.render_request(req)?)?,
        Ran::builtin(note),
    ))
}

/// Maps the provider's answer, `raw`: its JSON text, which the caller has checked is JSON.
pub fn map_response(
    transformer: &str,
    stored: Option<&str>,
    raw: &str,
) -> Result<(MappedResponse, Ran)> {
    let (mapped, ran) = match source(stored, shipped_response_mapping(transformer)) {
        Some(src) => {
            let name = format!("{transformer}.responseMapping");
            let template = engine::compile(&name, src)?;
            match template.evaluate_text(raw) {
                Ok(text) => (mapped_response(&name, &text)?, Ran::template()),
                Err(engine::Outcome::UseBuiltin(why)) => {
                    run_builtin_response(transformer, raw, Some(why))?
                }
                // A mapping that fails on a body it does not recognise says the body is not an answer.
                Err(engine::Outcome::Failed(e)) => return Err(e),
            }
        }
        None => run_builtin_response(transformer, raw, None)?,
    };
    check_mapped(&mapped)?;
    Ok((mapped, ran))
}

/// A response mapping's result, read as a mapped response; the error names the field at fault.
fn mapped_response(name: &str, text: &[u8]) -> Result<MappedResponse> {
    let mut de = serde_json::Deserializer::from_slice(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        ServiceError::template(format!(
            "template `{name}` gave a result that is not a mapped response: `{}`: {}",
            e.path(),
            crate::error::json_cause(e.inner())
        ))
    })
}

fn run_builtin_response(
    transformer: &str,
    raw: &str,
    note: Option<String>,
) -> Result<(MappedResponse, Ran)> {
    let b = builtin::get(transformer).ok_or_else(|| unknown(transformer))?;
    let raw: Value = serde_json::from_str(raw).map_err(|e| {
        ServiceError::response_invalid(format!("the provider's body is not JSON: {e}"))
    })?;
    Ok((b.map_response(&raw)?, Ran::builtin(note)))
}

fn check_mapped(m: &MappedResponse) -> Result<()> {
    if m.finish_reason.is_none() {
        return Err(ServiceError::response_invalid(
            "the provider's body is not an answer: no finish reason could be read from it",
        ));
    }
    if let Some(c) = m.tool_calls.iter().find(|c| !c.arguments.is_object()) {
        return Err(ServiceError::response_invalid(format!(
            "tool call `{}` has arguments that are not a JSON object",
            c.name
        )));
    }
    if m.tool_calls.is_empty() && m.finish_reason == Some(FinishReason::ToolCalls) {
        return Err(ServiceError::response_invalid(
            "the answer says it stopped for tool calls but holds none",
        ));
    }
    Ok(())
}

pub fn unknown(transformer: &str) -> ServiceError {
    ServiceError::new(
        ErrorKind::InvalidInvocation,
        format!("unknown transformer `{transformer}` (built in: openai_v1, anthropic_v1, gemini_v1, bedrock_v1; or store a template with the provider)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CanonicalRequest, Capabilities};

    fn request() -> CanonicalRequest {
        CanonicalRequest {
            model: "m".into(),
            provider_id: "p".into(),
            system: None,
            system_parts: vec![],
            messages: vec![],
            tools: vec![],
            tool_choice: None,
            parallel_tool_calls: None,
            temperature: None,
            top_p: None,
            max_tokens: None,
            stop: vec![],
            reasoning: None,
            response_format: None,
            capabilities: Capabilities::default(),
        }
    }

    #[test]
    fn a_template_refuses_as_the_callers_error_and_defers_to_the_builtin_by_name() {
        let e = render_request(
            "openai_v1",
            Some(r#"$refuse("this provider takes no images")"#),
            &request(),
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInvocation);
        assert_eq!(e.message, "this provider takes no images");
        let (_, ran) =
            render_request("openai_v1", Some(r#"$builtin("edge case")"#), &request()).unwrap();
        assert_eq!(
            ran,
            Ran {
                path: TransformPath::Builtin,
                note: Some("edge case".into())
            }
        );
        let e = render_request("openai_v1", Some(r#"$error("broken")"#), &request()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::TemplateError);
        assert!(
            e.message.contains("openai_v1.requestTemplate"),
            "{}",
            e.message
        );
    }
}

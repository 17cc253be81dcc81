//! Mapped response -> unified response: reasoning tagged with its maker, structured output parsed, usage
//! totalled and priced, and the whole kept under Step Functions' 256 KiB.

use crate::config::Endpoint;
use crate::error::{ErrorKind, Result, ServiceError};
use crate::guard::MAX_RESPONSE_BYTES;
use crate::model::*;
use serde_json::Value;

/// The name of the forced tool that carries structured output on models without native JSON output.
pub fn structured_tool_name(format: &ResponseFormat) -> String {
    match format {
        ResponseFormat::JsonSchema { name, .. } => name.clone(),
        ResponseFormat::JsonObject => "json_output".to_string(),
    }
}

pub fn build(
    mut mapped: MappedResponse,
    req: &CanonicalRequest,
    ep: &Endpoint,
    metadata: Metadata,
) -> Result<UnifiedResponse> {
    for block in &mut mapped.reasoning {
        block.provider = Some(ep.provider_id.clone());
        block.model = Some(ep.model_id.clone());
    }
    let mut parsed = None;
    if let Some(format) = &req.response_format {
        if req.capabilities.structured_output == "tool" {
            let name = structured_tool_name(format);
            if let Some(i) = mapped.tool_calls.iter().position(|c| c.name == name) {
                let call = mapped.tool_calls.remove(i);
                mapped.content = Some(call.arguments.to_string());
                if mapped.finish_reason == Some(FinishReason::ToolCalls)
                    && mapped.tool_calls.is_empty()
                {
                    mapped.finish_reason = Some(FinishReason::Stop);
                }
            }
        }
        parsed = Some(parse_json_answer(&mapped)?);
    }
    let mut usage = mapped.usage;
    usage.total_tokens = usage.input_tokens + usage.output_tokens;
    let mut metadata = metadata;
    metadata.cost_usd = ep.pricing.cost(&usage);
    metadata.tokens_used = usage;
    let finish_reason = mapped
        .finish_reason
        .ok_or_else(|| ServiceError::response_invalid("no finish reason"))?;
    let mut response = UnifiedResponse {
        message: ResponseMessage {
            role: "assistant",
            content: mapped.content.filter(|c| !c.is_empty()),
            tool_calls: mapped.tool_calls.clone(),
            parsed,
            refusal: mapped.refusal,
            reasoning: mapped.reasoning,
        },
        function_calls: mapped.tool_calls,
        finish_reason,
        metadata,
    };
    fit(&mut response)?;
    Ok(response)
}

fn parse_json_answer(m: &MappedResponse) -> Result<Value> {
    let text = m.content.as_deref().unwrap_or("").trim();
    match m.finish_reason {
        Some(FinishReason::Length) => {
            return Err(ServiceError::response_invalid(
                "the JSON answer was cut off at max_tokens (finish_reason length)",
            ))
        }
        Some(FinishReason::ContentFilter) => {
            return Err(ServiceError::response_invalid(
                "the provider's content filter stopped the JSON answer",
            ))
        }
        _ => {}
    }
    if text.is_empty() {
        let why = m
            .refusal
            .as_deref()
            .map(|r| format!(": the model refused: {r}"))
            .unwrap_or_default();
        return Err(ServiceError::response_invalid(format!(
            "a JSON answer was asked for, but the answer is empty{why}"
        )));
    }
    // Some models wrap JSON in a Markdown fence even when told not to.
    let unfenced = text
        .strip_prefix("```json")
        .or_else(|| text.strip_prefix("```"))
        .and_then(|t| t.strip_suffix("```"))
        .map(str::trim)
        .unwrap_or(text);
    serde_json::from_str(unfenced).map_err(|e| {
        ServiceError::response_invalid(format!(
            "a JSON answer was asked for, but the answer is not valid JSON: {e}"
        ))
    })
}

/// Keeps the response within `MAX_RESPONSE_BYTES`: first drops visible reasoning text (signatures stay, so
/// the tool loop still works), then fails with `ResponseTooLarge`.
fn fit(r: &mut UnifiedResponse) -> Result<()> {
    if size(r) <= MAX_RESPONSE_BYTES {
        return Ok(());
    }
    let mut dropped = false;
    for b in &mut r.message.reasoning {
        if b.kind == ReasoningKind::Thinking && b.text.as_deref().is_some_and(|t| !t.is_empty()) {
            b.text = Some(String::new());
            dropped = true;
        }
    }
    r.metadata.reasoning_text_dropped = dropped;
    let n = size(r);
    if n <= MAX_RESPONSE_BYTES {
        return Ok(());
    }
    Err(ServiceError::new(
        ErrorKind::ResponseTooLarge,
        format!("the response is {n} bytes, over the {MAX_RESPONSE_BYTES} bytes a Step Functions state holds; lower max_tokens"),
    ))
}

/// The response's size as JSON, counted as it is written (nothing kept).
fn size(r: &UnifiedResponse) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    serde_json::to_writer(&mut count, r).map_or(usize::MAX, |_| count.0)
}

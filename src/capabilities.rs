//! What a model can take, checked before any transformer runs, so both paths refuse the same requests
//! with the same words. The model's row (README: "Model capabilities") is data in its ProviderTemplate.

use crate::error::{Result, ServiceError};
use crate::model::*;

/// Anthropic's smallest thinking budget.
pub const MIN_THINKING_BUDGET: u64 = 1024;
/// Anthropic needs `max_tokens`; this is the value sent when the caller gives none.
pub const DEFAULT_MAX_TOKENS: u64 = 4096;

/// The budget an effort stands for on budget-style models.
pub fn budget_for_effort(effort: &str) -> u64 {
    match effort {
        "medium" => 4096,
        "high" => 16384,
        _ => 1024,
    }
}

/// Checks `req` against its model's capabilities and the wire format's limits, and fills
/// `reasoning.budget_tokens` from `effort` on budget-style models (the one mapping templates would repeat).
pub fn check(req: &mut CanonicalRequest, transformer: &str) -> Result<()> {
    let caps = req.capabilities.clone();
    let model = req.model.clone();
    let refuse = |what: String| Err(ServiceError::invalid(format!("model `{model}`: {what}")));
    let has_images = req
        .messages
        .iter()
        .flat_map(|m| &m.content)
        .any(|p| matches!(p, Part::Image { .. }));
    if has_images && !caps.images {
        return refuse("takes no images (its capability row says images: false)".into());
    }
    if matches!(transformer, "gemini_v1" | "bedrock_v1") {
        let url_image = req
            .messages
            .iter()
            .flat_map(|m| &m.content)
            .any(|p| matches!(p, Part::Image { url: Some(_), .. }));
        if url_image {
            return Err(ServiceError::invalid(format!(
                "{transformer} takes images as data only: send the image as a data: URL or base64; the service does not fetch URLs"
            )));
        }
        if req.parallel_tool_calls == Some(false) {
            return Err(ServiceError::invalid(format!("{transformer} cannot be told to avoid parallel tool calls (`parallel_tool_calls: false`)")));
        }
    }
    if req.response_format.is_some() && caps.structured_output == "none" {
        return refuse(
            "has no structured output (its capability row says structured_output: none)".into(),
        );
    }
    let Some(reasoning) = req.reasoning.as_mut() else {
        return Ok(());
    };
    match caps.thinking.as_str() {
        "none" => {
            return refuse(
                "does not take `reasoning` (its capability row says thinking: none)".into(),
            )
        }
        "effort" | "adaptive" | "level" | "nova" if reasoning.effort.is_none() => {
            return refuse(format!(
                "takes `reasoning.effort`, not `budget_tokens` (thinking style `{}`)",
                caps.thinking
            ))
        }
        "budget" => {
            let budget = reasoning
                .budget_tokens
                .unwrap_or_else(|| budget_for_effort(reasoning.effort.as_deref().unwrap_or("low")));
            if budget < MIN_THINKING_BUDGET && transformer != "gemini_v1" {
                return refuse(format!(
                    "a thinking budget of {budget} is below the minimum of {MIN_THINKING_BUDGET}"
                ));
            }
            let max = req.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS);
            if transformer != "gemini_v1" && budget >= max {
                return refuse(format!("the thinking budget ({budget}) must be below max_tokens ({max}); raise max_tokens"));
            }
            reasoning.budget_tokens = Some(budget);
        }
        "effort" | "adaptive" | "level" | "nova" => {}
        other => {
            return refuse(format!(
                "has an unknown thinking style `{other}` in its capability row"
            ))
        }
    }
    if !caps.temperature_with_thinking && req.temperature.is_some_and(|t| t != 1.0) {
        return refuse(
            "takes no `temperature` other than 1 while reasoning; drop it or drop `reasoning`"
                .into(),
        );
    }
    let forced = matches!(
        req.tool_choice,
        Some(ToolChoice::Required | ToolChoice::Tool { .. })
    );
    if forced && !caps.forced_tool_with_thinking {
        return refuse("cannot be forced to call a tool while reasoning; use tool_choice auto or drop `reasoning`".into());
    }
    if req.response_format.is_some()
        && caps.structured_output == "tool"
        && !caps.forced_tool_with_thinking
    {
        return refuse("gives structured output through a forced tool call, which it refuses while reasoning; drop `reasoning` or `response_format`".into());
    }
    Ok(())
}

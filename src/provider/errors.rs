//! A provider's error answer -> one named error, with the provider's status, code, message and request id.
//! One reader for the four error shapes: OpenAI `{error:{message,type,code}}`, Anthropic `{type:"error",
//! error:{type,message}}`, Gemini `{error:{code,message,status,details}}`, Bedrock `{message}` +
//! `x-amzn-ErrorType`.

use crate::error::{ErrorKind, ProviderErrorInfo, ServiceError};
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::time::{Duration, SystemTime};

const MAX_MESSAGE_CHARS: usize = 500;

pub fn classify(status: u16, headers: &HeaderMap, body: &[u8], endpoint: &str) -> ServiceError {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let err = json.get("error").filter(|e| e.is_object());
    let code = header(headers, "x-amzn-errortype")
        .map(|t| t.split(':').next().unwrap_or(&t).to_string())
        .or_else(|| {
            err.and_then(|e| e.get("code"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .or_else(|| {
            err.and_then(|e| e.get("status"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .or_else(|| {
            err.and_then(|e| e.get("type"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .or_else(|| {
            json.get("__type")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    let message = err
        .and_then(|e| e.get("message"))
        .or_else(|| json.get("message").or_else(|| json.get("Message")))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            (!body.is_empty() && json.is_null()).then(|| String::from_utf8_lossy(body).into_owned())
        })
        .map(|m| truncate(&m));
    let request_id = request_id(headers, &json);
    let overloaded = code
        .as_deref()
        .is_some_and(|c| c == "overloaded_error" || c == "ThrottlingException");
    let kind = match status {
        429 | 529 => ErrorKind::ProviderThrottled,
        _ if overloaded => ErrorKind::ProviderThrottled,
        408 | 500 | 502 | 503 | 504 => ErrorKind::ProviderUnavailable,
        400..=499 => ErrorKind::ProviderRejected,
        _ => ErrorKind::ProviderUnavailable,
    };
    let what = match kind {
        ErrorKind::ProviderThrottled => "throttled the call",
        ErrorKind::ProviderUnavailable => "is unavailable",
        _ => "rejected the request",
    };
    ServiceError {
        kind,
        message: format!("the provider at {endpoint} {what}"),
        provider: Some(Box::new(ProviderErrorInfo {
            status: Some(status),
            code,
            message,
            request_id,
            retry_after_ms: retry_after(headers, &json).map(|d| d.as_millis() as u64),
        })),
    }
}

/// The provider's id for the exchange, from its headers or (Anthropic) its error body.
pub fn request_id(headers: &HeaderMap, body: &Value) -> Option<String> {
    [
        "x-request-id",
        "request-id",
        "x-amzn-requestid",
        "x-goog-request-id",
    ]
    .iter()
    .find_map(|h| header(headers, h))
    .or_else(|| {
        body.get("request_id")
            .and_then(Value::as_str)
            .map(str::to_string)
    })
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn truncate(s: &str) -> String {
    if s.chars().count() <= MAX_MESSAGE_CHARS {
        return s.to_string();
    }
    let cut: String = s.chars().take(MAX_MESSAGE_CHARS).collect();
    format!("{cut}…")
}

/// How long the provider asked us to wait: `retry-after-ms`, `Retry-After` (seconds or an HTTP date),
/// OpenAI's `x-ratelimit-reset-*` (`6m0s`, `1.5s`, `20ms`), Gemini's `RetryInfo.retryDelay` (`30s`).
pub fn retry_after(headers: &HeaderMap, body: &Value) -> Option<Duration> {
    if let Some(ms) = header(headers, "retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok()) {
        return Some(Duration::from_secs_f64(ms.max(0.0) / 1000.0));
    }
    if let Some(v) = header(headers, "retry-after") {
        let v = v.trim();
        if let Ok(secs) = v.parse::<f64>() {
            return Some(Duration::from_secs_f64(secs.max(0.0)));
        }
        if let Ok(at) = httpdate::parse_http_date(v) {
            return Some(at.duration_since(SystemTime::now()).unwrap_or_default());
        }
    }
    let reset = ["x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"]
        .iter()
        .filter_map(|h| header(headers, h).and_then(|v| go_duration(&v)))
        .max();
    if reset.is_some() {
        return reset;
    }
    body.get("error")
        .and_then(|e| e.get("details"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find_map(|d| {
            d.get("retryDelay")
                .and_then(Value::as_str)
                .and_then(go_duration)
        })
}

/// `1h2m3.5s`, `20ms`, `30s` -> a duration.
fn go_duration(s: &str) -> Option<Duration> {
    let mut total = 0.0;
    let mut num = String::new();
    let mut chars = s.trim().chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        let unit = match c {
            'h' => 3600.0,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                0.001
            }
            'm' => 60.0,
            's' => 1.0,
            _ => return None,
        };
        total += n * unit;
        any = true;
    }
    (any && num.is_empty()).then(|| Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_go_durations() {
        assert_eq!(go_duration("6m0s"), Some(Duration::from_secs(360)));
        assert_eq!(go_duration("20ms"), Some(Duration::from_millis(20)));
        assert_eq!(go_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(go_duration("soon"), None);
    }

    #[test]
    fn anthropic_overload_is_a_throttle_with_its_request_id() {
        let body = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}"#;
        let e = classify(529, &HeaderMap::new(), body, "api.anthropic.com");
        assert_eq!(e.kind, ErrorKind::ProviderThrottled);
        let p = e.provider.unwrap();
        assert_eq!(p.code.as_deref(), Some("overloaded_error"));
        assert_eq!(p.request_id.as_deref(), Some("req_1"));
    }
}

//! Fault injection against a stand-in provider on loopback (real HTTP): retries, Retry-After, resets,
//! timeouts, deadlines, malformed bodies, key rotation, fallback, rate limits. Each case asserts the
//! outcome, the error name, the number of attempts, and that the key appears nowhere.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use unified_llm_service::event::{self, ChatEvent, Invocation};
use unified_llm_service::model::UnifiedResponse;
use unified_llm_service::replay::{Recording, StandIn};

fn rec(provider: &str, case: &str) -> Recording {
    Recording::load(&root().join(format!("tests/recordings/{provider}/{case}.json"))).unwrap()
}

fn status(code: u16, body: Value, headers: &[(&str, &str)]) -> Recording {
    Recording {
        status: Some(code),
        body: Some(body),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

fn event(config: Value, extra: Value) -> Box<ChatEvent> {
    let mut e =
        json!({"provider_config": config, "messages": [{"role": "user", "content": "hello"}]});
    e.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    match event::parse(e).unwrap() {
        Invocation::Chat(c) => c,
        _ => unreachable!(),
    }
}

fn openai(base: &str) -> Value {
    provider_config("openai", "gpt-4o", Some(base))
}

fn no_key_in(r: &Result<UnifiedResponse, unified_llm_service::error::ServiceError>) {
    let text = match r {
        Ok(v) => serde_json::to_string(v).unwrap(),
        Err(e) => e.full_message(),
    };
    assert!(!text.contains(API_KEY), "the key leaked: {text}");
}

#[tokio::test]
async fn throttles_and_server_errors_are_retried_until_success() {
    let svc = local_service(Some(3));
    let cases: Vec<(&str, Vec<Recording>)> = vec![
        (
            "429 with Retry-After",
            vec![
                status(
                    429,
                    json!({"error": {"message": "slow down", "code": "rate_limit_exceeded"}}),
                    &[("retry-after", "1")],
                ),
                rec("openai", "text"),
            ],
        ),
        (
            "429 without Retry-After",
            vec![rec("openai", "err_rate_limit"), rec("openai", "text")],
        ),
        (
            "500 then 503 then success",
            vec![
                status(500, json!({"error": {"message": "boom"}}), &[]),
                status(503, json!({"error": {"message": "busy"}}), &[]),
                rec("openai", "text"),
            ],
        ),
        (
            "529 overloaded",
            vec![rec("anthropic", "err_overloaded"), rec("openai", "text")],
        ),
        (
            "connection reset",
            vec![
                Recording {
                    reset: true,
                    ..Default::default()
                },
                rec("openai", "text"),
            ],
        ),
    ];
    for (name, answers) in cases {
        let n = answers.len() as u32;
        let s = StandIn::start(answers).await.unwrap();
        let started = Instant::now();
        let r = svc
            .invoke(&event(openai(&s.base_url()), json!({})), None)
            .await;
        no_key_in(&r);
        let r = r.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.metadata.attempts, n, "{name}");
        assert_eq!(
            r.metadata.attempt_log.len(),
            n as usize,
            "{name}: every attempt is logged"
        );
        assert_eq!(s.received().len(), n as usize, "{name}");
        if name == "429 with Retry-After" {
            assert!(
                started.elapsed() >= Duration::from_millis(950),
                "{name}: Retry-After honoured"
            );
        }
    }
}

#[tokio::test]
async fn client_errors_and_bad_bodies_are_not_retried() {
    let svc = local_service(Some(3));
    let huge = "x".repeat(11 * 1024 * 1024);
    let cases: Vec<(&str, Recording, &str)> = vec![
        (
            "400",
            rec("openai", "err_invalid_request"),
            "ProviderRejected",
        ),
        (
            "malformed JSON",
            Recording {
                status: Some(200),
                body_text: Some("{\"choices\": [".into()),
                ..Default::default()
            },
            "ProviderResponseInvalid",
        ),
        (
            "truncated",
            rec("openai", "truncated"),
            "ProviderResponseInvalid",
        ),
        (
            "not an answer",
            rec("openai", "invalid_200"),
            "ProviderResponseInvalid",
        ),
        (
            "oversized body",
            Recording {
                status: Some(200),
                body_text: Some(huge),
                ..Default::default()
            },
            "ProviderResponseInvalid",
        ),
    ];
    for (name, answer, kind) in cases {
        let s = StandIn::start(vec![answer]).await.unwrap();
        let r = svc
            .invoke(&event(openai(&s.base_url()), json!({})), None)
            .await;
        no_key_in(&r);
        let e = r.expect_err(name);
        assert_eq!(e.kind.name(), kind, "{name}: {e}");
        assert_eq!(s.received().len(), 1, "{name}: one attempt");
    }
}

#[tokio::test]
async fn retries_stop_when_exhausted_with_the_last_error() {
    let svc = local_service(Some(2));
    let s = StandIn::start(vec![status(
        503,
        json!({"error": {"message": "down"}}),
        &[("x-request-id", "req_9")],
    )])
    .await
    .unwrap();
    let e = svc
        .invoke(&event(openai(&s.base_url()), json!({})), None)
        .await
        .unwrap_err();
    assert_eq!(e.kind.name(), "ProviderUnavailable");
    assert_eq!(e.provider.unwrap().request_id.as_deref(), Some("req_9"));
    assert_eq!(s.received().len(), 3, "one try and two retries");
}

#[tokio::test]
async fn a_slow_provider_times_out_and_a_short_deadline_stops_early() {
    let svc = local_service(Some(1));
    let slow = Recording {
        delay_ms: Some(1500),
        ..rec("openai", "text")
    };
    let s = StandIn::start(vec![slow]).await.unwrap();
    let mut config = openai(&s.base_url());
    config["timeout"] = json!(0.3);
    let e = svc
        .invoke(&event(config.clone(), json!({})), None)
        .await
        .unwrap_err();
    assert_eq!(e.kind.name(), "ProviderTimeout", "{e}");
    assert_eq!(s.received().len(), 2, "the timeout is retried once");

    // A deadline that cannot fit one attempt: no call at all, and a named error well before it.
    let before = s.received().len();
    let deadline = Instant::now() + Duration::from_millis(400);
    let e = svc
        .invoke(&event(config.clone(), json!({})), Some(deadline))
        .await
        .unwrap_err();
    assert_eq!(e.kind.name(), "ProviderTimeout");
    assert_eq!(s.received().len(), before);

    // A deadline that fits one attempt but not the retry: the attempt is cut to the deadline.
    config["timeout"] = json!(30);
    let deadline = Instant::now() + Duration::from_millis(1200);
    let started = Instant::now();
    let e = svc
        .invoke(&event(config, json!({})), Some(deadline))
        .await
        .unwrap_err();
    assert_eq!(e.kind.name(), "ProviderTimeout");
    assert!(
        started.elapsed() < Duration::from_millis(1200),
        "returned before the deadline"
    );
}

#[tokio::test]
async fn a_refused_key_is_read_again_once() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let write = |key: &str| {
        std::fs::write(
            file.path(),
            json!({SECRET_PATH: {"OPENAI_API_KEY": key}}).to_string(),
        )
        .unwrap()
    };
    write(API_KEY);
    let settings = unified_llm_service::settings::Settings {
        secrets_file: Some(file.path().display().to_string()),
        secrets_cache_ttl: Duration::from_secs(300),
        allowed_endpoint_hosts: vec!["127.0.0.1".into()],
        ..Default::default()
    };
    let svc = unified_llm_service::setup::service_with_aws(&settings, None);
    let echo = status(
        401,
        json!({"error": {"message": format!("Incorrect API key provided: {API_KEY}"), "code": "invalid_api_key"}}),
        &[],
    );
    let s = StandIn::start(vec![
        rec("openai", "text"),
        echo.clone(),
        rec("openai", "text"),
    ])
    .await
    .unwrap();
    svc.invoke(&event(openai(&s.base_url()), json!({})), None)
        .await
        .unwrap();
    write("sk-new-key-abcdef");
    let r = svc
        .invoke(&event(openai(&s.base_url()), json!({})), None)
        .await
        .unwrap();
    assert_eq!(r.metadata.attempts, 2);
    assert_eq!(
        s.received()[2].headers["authorization"],
        "Bearer sk-new-key-abcdef"
    );

    // Refused again with the same key: one re-read, then the named error, with the echoed key redacted.
    s.set_answers(vec![echo]);
    let e = svc
        .invoke(&event(openai(&s.base_url()), json!({})), None)
        .await
        .unwrap_err();
    assert_eq!(e.kind.name(), "ProviderRejected");
    let echoed = status(
        401,
        json!({"error": {"message": "Incorrect API key provided: sk-new-key-abcdef"}}),
        &[],
    );
    s.set_answers(vec![echoed]);
    let e = svc
        .invoke(&event(openai(&s.base_url()), json!({})), None)
        .await
        .unwrap_err();
    assert!(
        !e.full_message().contains("sk-new-key-abcdef"),
        "{}",
        e.full_message()
    );
    assert!(e.full_message().contains("[REDACTED]"));
}

#[tokio::test]
async fn a_failing_endpoint_falls_back_to_another_provider() {
    let svc = local_service(Some(1));
    let down = StandIn::start(vec![status(
        503,
        json!({"error": {"message": "down"}}),
        &[],
    )])
    .await
    .unwrap();
    let up = StandIn::start(vec![rec("anthropic", "text")])
        .await
        .unwrap();
    let fallback = provider_config(
        "anthropic",
        "claude-sonnet-4-5-20250929",
        Some(&up.base_url()),
    );
    let r = svc
        .invoke(
            &event(
                openai(&down.base_url()),
                json!({"fallbacks": [fallback.clone()], "max_tokens": 100}),
            ),
            None,
        )
        .await
        .unwrap();
    assert_eq!(r.metadata.provider_id, "anthropic");
    assert_eq!(r.metadata.attempts, 3);
    let log: Vec<(String, Option<u16>)> = r
        .metadata
        .attempt_log
        .iter()
        .map(|a| (a.provider_id.clone(), a.status))
        .collect();
    assert_eq!(
        log,
        vec![
            ("openai".into(), Some(503)),
            ("openai".into(), Some(503)),
            ("anthropic".into(), Some(200))
        ]
    );
    assert_eq!(
        up.received()[0].body["max_tokens"],
        100,
        "the fallback gets the same request in its own format"
    );

    // A non-retryable failure does not fall back: the caller's request is at fault.
    let bad = StandIn::start(vec![rec("openai", "err_invalid_request")])
        .await
        .unwrap();
    let e = svc
        .invoke(
            &event(openai(&bad.base_url()), json!({"fallbacks": [fallback]})),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind.name(), "ProviderRejected");
    assert_eq!(up.received().len(), 1);
}

#[tokio::test]
async fn the_rate_limit_refuses_when_the_wait_does_not_fit_the_deadline() {
    let mut templates = unified_llm_service::config::local::shipped_templates();
    templates[0].rate_limit_per_minute = Some(2);
    let svc = local_service_with(templates);
    let s = StandIn::start(vec![rec("openai", "text")]).await.unwrap();
    let deadline = || Some(Instant::now() + Duration::from_secs(10));
    svc.invoke(&event(openai(&s.base_url()), json!({})), deadline())
        .await
        .unwrap();
    svc.invoke(&event(openai(&s.base_url()), json!({})), deadline())
        .await
        .unwrap();
    let e = svc
        .invoke(&event(openai(&s.base_url()), json!({})), deadline())
        .await
        .unwrap_err();
    assert_eq!(e.kind.name(), "ProviderThrottled");
    assert!(
        e.full_message().contains("2 calls a minute"),
        "{}",
        e.full_message()
    );
    assert_eq!(s.received().len(), 2);
}

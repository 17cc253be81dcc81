//! Keys from Secrets Manager through the real AWS SDK against moto's server: the cache, its expiry, key
//! rotation, coalesced misses, and named errors that never show a value.

mod common;

use common::amplify::*;
use common::*;
use serde_json::json;
use std::time::Duration;
use unified_llm_service::replay::Recording;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_cached_expire_rotate_and_coalesce() {
    let w = world().await;
    let s = stand_in("openai").await;
    let event = || hello(json!({"provider_config": inline("openai", "gpt-4o", &s.base_url())}));
    let cfg = inline("openai", "gpt-4o", &s.base_url());
    let svc = w.service(Duration::from_millis(1500)).await;
    w.moto.start_recording().await;
    for _ in 0..3 {
        svc.invoke(&hello(json!({"provider_config": cfg.clone()})), None)
            .await
            .unwrap();
    }
    assert_eq!(
        w.moto.count("secretsmanager.GetSecretValue").await,
        1,
        "three invocations, one fetch"
    );
    tokio::time::sleep(Duration::from_millis(1700)).await;
    svc.invoke(&hello(json!({"provider_config": cfg.clone()})), None)
        .await
        .unwrap();
    assert_eq!(
        w.moto.count("secretsmanager.GetSecretValue").await,
        2,
        "fetched again after the TTL"
    );

    // Rotation: the provider refuses the old key once; the service reads the secret again and retries.
    let rotated = "sk-rotated-9876543210";
    put_secret(
        &w.sm,
        SECRET,
        &json!({"OPENAI_API_KEY": rotated}).to_string(),
    )
    .await;
    let ok = Recording::load(&root().join("tests/recordings/openai/text.json")).unwrap();
    let refused = Recording::load(&root().join("tests/recordings/openai/err_auth.json")).unwrap();
    s.set_answers(vec![refused, ok]);
    let before = s.received().len();
    let r = svc
        .invoke(&hello(json!({"provider_config": cfg.clone()})), None)
        .await
        .unwrap();
    assert_eq!(r.metadata.attempts, 2);
    let got = &s.received()[before..];
    assert!(got[0].headers["authorization"].ends_with(API_KEY));
    assert_eq!(got[1].headers["authorization"], format!("Bearer {rotated}"));
    assert_eq!(w.moto.count("secretsmanager.GetSecretValue").await, 3);

    // Concurrent cold misses for one secret: one fetch.
    let fresh = w.service(Duration::from_secs(300)).await;
    w.moto.start_recording().await;
    let events: Vec<_> = (0..8).map(|_| event()).collect();
    let results = futures::future::join_all(events.iter().map(|e| fresh.invoke(e, None))).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(
        w.moto.count("secretsmanager.GetSecretValue").await,
        1,
        "eight concurrent invocations, one fetch"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_errors_are_named_and_never_show_a_value() {
    let w = world().await;
    let svc = w.service(Duration::from_secs(300)).await;
    let s = stand_in("openai").await;
    put_secret(
        &w.sm,
        "/ai-agent/llm-secrets/not-json",
        "sk-plain-text-value-123",
    )
    .await;
    let cases = [
        (
            "/ai-agent/llm-secrets/missing",
            "OPENAI_API_KEY",
            "SecretNotFound",
            "does not exist",
        ),
        (
            SECRET,
            "MISSING_KEY",
            "SecretNotFound",
            "has no key `MISSING_KEY`",
        ),
        (
            "/ai-agent/llm-secrets/not-json",
            "OPENAI_API_KEY",
            "SecretNotFound",
            "is not a JSON object",
        ),
        (
            "/elsewhere/secret",
            "OPENAI_API_KEY",
            "AccessDenied",
            "ALLOWED_SECRET_PREFIXES",
        ),
    ];
    w.moto.start_recording().await;
    for (path, key, kind, words) in cases {
        let mut c = provider_config("openai", "gpt-4o", Some(&s.base_url()));
        c["secret_path"] = json!(path);
        c["secret_key_name"] = json!(key);
        let e = svc
            .invoke(&hello(json!({"provider_config": c})), None)
            .await
            .unwrap_err();
        assert_eq!(e.kind.name(), kind, "{path}: {e}");
        let msg = e.full_message();
        assert!(msg.contains(words) && msg.contains(path), "{path}: {msg}");
        assert!(
            !msg.contains("sk-plain-text-value-123") && !msg.contains(API_KEY),
            "{path}: no value in the error"
        );
    }
    assert_eq!(
        w.moto.count("secretsmanager.GetSecretValue").await,
        3,
        "one fetch per secret read; the prefix refusal makes none"
    );
}

//! Micro-benchmarks of the stages between the event and the provider, and back, for every provider on the
//! small (one message) and the large (40 messages, 8 tools, ~16 KB) request of bench/requests/:
//!
//! - `parse/<size>`: the event's text to a `ChatEvent`, as the Lambda reads it (a scan of the top level, then
//!   the strict parser straight from the text);
//! - `request/<provider>/<size>/{template,builtin}`: the canonical request, the capability check and the
//!   provider body, by the shipped JSONata template (compiled once, a cache hit) or by the built-in;
//! - `response/<provider>/<answer>/{template,builtin}`: the provider's answer mapped back;
//! - `small_template_round_trip/<provider>`: request template + response mapping of the small request
//!   (the `≤ 100 µs` target);
//! - `compile/{hit,miss}`: the compiled-template cache, hit (same text) and miss (new text: a parse);
//! - `engine/<engine>/<provider>/<size>`: the request template on each JSONata engine, jsonata-rs only
//!   when built with `--features jsonata-rs`;
//! - `handler/<runtime>/openai/<size>`: the whole handler in process against a loopback stand-in, on the
//!   single-threaded runtime the Lambda binary uses and on a multi-threaded one;
//! - `init/*`: what start-up builds (the runtime of each flavour, the HTTP client, the config store);
//! - `copies/*`: each copy of the large request between stages (parse, serialise, engine conversions).
//!
//! `cargo bench --bench transforms`. Under `cargo test` (no `--bench` flag) it does nothing.

mod common;

/// The Lambda binary's allocator, so the numbers are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use common::*;
use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use serde_json::Value;
use std::hint::black_box;
use std::sync::Arc;
use unified_llm_service::capabilities;
use unified_llm_service::config::local::LocalConfigStore;
use unified_llm_service::config::{self, Endpoint};
use unified_llm_service::event::{self, ChatEvent, Invocation};
use unified_llm_service::model::CanonicalRequest;
use unified_llm_service::normalize::{canonical_request, Target};
use unified_llm_service::pipeline::render_for;
use unified_llm_service::transform::{self, builtin, engine, engine_input, values};

fn chat(event: Value) -> Box<ChatEvent> {
    match event::parse(event).expect("the event parses") {
        Invocation::Chat(c) => c,
        Invocation::Action { .. } => panic!("not a chat event"),
    }
}

/// The event of `provider`/`size`, parsed, and its resolved endpoint (the shipped templates).
fn prepared(provider: &str, size: &str) -> (Box<ChatEvent>, Endpoint) {
    let store = LocalConfigStore::default();
    let chat = chat(event(provider, size, None));
    let ep = futures::executor::block_on(config::resolve(&chat, &store))
        .expect("the config resolves")
        .into_iter()
        .next()
        .expect("one endpoint");
    (chat, ep)
}

/// The canonical request, checked, as the pipeline makes it before either transform path.
fn canonical(chat: &ChatEvent, ep: &Endpoint) -> CanonicalRequest {
    let target = Target {
        provider_id: &ep.provider_id,
        model_id: &ep.model_id,
        capabilities: ep.capabilities.clone(),
        defaults: &ep.model_parameters,
    };
    let mut req = canonical_request(chat, &target).expect("the request normalises");
    capabilities::check(&mut req, &ep.request_transformer).expect("the model takes it");
    req
}

fn bench_parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    for size in SIZES {
        let text = event("openai", size, None).to_string();
        g.throughput(Throughput::Bytes(text.len() as u64));
        // As the Lambda reads it: a scan of the top level, then the chat event straight from the text.
        g.bench_function(size, |b| {
            b.iter(|| {
                assert!(event::is_chat_text(black_box(&text)));
                black_box(event::parse_chat_text(black_box(&text)).expect("parses"))
            })
        });
    }
    g.finish();
}

fn bench_request(c: &mut Criterion) {
    let mut g = c.benchmark_group("request");
    for provider in PROVIDERS {
        for size in SIZES {
            let (chat, ep) = prepared(provider, size);
            let rendered = render_for(&chat, ep.clone()).expect("renders");
            assert!(
                rendered.ran.note.is_none(),
                "{provider}/{size}: the template ran"
            );
            let b_in = builtin::get(&ep.request_transformer).expect("a built-in");
            assert_eq!(
                b_in.render_request(&rendered.request).expect("renders"),
                rendered.body.json(),
                "{provider}/{size}: both paths give the same body"
            );
            g.bench_function(format!("{provider}/{size}/template"), |b| {
                b.iter(|| black_box(render_for(black_box(&chat), ep.clone()).expect("renders")))
            });
            // Both paths end at the body's bytes, as the pipeline sends them.
            g.bench_function(format!("{provider}/{size}/builtin"), |b| {
                b.iter(|| {
                    let req = canonical(black_box(&chat), &ep);
                    let body = b_in.render_request(&req).expect("renders");
                    black_box(serde_json::to_vec(&body).expect("serialises"))
                })
            });
        }
    }
    g.finish();
}

fn bench_response(c: &mut Criterion) {
    let mut g = c.benchmark_group("response");
    for provider in PROVIDERS {
        let name = format!("{provider}_v1");
        let b_out = builtin::get(&name).expect("a built-in");
        for case in ["text", "tool_single"] {
            // Both paths start from the provider's text, as the pipeline has it.
            let raw = answer(provider, case).to_string();
            let (mapped, ran) = transform::map_response(&name, None, &raw).expect("maps");
            assert!(ran.note.is_none(), "{provider}/{case}: the template ran");
            assert_eq!(
                b_out.map_response(&parse(&raw)).expect("maps"),
                mapped,
                "{provider}/{case}: both paths agree"
            );
            g.bench_function(format!("{provider}/{case}/template"), |b| {
                b.iter(|| black_box(transform::map_response(&name, None, black_box(&raw))))
            });
            g.bench_function(format!("{provider}/{case}/builtin"), |b| {
                b.iter(|| black_box(b_out.map_response(&parse(black_box(&raw)))))
            });
        }
    }
    g.finish();
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("JSON")
}

fn bench_round_trip(c: &mut Criterion) {
    let mut g = c.benchmark_group("small_template_round_trip");
    for provider in PROVIDERS {
        let (chat, ep) = prepared(provider, "small");
        let raw = answer(provider, "text").to_string();
        g.bench_function(provider, |b| {
            b.iter(|| {
                let r = render_for(black_box(&chat), ep.clone()).expect("renders");
                let m = transform::map_response(&ep.response_transformer, None, black_box(&raw))
                    .expect("maps");
                black_box((r, m))
            })
        });
    }
    g.finish();
}

fn bench_compile(c: &mut Criterion) {
    let mut g = c.benchmark_group("compile");
    for provider in PROVIDERS {
        let name = format!("{provider}_v1");
        let src = transform::shipped_request_template(&name).expect("a shipped template");
        engine::compile(&name, src).expect("compiles");
        g.bench_with_input(BenchmarkId::new("hit", provider), &src, |b, src| {
            b.iter(|| black_box(engine::compile(&name, black_box(src)).expect("compiles")))
        });
        // A new text each time (a comment that differs): the SHA-256 lookup misses and the text is parsed.
        let mut n = 0u64;
        g.bench_with_input(BenchmarkId::new("miss", provider), &src, |b, src| {
            b.iter_batched(
                || {
                    n += 1;
                    format!("{src}\n/* {n} */")
                },
                |text| black_box(engine::compile(&name, &text).expect("compiles")),
                criterion::BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

fn bench_engines(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    for provider in PROVIDERS {
        for size in SIZES {
            let (chat, ep) = prepared(provider, size);
            let req = canonical(&chat, &ep);
            let input = serde_json::to_value(&req).expect("serialises");
            let src = transform::shipped_request_template(&ep.request_transformer)
                .expect("a shipped template");
            let mut reference: Option<Value> = None;
            for e in engines() {
                let t = match engine::compile_on(e, "bench", src) {
                    Ok(t) => t,
                    Err(why) => {
                        eprintln!("{}: {provider}: does not compile: {why}", e.name());
                        continue;
                    }
                };
                match (t.evaluate(&input, &[]), &reference) {
                    (Ok(v), None) => reference = Some(v),
                    (Ok(v), Some(r)) if &v == r => {}
                    (Ok(_), Some(_)) => {
                        eprintln!("{}: {provider}/{size}: a different body", e.name())
                    }
                    (Err(why), _) => {
                        eprintln!("{}: {provider}/{size}: fails: {why:?}", e.name());
                        continue;
                    }
                }
                g.bench_function(format!("{}/{provider}/{size}", e.name()), |b| {
                    b.iter(|| black_box(t.evaluate(black_box(&input), &[])))
                });
            }
        }
    }
    g.finish();
}

/// The whole Lambda handler in process (event in, unified response out) against a stand-in that answers
/// at once: what the stages add up to, without the Runtime API. On the single-threaded runtime the Lambda
/// binary uses, and on a two-worker multi-threaded one for comparison.
fn bench_handler(c: &mut Criterion) {
    let mut g = c.benchmark_group("handler");
    for (flavor, rt) in [
        (
            "current_thread",
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime"),
        ),
        (
            "multi_thread",
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime"),
        ),
    ] {
        for size in SIZES {
            let recording = unified_llm_service::replay::Recording::ok(answer("openai", "text"));
            let stand_in = rt
                .block_on(unified_llm_service::replay::StandIn::start(vec![recording]))
                .expect("a stand-in");
            let service = local_service();
            let ev = event("openai", size, Some(&stand_in.base_url()));
            rt.block_on(unified_llm_service::lambda::handle(
                &service,
                ev.clone(),
                None,
                "warm",
            ))
            .expect("answers");
            g.bench_function(format!("{flavor}/openai/{size}"), |b| {
                b.iter(|| {
                    rt.block_on(unified_llm_service::lambda::handle(
                        &service,
                        black_box(ev.clone()),
                        None,
                        "bench",
                    ))
                    .expect("answers")
                })
            });
        }
    }
    g.finish();
}

/// What init builds: the runtime, single-threaded (what the Lambda binary does) or multi-threaded, and
/// the parts built once per container.
fn bench_init(c: &mut Criterion) {
    let mut g = c.benchmark_group("init");
    g.bench_function("current_thread", |b| {
        b.iter(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
        })
    });
    g.bench_function("multi_thread", |b| {
        b.iter(|| {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            // Its workers are up once a task has run on one of them.
            rt.block_on(async { tokio::spawn(async {}).await.expect("runs") });
            rt
        })
    });
    // What init builds once and every invocation then reuses.
    g.bench_function("http_client", |b| {
        b.iter(unified_llm_service::provider::HttpCaller::new)
    });
    g.bench_function("local_config_store", |b| b.iter(LocalConfigStore::default));
    g.finish();
}

/// What each step between stages costs on the large request (OpenAI), on the path the pipeline takes (the
/// event's text read straight into its fields, the canonical request built straight into the engine's
/// values, the result written as the body's text), and on the paths it was chosen over: through JSON text
/// (`text_*`) and through a `serde_json::Value` tree (`tree_*`).
fn bench_stage_copies(c: &mut Criterion) {
    let mut g = c.benchmark_group("copies");
    let ev = event("openai", "large", None);
    let text = ev.to_string();
    g.bench_function("event_scan_top_level", |b| {
        b.iter(|| black_box(event::is_chat_text(black_box(&text))))
    });
    g.bench_function("event_text_to_chat", |b| {
        b.iter(|| black_box(event::parse_chat_text(black_box(&text)).expect("parses")))
    });
    g.bench_function("tree_event_text_to_value", |b| {
        b.iter(|| black_box(serde_json::from_str::<Value>(black_box(&text)).expect("JSON")))
    });
    g.bench_function("tree_event_value_to_vec_size_check", |b| {
        b.iter(|| {
            black_box(
                serde_json::to_vec(black_box(&ev))
                    .expect("serialises")
                    .len(),
            )
        })
    });
    g.bench_function("tree_event_value_to_chat", |b| {
        b.iter_batched(
            || ev.clone(),
            |v| black_box(event::parse(v).expect("parses")),
            criterion::BatchSize::SmallInput,
        )
    });
    let (chat, ep) = prepared("openai", "large");
    g.bench_function("canonical_request_and_check", |b| {
        b.iter(|| black_box(canonical(black_box(&chat), &ep)))
    });
    let req = canonical(&chat, &ep);
    g.bench_function("canonical_to_engine_values", |b| {
        b.iter(|| black_box(engine_input::to_engine(black_box(&req)).expect("builds")))
    });
    g.bench_function("text_canonical_to_text", |b| {
        b.iter(|| black_box(serde_json::to_string(black_box(&req)).expect("serialises")))
    });
    let input = serde_json::to_string(&req).expect("serialises");
    g.bench_function("text_text_to_engine_values", |b| {
        b.iter(|| black_box(values::from_text(black_box(&input)).expect("JSON")))
    });
    let rendered = render_for(&chat, ep.clone()).expect("renders");
    let body = values::from_text(&rendered.body.to_string()).expect("JSON");
    g.bench_function("engine_values_to_body_text", |b| {
        b.iter(|| black_box(values::to_text(black_box(&body))))
    });
    g.bench_function("tree_canonical_to_value", |b| {
        b.iter(|| black_box(serde_json::to_value(black_box(&req)).expect("serialises")))
    });
    let tree = serde_json::to_value(&req).expect("serialises");
    g.bench_function("tree_value_clone_to_engine_values", |b| {
        b.iter(|| black_box(jsonata_core::value::JValue::from(black_box(&tree).clone())))
    });
    g.bench_function("tree_engine_values_to_value", |b| {
        b.iter(|| black_box(values::to_json(black_box(&body))))
    });
    let body_tree = rendered.body.json();
    g.bench_function("tree_body_value_to_vec", |b| {
        b.iter(|| black_box(serde_json::to_vec(black_box(&body_tree)).expect("serialises")))
    });
    g.finish();
}

fn local_service() -> unified_llm_service::pipeline::Service {
    let keys = serde_json::json!({"OPENAI_API_KEY": "sk-bench"}).to_string();
    let settings = unified_llm_service::settings::Settings {
        allowed_endpoint_hosts: vec!["127.0.0.1".into()],
        secrets_cache_ttl: std::time::Duration::from_secs(300),
        ..Default::default()
    };
    unified_llm_service::setup::with_parts(
        &settings,
        Arc::new(LocalConfigStore::default()),
        Arc::new(unified_llm_service::secrets::local::MemorySecrets {
            secrets: std::collections::HashMap::from([(SECRET_PATH.to_string(), keys)]),
        }),
        None,
    )
}

criterion_group!(
    benches,
    bench_parse,
    bench_request,
    bench_response,
    bench_round_trip,
    bench_compile,
    bench_engines,
    bench_handler,
    bench_init,
    bench_stage_copies
);

fn main() {
    // `cargo test --all-targets` runs bench targets without `--bench`: measure nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

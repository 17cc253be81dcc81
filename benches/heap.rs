//! Heap growth of each JSONata engine over 100,000 evaluations, counted by a `#[global_allocator]` that
//! keeps the live bytes: the live heap after a 1,000-evaluation warm-up against the live heap after
//! 100,000 more. Each evaluation is what one invocation does with its templates: the compiled-template
//! cache lookup, then the request template on the small request's canonical form, then the response
//! mapping on a recorded answer (OpenAI's shipped pair).
//!
//! `cargo bench --bench heap` (jsonata-core), `cargo bench --bench heap --features jsonata-rs` (both).
//! Under `cargo test` (no `--bench` flag) it does nothing.

mod common;

use common::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::time::Instant;
use unified_llm_service::config::{self, local::LocalConfigStore};
use unified_llm_service::event::{self, Invocation};
use unified_llm_service::pipeline::render_for;
use unified_llm_service::transform::{self, engine};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

fn grew(by: isize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            grew(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            grew(layout.size() as isize);
        }
        p
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            grew(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const WARM_UP: usize = 1_000;
const EVALUATIONS: usize = 100_000;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let store = LocalConfigStore::default();
    let chat = match event::parse(event("openai", "small", None)).expect("parses") {
        Invocation::Chat(c) => c,
        Invocation::Action { .. } => unreachable!("a chat event"),
    };
    let ep = futures::executor::block_on(config::resolve(&chat, &store))
        .expect("resolves")
        .remove(0);
    let rendered = render_for(&chat, ep.clone()).expect("renders");
    // The pipeline's path: the canonical request built into the engine's values, the provider's answer as
    // JSON text; JSON text out.
    let input = &rendered.request;
    let raw = answer("openai", "text").to_string();
    let request_src = transform::shipped_request_template("openai_v1").expect("shipped");
    let response_src = transform::shipped_response_mapping("openai_v1").expect("shipped");

    println!("| engine | evaluations | live heap after warm-up | after 100,000 more | growth | peak live heap | allocations per evaluation | time per evaluation |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for e in engines() {
        let one = || -> (Vec<u8>, Vec<u8>) {
            let req = engine::compile_on(e, "openai_v1.requestTemplate", request_src)
                .expect("compiles")
                .evaluate_serialize(black_box(input))
                .expect("evaluates");
            let resp = engine::compile_on(e, "openai_v1.responseMapping", response_src)
                .expect("compiles")
                .evaluate_text(black_box(&raw))
                .expect("evaluates");
            (req, resp)
        };
        let expected = one();
        // The same JSON (jsonata-rs may order keys differently).
        let body: serde_json::Value = serde_json::from_slice(&expected.0).expect("JSON");
        assert_eq!(body, rendered.body.json(), "{}: the same body", e.name());
        for _ in 0..WARM_UP {
            black_box(one());
        }
        let before = live();
        PEAK.store(before, Ordering::Relaxed);
        let allocs_before = ALLOCS.load(Ordering::Relaxed);
        let started = Instant::now();
        for _ in 0..EVALUATIONS {
            black_box(one());
        }
        let took = started.elapsed();
        let after = live();
        let allocs = ALLOCS.load(Ordering::Relaxed) - allocs_before;
        println!(
            "| {} | {} | {} B | {} B | {:+} B | {} B | {} | {:.1} µs |",
            e.name(),
            EVALUATIONS,
            before,
            after,
            after - before,
            PEAK.load(Ordering::Relaxed),
            allocs / EVALUATIONS,
            took.as_secs_f64() * 1e6 / EVALUATIONS as f64,
        );
    }
}

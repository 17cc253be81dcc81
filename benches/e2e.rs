//! The end-to-end benchmark: the release Lambda binary under the Runtime API emulator on loopback against
//! a stand-in provider that answers at once, side by side with LiteLLM's `completion()` against the same
//! stand-in for the same requests. Prints one markdown table. `bench/e2e.sh` builds what it needs and runs
//! it; by hand:
//!
//! ```sh
//! cargo bench --bench e2e -- --lambda-bin target/release/unified-llm-service [--python VENV/bin/python]
//! ```
//!
//! How it measures (the table's notes say the same):
//! - init: from just before the process is spawned to its first `next` request (median of the cold starts);
//! - first invocation: the cold process's first event, from the `next` answer to the response's arrival;
//! - warm invocation: the same, over 1,000 invocations after 50 warm-ups, in one process;
//! - provider time: the same body POSTed to the same stand-in over a keep-alive connection with the HTTP
//!   client the caller uses (reqwest for the service, httpx for LiteLLM), JSON encoded and decoded;
//! - overhead pN = invocation pN − provider p50 (the tail of an invocation is charged to the service);
//! - Runtime API floor: a null function (reqwest, a thread of this process) echoing each event through the
//!   same emulator: what the measurement and the Runtime API's two exchanges cost by themselves;
//! - RSS from /proc/<pid>/status: VmHWM after 1,000 invocations, and VmRSS after 100 and after 1,000.
//!
//! Under `cargo test` (no `--bench` flag) it does nothing.

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use unified_llm_service::emulator::{spawn_function, RuntimeApi};
use unified_llm_service::replay::{Recording, StandIn};

const T: Duration = Duration::from_secs(30);

struct Args {
    lambda_bin: PathBuf,
    python: Option<PathBuf>,
    invocations: usize,
    cold_starts: usize,
    arm64_bin: Option<PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        lambda_bin: root().join("target/release/unified-llm-service"),
        python: None,
        invocations: 1_000,
        cold_starts: 10,
        arm64_bin: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--lambda-bin" => a.lambda_bin = PathBuf::from(value()),
            "--python" => a.python = Some(PathBuf::from(value())),
            "--invocations" => a.invocations = value().parse().expect("a count"),
            "--cold-starts" => a.cold_starts = value().parse().expect("a count"),
            "--arm64-bin" => a.arm64_bin = Some(PathBuf::from(value())),
            _ => {}
        }
    }
    a
}

/// What one request size measured, for one side.
#[derive(Default, Clone)]
struct Side {
    init: Vec<Duration>,
    first: Vec<Duration>,
    warm: Vec<Duration>,
    provider: Vec<Duration>,
    rss_at_100_kb: u64,
    rss_at_n_kb: u64,
    peak_rss_kb: u64,
    /// Init as deployed: AWS clients built (DynamoDB tables and Secrets Manager configured).
    init_aws: Vec<Duration>,
    /// The measuring floor: a null function that echoes the event through the same Runtime API.
    floor: Vec<Duration>,
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let args = args();
    assert!(
        args.lambda_bin.exists(),
        "{} is missing: cargo build --release --bin unified-llm-service (bench/e2e.sh does it)",
        args.lambda_bin.display()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(run(args));
}

/// The stand-in's answer for a request size: a text answer to the small one, a tool call to the large one
/// (the agent's loop).
fn answer_for(size: &str) -> Recording {
    Recording::ok(answer(
        "openai",
        if size == "small" {
            "text"
        } else {
            "tool_single"
        },
    ))
}

async fn run(args: Args) {
    let stand_in = StandIn::start(vec![answer_for("small")])
        .await
        .expect("a stand-in");
    let base = stand_in.base_url();
    let secrets = std::env::temp_dir().join(format!("e2e-secrets-{}.json", std::process::id()));
    std::fs::write(
        &secrets,
        json!({ SECRET_PATH: {"OPENAI_API_KEY": "sk-bench"} }).to_string(),
    )
    .expect("a secrets file");
    let env = vec![
        ("LLM_SECRETS_FILE", secrets.display().to_string()),
        ("ALLOWED_ENDPOINT_HOSTS", "127.0.0.1".to_string()),
        (
            "ALLOWED_SECRET_PREFIXES",
            "/ai-agent/llm-secrets/".to_string(),
        ),
    ];

    let init_aws = measure_aws_init(&args).await;
    let mut ours = Vec::new();
    for size in SIZES {
        stand_in.set_answers(vec![answer_for(size)]);
        let event = event("openai", size, Some(&base));
        let mut side = measure_ours(&args, &env, &event, &stand_in).await;
        side.init_aws = init_aws.clone();
        side.floor = null_function_floor(&event, args.invocations).await;
        ours.push(side);
        eprintln!("e2e: ours, {size}: done");
    }
    let _ = std::fs::remove_file(&secrets);

    let litellm = match &args.python {
        Some(python) => Some(measure_litellm(python, &base, &stand_in, args.invocations).await),
        None => None,
    };
    print_table(&args, &ours, litellm.as_ref());
}

/// Cold starts, then 1,000 warm invocations in the last cold process, then the provider's own time.
async fn measure_ours(
    args: &Args,
    env: &[(&str, String)],
    event: &Value,
    stand_in: &StandIn,
) -> Side {
    let mut side = Side::default();
    let mut last = None;
    for i in 0..args.cold_starts.max(1) {
        let api = RuntimeApi::start().await;
        let spawned = Instant::now();
        let mut child = spawn_function(&args.lambda_bin, &api, env).expect("the binary starts");
        drain(&mut child);
        let (out, first) = api.invoke_timed(event.clone(), T).await;
        check(&out);
        let ready = api.first_poll().expect("the function asked for an event");
        side.init.push(ready.duration_since(spawned));
        side.first.push(first);
        if i + 1 < args.cold_starts {
            stop(child);
        } else {
            last = Some((api, child));
        }
    }
    let (api, child) = last.expect("one process");
    for _ in 0..50 {
        check(&api.invoke(event.clone(), T).await);
    }
    for i in 0..args.invocations {
        let (out, took) = api.invoke_timed(event.clone(), T).await;
        check(&out);
        side.warm.push(took);
        if i + 1 == 100 {
            side.rss_at_100_kb = status_kb(child.id(), "VmRSS");
        }
    }
    side.rss_at_n_kb = status_kb(child.id(), "VmRSS");
    side.peak_rss_kb = status_kb(child.id(), "VmHWM");
    stop(child);

    // The provider's own time, measured the same way from this process: the body the service sent.
    let sent = stand_in.received().pop().expect("the stand-in was called");
    let body = serde_json::to_vec(&sent.body).expect("serialises");
    let url = format!("{}{}", stand_in.base_url(), sent.path);
    let client = reqwest::Client::builder()
        .tcp_nodelay(true)
        .build()
        .expect("a client");
    let post = || {
        client
            .post(&url)
            .header("content-type", "application/json")
            .header("authorization", "Bearer sk-bench")
            .body(body.clone())
            .send()
    };
    for _ in 0..50 {
        let v: Value = post().await.expect("answers").json().await.expect("JSON");
        assert!(v.is_object());
    }
    for _ in 0..args.invocations {
        let t0 = Instant::now();
        let v: Value = post().await.expect("answers").json().await.expect("JSON");
        side.provider.push(t0.elapsed());
        std::hint::black_box(v);
    }
    side
}

/// Init as deployed: no secrets file, so the AWS SDK's configuration is loaded and the DynamoDB and Secrets
/// Manager clients are built before the first `next` (credentials from the environment, as Lambda gives
/// them; the endpoint is a closed loopback port, never called during init).
async fn measure_aws_init(args: &Args) -> Vec<Duration> {
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIDBENCH".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "bench".to_string()),
        ("AWS_SESSION_TOKEN", "bench".to_string()),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9".to_string()),
        (
            "PROVIDER_TEMPLATE_TABLE",
            "ProviderTemplate-bench".to_string(),
        ),
        (
            "ENDPOINT_CONFIGURATION_TABLE",
            "EndpointConfiguration-bench".to_string(),
        ),
        (
            "AGENT_MODEL_ASSIGNMENT_TABLE",
            "AgentModelAssignment-bench".to_string(),
        ),
        (
            "ALLOWED_SECRET_PREFIXES",
            "/ai-agent/llm-secrets/".to_string(),
        ),
    ];
    let mut out = Vec::new();
    for _ in 0..args.cold_starts.max(1) {
        let api = RuntimeApi::start().await;
        let spawned = Instant::now();
        let mut child = spawn_function(&args.lambda_bin, &api, &env).expect("the binary starts");
        drain(&mut child);
        for _ in 0..5_000 {
            if api.first_poll().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        let ready = api.first_poll().expect("the function asked for an event");
        out.push(ready.duration_since(spawned));
        stop(child);
    }
    out
}

/// The floor of the measurement: a null function (a thread of this process with its own runtime and a
/// reqwest client) that takes each event from the same Runtime API and posts it back as its response.
async fn null_function_floor(event: &Value, n: usize) -> Vec<Duration> {
    let api = RuntimeApi::start().await;
    let base = format!("http://{}/2018-06-01/runtime/invocation", api.addr);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        rt.block_on(async move {
            let client = reqwest::Client::new();
            // Ends when the Runtime API goes away (its connection closes), after the last event.
            while let Ok(r) = client.get(format!("{base}/next")).send().await {
                let Some(id) = r
                    .headers()
                    .get("lambda-runtime-aws-request-id")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
                else {
                    break;
                };
                let Ok(body) = r.bytes().await else { break };
                let sent = client
                    .post(format!("{base}/{id}/response"))
                    .body(body)
                    .send()
                    .await;
                if sent.is_err() {
                    break;
                }
            }
        });
    });
    let mut out = Vec::with_capacity(n);
    for i in 0..n + 50 {
        let (echo, took) = api.invoke_timed(event.clone(), T).await;
        assert!(
            echo.is_ok_and(|e| e.is_object()),
            "the null function echoes"
        );
        if i >= 50 {
            out.push(took);
        }
    }
    out
}

fn check(out: &Result<Value, Value>) {
    match out {
        Ok(v) => assert!(
            v["finish_reason"] == "stop" || v["finish_reason"] == "tool_calls",
            "an answer: {v}"
        ),
        Err(e) => panic!("the invocation failed: {e}"),
    }
}

/// Reads the child's output as it comes, so that its log lines never fill a pipe and stall it.
fn drain(child: &mut Child) {
    if let Some(mut out) = child.stdout.take() {
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    }
    if let Some(mut err) = child.stderr.take() {
        std::thread::spawn(move || {
            let mut buf = String::new();
            let _ = err.read_to_string(&mut buf);
            if let Some(line) = buf.lines().find(|l| l.contains("\"level\":\"ERROR\"")) {
                eprintln!("e2e: the function logged an error: {line}");
            }
        });
    }
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// A `kB` field of /proc/<pid>/status.
fn status_kb(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// LiteLLM in its virtualenv against the same stand-in: spawned, timed to its `ready` line (interpreter
/// start and `import litellm`), then driven size by size (this task loads each size's answer first).
async fn measure_litellm(
    python: &Path,
    base: &str,
    stand_in: &StandIn,
    n: usize,
) -> (String, Vec<Side>) {
    let mut cmd = Command::new(python);
    cmd.arg(root().join("bench/litellm_bench.py"))
        .arg("--base")
        .arg(base)
        .arg("--requests")
        .arg(root().join("bench/requests"))
        .arg("-n")
        .arg(n.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let spawned = Instant::now();
    let mut child = cmd.spawn().expect("python starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, String)>();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });
    let mut init = Duration::ZERO;
    let mut result = None;
    while let Some((at, line)) = rx.recv().await {
        if line == "ready" {
            init = at.duration_since(spawned);
        } else if let Some(size) = line.strip_prefix("size ") {
            stand_in.set_answers(vec![answer_for(size)]);
            eprintln!("e2e: LiteLLM, {size}");
            writeln!(stdin, "go").expect("python reads");
            stdin.flush().expect("python reads");
        } else if line.starts_with('{') {
            result = Some(serde_json::from_str::<Value>(&line).expect("the result is JSON"));
        }
    }
    let status = child.wait().expect("python ends");
    assert!(status.success(), "the LiteLLM side failed: {status}");
    let result = result.expect("the LiteLLM side printed its timings");
    let ns = |v: &Value| -> Vec<Duration> {
        v.as_array()
            .expect("a list")
            .iter()
            .map(|x| Duration::from_nanos(x.as_u64().expect("ns")))
            .collect()
    };
    let sides = SIZES
        .iter()
        .map(|size| {
            let s = &result["sizes"][size];
            Side {
                init: vec![init],
                first: vec![Duration::from_nanos(s["first_ns"].as_u64().expect("ns"))],
                warm: ns(&s["calls_ns"]),
                provider: ns(&s["provider_ns"]),
                rss_at_100_kb: s["rss_kb_at_100"].as_u64().unwrap_or(0),
                rss_at_n_kb: s["rss_kb_at_n"].as_u64().unwrap_or(0),
                peak_rss_kb: s["peak_rss_kb"].as_u64().unwrap_or(0),
                init_aws: Vec::new(),
                floor: Vec::new(),
            }
        })
        .collect();
    let version = result["litellm_version"]
        .as_str()
        .unwrap_or("?")
        .to_string();
    (version, sides)
}

fn quantile(xs: &[Duration], q: f64) -> Duration {
    let mut v = xs.to_vec();
    v.sort();
    if v.is_empty() {
        return Duration::ZERO;
    }
    let i = ((v.len() as f64 - 1.0) * q).round() as usize;
    v[i.min(v.len() - 1)]
}

fn ms(d: Duration) -> String {
    let m = d.as_secs_f64() * 1e3;
    if m >= 100.0 {
        format!("{m:.0} ms")
    } else if m >= 10.0 {
        format!("{m:.1} ms")
    } else {
        format!("{m:.2} ms")
    }
}

fn mb(kb: u64) -> String {
    format!("{:.1} MiB", kb as f64 / 1024.0)
}

/// Overhead pN: invocation pN minus the provider's p50, never below zero.
fn overhead(s: &Side, q: f64) -> Duration {
    quantile(&s.warm, q).saturating_sub(quantile(&s.provider, 0.5))
}

fn print_table(args: &Args, ours: &[Side], litellm: Option<&(String, Vec<Side>)>) {
    let lv = litellm.map_or("not run".to_string(), |(v, _)| v.clone());
    let their = |i: usize| litellm.map(|(_, s)| s[i].clone());
    let na = "—".to_string();
    println!();
    println!("{}", machine());
    println!();
    println!(
        "| metric | target | small: ours | small: LiteLLM {lv} | large: ours | large: LiteLLM {lv} |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: |");
    type Metric = (&'static str, &'static str, Box<dyn Fn(&Side) -> String>);
    let rows: Vec<Metric> = vec![
        (
            "init: process start → ready (median of cold starts)",
            "≤ 15 ms",
            Box::new(|s: &Side| ms(quantile(&s.init, 0.5))),
        ),
        (
            "init as deployed: AWS SDK config + DynamoDB and Secrets Manager clients",
            "≤ 15 ms",
            Box::new(|s: &Side| {
                if s.init_aws.is_empty() {
                    "—".to_string()
                } else {
                    ms(quantile(&s.init_aws, 0.5))
                }
            }),
        ),
        (
            "first invocation (cold process)",
            "",
            Box::new(|s: &Side| ms(quantile(&s.first, 0.5))),
        ),
        (
            "warm invocation p50",
            "",
            Box::new(|s: &Side| ms(quantile(&s.warm, 0.5))),
        ),
        (
            "warm invocation p99",
            "",
            Box::new(|s: &Side| ms(quantile(&s.warm, 0.99))),
        ),
        (
            "Runtime API floor p50: a null function echoing the event",
            "",
            Box::new(|s: &Side| {
                if s.floor.is_empty() {
                    "—".to_string()
                } else {
                    ms(quantile(&s.floor, 0.5))
                }
            }),
        ),
        (
            "provider time p50 (direct HTTP call)",
            "",
            Box::new(|s: &Side| ms(quantile(&s.provider, 0.5))),
        ),
        (
            "**overhead p50**",
            "≤ 0.5 ms (large)",
            Box::new(|s: &Side| format!("**{}**", ms(overhead(s, 0.5)))),
        ),
        (
            "**overhead p99**",
            "≤ 2 ms (large)",
            Box::new(|s: &Side| format!("**{}**", ms(overhead(s, 0.99)))),
        ),
        (
            "RSS after 100 → after 1,000 invocations",
            "flat",
            Box::new(|s: &Side| format!("{} → {}", mb(s.rss_at_100_kb), mb(s.rss_at_n_kb))),
        ),
        (
            "peak RSS after 1,000 invocations",
            "≤ 32 MB",
            Box::new(|s: &Side| mb(s.peak_rss_kb)),
        ),
    ];
    for (name, target, f) in &rows {
        let cells: Vec<String> = (0..SIZES.len())
            .flat_map(|i| [f(&ours[i]), their(i).map_or(na.clone(), |s| f(&s))])
            .collect();
        println!("| {name} | {target} | {} |", cells.join(" | "));
    }
    if litellm.is_some() {
        let cells: Vec<String> = (0..SIZES.len())
            .flat_map(|i| {
                let t = their(i).expect("measured");
                let ratio = |q| {
                    let o = overhead(&ours[i], q).as_secs_f64();
                    let l = overhead(&t, q).as_secs_f64();
                    if o > 0.0 {
                        format!("{:.0}×", l / o)
                    } else {
                        "∞".into()
                    }
                };
                [
                    format!("**{}** (p99 {})", ratio(0.5), ratio(0.99)),
                    String::new(),
                ]
            })
            .collect();
        println!(
            "| **LiteLLM overhead ÷ ours** (p50) | ≥ 20× | {} |",
            cells.join(" | ")
        );
    }
    let size = |p: &Path| {
        std::fs::metadata(p).map_or(na.clone(), |m| {
            format!(
                "{:.2} MB ({:.2} MiB)",
                m.len() as f64 / 1e6,
                m.len() as f64 / 1024.0 / 1024.0
            )
        })
    };
    println!(
        "| stripped release binary, x86_64 | ≤ 8 MB | {} | | | |",
        size(&args.lambda_bin)
    );
    if let Some(arm) = &args.arm64_bin {
        println!(
            "| stripped release binary, arm64 (cargo lambda) | ≤ 8 MB | {} | | | |",
            size(arm)
        );
    }
    println!();
    println!(
        "{} cold starts, {} warm invocations after 50 warm-ups, one at a time; small = 1 message, large = 40 \
         messages + 8 tools (~16 KB), OpenAI gpt-4o through the shipped JSONata templates. Overhead pN = \
         invocation pN − provider p50; the provider time is the same body POSTed to the same stand-in over \
         keep-alive by the caller's own HTTP client (reqwest for ours, httpx for LiteLLM). Our invocation is \
         timed at the Runtime API (event handed over → response received, so it includes the Runtime API's \
         two HTTP exchanges, whose cost the Runtime API floor row shows: a null function echoing the event \
         through the same emulator); LiteLLM's is `completion()` in process.",
        args.cold_starts, args.invocations
    );
}

/// `nproc`, the CPU model and the memory, for the table's caption.
fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split(':').nth(1))
        .map_or("unknown CPU".to_string(), |m| m.trim().to_string());
    let mem_kb = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or(0);
    format!(
        "Machine: {cpus} CPUs ({model}), {:.1} GiB memory, {} {}.",
        mem_kb as f64 / 1024.0 / 1024.0,
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

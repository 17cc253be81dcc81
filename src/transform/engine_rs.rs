//! The optional jsonata-rs engine (cargo feature `jsonata-rs`, then `JSONATA_ENGINE=jsonata-rs`).
//! jsonata-core stays the default; docs/jsonata-engines.md says why, with the numbers. This path is made
//! as safe as jsonata-rs 0.3.4 allows:
//!
//! - each parse and evaluation runs on its own thread with a 64 MiB stack, so the depth limit holds far from
//!   the end of the stack whichever thread called (a stack overflow aborts the process: no `catch_unwind`
//!   can stop it), and panics are caught there and become `TemplateError`s;
//! - template brackets and input nesting are bounded before jsonata-rs's recursive parsers see them;
//! - a fresh arena per evaluation, dropped with it; the text is parsed each time (trees are arena-bound);
//! - `evaluate_timeboxed` with a depth limit and `engine::timeout_ms()`;
//! - results converted with object keys sorted, because jsonata-rs hands them out in a random order.
//!
//! The host functions have the names and behaviour of `functions.rs` and call the same Rust functions.

use crate::error::ServiceError;
use crate::transform::engine::{self, Outcome};
use crate::transform::functions::{self, BUILTIN_MARK, INVALID_MARK, REFUSE_MARK};
use bumpalo::Bump;
use jsonata_rs::{ArrayFlags, Error, FunctionContext, JsonAta, Value as JValue};
use serde_json::{Map, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Stack of the evaluation thread: reserved, and only touched as deep as the evaluation goes.
const STACK_BYTES: usize = 64 << 20;
/// jsonata-rs's depth limit, in its own units (about three per function call level); ~1 KiB of stack each
/// in a release build.
const MAX_DEPTH: usize = 2_000;
/// The deepest nesting of brackets in a template, of the input, and of a result.
const MAX_NESTING: usize = 1_000;

type Native<'a> = &'a JValue<'a>;
type NativeResult<'a> = jsonata_rs::Result<&'a JValue<'a>>;
type HostFn = for<'a, 'e> fn(FunctionContext<'a, 'e>, &[Native<'a>]) -> NativeResult<'a>;

/// The host functions of `functions.rs`, by the same names: `(name, arity, function)`.
const HOST_FUNCTIONS: [(&str, usize, HostFn); 6] = [
    ("parseJson", 1, parse_json),
    ("jsonObject", 1, json_object),
    ("mergeTurns", 3, merge_turns),
    ("geminiSchema", 1, gemini_schema),
    ("builtin", 1, builtin),
    ("refuse", 1, refuse),
];

/// Checks that jsonata-rs parses `source`; its panics and deep nesting are errors.
pub fn check(source: &str) -> Result<(), String> {
    check_nesting("the template", source)?;
    isolated(|| {
        let arena = Bump::new();
        JsonAta::new(source, &arena)
            .map(|_| ())
            .map_err(|e| located(source, &e))
    })
    .map_err(|why| format!("the jsonata-rs parser {why}"))?
}

/// Evaluates `source` on `input` with jsonata-rs, `bindings` visible as `$name`.
pub fn evaluate(
    name: &str,
    source: &str,
    input: &Value,
    bindings: &[(&str, &Value)],
) -> Result<Value, Outcome> {
    match isolated(|| run(source, input, bindings)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(msg)) => Err(engine::failure(name, &msg)),
        Err(why) => Err(Outcome::Failed(ServiceError::template(format!(
            "template `{name}`: the jsonata-rs engine {why}"
        )))),
    }
}

/// One evaluation in a fresh arena; errors as messages for `engine::failure`.
/// The input goes in as JSON text (the only way jsonata-rs takes it), which its own parser reads.
fn run(source: &str, input: &Value, bindings: &[(&str, &Value)]) -> Result<Value, String> {
    let input = serde_json::to_string(input).map_err(|e| format!("the input is not JSON: {e}"))?;
    check_nesting("the input", &input)?;
    let arena = Bump::new();
    let jsonata = JsonAta::new(source, &arena).map_err(|e| located(source, &e))?;
    for (name, arity, function) in HOST_FUNCTIONS {
        jsonata.register_function(name, arity, function);
    }
    for (name, value) in bindings {
        jsonata.assign_var(name, to_arena(&arena, value));
    }
    let limit = usize::try_from(engine::timeout_ms()).unwrap_or(usize::MAX);
    let result = jsonata
        .evaluate_timeboxed(Some(&input), Some(MAX_DEPTH), Some(limit))
        .map_err(|e| match e {
            // Host functions and `$error` fail with this variant: their text carries the marks as is.
            Error::D3137Error(msg) => msg,
            other => located(source, &other),
        })?;
    to_json(result, 0)
}

/// Runs `f` on a thread of its own with a known, large stack, catching its panics. The `Err` says what
/// went wrong, as a predicate ("panicked ...").
fn isolated<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T, String> {
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("jsonata-rs".into())
            .stack_size(STACK_BYTES)
            .spawn_scoped(scope, || catch_unwind(AssertUnwindSafe(f)))
            .map_err(|e| format!("could not start its thread: {e}"))?;
        match worker.join() {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(payload)) | Err(payload) => Err(format!(
                "panicked ({}); jsonata-rs 0.3.4 panics on some valid JSONata that jsonata-core runs \
                 (docs/jsonata-engines.md)",
                panic_message(payload.as_ref())
            )),
        }
    })
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into());
    let first = text.lines().next().unwrap_or("").trim();
    let short: String = first.chars().take(160).collect();
    if short.len() < first.len() {
        format!("{short}...")
    } else {
        short
    }
}

/// Refuses a text whose brackets nest deeper than `MAX_NESTING`. Counts `(`, `[` and `{` outside strings,
/// quoted names and comments: jsonata-rs parses recursively, one stack frame per level or more.
fn check_nesting(what: &str, text: &str) -> Result<(), String> {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' | '`' => {
                while let Some(d) = chars.next() {
                    if d == '\\' {
                        chars.next();
                    } else if d == c {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut last = ' ';
                for d in chars.by_ref() {
                    if last == '*' && d == '/' {
                        break;
                    }
                    last = d;
                }
            }
            '(' | '[' | '{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest > MAX_NESTING {
        return Err(format!(
            "{what} nests {deepest} levels deep; the jsonata-rs engine takes at most {MAX_NESTING} \
             (its parser is recursive, and running out of stack would abort the process)"
        ));
    }
    Ok(())
}

/// A jsonata-rs error as text, its character position turned into a line and column.
fn located(source: &str, e: &Error) -> String {
    let text = e.to_string();
    let parts = text
        .split_once(" @ ")
        .and_then(|(code, rest)| rest.split_once(": ").map(|(at, msg)| (code, at, msg)))
        .and_then(|(code, at, msg)| at.parse::<usize>().ok().map(|at| (code, at, msg)));
    match parts {
        Some((code, at, msg)) => {
            let end = source
                .char_indices()
                .nth(at)
                .map_or(source.len(), |(i, _)| i);
            format!("{code}: {msg} (at {})", engine::line_column(&source[..end]))
        }
        None => text,
    }
}

/// jsonata-rs value -> serde_json: object keys sorted (jsonata-rs's order changes from one evaluation to
/// the next), undefined dropped, whole numbers whole, functions null as in jsonata-core's conversion.
fn to_json<'a>(v: &'a JValue<'a>, depth: usize) -> Result<Value, String> {
    if depth > MAX_NESTING {
        return Err(format!("the result nests deeper than {MAX_NESTING} levels"));
    }
    Ok(match v {
        JValue::Undefined | JValue::Null => Value::Null,
        JValue::Bool(b) => Value::Bool(*b),
        JValue::Number(n) => crate::model::num(*n),
        JValue::String(s) => Value::String(s.to_string()),
        JValue::Array(..) | JValue::Range(..) => Value::Array(
            v.members()
                .filter(|m| !m.is_undefined())
                .map(|m| to_json(m, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        JValue::Object(map) => {
            let mut entries: Vec<_> = map.iter().filter(|(_, v)| !v.is_undefined()).collect();
            entries.sort_unstable_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
            let mut out = Map::new();
            for (k, v) in entries {
                out.insert(k.to_string(), to_json(v, depth + 1)?);
            }
            Value::Object(out)
        }
        _ => Value::Null,
    })
}

/// serde_json -> a jsonata-rs value in `arena`.
fn to_arena<'a>(arena: &'a Bump, v: &Value) -> &'a JValue<'a> {
    match v {
        Value::Null => JValue::null(arena),
        Value::Bool(b) => JValue::bool(*b),
        Value::Number(n) => JValue::number(arena, n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => JValue::string(arena, s),
        Value::Array(items) => {
            let out = JValue::array_with_capacity(arena, items.len(), ArrayFlags::empty());
            for item in items {
                out.push(to_arena(arena, item));
            }
            out
        }
        Value::Object(map) => {
            let out = JValue::object_with_capacity(arena, map.len());
            for (k, item) in map {
                out.insert(k, to_arena(arena, item));
            }
            out
        }
    }
}

fn host_error(msg: String) -> Error {
    Error::D3137Error(msg)
}

fn arg_json(args: &[Native<'_>], i: usize) -> jsonata_rs::Result<Value> {
    match args.get(i) {
        Some(v) => to_json(v, 0).map_err(host_error),
        None => Ok(Value::Null),
    }
}

fn arg_str(args: &[Native<'_>], i: usize) -> Option<String> {
    args.get(i)
        .filter(|v| v.is_string())
        .map(|v| v.as_str().into_owned())
}

/// `$parseJson(s)`: JSON text (OpenAI's `arguments`) read with serde_json, never with the JSONata parser:
/// the model's output is data, not code.
fn parse_json<'a>(ctx: FunctionContext<'a, '_>, args: &[Native<'a>]) -> NativeResult<'a> {
    let text = arg_str(args, 0).ok_or_else(|| host_error("$parseJson expects a string".into()))?;
    match serde_json::from_str::<Value>(&text) {
        Ok(v) => Ok(to_arena(ctx.arena, &v)),
        Err(e) => Err(host_error(format!(
            "{INVALID_MARK}$parseJson: the provider sent a string that is not JSON: {e}"
        ))),
    }
}

/// `$jsonObject(s)`: the object `s` holds when it is JSON text of an object, else undefined.
fn json_object<'a>(ctx: FunctionContext<'a, '_>, args: &[Native<'a>]) -> NativeResult<'a> {
    let object = arg_str(args, 0).and_then(|text| functions::json_object(&text));
    Ok(object.map_or_else(JValue::undefined, |v| to_arena(ctx.arena, &v)))
}

fn merge_turns<'a>(ctx: FunctionContext<'a, '_>, args: &[Native<'a>]) -> NativeResult<'a> {
    let turns = match arg_json(args, 0)? {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        single => vec![single],
    };
    let role = arg_str(args, 1).unwrap_or_else(|| "role".into());
    let content = arg_str(args, 2).unwrap_or_else(|| "content".into());
    let merged = Value::Array(functions::merge_turns(turns, &role, &content));
    Ok(to_arena(ctx.arena, &merged))
}

fn gemini_schema<'a>(ctx: FunctionContext<'a, '_>, args: &[Native<'a>]) -> NativeResult<'a> {
    let schema = functions::gemini_schema(&arg_json(args, 0)?);
    Ok(to_arena(ctx.arena, &schema))
}

fn builtin<'a>(_ctx: FunctionContext<'a, '_>, args: &[Native<'a>]) -> NativeResult<'a> {
    let reason = arg_str(args, 0).unwrap_or_else(|| "the template defers to the built-in".into());
    Err(host_error(format!("{BUILTIN_MARK}{reason}")))
}

fn refuse<'a>(_ctx: FunctionContext<'a, '_>, args: &[Native<'a>]) -> NativeResult<'a> {
    let why = arg_str(args, 0).unwrap_or_else(|| "the provider cannot take this request".into());
    Err(host_error(format!("{REFUSE_MARK}{why}")))
}

#[cfg(all(test, feature = "jsonata-rs"))]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::model::Capabilities;
    use crate::transform::engine::{compile_on, Engine};
    use serde_json::json;

    const REQUEST: &str = include_str!("../../templates/openai_v1.request.jsonata");
    const RESPONSE: &str = include_str!("../../templates/openai_v1.response.jsonata");

    fn on(engine: Engine, source: &str, input: &Value) -> Result<Value, Outcome> {
        compile_on(engine, "test", source)
            .unwrap_or_else(|e| panic!("{} does not compile it: {e}", engine.name()))
            .evaluate(input, &[])
    }

    fn rs(source: &str, input: &Value) -> Result<Value, Outcome> {
        on(Engine::JsonataRs, source, input)
    }

    /// Both engines give the same value, key order aside: `Map` equality ignores it, and JSON objects
    /// inside strings are compared parsed (jsonata-rs's `$string` writes keys in a random order).
    fn same_on_both(source: &str, input: &Value, case: &str) -> Result<Value, Outcome> {
        let core = on(Engine::JsonataCore, source, input);
        let rs = rs(source, input);
        assert_eq!(
            core.clone().map(parsed),
            rs.map(parsed),
            "{case}: the engines disagree"
        );
        core
    }

    fn parsed(v: Value) -> Value {
        match v {
            Value::String(s) => match serde_json::from_str::<Value>(&s) {
                Ok(inner @ Value::Object(_)) => parsed(inner),
                _ => Value::String(s),
            },
            Value::Array(items) => Value::Array(items.into_iter().map(parsed).collect()),
            Value::Object(map) => {
                Value::Object(map.into_iter().map(|(k, v)| (k, parsed(v))).collect())
            }
            other => other,
        }
    }

    fn kind(outcome: Result<Value, Outcome>) -> ErrorKind {
        match outcome {
            Err(Outcome::Failed(e)) => e.kind,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    fn canonical(event: &str, thinking: &str) -> Value {
        let event: crate::event::ChatEvent = serde_json::from_str(event).expect("a chat event");
        let defaults = Map::new();
        let target = crate::normalize::Target {
            provider_id: "openai",
            model_id: "gpt-4o",
            capabilities: Capabilities {
                thinking: thinking.into(),
                ..Default::default()
            },
            defaults: &defaults,
        };
        let request = crate::normalize::canonical_request(&event, &target).expect("it normalises");
        serde_json::to_value(request).expect("it serialises")
    }

    fn body(recording: &str) -> Value {
        let recording: Value = serde_json::from_str(recording).expect("a recording");
        recording["body"].clone()
    }

    #[test]
    fn the_openai_request_template_renders_the_same_on_both_engines() {
        let cases = [
            (
                "agent_flow",
                include_str!("../../tests/requests/common/agent_flow.json"),
                "none",
            ),
            (
                "multipart",
                include_str!("../../tests/requests/common/multipart.json"),
                "none",
            ),
            (
                "tool_choice_named",
                include_str!("../../tests/requests/common/tool_choice_named.json"),
                "none",
            ),
            (
                "structured_json_schema",
                include_str!("../../tests/requests/common/structured_json_schema.json"),
                "none",
            ),
            (
                "reasoning_effort",
                include_str!("../../tests/requests/common/reasoning_effort.json"),
                "effort",
            ),
        ];
        for (case, event, thinking) in cases {
            let body = same_on_both(REQUEST, &canonical(event, thinking), case);
            assert!(body.is_ok_and(|b| b["messages"].is_array()), "{case}");
        }
    }

    #[test]
    fn the_openai_response_mapping_maps_the_same_on_both_engines() {
        let cases = [
            (
                "tool_parallel",
                include_str!("../../tests/recordings/openai/tool_parallel.json"),
            ),
            (
                "text",
                include_str!("../../tests/recordings/openai/text.json"),
            ),
            (
                "refusal",
                include_str!("../../tests/recordings/openai/refusal.json"),
            ),
            (
                "reasoning",
                include_str!("../../tests/recordings/openai/reasoning.json"),
            ),
        ];
        for (case, recording) in cases {
            let mapped = same_on_both(RESPONSE, &body(recording), case);
            assert!(
                mapped.is_ok_and(|m| m["finish_reason"].is_string()),
                "{case}"
            );
        }
        let invalid = body(include_str!(
            "../../tests/recordings/openai/tool_args_string_invalid.json"
        ));
        assert_eq!(
            kind(rs(RESPONSE, &invalid)),
            ErrorKind::ProviderResponseInvalid
        );
    }

    #[test]
    fn valid_jsonata_that_panics_jsonata_rs_is_a_template_error() {
        // Each of these panics inside jsonata-rs 0.3.4 (checked); jsonata-core runs them.
        for source in [
            "(function($x){ $x + 1 })(2)",
            "$substring(?, 1)(\"abc\")",
            "a.b.%.b",
        ] {
            let input = json!({"a": {"b": 1}});
            assert!(on(Engine::JsonataCore, source, &input).is_ok(), "{source}");
            match compile_on(Engine::JsonataRs, "test", source) {
                Err(e) => assert_eq!(e.kind, ErrorKind::TemplateError, "{source}"),
                Ok(t) => match t.evaluate(&input, &[]) {
                    Err(Outcome::Failed(e)) => {
                        assert_eq!(e.kind, ErrorKind::TemplateError, "{source}");
                        assert!(e.message.contains("panic"), "{source}: {}", e.message);
                    }
                    other => panic!("{source}: {other:?}"),
                },
            }
        }
    }

    #[test]
    fn deep_recursion_stops_at_the_depth_limit_instead_of_aborting() {
        let source = "($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000))";
        match rs(source, &json!({})) {
            Err(Outcome::Failed(e)) => {
                assert_eq!(e.kind, ErrorKind::TemplateError);
                assert!(e.message.contains("U1001"), "{}", e.message);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            rs(
                "($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100))",
                &json!({})
            ),
            Ok(json!(100))
        );
    }

    #[test]
    fn deep_nesting_is_refused_before_the_recursive_parsers_see_it() {
        let deep = format!("{}1{}", "(".repeat(5_000), ")".repeat(5_000));
        let e = compile_on(Engine::JsonataRs, "deep", &deep)
            .err()
            .expect("refused");
        assert!(e.message.contains("nests 5000 levels"), "{}", e.message);
        let mut input = json!(1);
        for _ in 0..1_100 {
            input = json!([input]);
        }
        assert_eq!(kind(rs("$", &input)), ErrorKind::TemplateError);
    }

    #[test]
    fn parse_json_reads_data_with_serde_json_and_blames_the_provider() {
        let input = json!({"ok": "{\"b\": 1, \"a\": [1, 2.5]}", "bad": "{\"city\": ", "code": "$string(1)"});
        assert_eq!(
            rs("$parseJson(ok)", &input),
            Ok(json!({"a": [1, 2.5], "b": 1}))
        );
        assert_eq!(
            kind(rs("$parseJson(bad)", &input)),
            ErrorKind::ProviderResponseInvalid
        );
        assert_eq!(
            kind(rs("$parseJson(code)", &input)),
            ErrorKind::ProviderResponseInvalid
        );
        assert_eq!(
            kind(rs("$parseJson(missing)", &input)),
            ErrorKind::TemplateError
        );
    }

    #[test]
    fn every_host_function_of_jsonata_core_is_here_too() {
        let theirs = include_str!("functions.rs")
            .split("register_fn(\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next());
        for name in theirs {
            assert!(
                HOST_FUNCTIONS.iter().any(|(ours, _, _)| *ours == name),
                "`${name}` is registered for jsonata-core but not for jsonata-rs"
            );
        }
    }

    #[test]
    fn builtin_defers_like_on_jsonata_core() {
        assert_eq!(
            rs("$builtin(\"not this shape\")", &json!({})),
            Err(Outcome::UseBuiltin("not this shape".into()))
        );
        assert_eq!(
            kind(rs("$error(\"boom\")", &json!({}))),
            ErrorKind::TemplateError
        );
    }

    #[test]
    fn host_functions_agree_with_jsonata_core() {
        let input = json!({
            "turns": [
                {"role": "user", "content": [{"text": "a"}]},
                {"role": "user", "content": [{"text": "b"}]},
                {"role": "model", "content": [{"text": "c"}]}
            ],
            "schema": {"type": ["string", "null"], "const": "x", "additionalProperties": false}
        });
        let merged = same_on_both("$mergeTurns(turns)", &input, "mergeTurns");
        assert_eq!(merged.map(|m| m.as_array().map(Vec::len)), Ok(Some(2)));
        same_on_both(
            "$mergeTurns(turns, \"role\", \"content\")",
            &input,
            "mergeTurns keys",
        )
        .ok();
        same_on_both("$geminiSchema(schema)", &input, "geminiSchema").ok();
        let texts =
            json!({"texts": ["{\"z\": 1, \"a\": {\"b\": [true]}}", "[1]", "nope", 3, "{}"]});
        let objects = same_on_both(
            "$map(texts, function($t){ $jsonObject($t) })",
            &texts,
            "jsonObject",
        );
        assert_eq!(objects, Ok(json!([{"a": {"b": [true]}, "z": 1}, {}])));
    }

    #[test]
    fn results_have_sorted_keys_whole_numbers_and_no_undefined() {
        let out = rs(
            "{\"b\": 1024, \"a\": 0.5, \"d\": nothing, \"c\": {\"z\": [1, nothing], \"y\": 2}}",
            &json!({}),
        )
        .expect("evaluates");
        let keys: Vec<&String> = out.as_object().expect("an object").keys().collect();
        assert_eq!(keys, ["a", "b", "c"]);
        let inner: Vec<&String> = out["c"].as_object().expect("an object").keys().collect();
        assert_eq!(inner, ["y", "z"]);
        assert_eq!(out, json!({"a": 0.5, "b": 1024, "c": {"y": 2, "z": [1]}}));
        assert_eq!(out["b"].to_string(), "1024");
    }

    #[test]
    fn bindings_and_errors_with_a_position() {
        let t = compile_on(Engine::JsonataRs, "bound", "$x + 1").expect("compiles");
        assert_eq!(t.evaluate(&json!({}), &[("x", &json!(2))]), Ok(json!(3)));
        let e = compile_on(Engine::JsonataRs, "broken", "(\n  $a := 1;\n  $a +\n  ]\n)")
            .err()
            .expect("refused");
        assert!(e.message.contains("line 4"), "{}", e.message);
    }
}

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
#[path = "engine_rs_tests.rs"]
mod tests;

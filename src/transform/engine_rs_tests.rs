//! Tests of the jsonata-rs engine: the same results as jsonata-core, and panics turned into errors.

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
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, parsed(v))).collect()),
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
    let input =
        json!({"ok": "{\"b\": 1, \"a\": [1, 2.5]}", "bad": "{\"city\": ", "code": "$string(1)"});
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
    let texts = json!({"texts": ["{\"z\": 1, \"a\": {\"b\": [true]}}", "[1]", "nope", 3, "{}"]});
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

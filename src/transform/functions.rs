//! Host functions for templates, for what JSONata cannot say cleanly. The built-in transformers call the
//! same Rust functions, so both paths agree by construction.
//!
//! | function | does |
//! | --- | --- |
//! | `$parseJson(s)` | parses a JSON string (OpenAI's `arguments`); a string that is not JSON is an error |
//! | `$jsonObject(s)` | the object a string holds when it is a JSON object, else undefined (tool results) |
//! | `$mergeTurns(turns, roleKey?, contentKey?)` | merges consecutive turns of one role, concatenating their content lists |
//! | `$geminiSchema(schema)` | a JSON Schema cleaned to the subset Gemini's `parameters` takes |
//! | `$builtin(reason)` | leaves this request or response to the built-in transformer, saying why |
//! | `$refuse(message)` | refuses the request as the caller's error (`InvalidInvocation`), saying what the provider cannot take |

use crate::transform::values::to_json;
use jsonata_core::evaluator::{Evaluator, EvaluatorError};
use jsonata_core::value::JValue;
use serde_json::{Map, Value};

/// Errors starting with this mark are a template's request to run the built-in transformer.
pub const BUILTIN_MARK: &str = "USE_BUILTIN:";
/// Errors starting with this mark refuse the caller's request (`InvalidInvocation`), not a template fault.
pub const REFUSE_MARK: &str = "REFUSE:";
/// Errors starting with this mark say the provider's body is at fault, not the template.
pub const INVALID_MARK: &str = "INVALID_RESPONSE:";

pub fn register(ev: &mut Evaluator) -> Result<(), EvaluatorError> {
    ev.register_fn("parseJson", |args: &[JValue]| {
        let s = args
            .first()
            .and_then(JValue::as_str)
            .ok_or_else(|| fail("$parseJson expects a string"))?;
        serde_json::from_str::<Value>(s)
            .map(JValue::from)
            .map_err(|e| {
                fail(&format!(
                    "{INVALID_MARK}$parseJson: the provider sent a string that is not JSON: {e}"
                ))
            })
    })?;
    ev.register_fn("jsonObject", |args: &[JValue]| {
        Ok(args
            .first()
            .and_then(JValue::as_str)
            .and_then(json_object)
            .map_or(JValue::Undefined, JValue::from))
    })?;
    ev.register_fn("mergeTurns", |args: &[JValue]| {
        let turns = match args.first().map(to_json) {
            Some(Value::Array(items)) => items,
            Some(Value::Null) | None => Vec::new(),
            Some(single) => vec![single],
        };
        let role = args
            .get(1)
            .and_then(JValue::as_str)
            .unwrap_or("role")
            .to_string();
        let content = args
            .get(2)
            .and_then(JValue::as_str)
            .unwrap_or("content")
            .to_string();
        Ok(JValue::from(Value::Array(merge_turns(
            turns, &role, &content,
        ))))
    })?;
    ev.register_fn("geminiSchema", |args: &[JValue]| {
        Ok(JValue::from(gemini_schema(
            &args.first().map(to_json).unwrap_or(Value::Null),
        )))
    })?;
    ev.register_fn("builtin", |args: &[JValue]| {
        let reason = args
            .first()
            .and_then(JValue::as_str)
            .unwrap_or("the template defers to the built-in");
        Err(fail(&format!("{BUILTIN_MARK}{reason}")))
    })?;
    ev.register_fn("refuse", |args: &[JValue]| {
        let why = args
            .first()
            .and_then(JValue::as_str)
            .unwrap_or("the provider cannot take this request");
        Err(fail(&format!("{REFUSE_MARK}{why}")))
    })?;
    Ok(())
}

fn fail(msg: &str) -> EvaluatorError {
    EvaluatorError::EvaluationError(msg.to_string())
}

/// The object `text` holds when it is a JSON object.
pub fn json_object(text: &str) -> Option<Value> {
    serde_json::from_str::<Value>(text)
        .ok()
        .filter(Value::is_object)
}

/// Merges consecutive turns with the same `role_key`, appending their `content_key` lists in order.
pub fn merge_turns(turns: Vec<Value>, role_key: &str, content_key: &str) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(turns.len());
    for turn in turns {
        let same = match (out.last(), turn.get(role_key)) {
            (Some(prev), Some(role)) => prev.get(role_key) == Some(role),
            _ => false,
        };
        if same {
            let extra = match turn.get(content_key) {
                Some(Value::Array(items)) => items.clone(),
                Some(Value::Null) | None => Vec::new(),
                Some(other) => vec![other.clone()],
            };
            if let Some(Value::Array(items)) = out.last_mut().and_then(|p| p.get_mut(content_key)) {
                items.extend(extra);
                continue;
            }
        }
        out.push(turn);
    }
    out
}

/// Keys of Gemini's OpenAPI-subset `Schema`; everything else is dropped.
const GEMINI_SCHEMA_KEYS: [&str; 20] = [
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
];

/// A JSON Schema cleaned for Gemini's `functionDeclarations[].parameters`: local `$ref`s inlined,
/// `type: [T, "null"]` made `type: T, nullable: true`, `const` made a one-value `enum`, unknown keys dropped.
pub fn gemini_schema(schema: &Value) -> Value {
    let defs = schema
        .get("$defs")
        .or_else(|| schema.get("definitions"))
        .cloned()
        .unwrap_or(Value::Null);
    clean(schema, &defs, 0)
}

fn clean(schema: &Value, defs: &Value, depth: usize) -> Value {
    let Value::Object(obj) = schema else {
        return schema.clone();
    };
    if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r);
        if let Some(target) = defs.get(name).filter(|_| depth < 16) {
            return clean(target, defs, depth + 1);
        }
    }
    let mut out = Map::new();
    for (k, v) in obj {
        match k.as_str() {
            "type" => match v {
                Value::Array(types) => {
                    let non_null: Vec<&Value> = types
                        .iter()
                        .filter(|t| t.as_str() != Some("null"))
                        .collect();
                    if let Some(first) = non_null.first() {
                        out.insert("type".into(), (*first).clone());
                    }
                    if non_null.len() < types.len() {
                        out.insert("nullable".into(), Value::Bool(true));
                    }
                }
                other => {
                    out.insert("type".into(), other.clone());
                }
            },
            "const" => {
                out.insert("enum".into(), Value::Array(vec![v.clone()]));
            }
            "maximum" => {
                out.insert(k.clone(), v.clone());
            }
            "properties" => {
                let props = v
                    .as_object()
                    .map(|p| {
                        p.iter()
                            .map(|(name, s)| (name.clone(), clean(s, defs, depth + 1)))
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert(k.clone(), Value::Object(props));
            }
            "items" => {
                out.insert(k.clone(), clean(v, defs, depth + 1));
            }
            "anyOf" | "oneOf" => {
                let list = v
                    .as_array()
                    .map(|a| a.iter().map(|s| clean(s, defs, depth + 1)).collect())
                    .unwrap_or_default();
                out.insert("anyOf".into(), Value::Array(list));
            }
            key if GEMINI_SCHEMA_KEYS.contains(&key) => {
                out.insert(k.clone(), v.clone());
            }
            _ => {}
        }
    }
    Value::Object(out)
}

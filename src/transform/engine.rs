//! The JSONata seam: compile a template once (cached by content hash), evaluate it on a `serde_json::Value`
//! with bindings and the host functions of `functions.rs`, get a `serde_json::Value` back. Engine failures,
//! panics included, become `TemplateError`s naming the template, the position and the cause.

use crate::error::ServiceError;
use crate::transform::functions;
use jsonata_core::ast::AstNode;
use jsonata_core::evaluator::{Context, Evaluator, EvaluatorError, EvaluatorOptions};
use jsonata_core::value::JValue;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, OnceLock};

/// Wall-clock limit of one evaluation, and the depth and sequence limits that keep the timeout honest
/// (the engine checks time between steps only).
pub const TIMEOUT_MS: u64 = 250;
const MAX_STACK_DEPTH: usize = 2_000;
const MAX_SEQUENCE: usize = 200_000;
const CACHE_CAP: usize = 512;

/// A compiled template. Cheap to clone; shared across invocations and threads.
#[derive(Clone)]
pub struct Template {
    pub name: String,
    ast: Arc<AstNode>,
}

/// Why an evaluation produced no body.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The template called `$builtin(reason)`: this case is left to the built-in transformer.
    UseBuiltin(String),
    Failed(ServiceError),
}

fn cache() -> &'static Mutex<HashMap<[u8; 32], Arc<AstNode>>> {
    static CACHE: OnceLock<Mutex<HashMap<[u8; 32], Arc<AstNode>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Compiles `source`, or takes the tree compiled earlier from the same text.
pub fn compile(name: &str, source: &str) -> Result<Template, ServiceError> {
    let key: [u8; 32] = Sha256::digest(source.as_bytes()).into();
    if let Some(ast) = cache().lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(Template {
            name: name.to_string(),
            ast: ast.clone(),
        });
    }
    let ast = parse(source)
        .map_err(|e| ServiceError::template(format!("template `{name}` does not compile: {e}")))?;
    let ast = Arc::new(ast);
    let mut map = cache().lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= CACHE_CAP {
        map.clear();
    }
    map.insert(key, ast.clone());
    Ok(Template {
        name: name.to_string(),
        ast,
    })
}

/// Parses, turning a parser panic into an error and locating the error in the text.
pub fn parse(source: &str) -> Result<AstNode, String> {
    match catch_unwind(|| jsonata_core::parser::parse(source)) {
        Ok(Ok(ast)) => Ok(ast),
        Ok(Err(e)) => Err(format!("{e} (at {})", locate(source))),
        Err(_) => Err("the JSONata parser panicked on this text".into()),
    }
}

/// The line and column where the text stops being the start of a valid expression: the shortest prefix
/// whose error is not merely "the expression ended early". Only runs for a text that failed to parse.
fn locate(source: &str) -> String {
    let ends_early = |msg: &str| {
        msg.contains("S0207")
            || msg.contains("Unexpected end")
            || msg.contains("S0101")
            || msg.contains("Unclosed")
            || msg.contains("S0203")
            || msg.contains("S0202")
    };
    let mut at = source.len();
    for (i, _) in source.char_indices().skip(1) {
        let prefix = &source[..i];
        if let Ok(Err(e)) = catch_unwind(|| jsonata_core::parser::parse(prefix)) {
            if !ends_early(&e.to_string()) {
                at = i;
                break;
            }
        }
    }
    let before = &source[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {column}")
}

impl Template {
    /// Evaluates on `input`, with `bindings` visible as `$name`.
    pub fn evaluate(&self, input: &Value, bindings: &[(&str, &Value)]) -> Result<Value, Outcome> {
        let data = JValue::from(input.clone());
        let mut context = Context::new();
        for (name, value) in bindings {
            context.bind((*name).to_string(), JValue::from((*value).clone()));
        }
        let options = EvaluatorOptions {
            timeout_ms: Some(TIMEOUT_MS),
            max_stack_depth: Some(MAX_STACK_DEPTH),
            max_sequence_length: Some(MAX_SEQUENCE),
            ..Default::default()
        };
        let result = catch_unwind(AssertUnwindSafe(|| {
            let mut ev = Evaluator::with_options(context, options);
            functions::register(&mut ev).map_err(|e| e.to_string())?;
            ev.evaluate(&self.ast, &data).map_err(|e| describe(&e))
        }));
        match result {
            Ok(Ok(v)) => Ok(to_json(&v)),
            Ok(Err(msg)) => match msg.strip_prefix(functions::BUILTIN_MARK) {
                Some(reason) => Err(Outcome::UseBuiltin(reason.to_string())),
                None if msg.contains(functions::INVALID_MARK) => Err(Outcome::Failed(
                    ServiceError::response_invalid(msg.replace(functions::INVALID_MARK, "")),
                )),
                None => Err(Outcome::Failed(ServiceError::template(format!(
                    "template `{}` failed: {msg}",
                    self.name
                )))),
            },
            Err(_) => Err(Outcome::Failed(ServiceError::template(format!(
                "template `{}` made the JSONata engine panic",
                self.name
            )))),
        }
    }
}

fn describe(e: &EvaluatorError) -> String {
    e.message().to_string()
}

/// JValue -> serde_json, keeping whole numbers whole (`1024`, not `1024.0`) and dropping undefined keys.
pub fn to_json(v: &JValue) -> Value {
    match v {
        JValue::Null | JValue::Undefined => Value::Null,
        JValue::Bool(b) => Value::Bool(*b),
        JValue::Number(n) => number(*n),
        JValue::String(s) => Value::String(s.to_string()),
        JValue::Array(items) => Value::Array(
            items
                .iter()
                .filter(|i| !matches!(i, JValue::Undefined))
                .map(to_json)
                .collect(),
        ),
        JValue::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map.iter() {
                if !matches!(v, JValue::Undefined) {
                    out.insert(k.clone(), to_json(v));
                }
            }
            Value::Object(out)
        }
        _ => Value::Null,
    }
}

fn number(n: f64) -> Value {
    crate::model::num(n)
}

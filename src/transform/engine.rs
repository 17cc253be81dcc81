//! The JSONata seam: compile a template once (cached by its text), evaluate it on a `serde_json::Value`
//! with bindings and the host functions of `functions.rs`, get a `serde_json::Value` back; or, on the
//! pipeline's path, the canonical request built straight into the engine's values (`evaluate_serialize`)
//! or the provider's JSON text (`evaluate_text`) in, and JSON text out. Engine failures, panics included,
//! become `TemplateError`s naming the template, the position and the cause.
//!
//! Two engines sit behind the seam: jsonata-core (the default) and, built with `--features jsonata-rs`,
//! jsonata-rs (`engine_rs.rs`). One is chosen per process from `JSONATA_ENGINE` (docs/jsonata-engines.md).

use crate::error::ServiceError;
use crate::transform::functions;
use crate::transform::values::{self, to_json};
use jsonata_core::ast::AstNode;
use jsonata_core::evaluator::{Context, Evaluator, EvaluatorError, EvaluatorOptions};
use jsonata_core::value::JValue;
use serde_json::Value;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, OnceLock};

/// Wall-clock limit of one evaluation by default. A template takes well under a millisecond, but a 128 MB
/// Lambda gets a small share of a CPU, so the cap leaves room; the depth and sequence limits below keep it
/// honest (the engine checks time between steps only).
pub const DEFAULT_TIMEOUT_MS: u64 = 1_000;

/// The limit in force: `TEMPLATE_TIMEOUT_MS`, else `DEFAULT_TIMEOUT_MS`; read once.
pub fn timeout_ms() -> u64 {
    static LIMIT: OnceLock<u64> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        std::env::var("TEMPLATE_TIMEOUT_MS")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .filter(|n| *n > 0)
            .unwrap_or(DEFAULT_TIMEOUT_MS)
    })
}
const MAX_STACK_DEPTH: usize = 2_000;
const MAX_SEQUENCE: usize = 200_000;
const CACHE_CAP: usize = 512;

/// A JSONata engine this build can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    /// jsonata-core: the default.
    JsonataCore,
    /// jsonata-rs: only with the cargo feature `jsonata-rs`.
    #[cfg(feature = "jsonata-rs")]
    JsonataRs,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::JsonataCore => "jsonata-core",
            #[cfg(feature = "jsonata-rs")]
            Engine::JsonataRs => "jsonata-rs",
        }
    }

    /// The engine a `JSONATA_ENGINE` value names; unset or blank is jsonata-core. The error says why the
    /// value cannot be honoured.
    pub fn from_setting(value: Option<&str>) -> Result<Engine, String> {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            None | Some("jsonata-core") => Ok(Engine::JsonataCore),
            #[cfg(feature = "jsonata-rs")]
            Some("jsonata-rs") => Ok(Engine::JsonataRs),
            #[cfg(not(feature = "jsonata-rs"))]
            Some("jsonata-rs") => Err("JSONATA_ENGINE is `jsonata-rs`, but this build has no jsonata-rs \
                 engine (build with `--features jsonata-rs`); templates run on jsonata-core"
                .into()),
            Some(other) => Err(format!(
                "JSONATA_ENGINE is `{other}`, which is no engine (jsonata-core, or jsonata-rs when built \
                 with `--features jsonata-rs`); templates run on jsonata-core"
            )),
        }
    }
}

/// The engine chosen for this process from `JSONATA_ENGINE`, read once. An error says why the setting was
/// not honoured (templates then run on jsonata-core); the caller logs it at start.
pub fn select() -> Result<Engine, String> {
    static CHOSEN: OnceLock<Result<Engine, String>> = OnceLock::new();
    CHOSEN
        .get_or_init(|| {
            let value =
                std::env::var_os("JSONATA_ENGINE").map(|v| v.to_string_lossy().into_owned());
            Engine::from_setting(value.as_deref())
        })
        .clone()
}

/// The engine templates run on: the selected one, else jsonata-core.
pub fn engine() -> Engine {
    select().unwrap_or(Engine::JsonataCore)
}

/// A compiled template. Cheap to clone; shared across invocations and threads.
#[derive(Clone)]
pub struct Template {
    pub name: String,
    compiled: Compiled,
}

#[derive(Clone)]
enum Compiled {
    Core(Arc<AstNode>),
    /// The checked source text: jsonata-rs trees live in a per-evaluation arena and are not `Send`, so the
    /// text is parsed again at each evaluation.
    #[cfg(feature = "jsonata-rs")]
    Rs(Arc<str>),
}

/// Why an evaluation produced no body.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The template called `$builtin(reason)`: this case is left to the built-in transformer.
    UseBuiltin(String),
    Failed(ServiceError),
}

/// Compiled templates by engine, then by their text: a lookup hashes the text and compares it (about a
/// microsecond for a shipped template), so two texts never share an entry.
type Cache = HashMap<Engine, HashMap<Box<str>, Compiled>>;

fn cache() -> &'static Mutex<Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Compiles `source` for the selected engine, or takes what was compiled earlier from the same text.
pub fn compile(name: &str, source: &str) -> Result<Template, ServiceError> {
    compile_on(engine(), name, source)
}

/// Compiles `source` for a given engine (`compile` uses the selected one).
pub fn compile_on(engine: Engine, name: &str, source: &str) -> Result<Template, ServiceError> {
    let template = |compiled| Template {
        name: name.to_string(),
        compiled,
    };
    let hit = cache()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&engine)
        .and_then(|by_text| by_text.get(source).cloned());
    if let Some(compiled) = hit {
        return Ok(template(compiled));
    }
    let not_compiled =
        |e: String| ServiceError::template(format!("template `{name}` does not compile: {e}"));
    let compiled = match engine {
        Engine::JsonataCore => Compiled::Core(Arc::new(parse(source).map_err(not_compiled)?)),
        #[cfg(feature = "jsonata-rs")]
        Engine::JsonataRs => {
            crate::transform::engine_rs::check(source).map_err(not_compiled)?;
            Compiled::Rs(Arc::from(source))
        }
    };
    let mut map = cache().lock().unwrap_or_else(|p| p.into_inner());
    let by_text = map.entry(engine).or_default();
    if by_text.len() >= CACHE_CAP {
        by_text.clear();
    }
    by_text.insert(source.into(), compiled.clone());
    Ok(template(compiled))
}

/// Parses, turning a parser panic into an error and locating the error in the text.
pub fn parse(source: &str) -> Result<AstNode, String> {
    match catch_unwind(|| jsonata_core::parser::parse(source)) {
        Ok(Ok(ast)) => Ok(ast),
        Ok(Err(e)) => Err(format!("{e} (at {})", locate(source))),
        Err(_) => Err("the JSONata parser panicked on this text".into()),
    }
}

/// The line and column of a parse error. Only runs for a text that failed to parse.
fn locate(source: &str) -> String {
    let parse = |text: &str| match catch_unwind(|| jsonata_core::parser::parse(text)) {
        Ok(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    let Some(full) = parse(source) else {
        return line_column(source);
    };
    // "It ended early" errors are met at the end of the text.
    let ends_early = [
        "S0207",
        "S0203",
        "S0101",
        "Unexpected end",
        "Unclosed",
        "end of expression",
        "Eof",
    ];
    if ends_early.iter().any(|m| full.contains(m)) {
        return line_column(source);
    }
    // The error is where the shortest prefix first fails with the same error; a prefix that cuts a token
    // in two (`!` of `!=`) fails differently and does not count.
    let at = source
        .char_indices()
        .map(|(i, c)| i + c.len_utf8())
        .find(|&end| parse(&source[..end]).as_deref() == Some(full.as_str()))
        .unwrap_or(source.len());
    line_column(&source[..at])
}

/// `line L, column C` of the end of `before` (the text up to the place meant).
pub(crate) fn line_column(before: &str) -> String {
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {column}")
}

impl Template {
    /// Evaluates on `input`, with `bindings` visible as `$name`.
    pub fn evaluate(&self, input: &Value, bindings: &[(&str, &Value)]) -> Result<Value, Outcome> {
        match &self.compiled {
            Compiled::Core(ast) => {
                let bindings = bindings
                    .iter()
                    .map(|(name, v)| ((*name).to_string(), JValue::from((*v).clone())))
                    .collect();
                let data = JValue::from(input.clone());
                self.evaluate_core(ast, &data, bindings)
                    .map(|v| to_json(&v))
            }
            #[cfg(feature = "jsonata-rs")]
            Compiled::Rs(source) => {
                crate::transform::engine_rs::evaluate(&self.name, source, input, bindings)
            }
        }
    }

    /// Evaluates on a JSON text and gives the result as JSON text: the pipeline's path, which builds no
    /// `serde_json::Value` on either side. The input is the service's own serialisation or the provider's
    /// body, so a text that does not parse is the provider's fault.
    pub fn evaluate_text(&self, input: &str) -> Result<Vec<u8>, Outcome> {
        let not_json = |e: serde_json::Error| {
            Outcome::Failed(ServiceError::response_invalid(format!(
                "the provider's body is not JSON: {e}"
            )))
        };
        match &self.compiled {
            Compiled::Core(ast) => {
                let data = values::from_text(input).map_err(not_json)?;
                self.evaluate_core(ast, &data, Vec::new())
                    .map(|v| values::to_text(&v))
            }
            #[cfg(feature = "jsonata-rs")]
            Compiled::Rs(_) => {
                let data: Value = serde_json::from_str(input).map_err(not_json)?;
                let out = self.evaluate(&data, &[])?;
                Ok(serde_json::to_vec(&out).unwrap_or_default())
            }
        }
    }

    /// Evaluates on `input` (the canonical request), built straight into the engine's values, and gives
    /// the result as JSON text.
    pub fn evaluate_serialize<T: serde::Serialize>(&self, input: &T) -> Result<Vec<u8>, Outcome> {
        let not_input = |e: String| {
            Outcome::Failed(ServiceError::template(format!(
                "template `{}`: the input could not be built: {e}",
                self.name
            )))
        };
        match &self.compiled {
            Compiled::Core(ast) => {
                let data = crate::transform::engine_input::to_engine(input)
                    .map_err(|e| not_input(e.to_string()))?;
                self.evaluate_core(ast, &data, Vec::new())
                    .map(|v| values::to_text(&v))
            }
            #[cfg(feature = "jsonata-rs")]
            Compiled::Rs(_) => {
                let text = serde_json::to_string(input).map_err(|e| not_input(e.to_string()))?;
                self.evaluate_text(&text)
            }
        }
    }

    fn evaluate_core(
        &self,
        ast: &AstNode,
        data: &JValue,
        bindings: Vec<(String, JValue)>,
    ) -> Result<JValue, Outcome> {
        let mut context = Context::new();
        for (name, value) in bindings {
            context.bind(name, value);
        }
        let options = EvaluatorOptions {
            timeout_ms: Some(timeout_ms()),
            max_stack_depth: Some(MAX_STACK_DEPTH),
            max_sequence_length: Some(MAX_SEQUENCE),
            ..Default::default()
        };
        let result = catch_unwind(AssertUnwindSafe(|| {
            let mut ev = Evaluator::with_options(context, options);
            functions::register(&mut ev).map_err(|e| e.to_string())?;
            ev.evaluate(ast, data).map_err(|e| describe(&e))
        }));
        match result {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(msg)) => Err(failure(&self.name, &msg)),
            Err(_) => Err(Outcome::Failed(ServiceError::template(format!(
                "template `{}` made the JSONata engine panic",
                self.name
            )))),
        }
    }
}

/// What an engine's error message means, the same for both engines: `$builtin(reason)` leaves the case to
/// the built-in transformer, a `$parseJson` failure blames the provider's body, anything else the template.
pub(crate) fn failure(name: &str, msg: &str) -> Outcome {
    match msg.strip_prefix(functions::BUILTIN_MARK) {
        Some(reason) => Outcome::UseBuiltin(reason.to_string()),
        None if msg.contains(functions::REFUSE_MARK) => Outcome::Failed(ServiceError::invalid(
            msg.split(functions::REFUSE_MARK)
                .nth(1)
                .unwrap_or(msg)
                .to_string(),
        )),
        None if msg.contains(functions::INVALID_MARK) => Outcome::Failed(
            ServiceError::response_invalid(msg.replace(functions::INVALID_MARK, "")),
        ),
        None => Outcome::Failed(ServiceError::template(format!(
            "template `{name}` failed: {msg}"
        ))),
    }
}

fn describe(e: &EvaluatorError) -> String {
    e.message().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_names_an_engine_or_says_why_not() {
        assert_eq!(Engine::from_setting(None), Ok(Engine::JsonataCore));
        assert_eq!(Engine::from_setting(Some(" ")), Ok(Engine::JsonataCore));
        assert_eq!(
            Engine::from_setting(Some("jsonata-core")),
            Ok(Engine::JsonataCore)
        );
        let unknown = Engine::from_setting(Some("jsonata-js")).unwrap_err();
        assert!(unknown.contains("`jsonata-js`"), "{unknown}");
        #[cfg(feature = "jsonata-rs")]
        assert_eq!(
            Engine::from_setting(Some("jsonata-rs")),
            Ok(Engine::JsonataRs)
        );
        #[cfg(not(feature = "jsonata-rs"))]
        assert!(Engine::from_setting(Some("jsonata-rs"))
            .unwrap_err()
            .contains("--features jsonata-rs"));
    }

    #[test]
    fn host_marks_map_the_same_way_for_every_engine() {
        let builtin = format!("{}not this shape", functions::BUILTIN_MARK);
        assert_eq!(
            failure("t", &builtin),
            Outcome::UseBuiltin("not this shape".into())
        );
        let invalid = format!("{}$parseJson: bad", functions::INVALID_MARK);
        match failure("t", &invalid) {
            Outcome::Failed(e) => {
                assert_eq!(e.kind, crate::error::ErrorKind::ProviderResponseInvalid)
            }
            other => panic!("{other:?}"),
        }
        match failure("t", "T2001: boom") {
            Outcome::Failed(e) => assert_eq!(e.kind, crate::error::ErrorKind::TemplateError),
            other => panic!("{other:?}"),
        }
    }
}

#[cfg(test)]
mod locate_tests {
    use super::*;

    #[test]
    fn a_compile_error_is_located_where_it_is() {
        let src = "(\n  $a := x != 1;\n  {\"k\": [1, 2}, \"j\": 2}\n)";
        let Err(e) = compile("t", src) else {
            panic!("compiles")
        };
        assert!(e.message.contains("line 3, column"), "{}", e.message);
        let unclosed = "{\n  \"k\": (1 + 2\n}";
        let Err(e) = compile("t", unclosed) else {
            panic!("compiles")
        };
        assert!(e.message.contains("line 3"), "{}", e.message);
    }
}

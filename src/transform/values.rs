//! The engine's values in and out: JSON text straight into jsonata-core's values, and its result straight
//! out as JSON text, with no serde_json tree in between (the pipeline's path), or as a `serde_json::Value`
//! (tests, validation). Both drop undefined keys and keep whole numbers whole (`1024`, not `1024.0`).

use jsonata_core::value::JValue;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value};

/// jsonata-core's value of a JSON text.
pub fn from_text(text: &str) -> Result<JValue, serde_json::Error> {
    JValue::from_json_str(text)
}

/// A result as JSON text.
pub fn to_text(v: &JValue) -> Vec<u8> {
    // Writing to a Vec fails only on a non-string map key, which JValue cannot hold.
    serde_json::to_vec(&Wire(v)).unwrap_or_else(|_| b"null".to_vec())
}

/// A result as a `serde_json::Value`.
pub fn to_json(v: &JValue) -> Value {
    match v {
        JValue::Bool(b) => Value::Bool(*b),
        JValue::Number(n) => crate::model::num(*n),
        JValue::String(s) => Value::String(s.to_string()),
        JValue::Array(items) => {
            Value::Array(items.iter().filter(|i| defined(i)).map(to_json).collect())
        }
        JValue::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map.iter().filter(|(_, v)| defined(v)) {
                out.insert(k.clone(), to_json(v));
            }
            Value::Object(out)
        }
        // null, undefined, and functions (which JSON cannot hold).
        _ => Value::Null,
    }
}

fn defined(v: &JValue) -> bool {
    !matches!(v, JValue::Undefined)
}

/// Serialises a result as `to_json` would convert it.
struct Wire<'a>(&'a JValue);

impl Serialize for Wire<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            JValue::Bool(b) => s.serialize_bool(*b),
            JValue::Number(n) => match crate::model::whole(*n) {
                Some(i) => s.serialize_i64(i),
                None if n.is_finite() => s.serialize_f64(*n),
                None => s.serialize_unit(),
            },
            JValue::String(text) => s.serialize_str(text),
            JValue::Array(items) => {
                let mut seq = s.serialize_seq(None)?;
                for item in items.iter().filter(|i| defined(i)) {
                    seq.serialize_element(&Wire(item))?;
                }
                seq.end()
            }
            JValue::Object(map) => {
                let mut out = s.serialize_map(None)?;
                for (k, v) in map.iter().filter(|(_, v)| defined(v)) {
                    out.serialize_entry(k, &Wire(v))?;
                }
                out.end()
            }
            _ => s.serialize_unit(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_and_value_agree_on_numbers_undefined_and_order() {
        let mut map = indexmap::IndexMap::new();
        map.insert("z".into(), JValue::Number(1024.0));
        map.insert("gone".into(), JValue::Undefined);
        map.insert("a".into(), JValue::Number(0.5));
        map.insert("nan".into(), JValue::Number(f64::NAN));
        map.insert(
            "list".into(),
            JValue::array(vec![JValue::Undefined, JValue::Null, JValue::string("x")]),
        );
        let v = JValue::object(map);
        let expected = json!({"z": 1024, "a": 0.5, "nan": null, "list": [null, "x"]});
        assert_eq!(to_json(&v), expected);
        assert_eq!(
            String::from_utf8(to_text(&v)).unwrap(),
            r#"{"z":1024,"a":0.5,"nan":null,"list":[null,"x"]}"#
        );
        let back = from_text(r#"{"b": [1, {"c": "d"}], "a": 2.5}"#).unwrap();
        assert_eq!(to_json(&back), json!({"b": [1, {"c": "d"}], "a": 2.5}));
    }
}

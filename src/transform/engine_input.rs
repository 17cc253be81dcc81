//! The canonical request straight into jsonata-core's values: a serde `Serializer` that builds the engine's
//! input as the request is walked, instead of writing JSON text and parsing it again (on the large request
//! that halves the cost of the engine's input; README, Performance). The values are those JSON would give:
//! numbers as f64, maps in field order, `None` as null.

use indexmap::IndexMap;
use jsonata_core::value::{JArray, JValue};
use serde::ser::{self, Serialize};
use std::fmt;

/// The engine's value of `v`.
pub fn to_engine<T: Serialize + ?Sized>(v: &T) -> Result<JValue, Error> {
    v.serialize(Build)
}

#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

fn array(items: Vec<JValue>) -> JValue {
    // Flat (no nested array) lets a path step take the items as they are, as the JSON reader marks them.
    let flat = !items.iter().any(|i| matches!(i, JValue::Array(_)));
    JValue::Array(JArray::new_flat(items, flat))
}

/// `{"Variant": value}`, serde's external tagging, as JSON writes it.
fn tagged(variant: &str, value: JValue) -> JValue {
    JValue::object(IndexMap::from([(variant.to_string(), value)]))
}

struct Build;

impl ser::Serializer for Build {
    type Ok = JValue;
    type Error = Error;
    type SerializeSeq = Seq;
    type SerializeTuple = Seq;
    type SerializeTupleStruct = Seq;
    type SerializeTupleVariant = Seq;
    type SerializeMap = Map;
    type SerializeStruct = Map;
    type SerializeStructVariant = Map;

    fn serialize_bool(self, v: bool) -> Result<JValue, Error> {
        Ok(JValue::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<JValue, Error> {
        self.serialize_f64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<JValue, Error> {
        self.serialize_f64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<JValue, Error> {
        self.serialize_f64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<JValue, Error> {
        self.serialize_f64(v as f64)
    }
    fn serialize_u8(self, v: u8) -> Result<JValue, Error> {
        self.serialize_f64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<JValue, Error> {
        self.serialize_f64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<JValue, Error> {
        self.serialize_f64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<JValue, Error> {
        self.serialize_f64(v as f64)
    }
    fn serialize_f32(self, v: f32) -> Result<JValue, Error> {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> Result<JValue, Error> {
        // JSON has no NaN or infinity: serde_json writes them as null.
        Ok(if v.is_finite() {
            JValue::Number(v)
        } else {
            JValue::Null
        })
    }
    fn serialize_char(self, v: char) -> Result<JValue, Error> {
        Ok(JValue::string(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<JValue, Error> {
        Ok(JValue::string(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<JValue, Error> {
        Ok(array(
            v.iter().map(|b| JValue::Number((*b).into())).collect(),
        ))
    }
    fn serialize_none(self) -> Result<JValue, Error> {
        Ok(JValue::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<JValue, Error> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<JValue, Error> {
        Ok(JValue::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<JValue, Error> {
        Ok(JValue::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        v: &'static str,
    ) -> Result<JValue, Error> {
        Ok(JValue::string(v))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<JValue, Error> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<JValue, Error> {
        Ok(tagged(variant, v.serialize(Build)?))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq, Error> {
        Ok(Seq::new(None, len))
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq, Error> {
        Ok(Seq::new(None, Some(len)))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Seq, Error> {
        Ok(Seq::new(None, Some(len)))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Seq, Error> {
        Ok(Seq::new(Some(variant), Some(len)))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Map, Error> {
        Ok(Map::new(None, len))
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Map, Error> {
        Ok(Map::new(None, Some(len)))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Map, Error> {
        Ok(Map::new(Some(variant), Some(len)))
    }
}

/// An array under construction; `variant` wraps it as `{"Variant": [...]}`.
struct Seq {
    variant: Option<&'static str>,
    items: Vec<JValue>,
}

impl Seq {
    fn new(variant: Option<&'static str>, len: Option<usize>) -> Seq {
        Seq {
            variant,
            items: Vec::with_capacity(len.unwrap_or(0)),
        }
    }

    fn push<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        self.items.push(v.serialize(Build)?);
        Ok(())
    }

    fn finish(self) -> Result<JValue, Error> {
        let value = array(self.items);
        Ok(match self.variant {
            Some(variant) => tagged(variant, value),
            None => value,
        })
    }
}

macro_rules! seq_impl {
    ($trait:ident, $method:ident) => {
        impl ser::$trait for Seq {
            type Ok = JValue;
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
                self.push(v)
            }
            fn end(self) -> Result<JValue, Error> {
                self.finish()
            }
        }
    };
}
seq_impl!(SerializeSeq, serialize_element);
seq_impl!(SerializeTuple, serialize_element);
seq_impl!(SerializeTupleStruct, serialize_field);
seq_impl!(SerializeTupleVariant, serialize_field);

/// An object under construction, in insertion order; `variant` wraps it as `{"Variant": {...}}`.
struct Map {
    variant: Option<&'static str>,
    fields: IndexMap<String, JValue>,
    key: Option<String>,
}

impl Map {
    fn new(variant: Option<&'static str>, len: Option<usize>) -> Map {
        Map {
            variant,
            fields: IndexMap::with_capacity(len.unwrap_or(0)),
            key: None,
        }
    }

    fn finish(self) -> Result<JValue, Error> {
        let value = JValue::object(self.fields);
        Ok(match self.variant {
            Some(variant) => tagged(variant, value),
            None => value,
        })
    }
}

impl ser::SerializeMap for Map {
    type Ok = JValue;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        // JSON's keys are strings.
        match key.serialize(Build)? {
            JValue::String(k) => {
                self.key = Some(k.to_string());
                Ok(())
            }
            _ => Err(Error("a map key that is not a string".into())),
        }
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Error("a map value came before its key".into()))?;
        self.fields.insert(key, v.serialize(Build)?);
        Ok(())
    }
    fn end(self) -> Result<JValue, Error> {
        self.finish()
    }
}

impl ser::SerializeStruct for Map {
    type Ok = JValue;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        self.fields.insert(key.to_string(), v.serialize(Build)?);
        Ok(())
    }
    fn end(self) -> Result<JValue, Error> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Map {
    type Ok = JValue;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        ser::SerializeStruct::serialize_field(self, key, v)
    }
    fn end(self) -> Result<JValue, Error> {
        self.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::values;
    use serde::Serialize;
    use serde_json::json;

    /// Built values equal what the JSON text of the same thing reads as.
    fn same_as_text<T: Serialize>(v: &T) {
        let text = serde_json::to_string(v).unwrap();
        let built = to_engine(v).unwrap();
        let read = values::from_text(&text).unwrap();
        assert_eq!(built, read, "{text}");
        assert_eq!(values::to_text(&built), values::to_text(&read), "{text}");
    }

    #[test]
    fn values_are_built_as_their_json_text_reads() {
        same_as_text(&json!({
            "model": "m", "n": 1024, "x": -0.25, "big": 18446744073709551615u64, "none": null,
            "nested": [[1, 2], [], [{"a": [true, false]}]], "order": {"z": 1, "a": 2, "m": 3},
            "text": "quote \" and \u{1F600}"
        }));
        #[derive(Serialize)]
        enum Shape {
            Unit,
            Newtype(u8),
            Tuple(u8, String),
            Struct { side: f32 },
        }
        #[derive(Serialize)]
        struct Holder {
            shapes: Vec<Shape>,
            maybe: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            skipped: Option<String>,
            bytes: Vec<u8>,
            nan: f64,
        }
        same_as_text(&Holder {
            shapes: vec![
                Shape::Unit,
                Shape::Newtype(7),
                Shape::Tuple(1, "t".into()),
                Shape::Struct { side: 1.5 },
            ],
            maybe: None,
            skipped: None,
            bytes: vec![0, 255],
            nan: f64::NAN,
        });
    }

    #[test]
    fn a_key_that_is_not_a_string_is_an_error() {
        let map = std::collections::BTreeMap::from([(vec![1u8], 1)]);
        assert!(to_engine(&map).is_err());
    }
}

//! The tools' JSON Schemas in their most portable spelling. schemars writes a nullable value
//! as a type array (`"type": ["string", "null"]`) and integers with the Rust type as their
//! `format` (`int64`, `uint32`); both are legal JSON Schema, but clients that map tool schemas
//! onto a single-`type` dialect (Gemini's function declarations, some MCP clients) reject the
//! first, and the second names no format JSON Schema defines. `mcp-inspector --cli --strict`
//! warns about type arrays; tests/mcp/inspector.sh holds us to no warnings.
//!
//! [`portable`] rewrites a schema in place: a type array becomes `anyOf` branches of one type
//! each (each branch keeping the keywords that constrain its type), and a `format` that JSON
//! Schema 2020-12 does not define is dropped (its bounds, such as `minimum: 0`, stay).

use serde_json::{Map, Value, json};

/// The formats JSON Schema 2020-12 defines (§7.3 of its validation vocabulary).
const STANDARD_FORMATS: &[&str] = &[
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uuid",
    "uri-template",
    "json-pointer",
    "relative-json-pointer",
    "regex",
];

/// Keywords whose value is one schema.
const ONE_SCHEMA: &[&str] = &[
    "items",
    "contains",
    "not",
    "propertyNames",
    "if",
    "then",
    "else",
    "additionalProperties",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contentSchema",
];
/// Keywords whose value is a list of schemas.
const SCHEMA_LISTS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];
/// Keywords whose value maps names to schemas.
const SCHEMA_MAPS: &[&str] = &[
    "properties",
    "patternProperties",
    "dependentSchemas",
    "$defs",
    "definitions",
];

/// Keywords that constrain one JSON type, so that they go into its `anyOf` branch.
fn constrains(keyword: &str, ty: &str) -> bool {
    match ty {
        "string" => matches!(
            keyword,
            "minLength" | "maxLength" | "pattern" | "format" | "contentEncoding"
        ),
        "integer" | "number" => matches!(
            keyword,
            "minimum"
                | "maximum"
                | "exclusiveMinimum"
                | "exclusiveMaximum"
                | "multipleOf"
                | "format"
        ),
        "array" => matches!(
            keyword,
            "items"
                | "prefixItems"
                | "contains"
                | "minItems"
                | "maxItems"
                | "uniqueItems"
                | "minContains"
                | "maxContains"
                | "unevaluatedItems"
        ),
        "object" => matches!(
            keyword,
            "properties"
                | "required"
                | "additionalProperties"
                | "patternProperties"
                | "propertyNames"
                | "minProperties"
                | "maxProperties"
                | "dependentRequired"
                | "dependentSchemas"
                | "unevaluatedProperties"
        ),
        _ => false,
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Rewrites `schema` and every schema inside it in the portable spelling (see the module).
pub fn portable(schema: &mut Value) {
    let Value::Object(object) = schema else {
        return;
    };
    if object
        .get("format")
        .and_then(Value::as_str)
        .is_some_and(|format| !STANDARD_FORMATS.contains(&format))
    {
        object.remove("format");
    }
    split_type_array(object);
    for keyword in ONE_SCHEMA {
        if let Some(sub) = object.get_mut(*keyword) {
            portable(sub);
        }
    }
    for keyword in SCHEMA_LISTS {
        if let Some(Value::Array(list)) = object.get_mut(*keyword) {
            list.iter_mut().for_each(portable);
        }
    }
    for keyword in SCHEMA_MAPS {
        if let Some(Value::Object(map)) = object.get_mut(*keyword) {
            map.values_mut().for_each(portable);
        }
    }
}

/// `{"type": ["string", "null"], "maxLength": 5}` →
/// `{"anyOf": [{"type": "string", "maxLength": 5}, {"type": "null"}]}`; an `enum` or `const`
/// is split by the types of its values. Annotations (`description`, `default`, …) stay put.
fn split_type_array(object: &mut Map<String, Value>) {
    let types: Vec<String> = match object.get("type") {
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect(),
        _ => return,
    };
    if types.len() == 1 {
        object.insert("type".into(), json!(types[0]));
        return;
    }
    object.remove("type");
    let values = object.remove("enum");
    let constant = object.remove("const");
    let keywords: Vec<String> = object
        .keys()
        .filter(|key| types.iter().any(|ty| constrains(key, ty)))
        .cloned()
        .collect();
    let mut moved: Map<String, Value> = Map::new();
    for key in keywords {
        if let Some(value) = object.remove(&key) {
            moved.insert(key, value);
        }
    }
    let mut branches = Vec::new();
    for ty in &types {
        let mut branch = Map::new();
        branch.insert("type".into(), json!(ty));
        for (key, value) in &moved {
            if constrains(key, ty) {
                branch.insert(key.clone(), value.clone());
            }
        }
        // An integer is also a number: both branches accept it.
        let fits = |v: &Value| {
            let t = json_type(v);
            t == ty || (t == "integer" && ty == "number")
        };
        if let Some(Value::Array(values)) = &values {
            let own: Vec<Value> = values.iter().filter(|v| fits(v)).cloned().collect();
            if own.is_empty() {
                continue;
            }
            if ty != "null" {
                branch.insert("enum".into(), Value::Array(own));
            }
        }
        if let Some(constant) = &constant {
            if !fits(constant) {
                continue;
            }
            branch.insert("const".into(), constant.clone());
        }
        branches.push(Value::Object(branch));
    }
    let any_of = match object.remove("anyOf") {
        // Already a union: the type array narrows it; keep both, as allOf.
        Some(existing) => {
            let all = vec![existing_union(existing), json!({ "anyOf": branches })];
            object.insert("allOf".into(), Value::Array(all));
            return;
        }
        None => branches,
    };
    object.insert("anyOf".into(), Value::Array(any_of));
}

fn existing_union(any_of: Value) -> Value {
    json!({ "anyOf": any_of })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(mut schema: Value) -> Value {
        portable(&mut schema);
        schema
    }

    #[test]
    fn a_nullable_type_becomes_any_of_with_its_constraints_in_its_branch() {
        let schema = rewritten(json!({
            "description": "Notes",
            "type": ["string", "null"],
            "maxLength": 10,
            "default": null
        }));
        assert_eq!(
            schema,
            json!({
                "description": "Notes",
                "default": null,
                "anyOf": [{"type": "string", "maxLength": 10}, {"type": "null"}]
            })
        );
    }

    #[test]
    fn an_enum_with_null_is_split_by_the_types_of_its_values() {
        let schema = rewritten(json!({"type": ["string", "null"], "enum": ["a", "b", null]}));
        assert_eq!(
            schema,
            json!({"anyOf": [{"type": "string", "enum": ["a", "b"]}, {"type": "null"}]})
        );
    }

    #[test]
    fn rust_integer_formats_go_and_standard_ones_stay() {
        let schema = rewritten(json!({
            "type": "object",
            "properties": {
                "id": {"type": "integer", "format": "int64"},
                "count": {"type": ["integer", "null"], "format": "uint32", "minimum": 0},
                "at": {"type": "string", "format": "date-time"},
                "list": {"type": "array", "items": {"type": "number", "format": "double"}}
            },
            "$defs": {"X": {"type": "integer", "format": "uint64", "minimum": 0}}
        }));
        let text = schema.to_string();
        for gone in ["int64", "uint32", "uint64", "double"] {
            assert!(!text.contains(gone), "{gone} left in {text}");
        }
        assert_eq!(schema["properties"]["at"]["format"], "date-time");
        assert_eq!(
            schema["properties"]["count"],
            json!({"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]})
        );
        assert_eq!(
            schema["$defs"]["X"],
            json!({"type": "integer", "minimum": 0})
        );
    }

    #[test]
    fn nested_schemas_are_rewritten_too() {
        let schema = rewritten(json!({
            "anyOf": [{"type": ["array", "null"], "items": {"type": ["boolean", "null"]}}]
        }));
        assert!(
            !schema.to_string().contains("[\"boolean\",\"null\"]"),
            "{schema}"
        );
        assert_eq!(
            schema["anyOf"][0]["anyOf"][0]["items"],
            json!({"anyOf": [{"type": "boolean"}, {"type": "null"}]})
        );
    }
}

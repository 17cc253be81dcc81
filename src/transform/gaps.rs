//! Constructs a template should not use on an engine: what it lacks, mis-evaluates, or what makes bodies
//! change from call to call. One list, kept here, shown by template validation before a template runs.

/// One known gap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gap {
    /// `jsonata-core`, `jsonata-rs`, or `any`.
    pub engine: &'static str,
    /// The text that marks the construct (matched outside string literals and comments).
    pub construct: &'static str,
    pub why: &'static str,
}

pub const KNOWN_GAPS: &[Gap] = &[
    Gap {
        engine: "any",
        construct: "$eval(",
        why: "evaluates text as code; never use it on model output (use $parseJson)",
    },
    Gap {
        engine: "any",
        construct: "$now(",
        why: "changes the body on every call, which defeats providers' prompt caching",
    },
    Gap {
        engine: "any",
        construct: "$millis(",
        why: "changes the body on every call, which defeats providers' prompt caching",
    },
    Gap {
        engine: "any",
        construct: "$random(",
        why: "changes the body on every call, which defeats providers' prompt caching",
    },
    Gap {
        engine: "jsonata-rs",
        construct: "%",
        why: "the parent operator panics in jsonata-rs 0.3.4",
    },
    Gap {
        engine: "jsonata-rs",
        construct: "?)",
        why: "partial application panics in jsonata-rs 0.3.4",
    },
    Gap {
        engine: "jsonata-rs",
        construct: "?,",
        why: "partial application panics in jsonata-rs 0.3.4",
    },
    Gap {
        engine: "jsonata-rs",
        construct: "??",
        why: "the `??` operator is missing in jsonata-rs 0.3.4",
    },
    Gap {
        engine: "jsonata-rs",
        construct: "?:",
        why: "the `?:` operator is missing in jsonata-rs 0.3.4",
    },
    Gap {
        engine: "jsonata-rs",
        construct: "$type(",
        why: "missing in jsonata-rs 0.3.4",
    },
    Gap {
        engine: "jsonata-rs",
        construct: "$sift(",
        why: "missing in jsonata-rs 0.3.4",
    },
    Gap {
        engine: "jsonata-rs",
        construct: "$spread(",
        why: "missing in jsonata-rs 0.3.4",
    },
    Gap {
        engine: "jsonata-rs",
        construct: "$average(",
        why: "missing in jsonata-rs 0.3.4",
    },
    Gap {
        engine: "jsonata-rs",
        construct: "$formatNumber(",
        why: "missing in jsonata-rs 0.3.4",
    },
    Gap {
        engine: "jsonata-rs",
        construct: "$parseInteger(",
        why: "missing in jsonata-rs 0.3.4",
    },
    Gap {
        engine: "jsonata-rs",
        construct: "$encodeUrl",
        why: "URL functions are missing in jsonata-rs 0.3.4",
    },
    Gap {
        engine: "jsonata-rs",
        construct: "$decodeUrl",
        why: "URL functions are missing in jsonata-rs 0.3.4",
    },
    Gap {
        engine: "jsonata-rs",
        construct: "$lookup(",
        why: "jsonata-rs 0.3.4 fails (T0410) when the key is undefined",
    },
    Gap {
        engine: "jsonata-rs",
        construct: "$string(",
        why: "jsonata-rs 0.3.4 writes object keys in random order, so the text changes from call to call",
    },
    Gap {
        engine: "jsonata-rs",
        construct: "$filter(",
        why: "jsonata-rs 0.3.4 mis-evaluates a callback whose body ends in a function call",
    },
    Gap {
        engine: "jsonata-rs",
        construct: "$each(",
        why: "jsonata-rs 0.3.4 mis-evaluates a callback whose body ends in a function call",
    },
    Gap {
        engine: "jsonata-rs",
        construct: "$sort(",
        why: "jsonata-rs 0.3.4 mis-evaluates a callback whose body ends in a function call",
    },
];

/// The gaps `source` runs into on `engine` (`any` gaps always apply).
pub fn scan(source: &str, engine: &str) -> Vec<Gap> {
    let code = code_only(source);
    KNOWN_GAPS
        .iter()
        .filter(|g| g.engine == "any" || g.engine == engine)
        .filter(|g| code.contains(g.construct))
        .copied()
        .collect()
}

/// The text with string literals and comments blanked, so a construct inside them does not count.
fn code_only(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' | '`' => {
                let quote = c;
                while let Some(d) = chars.next() {
                    if d == '\\' {
                        chars.next();
                    } else if d == quote {
                        break;
                    }
                }
                out.push(' ');
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for d in chars.by_ref() {
                    if prev == '*' && d == '/' {
                        break;
                    }
                    prev = d;
                }
                out.push(' ');
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_constructs_in_code_only() {
        let found = scan(
            r#"( $x := $now(); "$eval(" & $parseJson(s) /* $random() */ )"#,
            "jsonata-core",
        );
        assert_eq!(
            found.iter().map(|g| g.construct).collect::<Vec<_>>(),
            vec!["$now("]
        );
    }

    #[test]
    fn engine_specific_gaps_apply_to_their_engine_only() {
        let src = "$sift(x, function($v){ $v })";
        assert!(scan(src, "jsonata-core").is_empty());
        assert_eq!(scan(src, "jsonata-rs").len(), 1);
    }

    #[test]
    fn the_shipped_templates_use_no_known_gap() {
        for t in ["openai_v1", "anthropic_v1", "gemini_v1", "bedrock_v1"] {
            for src in [
                crate::transform::shipped_request_template(t),
                crate::transform::shipped_response_mapping(t),
            ] {
                assert_eq!(scan(src.unwrap(), "jsonata-core"), vec![], "{t}");
            }
        }
    }
}

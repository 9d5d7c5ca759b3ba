//! Configuration errors that teach: where the problem is (line and column of the key or value
//! the parser stopped at), the nearest valid name for a misspelt key, and types in
//! CloudFront's words instead of Rust's ("an integer 0–65535", not "u16").

/// The place (`line L, column C`) and the explained message of a TOML parse error in `text`.
pub fn explain(text: &str, err: &toml::de::Error) -> (String, String) {
    let place = err
        .span()
        .map(|s| {
            let before = &text[..s.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}")
        })
        .unwrap_or_else(|| "file".into());
    (place, teach(err.message()))
}

/// Where in `text` the field `path` (`distributions[0].Origins[1].DomainName`, as validation
/// errors name fields) is: `line L, column C` of its key, or of the deepest part of the path
/// that is there.
pub fn locate(text: &str, path: &str) -> Option<String> {
    let doc = toml_edit::ImDocument::parse(text).ok()?;
    let mut table: &dyn toml_edit::TableLike = doc.as_table();
    let mut at: Option<std::ops::Range<usize>> = None;
    for seg in path.split('.') {
        let (name, index) = match seg.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (seg, None),
        };
        let Some((key, item)) = table.get_key_value(name) else {
            break;
        };
        at = key.span().or(at);
        match (item, index) {
            (toml_edit::Item::ArrayOfTables(a), Some(i)) => match a.get(i) {
                Some(t) => {
                    at = t.span().or(at);
                    table = t;
                }
                None => break,
            },
            (toml_edit::Item::Table(t), None) => table = t,
            (toml_edit::Item::Value(toml_edit::Value::InlineTable(t)), None) => table = t,
            _ => break,
        }
    }
    let span = at?;
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Some(format!("line {line}, column {column}"))
}

/// `message` with Rust's type names replaced and, for an unknown field, the nearest valid one.
pub fn teach(message: &str) -> String {
    let mut out = types(message.trim());
    if let Some(rest) = out.strip_prefix("unknown field `") {
        if let Some((name, tail)) = rest.split_once('`') {
            let valid: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
            if let Some(near) = nearest(name, &valid) {
                out = format!(
                    "unknown field `{name}`: did you mean `{near}`?{}",
                    listed(&valid)
                );
            } else {
                out = format!("unknown field `{name}`{}", listed(&valid));
            }
        }
    }
    out
}

fn listed(valid: &[&str]) -> String {
    if valid.is_empty() {
        String::new()
    } else {
        format!(" (valid here: {})", valid.join(", "))
    }
}

/// The valid name closest to `name`, if one is close enough to be what was meant.
fn nearest<'a>(name: &str, valid: &[&'a str]) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    if let Some(v) = valid.iter().find(|v| v.to_ascii_lowercase() == lower) {
        return Some(v);
    }
    valid
        .iter()
        .map(|v| (strsim::jaro_winkler(&lower, &v.to_ascii_lowercase()), *v))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, v)| v)
}

/// Serde's type words as a configuration's reader says them.
fn types(message: &str) -> String {
    const WORDS: [(&str, &str); 14] = [
        ("expected u8", "expected an integer 0–255"),
        ("expected u16", "expected an integer 0–65535"),
        ("expected u32", "expected an integer 0–4294967295"),
        ("expected u64", "expected a whole number (0 or more)"),
        ("expected usize", "expected a whole number (0 or more)"),
        ("expected i8", "expected an integer"),
        ("expected i16", "expected an integer"),
        ("expected i32", "expected an integer"),
        ("expected i64", "expected an integer"),
        ("expected f32", "expected a number"),
        ("expected f64", "expected a number"),
        ("expected a sequence", "expected a list ([ … ])"),
        ("expected a map", "expected a table"),
        ("expected a boolean", "expected true or false"),
    ];
    let mut out = message.to_string();
    for (rust, ours) in WORDS {
        // Whole words only: "u16" but not "u160".
        if let Some(i) = out.find(rust) {
            let end = i + rust.len();
            if out[end..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_ascii_alphanumeric())
            {
                out.replace_range(i..end, ours);
            }
        }
    }
    if let Some(i) = out.find("expected struct ") {
        let end = out[i + 16..]
            .find(|c: char| !c.is_ascii_alphanumeric())
            .map_or(out.len(), |e| i + 16 + e);
        out.replace_range(i..end, "expected a table");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_say_where_what_and_what_was_meant() {
        let text = "[node]\npop = \"X\"\n[[distributions]]\n[[distributions.Origins]]\nId = \"o\"\nDomainName = \"a\"\n[distributions.Origins.CustomOriginConfig]\nHTTPPort = 99999\n";
        let e = toml::from_str::<super::super::raw::RawConfig>(text).unwrap_err();
        let (place, msg) = explain(text, &e);
        assert_eq!(place, "line 8, column 12", "{msg}");
        assert!(
            msg.contains("expected an integer 0–65535") && !msg.contains("u16"),
            "{msg}"
        );
        let text = "[[distributions]]\n[distributions.DefaultCacheBehavior]\nTargetOriginId = \"o\"\n  DefaultTTl = 5\n";
        let e = toml::from_str::<super::super::raw::RawConfig>(text).unwrap_err();
        let (place, msg) = explain(text, &e);
        assert_eq!(place, "line 4, column 3", "{msg}");
        assert!(
            msg.starts_with("unknown field `DefaultTTl`: did you mean `DefaultTTL`?"),
            "{msg}"
        );
        assert!(
            teach("unknown field `Qwerty`, expected one of `MinTTL`, `MaxTTL`")
                .starts_with("unknown field `Qwerty` (valid here: MinTTL, MaxTTL)")
        );
        assert_eq!(
            teach("invalid type: string \"x\", expected u160"),
            "invalid type: string \"x\", expected u160"
        );
        assert_eq!(
            teach("invalid type: integer `1`, expected a boolean"),
            "invalid type: integer `1`, expected true or false"
        );
        let text = "[[distributions]]\nId = \"A\"\n[[distributions.Origins]]\nId = \"o\"\n[[distributions.Origins]]\nId = \"p\"\n  DomainName = \"\"\n";
        assert_eq!(
            locate(text, "distributions[0].Origins[1].DomainName").as_deref(),
            Some("line 7, column 3")
        );
        assert_eq!(
            locate(text, "distributions[0].Origins[1].Missing").as_deref(),
            Some("line 5, column 1")
        );
    }
}

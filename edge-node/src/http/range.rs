//! Byte ranges of a cached object (RFC 9110 §14): which part of a representation of `size`
//! bytes a `Range` header asks for. The header's syntax is parsed by `http-range-header`;
//! positions are resolved here as RFC 9110 §14.1.2 says (a suffix longer than the object is
//! the whole object; a first position past the end is unsatisfiable).

use std::ops::Range;

/// What a `Range` header asks of an object.
#[derive(Debug, PartialEq, Eq)]
pub enum Asked {
    /// Serve the whole object with 200: no usable Range (bad syntax, not `bytes`, or several
    /// ranges that are not ascending, apart and each satisfiable, as CloudFront requires).
    Whole,
    /// One satisfiable range: 206 with these bytes.
    Part(Range<u64>),
    /// Several ascending, non-overlapping ranges: 206 `multipart/byteranges`.
    Parts(Vec<Range<u64>>),
    /// Nothing satisfiable: 416.
    Unsatisfiable,
}

/// The ranges `header` asks of an object of `size` bytes.
pub fn asked(header: &str, size: u64) -> Asked {
    use http_range_header::{EndPosition, RangeUnsatisfiableError, StartPosition};
    let parsed = match http_range_header::parse_range_header(header) {
        Ok(p) => p,
        // `bytes=-0` is well-formed and asks for nothing.
        Err(RangeUnsatisfiableError::ZeroSuffix) => return Asked::Unsatisfiable,
        Err(_) => return Asked::Whole,
    };
    let resolve = |r: &http_range_header::SyntacticallyCorrectRange| {
        let (start, end) = match (r.start, r.end) {
            (StartPosition::FromLast(n), _) => (size.saturating_sub(n), size),
            (StartPosition::Index(s), EndPosition::LastByte) => (s, size),
            (StartPosition::Index(s), EndPosition::Index(e)) => (s, e.saturating_add(1).min(size)),
        };
        (start < end).then_some(start..end)
    };
    if parsed.ranges.iter().any(reversed) {
        return Asked::Whole;
    }
    if let [one] = parsed.ranges.as_slice() {
        return resolve(one).map_or(Asked::Unsatisfiable, Asked::Part);
    }
    // Several: CloudFront serves them only in ascending order, apart, and each valid; else the
    // whole object (docs/cloudfront-behaviour.md: "Range requests").
    let parts: Option<Vec<Range<u64>>> = parsed.ranges.iter().map(resolve).collect();
    match parts {
        Some(p) if p.windows(2).all(|w| w[0].end <= w[1].start) => Asked::Parts(p),
        Some(_) => Asked::Whole,
        None if parsed.ranges.iter().all(|r| resolve(r).is_none()) => Asked::Unsatisfiable,
        None => Asked::Whole,
    }
}

/// `first-last` with last before first is not a valid range (RFC 9110 §14.1.1): the header
/// is ignored.
fn reversed(r: &http_range_header::SyntacticallyCorrectRange) -> bool {
    use http_range_header::{EndPosition, StartPosition};
    matches!((r.start, r.end), (StartPosition::Index(s), EndPosition::Index(e)) if e < s)
}

/// Whether `If-Range` (an entity tag, compared strongly, or the exact Last-Modified date)
/// still names the stored object, so the range may be served (RFC 9110 §13.1.5).
pub fn if_range_holds(if_range: &str, etag: Option<&str>, last_modified: Option<&str>) -> bool {
    let v = if_range.trim();
    if v.starts_with('"') || v.starts_with("W/") {
        !v.starts_with("W/") && etag.is_some_and(|e| !e.starts_with("W/") && e == v)
    } else {
        last_modified.is_some_and(|lm| lm == v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_resolve_as_rfc_9110_says() {
        for (h, want) in [
            ("bytes=0-99", Asked::Part(0..100)),
            ("bytes=100-", Asked::Part(100..1000)),
            ("bytes=-100", Asked::Part(900..1000)),
            ("bytes=-5000", Asked::Part(0..1000)),
            ("bytes=990-5000", Asked::Part(990..1000)),
            ("bytes=1000-", Asked::Unsatisfiable),
            ("bytes=5000-6000", Asked::Unsatisfiable),
            ("bytes=-0", Asked::Unsatisfiable),
            ("bytes=5-3", Asked::Whole),
            ("bytes=0-1,5-9", Asked::Parts(vec![0..2, 5..10])),
            ("bytes=5-9,0-1", Asked::Whole),
            ("bytes=0-5,3-9", Asked::Whole),
            ("bytes=0-1,5000-6000", Asked::Whole),
            ("bytes=4000-,5000-6000", Asked::Unsatisfiable),
            ("items=0-1", Asked::Whole),
            ("bytes=x-y", Asked::Whole),
        ] {
            assert_eq!(asked(h, 1000), want, "{h}");
        }
    }

    #[test]
    fn if_range_compares_strongly_or_by_exact_date() {
        let lm = "Wed, 21 Oct 2015 07:28:00 GMT";
        assert!(if_range_holds("\"a\"", Some("\"a\""), None));
        assert!(!if_range_holds("\"a\"", Some("\"b\""), None));
        assert!(!if_range_holds("W/\"a\"", Some("W/\"a\""), None));
        assert!(!if_range_holds("\"a\"", Some("W/\"a\""), None));
        assert!(if_range_holds(lm, None, Some(lm)));
        assert!(!if_range_holds(
            "Thu, 22 Oct 2015 07:28:00 GMT",
            None,
            Some(lm)
        ));
    }
}

//! The W3C Baggage header (<https://www.w3.org/TR/baggage/>): its limits, its list
//! members, and the percent-encoding of values.

use std::borrow::Cow;
use std::fmt::Write as _;

/// The header name.
pub(crate) const HEADER: &str = "baggage";
/// W3C Baggage, "Limits": a platform must propagate at least 64 list-members...
pub const MAX_ENTRIES: usize = 64;
/// ... and at least 8192 bytes of baggage-string (all members and their commas).
pub const MAX_BYTES: usize = 8192;

/// Whether `key` is an RFC 7230 token (W3C's `key = token`), non-empty.
pub(crate) fn is_token(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// W3C's `baggage-octet`: what a value may hold (printable ASCII but for space, `"`, `,`,
/// `;` and `\\`).
fn is_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

/// Whether `b` is written as itself: a `baggage-octet` but `%` (it starts an escape) and
/// `=` (OpenTelemetry's own parser cuts a value at a second `=`).
fn is_plain(b: u8) -> bool {
    is_octet(b) && b != b'%' && b != b'='
}

/// Appends `value` percent-encoded (UTF-8 bytes outside `baggage-octet`, and `%`).
pub(crate) fn encode_into(out: &mut String, value: &str) {
    if value.bytes().all(is_plain) {
        out.push_str(value);
        return;
    }
    for b in value.bytes() {
        if is_plain(b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// Decodes a value's percent-escapes; `None` for a bad escape or bytes that are not UTF-8.
pub(crate) fn decode(value: &str) -> Option<Cow<'_, str>> {
    if !value.contains('%') {
        return Some(Cow::Borrowed(value));
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hi = (hex[0] as char).to_digit(16)?;
            let lo = (hex[1] as char).to_digit(16)?;
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}

/// Optional whitespace around W3C's separators.
pub(crate) fn trim_ows(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// One list member, split: key, raw (still encoded) value, properties (raw, after the
/// first `;`, or empty). `None` when there is no `=` or the key is not a token.
pub(crate) fn split_member(member: &str) -> Option<(&str, &str, &str)> {
    let (kv, props) = match member.split_once(';') {
        Some((kv, props)) => (kv, trim_ows(props)),
        None => (member, ""),
    };
    let (key, value) = kv.split_once('=')?;
    let (key, value) = (trim_ows(key), trim_ows(value));
    if !is_token(key) || !value.bytes().all(is_octet) {
        return None;
    }
    Some((key, value, props))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_the_encoding() {
        for v in [
            "plain",
            "a b",
            "100%",
            "x,y;z=\"q\"\\ ==",
            "日本",
            "",
            "%zz",
        ] {
            let mut s = String::new();
            encode_into(&mut s, v);
            assert!(s.bytes().all(|b| is_plain(b) || b == b'%'), "{s}");
            assert!(split_member(&format!("k={s}")).is_some());
            assert_eq!(decode(&s).unwrap(), v);
        }
    }

    #[test]
    fn bad_escapes_and_non_utf8_do_not_decode() {
        for v in ["%", "%4", "%zz", "%FF", "a%C3"] {
            assert!(decode(v).is_none(), "{v}");
        }
    }

    #[test]
    fn members_split_with_whitespace_and_properties() {
        assert_eq!(split_member(" k = v ; p=1;q"), Some(("k", "v", "p=1;q")));
        assert_eq!(split_member("k=v=w"), Some(("k", "v=w", ""))); // '=' is an octet
        assert_eq!(split_member("k"), None);
        assert_eq!(split_member("=v"), None);
        assert_eq!(split_member("k y=v"), None);
        assert_eq!(split_member("k=a b"), None);
    }
}

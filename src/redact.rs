//! Redaction: secret values replaced in everything a run shows or writes, never in what is
//! judged.
//!
//! A secret is found as it was passed, and in the encodings a function is likely to put it
//! through before it reaches a response or a log line: base64 (standard and URL-safe, at any
//! byte offset inside a longer encoded text), URL encoding (any case of hex, `+` for a space)
//! and JSON string escapes. Values shorter than [`MIN_SECRET_CHARS`] are not redacted: `test`,
//! LocalStack's usual credential, is also an ordinary word, and replacing it would mangle
//! unrelated text. They are named once, so nobody is surprised.

mod walk;

use base64::Engine as _;
use regex::Regex;

pub use walk::Redact;

/// The shortest value treated as a secret.
pub const MIN_SECRET_CHARS: usize = 8;

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Replaces a run's secret values, in every encoding it knows, with [`REDACTED`].
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    text: Option<Regex>,
    bytes: Option<regex::bytes::Regex>,
    /// The names of the values too short to redact.
    skipped: Vec<String>,
}

impl Redactor {
    /// A redactor for `secrets`, given as (name, value); empty values are ignored.
    pub fn new(secrets: &[(String, String)]) -> Redactor {
        let mut skipped = Vec::new();
        let mut patterns = Vec::new();
        for (name, value) in secrets.iter().filter(|(_, v)| !v.is_empty()) {
            if value.chars().count() < MIN_SECRET_CHARS {
                skipped.push(name.clone());
                continue;
            }
            patterns.push(tolerant(value));
            patterns.extend(base64_forms(value.as_bytes()).iter().map(|f| tolerant(f)));
        }
        if patterns.is_empty() {
            return Redactor {
                skipped,
                ..Redactor::default()
            };
        }
        // Longer alternatives first, so that an encoded form is not cut short by another.
        patterns.sort_by_key(|p| std::cmp::Reverse(p.len()));
        patterns.dedup();
        let pattern = patterns.join("|");
        let build = |p: &str| {
            regex::RegexBuilder::new(p)
                .size_limit(64 << 20)
                .build()
                .ok()
        };
        Redactor {
            text: build(&pattern),
            bytes: regex::bytes::RegexBuilder::new(&pattern)
                .size_limit(64 << 20)
                .build()
                .ok(),
            skipped,
        }
    }

    /// Whether there is nothing to redact.
    pub fn is_empty(&self) -> bool {
        self.text.is_none()
    }

    /// The names of the values not redacted because they are too short to be secrets.
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }

    /// `text` with every secret replaced; `None` when it holds none.
    pub fn find_and_replace(&self, text: &str) -> Option<String> {
        let re = self.text.as_ref()?;
        re.is_match(text)
            .then(|| re.replace_all(text, REDACTED).into_owned())
    }

    /// Replaces every secret in `text`.
    pub fn string(&self, text: &mut String) {
        if let Some(clean) = self.find_and_replace(text) {
            *text = clean;
        }
    }

    /// Replaces every secret in `bytes`, which need not be text.
    pub fn bytes(&self, bytes: &mut Vec<u8>) {
        if let Some(re) = &self.bytes
            && re.is_match(bytes)
        {
            *bytes = re.replace_all(bytes, REDACTED.as_bytes()).into_owned();
        }
    }
}

/// A regex matching `value` written as is, URL-encoded or JSON-escaped, character by
/// character (encoders differ in which characters they leave alone).
fn tolerant(value: &str) -> String {
    let mut out = String::new();
    for c in value.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
            continue;
        }
        let mut forms = vec![regex::escape(&c.to_string())];
        let mut utf8 = [0; 4];
        let percent: String = c
            .encode_utf8(&mut utf8)
            .bytes()
            .map(|b| format!("%(?i:{b:02x})"))
            .collect();
        forms.push(percent);
        if c == ' ' {
            forms.push(r"\+".into());
        }
        if matches!(c, '/' | '"' | '\\') {
            forms.push(format!(r"\\{}", regex::escape(&c.to_string())));
        }
        let mut units = [0; 2];
        let json: String = c
            .encode_utf16(&mut units)
            .iter()
            .map(|u| format!(r"\\u(?i:{u:04x})"))
            .collect();
        forms.push(json);
        out.push_str(&format!("(?:{})", forms.join("|")));
    }
    out
}

/// The characters of `secret`'s base64 encoding that depend on its bytes alone, for each of
/// the three offsets it can start at inside a longer encoded text, in the standard and the
/// URL-safe alphabet.
fn base64_forms(secret: &[u8]) -> Vec<String> {
    let mut forms = Vec::new();
    for offset in 0..3usize {
        let mut input = vec![0u8; offset];
        input.extend_from_slice(secret);
        let encoded = base64::engine::general_purpose::STANDARD.encode(&input);
        // Character i covers bits [6i, 6i + 6); the secret's bits are [8·offset, 8·len).
        let first = (8 * offset).div_ceil(6);
        let end = (8 * input.len()) / 6;
        if end <= first {
            continue;
        }
        let standard = encoded[first..end].to_string();
        let url_safe = standard.replace('+', "-").replace('/', "_");
        forms.push(standard);
        if url_safe != forms[forms.len() - 1] {
            forms.push(url_safe);
        }
    }
    forms
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCY=EXAMPLE";

    fn redactor() -> Redactor {
        Redactor::new(&[("AWS_SECRET_ACCESS_KEY".into(), SECRET.into())])
    }

    fn clean(text: &str) -> String {
        let mut s = text.to_string();
        redactor().string(&mut s);
        s
    }

    #[test]
    fn a_secret_is_replaced_as_written() {
        assert_eq!(
            clean(&format!("key={SECRET} again {SECRET}")),
            "key=[redacted] again [redacted]"
        );
        assert_eq!(clean("nothing here"), "nothing here");
    }

    // Regression: a secret inside a base64 body was shown in clear.
    #[test]
    fn a_secret_is_found_inside_base64_at_every_offset() {
        let b64 = &base64::engine::general_purpose::STANDARD;
        let url = &base64::engine::general_purpose::URL_SAFE_NO_PAD;
        for prefix in ["", "a", "ab", "abc", "{\"token\": \""] {
            let text = format!("{prefix}{SECRET}\" and more");
            for encoded in [b64.encode(&text), url.encode(&text)] {
                let shown = clean(&encoded);
                assert!(shown.contains(REDACTED), "{prefix:?}: {encoded} -> {shown}");
                // At most a character at each end of the secret's encoding is left.
                let encoded_secret = SECRET.len() * 4 / 3;
                let removed = encoded.len() + REDACTED.len() - shown.len();
                assert!(removed + 2 >= encoded_secret, "{encoded} -> {shown}");
            }
        }
    }

    // Regression: a URL-encoded secret was shown in clear.
    #[test]
    fn a_secret_is_found_url_encoded_in_any_style() {
        let styles = [
            "wJalrXUtnFEMI%2FK7MDENG%2BbPxRfiCY%3DEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG%2bbPxRfiCY%3dEXAMPLE",
            "wJalrXUtnFEMI%2fK7MDENG%2BbPxRfiCY=EXAMPLE",
        ];
        for style in styles {
            assert_eq!(clean(&format!("?k={style}&x=1")), "?k=[redacted]&x=1");
        }
    }

    #[test]
    fn a_secret_is_found_json_escaped() {
        let escaped = SECRET.replace('/', "\\/");
        assert_eq!(
            clean(&format!("{{\"k\":\"{escaped}\"}}")),
            "{\"k\":\"[redacted]\"}"
        );
        let unicode = SECRET.replace('+', "\\u002B");
        assert_eq!(clean(&unicode), REDACTED);
    }

    // Regression: LocalStack's `test` credentials were redacted, failing correct functions.
    #[test]
    fn values_too_short_to_be_secrets_are_named_not_redacted() {
        let r = Redactor::new(&[
            ("AWS_ACCESS_KEY_ID".into(), "test".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "x".into()),
            ("AWS_SESSION_TOKEN".into(), String::new()),
        ]);
        assert!(r.is_empty());
        assert_eq!(r.skipped(), ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
        let mut s = "test x errorMessage".to_string();
        r.string(&mut s);
        assert_eq!(s, "test x errorMessage");
    }

    #[test]
    fn bytes_that_are_not_text_are_redacted_too() {
        let mut bytes = vec![0xff, 0xfe];
        bytes.extend_from_slice(SECRET.as_bytes());
        bytes.push(0x80);
        redactor().bytes(&mut bytes);
        assert_eq!(
            bytes,
            [&[0xff, 0xfe][..], REDACTED.as_bytes(), &[0x80]].concat()
        );
    }
}

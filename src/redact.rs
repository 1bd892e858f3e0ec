//! Redaction: secret values replaced in everything a run shows or writes, never in what is
//! judged.
//!
//! A secret is found as it was passed, and in the encodings a function is likely to put it
//! through before it reaches a response or a log line: base64 (standard and URL-safe, at any
//! byte offset inside a longer encoded text), URL encoding (any case of hex, `+` for a space)
//! and JSON string escapes. Values shorter than [`MIN_SECRET_CHARS`] are not redacted: `test`,
//! LocalStack's usual credential, is also an ordinary word, and replacing it would mangle
//! unrelated text. They are named once, so nobody is surprised.

mod forms;
mod walk;

use aho_corasick::{AhoCorasick, MatchKind};
use regex::Regex;

pub use walk::{Redact, secret_path};

/// The shortest value treated as a secret.
pub const MIN_SECRET_CHARS: usize = 8;

/// The longest secret also matched character by character in mixed encodings; a longer one
/// (a PEM, a CA bundle) is matched in its literal forms, which cost nothing to build.
const TOLERANT_MAX_BYTES: usize = 1024;

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Replaces a run's secret values, in every encoding it knows, with [`REDACTED`].
///
/// It fails closed: the literal forms ([`forms::literal_forms`]) are matched whatever a
/// secret's size (a PEM, a CA bundle), and the character-by-character pattern, which a very
/// large secret can push past the regex engine's limits, only adds to them.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    text: Option<Regex>,
    bytes: Option<regex::bytes::Regex>,
    literal: Option<AhoCorasick>,
    /// Each literal form, and how short a prefix of it a cut may leave and still be redacted.
    prefixes: Vec<(String, usize)>,
    /// Every secret's base64 fragments, looked for in base64 wrapped over several lines.
    base64: Option<AhoCorasick>,
    /// The names of the values too short to redact.
    skipped: Vec<String>,
}

/// A cut's mark: what comes before it may be the start of a secret.
const CUT: char = '…';

impl Redactor {
    /// A redactor for `secrets`, given as (name, value); empty values are ignored.
    pub fn new(secrets: &[(String, String)]) -> Redactor {
        let mut skipped = Vec::new();
        let mut patterns = Vec::new();
        let mut literals: Vec<forms::Form> = Vec::new();
        let mut base64 = Vec::new();
        for (name, value) in secrets.iter().filter(|(_, v)| !v.is_empty()) {
            if value.chars().count() < MIN_SECRET_CHARS {
                skipped.push(name.clone());
                continue;
            }
            let fragments = forms::base64_forms(value.as_bytes());
            if value.len() <= TOLERANT_MAX_BYTES {
                patterns.push(tolerant(value));
                patterns.extend(fragments.iter().map(|f| tolerant(f)));
            }
            base64.extend(fragments);
            literals.extend(forms::literal_forms(value));
        }
        if literals.is_empty() {
            debug_assert!(patterns.is_empty());
            return Redactor {
                skipped,
                ..Redactor::default()
            };
        }
        // Longer alternatives first, so that an encoded form is not cut short by another.
        patterns.sort_by_key(|p| std::cmp::Reverse(p.len()));
        patterns.dedup();
        let pattern = patterns.join("|");
        let (text, bytes) = match patterns.is_empty() {
            true => (None, None),
            false => (
                regex::RegexBuilder::new(&pattern)
                    .size_limit(64 << 20)
                    .build()
                    .ok(),
                regex::bytes::RegexBuilder::new(&pattern)
                    .size_limit(64 << 20)
                    .build()
                    .ok(),
            ),
        };
        let automaton = |words: &[&str]| {
            // Large secrets would take seconds to compile into a faster automaton.
            let large = words.iter().map(|w| w.len()).sum::<usize>() > 64 * 1024;
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .kind(large.then_some(aho_corasick::AhoCorasickKind::NoncontiguousNFA))
                .build(words)
                .ok()
        };
        let words: Vec<&str> = literals.iter().map(|f| f.text.as_str()).collect();
        let fragments: Vec<&str> = base64.iter().map(String::as_str).collect();
        Redactor {
            text,
            bytes,
            literal: automaton(&words),
            prefixes: literals
                .into_iter()
                .map(|f| (f.text, f.min_prefix))
                .collect(),
            base64: automaton(&fragments),
            skipped,
        }
    }

    /// Whether there is nothing to redact.
    pub fn is_empty(&self) -> bool {
        self.prefixes.is_empty()
    }

    /// The names of the values not redacted because they are too short to be secrets.
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }

    /// `text` with every secret replaced; `None` when it holds none.
    pub fn find_and_replace(&self, text: &str) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let mut out = std::borrow::Cow::Borrowed(text);
        // First, while a wrapped block is whole: found inside, a secret would split it.
        if let Some(clean) = self.wrapped_base64(&out) {
            out = std::borrow::Cow::Owned(clean);
        }
        if let Some(re) = &self.text
            && re.is_match(&out)
        {
            out = std::borrow::Cow::Owned(re.replace_all(&out, REDACTED).into_owned());
        }
        let Some(ac) = &self.literal else {
            // The secrets could not be matched at all: nothing of the text is shown.
            return Some(REDACTED.to_string());
        };
        if ac.is_match(out.as_ref()) {
            out = std::borrow::Cow::Owned(ac.replace_all(&out, &vec![REDACTED; ac.patterns_len()]));
        }
        if let Some(clean) = self.cut_inside(&out) {
            out = std::borrow::Cow::Owned(clean);
        }
        match out {
            std::borrow::Cow::Borrowed(_) => None,
            std::borrow::Cow::Owned(clean) => Some(clean),
        }
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
        let Some(ac) = &self.literal else {
            if !self.is_empty() {
                *bytes = REDACTED.as_bytes().to_vec();
            }
            return;
        };
        if ac.is_match(bytes.as_slice()) {
            let with = vec![REDACTED.as_bytes(); ac.patterns_len()];
            *bytes = ac.replace_all_bytes(bytes, &with);
        }
    }

    /// Text cut short (`…`) just after the first characters of a secret: those characters,
    /// replaced. A value is cut before it is shown, and the cut can fall inside a secret
    /// that, whole, would have been found.
    fn cut_inside(&self, text: &str) -> Option<String> {
        if !text.contains(CUT) {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        let mut changed = false;
        while let Some(at) = rest.find(CUT) {
            let before = &rest[..at];
            let start = self.secret_start(before).unwrap_or(before.len());
            out.push_str(&before[..start]);
            if start < before.len() {
                out.push_str(REDACTED);
                changed = true;
            }
            out.push(CUT);
            rest = &rest[at + CUT.len_utf8()..];
        }
        out.push_str(rest);
        changed.then_some(out)
    }

    /// Where the longest end of `text` that begins one of the secrets' forms starts.
    fn secret_start(&self, text: &str) -> Option<usize> {
        let last = *text.as_bytes().last()?;
        let mut best: Option<usize> = None;
        for (form, min_prefix) in &self.prefixes {
            let longest = form.len().min(text.len());
            let ends = form.char_indices().skip(*min_prefix).map(|(k, _)| k);
            for k in ends.chain([form.len()]) {
                if k > longest || k == 0 || form.as_bytes()[k - 1] != last {
                    continue;
                }
                if text.ends_with(&form[..k]) && best.is_none_or(|b| text.len() - k < b) {
                    best = Some(text.len() - k);
                }
            }
        }
        best
    }

    /// Base64 wrapped over several lines (PEM, MIME, Python's `encodebytes`, in text or in a
    /// JSON string's `\n`) that holds a secret once its breaks are taken out: the whole
    /// block, replaced.
    fn wrapped_base64(&self, text: &str) -> Option<String> {
        static BLOCK: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
            Regex::new(r"[A-Za-z0-9+/_-]{16,}(?:(?:\r?\n|\\r\\n|\\n)[A-Za-z0-9+/_=-]+)+")
                .expect("valid")
        });
        let ac = self.base64.as_ref()?;
        if !text.contains('\n') && !text.contains("\\n") {
            return None;
        }
        let mut changed = false;
        let clean = BLOCK.replace_all(text, |m: &regex::Captures| {
            let block = &m[0];
            let joined: String = block
                .replace("\\r", "")
                .replace("\\n", "")
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            if joined.len() < block.len() && ac.is_match(&joined) {
                changed = true;
                REDACTED.to_string()
            } else {
                block.to_string()
            }
        });
        changed.then(|| clean.into_owned())
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

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

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

    // Regression: a secret cut by a report's limit (a quoted value, a diff line, a log line)
    // showed its first characters, since redaction came after the cut.
    #[test]
    fn a_secret_cut_short_at_any_point_shows_none_of_it() {
        for keep in 1..SECRET.len() {
            let cut = format!("value {}…", &SECRET[..keep]);
            assert_eq!(clean(&cut), "value [redacted]…", "{keep}");
            let logged = format!(
                "{}… [lambda-ci: 9 more bytes of this line omitted]",
                &SECRET[..keep]
            );
            assert!(clean(&logged).starts_with("[redacted]…"), "{keep}");
        }
        // A text that merely ends in a letter a secret's encodings start with is left alone.
        assert_eq!(clean("a long quoted valu…"), "a long quoted valu…");
    }

    // Regression: a secret too large for the pattern (a PEM, a CA bundle) made the
    // redactor redact nothing at all, without a word.
    #[test]
    fn a_secret_too_large_for_the_pattern_is_still_redacted() {
        let pem: String = (0..4000)
            .map(|i| format!("MIIB{i:05}+/AbCdEfGh/{}\n", i * 7))
            .collect();
        let r = Redactor::new(&[("CA_BUNDLE".into(), pem.clone())]);
        let mut shown = format!("loaded: {pem} done");
        r.string(&mut shown);
        assert_eq!(shown, "loaded: [redacted] done");
        let mut json = serde_json::Value::from(pem.as_str()).to_string();
        r.string(&mut json);
        assert_eq!(json, "\"[redacted]\"");
    }

    // Regression: base64 wrapped at 76 columns (PEM, MIME, Python's encodebytes), hex and
    // an all-digit value were shown in clear.
    #[test]
    fn a_secret_is_found_in_wrapped_base64_and_hex() {
        let b64 = base64::engine::general_purpose::STANDARD;
        // Placed to straddle the first line's end.
        let text = format!("{}{SECRET} and some more text to wrap", "header ".repeat(7));
        let encoded = b64.encode(&text);
        let wrapped: Vec<String> = encoded
            .as_bytes()
            .chunks(76)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        for joined in [
            wrapped.join("\n"),
            wrapped.join("\\n"),
            wrapped.join("\r\n"),
        ] {
            let shown = clean(&format!("body: {joined}\n"));
            assert_eq!(shown, "body: [redacted]\n", "{joined}");
        }
        let hex: String = SECRET.bytes().map(|b| format!("{b:02x}")).collect();
        assert_eq!(clean(&hex), REDACTED);
        assert_eq!(clean(&hex.to_uppercase()), REDACTED);
    }
}

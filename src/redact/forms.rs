//! The literal forms a secret takes once a function encodes it: as written, JSON-escaped,
//! URL-encoded, hex, and the base64 fragments that depend on its bytes alone. Matched as
//! literals, they redact whatever the secret's size; the character-by-character pattern of
//! [`super::tolerant`] adds the mixed encodings where it can be built.

use base64::Engine as _;

/// A secret's forms, each with whether a cut that ends inside it after only a few characters
/// is still taken for it (see [`super::Redactor::cut_inside`]).
pub(super) struct Form {
    pub text: String,
    /// How many of its first characters, left before a cut, are redacted.
    pub min_prefix: usize,
}

/// Every literal form of `value`, longest first, without repeats.
pub(super) fn literal_forms(value: &str) -> Vec<Form> {
    let mut forms: Vec<Form> = Vec::new();
    let mut add = |text: String, min_prefix: usize| {
        if !text.is_empty() && !forms.iter().any(|f| f.text == text) {
            forms.push(Form { text, min_prefix });
        }
    };
    add(value.to_string(), 1);
    let json = serde_json::Value::from(value).to_string();
    let json = json[1..json.len() - 1].to_string();
    add(json.replace('/', "\\/"), 1);
    add(json, 1);
    for upper in [true, false] {
        let encoded = percent(value, upper);
        add(encoded.replace("%20", "+"), 1);
        add(encoded, 1);
    }
    // Fragments of an encoding begin anywhere in its alphabet: a cut after fewer characters
    // than these would too often be taken for one.
    for fragment in base64_forms(value.as_bytes()) {
        add(fragment, 4);
    }
    let hex: String = value.bytes().map(|b| format!("{b:02x}")).collect();
    add(hex.to_uppercase(), 4);
    add(hex, 4);
    forms.sort_by_key(|f| std::cmp::Reverse(f.text.len()));
    forms
}

/// `value` with every byte but the unreserved characters of RFC 3986 percent-encoded.
fn percent(value: &str, upper: bool) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ if upper => format!("%{b:02X}"),
            _ => format!("%{b:02x}"),
        })
        .collect()
}

/// The characters of `secret`'s base64 encoding that depend on its bytes alone, for each of
/// the three offsets it can start at inside a longer encoded text, in the standard and the
/// URL-safe alphabet.
pub(super) fn base64_forms(secret: &[u8]) -> Vec<String> {
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

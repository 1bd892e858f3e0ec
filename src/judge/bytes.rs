//! `response_bytes`: the response read as bytes. A response that is not UTF-8 is read as it
//! came; a text one as its UTF-8; an HTTP integration's (`{statusCode, body}`) as its `body`,
//! decoded from base64 when `isBase64Encoded` says so. A mismatch of whole bytes shows a hex
//! dump of both around the first byte that differs.

use std::borrow::Cow;

use base64::Engine as _;
use sha2::Digest as _;

use super::Failure;
use super::diff::Diff;
use crate::outcome::{Body, Outcome};
use crate::suite::check::{BytesRule, Check};

/// Bytes shown each side of the first difference.
const AROUND: usize = 128;

/// The response's bytes, or why there are none to read.
fn bytes_of(outcome: &Outcome) -> Result<Cow<'_, [u8]>, String> {
    let Outcome::Success { body } = outcome else {
        return Err(format!(
            "there are no response bytes to check: {}",
            super::error::what_happened(outcome)
        ));
    };
    match body {
        Body::Binary(bytes) => Ok(Cow::Borrowed(bytes)),
        Body::Text(text) => Ok(Cow::Borrowed(text.as_bytes())),
        Body::Json(json) => match (json.get("body"), json.get("isBase64Encoded")) {
            (Some(serde_json::Value::String(body)), Some(serde_json::Value::Bool(true))) => {
                base64::engine::general_purpose::STANDARD
                    .decode(body.trim())
                    .map(Cow::Owned)
                    .map_err(|e| format!("the response's `body` is not valid base64: {e}"))
            }
            (Some(serde_json::Value::String(body)), _) => Ok(Cow::Owned(body.clone().into_bytes())),
            _ => Err(
                "the response is JSON with no `body`: check it with `response` or `assert`".into(),
            ),
        },
    }
}

/// The failure of `rule` on the response of `outcome`, if it fails.
pub(super) fn check(rule: &BytesRule, outcome: &Outcome, check: &Check) -> Option<Failure> {
    let failed = |message: String| Some(Failure::new("response_bytes", message, Some(check.pos)));
    let actual = match bytes_of(outcome) {
        Ok(actual) => actual,
        Err(why) => return failed(why),
    };
    match rule {
        BytesRule::Length(n) => (actual.len() as u64 != *n).then(|| {
            Failure::new(
                "response_bytes",
                format!("expected {n} bytes, the response has {}", actual.len()),
                Some(check.pos),
            )
        }),
        BytesRule::Sha256(digest) => {
            let got: String = sha2::Sha256::digest(&actual)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            (got != *digest).then(|| {
                Failure::new(
                    "response_bytes",
                    format!(
                        "expected SHA-256 {digest}, the response's {} bytes have {got}",
                        actual.len()
                    ),
                    Some(check.pos),
                )
            })
        }
        BytesRule::Prefix(prefix) => (!actual.starts_with(prefix)).then(|| {
            let shown = &actual[..actual.len().min(prefix.len())];
            Failure::new(
                "response_bytes",
                format!(
                    "expected the response to start with {}, it starts with {}",
                    spaced(prefix),
                    if shown.is_empty() {
                        "nothing (it is empty)".to_string()
                    } else {
                        spaced(shown)
                    }
                ),
                Some(check.pos),
            )
        }),
        BytesRule::File { path, bytes } => {
            let at = first_difference(bytes, &actual)?;
            let mut failure = Failure::new(
                "response_bytes",
                format!(
                    "the response's {} bytes differ from the {} of {} at byte {at}",
                    actual.len(),
                    bytes.len(),
                    path.display()
                ),
                Some(check.pos),
            );
            failure.diff = Some(Diff::new(&dump(bytes, at), &dump(&actual, at)));
            Some(failure)
        }
    }
}

/// Where `a` and `b` first differ (the shorter one's end when one starts the other); `None`
/// when they are the same.
fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    match a.iter().zip(b).position(|(x, y)| x != y) {
        Some(at) => Some(at),
        None => (a.len() != b.len()).then(|| a.len().min(b.len())),
    }
}

fn spaced(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `bytes` around `at` as a hex dump, 16 to a line: offset, hex, and the printable ones.
fn dump(bytes: &[u8], at: usize) -> String {
    let start = at.saturating_sub(AROUND) / 16 * 16;
    let end = (at + AROUND).min(bytes.len());
    let mut text = String::new();
    if start > 0 {
        text.push_str(&format!("… {start} bytes before\n"));
    }
    for line in (start..end).step_by(16) {
        let row = &bytes[line..(line + 16).min(end)];
        let shown: String = row
            .iter()
            .map(|b| {
                if b.is_ascii_graphic() || *b == b' ' {
                    *b as char
                } else {
                    '.'
                }
            })
            .collect();
        text.push_str(&format!("{line:08x}  {:<47}  |{shown}|\n", spaced(row)));
    }
    if end < bytes.len() {
        text.push_str(&format!("… {} bytes after\n", bytes.len() - end));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::Pos;
    use crate::suite::check::CheckKind;

    fn judged(rule: BytesRule, outcome: &Outcome) -> Option<Failure> {
        let check = Check {
            kind: CheckKind::Bytes(rule.clone()),
            pos: Pos { line: 3, column: 7 },
        };
        super::check(&rule, outcome, &check)
    }

    // Regression: a function that answered raw bytes could not be checked: every check said
    // "there is no response to check".
    #[test]
    fn binary_responses_are_checked_by_bytes_digest_prefix_and_length() {
        let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
        let binary = Outcome::Success {
            body: Body::parse(&png),
        };
        assert!(matches!(
            binary,
            Outcome::Success {
                body: Body::Binary(_)
            }
        ));
        let digest: String = sha2::Sha256::digest(&png)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let file = || BytesRule::File {
            path: "logo.png".into(),
            bytes: png.clone(),
        };
        for rule in [
            file(),
            BytesRule::Sha256(digest),
            BytesRule::Prefix(vec![0x89, 0x50, 0x4e, 0x47]),
            BytesRule::Length(png.len() as u64),
        ] {
            assert!(judged(rule.clone(), &binary).is_none(), "{rule:?}");
        }
        let mut other = png.clone();
        other[9] = 0xff;
        let changed = Outcome::Success {
            body: Body::Binary(other),
        };
        let failure = judged(file(), &changed).unwrap();
        assert_eq!(
            failure.message,
            "the response's 16 bytes differ from the 16 of logo.png at byte 9"
        );
        let diff = failure.diff.unwrap().to_plain();
        assert!(
            diff.contains(
                "-00000000  89 50 4e 47 0d 0a 1a 0a 00 00 00 0d 49 48 44 52  |.PNG........IHDR|"
            ),
            "{diff}"
        );
        assert!(
            diff.contains("+00000000  89 50 4e 47 0d 0a 1a 0a 00 ff 00 0d 49 48 44 52"),
            "{diff}"
        );
        let failure = judged(BytesRule::Prefix(vec![0x25, 0x50]), &changed).unwrap();
        assert_eq!(
            failure.message,
            "expected the response to start with 25 50, it starts with 89 50"
        );
    }

    #[test]
    fn an_http_integrations_body_is_read_decoded_and_text_as_utf8() {
        let gateway = Outcome::Success {
            body: Body::Json(
                serde_json::json!({"statusCode": 200, "isBase64Encoded": true, "body": "iVBORw=="}),
            ),
        };
        assert!(judged(BytesRule::Prefix(vec![0x89, 0x50, 0x4e, 0x47]), &gateway).is_none());
        let text = Outcome::Success {
            body: Body::Text("héllo".into()),
        };
        assert!(judged(BytesRule::Length(6), &text).is_none());
        let json = Outcome::Success {
            body: Body::Json(serde_json::json!({"a": 1})),
        };
        let failure = judged(BytesRule::Length(1), &json).unwrap();
        assert!(
            failure.message.contains("JSON with no `body`"),
            "{}",
            failure.message
        );
    }
}

//! `response_bytes:`: checks of the response as bytes, for a function that answers something
//! that is not JSON or text (an image, a PDF, a gzip): the exact bytes of a file, a SHA-256
//! digest, a prefix (a format's magic number), a length.

use super::check::{BytesRule, Check, CheckKind};
use super::fields::Ctx;
use super::node::{Node, Pos};
use super::read::{ReadError, read_limited};

/// The most a `response_bytes` file may hold: a streamed response's limit.
const FILE_LIMIT: u64 = 200 * 1024 * 1024;

impl Ctx<'_> {
    /// `response_bytes: {file, sha256, prefix, length}`, each key a check of its own.
    pub(super) fn response_bytes(&mut self, value: &Node) -> Option<Vec<Check>> {
        const KEYS: &[&str] = &["file", "sha256", "prefix", "length"];
        let f = self.fields(value, "`response_bytes`", KEYS)?;
        let mut checks = Vec::new();
        let mut ok = true;
        for key in KEYS {
            let (Some(node), Some(at)) = (f.get(key), f.key(key)) else {
                continue;
            };
            match self.bytes_rule(key, node) {
                Some(rule) => checks.push(Check {
                    kind: CheckKind::Bytes(rule),
                    pos: at.pos,
                }),
                None => ok = false,
            }
        }
        if ok && checks.is_empty() {
            self.error(
                Some(value.pos),
                "`response_bytes` checks nothing",
                Some("give one of `file`, `sha256`, `prefix` (hex) or `length`".into()),
            );
            return None;
        }
        ok.then_some(checks)
    }

    fn bytes_rule(&mut self, key: &str, node: &Node) -> Option<BytesRule> {
        match key {
            "file" => {
                let path = self.file(node, "`response_bytes` `file`")?;
                self.inputs
                    .push(std::path::absolute(&path).unwrap_or_else(|_| path.clone()));
                match read_limited(&path, FILE_LIMIT) {
                    Ok(bytes) => Some(BytesRule::File { path, bytes }),
                    Err(e) => {
                        let hint = match e {
                            ReadError::TooLarge { .. } => None,
                            _ => e.hint(),
                        };
                        let what = format!("`response_bytes` `file` {} {e}", path.display());
                        self.error(Some(node.pos), what, hint);
                        None
                    }
                }
            }
            "sha256" => {
                let text = self.scalar(node, "`response_bytes` `sha256`")?;
                let digest = text.trim().to_ascii_lowercase();
                if digest.len() == 64 && digest.chars().all(|c| c.is_ascii_hexdigit()) {
                    Some(BytesRule::Sha256(digest))
                } else {
                    self.hex_error(
                        node.pos,
                        "`sha256` is 64 hex digits",
                        "`sha256sum FILE` prints it",
                    );
                    None
                }
            }
            "prefix" => {
                let text = self.scalar(node, "`response_bytes` `prefix`")?;
                match hex(&text) {
                    Some(bytes) if !bytes.is_empty() => Some(BytesRule::Prefix(bytes)),
                    _ => {
                        self.hex_error(
                            node.pos,
                            "`prefix` is bytes in hex, spaces allowed",
                            "a PNG starts `89 50 4e 47`, a PDF `25 50 44 46`, gzip `1f 8b`",
                        );
                        None
                    }
                }
            }
            "length" => {
                let n = self.integer(node, "`response_bytes` `length`", 0, FILE_LIMIT, "bytes")?;
                Some(BytesRule::Length(n.into()))
            }
            _ => unreachable!("only known keys reach here"),
        }
    }

    fn hex_error(&mut self, pos: Pos, what: &str, hint: &str) {
        self.error(Some(pos), what.to_string(), Some(hint.to_string()));
    }
}

/// Bytes written in hex, with spaces (or none) between them.
fn hex(text: &str) -> Option<Vec<u8>> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(digits.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::hex;

    #[test]
    fn hex_is_read_with_or_without_spaces() {
        assert_eq!(hex("89 50 4e 47"), Some(vec![0x89, 0x50, 0x4e, 0x47]));
        assert_eq!(hex("1F8B"), Some(vec![0x1f, 0x8b]));
        assert_eq!(hex("1f8"), None);
        assert_eq!(hex("zz"), None);
    }
}

//! `${NAME}` in an `environment:` value: a variable of the caller's environment, passed to the
//! function and treated as a secret (redacted from every report). `$$` is a literal `$`.

/// The variables `text` takes from the caller, in order; or what is wrong with its syntax.
pub fn references(text: &str) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    walk(text, |name| {
        names.push(name.to_string());
        String::new()
    })?;
    Ok(names)
}

/// `text` with each `${NAME}` replaced by `value(NAME)` and each `$$` by `$`.
pub fn substitute(text: &str, value: impl FnMut(&str) -> String) -> String {
    walk(text, value).unwrap_or_else(|_| text.to_string())
}

fn walk(text: &str, mut value: impl FnMut(&str) -> String) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(more) = after.strip_prefix('$') {
            out.push('$');
            rest = more;
        } else if let Some(inner) = after.strip_prefix('{') {
            let Some(end) = inner.find('}') else {
                return Err("`${` is not closed by `}`; write `$$` for a literal `$`".into());
            };
            let name = &inner[..end];
            let valid = !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(format!(
                    "`${{{name}}}` does not name an environment variable (letters, digits and underscores, not starting with a digit); write `$$` for a literal `$`"
                ));
            }
            out.push_str(&value(name));
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_found_and_replaced_and_dollars_escape() {
        assert_eq!(references("plain").unwrap(), Vec::<String>::new());
        assert_eq!(
            references("postgres://u:${DB_PASSWORD}@h/${DB_NAME}").unwrap(),
            ["DB_PASSWORD", "DB_NAME"]
        );
        assert_eq!(
            references("$${NOT} costs $5").unwrap(),
            Vec::<String>::new()
        );
        let got = substitute("a=${A}, $${A}, $5, ${B}", |n| n.to_lowercase());
        assert_eq!(got, "a=a, ${A}, $5, b");
    }

    #[test]
    fn broken_references_say_how_to_write_them() {
        assert!(references("${OPEN").unwrap_err().contains("not closed"));
        for bad in ["${}", "${1X}", "${A-B}"] {
            assert!(
                references(bad).unwrap_err().contains("does not name"),
                "{bad}"
            );
        }
    }
}

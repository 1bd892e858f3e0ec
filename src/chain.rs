//! The one place where an error's chain of causes is walked. A leaf: it imports nothing of the
//! crate, so every layer (loading, artifacts, the runner, reporters) can use it without an
//! import running back up.

/// An error followed by its causes, outermost first.
pub fn chain<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e), |e| e.source())
}

/// The innermost cause of an error: what actually happened.
pub fn root_cause<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> &'a (dyn std::error::Error + 'static) {
    chain(e).last().unwrap_or(e)
}

/// An error and its causes on one line, `a: b: c`, leaving out a cause its parent already
/// quotes.
pub fn one_line(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = String::new();
    for cause in chain(e) {
        let cause = cause.to_string();
        if text.is_empty() {
            text = cause;
        } else if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot start the container")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn causes_are_joined_once_and_the_root_is_the_innermost() {
        let e = Outer(std::io::Error::other("no space left"));
        assert_eq!(one_line(&e), "cannot start the container: no space left");
        assert_eq!(root_cause(&e).to_string(), "no space left");
        assert_eq!(chain(&e).count(), 2);
    }
}

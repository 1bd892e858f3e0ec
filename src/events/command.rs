//! `lambda-ci event`: lists the catalogue, or prints one kind's event with `--set` changes.

use std::io::Write;

use super::{CATALOGUE, Kind, derive, path::Assignment, unknown_hint};
use crate::error::Error;
use crate::exit;

/// `lambda-ci event list` | `lambda-ci event KIND [--set PATH=VALUE]... [--add PATH=VALUE]...`
#[derive(Debug, clap::Args)]
pub struct EventArgs {
    /// `list` to name every kind, or the kind of event to print (`apigw-v2`, `sqs`, ...).
    #[arg(value_name = "KIND")]
    pub kind: String,

    /// Change one field: a dot-separated path (`body`, `requestContext.http.method`,
    /// `Records.0.body`; a number indexes a list) and a value, read as JSON if it parses
    /// (a field holding a string keeps a string). Fields derived from others are then recomputed.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,

    /// As `--set`, for a field the event does not have (`--set` refuses one, as a typo);
    /// applied before the `--set`s.
    #[arg(long = "add", value_name = "PATH=VALUE")]
    pub add: Vec<String>,
}

/// Runs `lambda-ci event`, printing to `out`.
pub fn event(args: &EventArgs, out: &mut impl Write) -> Result<u8, Error> {
    let text = if args.kind == "list" {
        let flagged =
            |flag: &str, given: &Vec<String>| given.first().map(|g| (flag.to_string(), g.clone()));
        if let Some((flag, first)) = flagged("--set", &args.set).or(flagged("--add", &args.add)) {
            return Err(Error::Usage(format!(
                "`{flag} {first}` changes a printed event, and `list` prints none; name a kind, such as `lambda-ci event sqs {flag} {first}`"
            )));
        }
        list()
    } else {
        let Some(kind) = Kind::named(&args.kind) else {
            return Err(Error::Usage(format!(
                "unknown event kind `{}`; {}",
                args.kind,
                unknown_hint(&args.kind)
            )));
        };
        let mut event = kind.template();
        // Fields are added first, then changed: `--add x={} --set x.y=1` holds.
        let adds = args.add.iter().map(|g| Assignment::parse_adding(g));
        let sets = args.set.iter().map(|g| Assignment::parse(g));
        for assignment in adds.chain(sets) {
            assignment
                .and_then(|a| a.apply(&mut event))
                .map_err(|e| Error::Usage(e.to_string()))?;
        }
        derive(kind, &mut event, None);
        serde_json::to_string_pretty(&event).unwrap_or_default()
    };
    // A closed stdout (`| head`) is the reader's choice, not a failure.
    let _ = writeln!(out, "{text}");
    Ok(exit::SUCCESS)
}

/// One line per kind: its name and what it is.
fn list() -> String {
    let width = CATALOGUE.iter().map(|k| k.name.len()).max().unwrap_or(0);
    CATALOGUE
        .iter()
        .map(|k| format!("{:width$}  {}", k.name, k.summary))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(kind: &str, set: &[&str]) -> Result<String, Error> {
        let args = EventArgs {
            kind: kind.into(),
            set: set.iter().map(|s| s.to_string()).collect(),
            add: Vec::new(),
        };
        let mut out = Vec::new();
        event(&args, &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn list_names_every_kind_once_with_what_it_is() {
        let text = printed("list", &[]).unwrap();
        assert_eq!(text.lines().count(), CATALOGUE.len());
        for (line, kind) in text.lines().zip(CATALOGUE) {
            assert!(line.starts_with(&format!("{} ", kind.name)), "{line}");
            assert!(line.ends_with(kind.summary), "{line}");
        }
    }

    #[test]
    fn set_changes_the_printed_event_and_derived_fields_follow() {
        let text = printed("sqs", &["Records.0.body=hello"]).unwrap();
        let event: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(event["Records"][0]["body"], "hello");
        assert_eq!(
            event["Records"][0]["md5OfBody"],
            "5d41402abc4b2a76b9719d911017c592"
        );
    }

    #[test]
    fn an_unknown_kind_or_bad_path_is_a_usage_error() {
        let err = printed("eventbrige", &[]).unwrap_err();
        assert_eq!(err.exit_code(), exit::INVALID_INPUT);
        let text = err.to_string();
        assert!(
            text.contains("unknown event kind `eventbrige`; did you mean `eventbridge`?"),
            "{text}"
        );
        assert!(text.contains("cognito-pre-token-generation"), "{text}");
        let err = printed("sqs", &["Records.1.body=x"]).unwrap_err();
        assert_eq!(err.exit_code(), exit::INVALID_INPUT);
        assert!(err.to_string().contains("has 1 element"), "{err}");
        assert!(printed("list", &["body=x"]).is_err());
    }
}

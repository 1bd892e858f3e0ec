//! RIE's answers, classified: RIE says nothing of how an invocation ended (no
//! `X-Amz-Function-Error`, a timeout is plain text with HTTP 200, a runtime exit a 502), so
//! its answers are told apart by status and body shape together. lambda-ci's agent says it
//! (see [`super::agent`]).

use crate::outcome::{Body, Outcome};

/// Classifies an HTTP answer from RIE. Success and failure are told apart by status and
/// body shape together: RIE answers 200 to a handler that raised.
pub fn classify(status: u16, body: &[u8]) -> Outcome {
    let parsed = Body::parse(body);
    if status == 200 {
        if let Body::Json(v) = &parsed
            && let Some((error_type, message)) = error_document(v)
        {
            return Outcome::FunctionError {
                error_type,
                message,
                body: v.clone(),
            };
        }
        if let Body::Text(t) = &parsed
            && t.starts_with("Task timed out after")
        {
            return Outcome::Timeout {
                message: t.trim().to_string(),
            };
        }
        return Outcome::Success { body: parsed };
    }
    let (error_type, message) = match &parsed {
        Body::Json(v) => match error_document(v) {
            Some((t, m)) => (Some(t), Some(m)),
            None => (None, None),
        },
        Body::Text(_) | Body::Binary(_) => (None, None),
    };
    Outcome::RuntimeFailure {
        status,
        error_type,
        message,
        body: parsed,
        out_of_memory: false,
    }
}

/// `errorType` and `errorMessage` of an error document: an object with those keys and
/// otherwise only the keys runtimes add (`requestId`, `stackTrace`, `cause`).
fn error_document(v: &serde_json::Value) -> Option<(String, String)> {
    let obj = v.as_object()?;
    let known = [
        "errorType",
        "errorMessage",
        "requestId",
        // Node's runtime client calls the stack `trace`; Java and .NET may add causes.
        "trace",
        "causes",
        "stackTrace",
        "cause",
    ];
    if !obj.keys().all(|k| known.contains(&k.as_str())) {
        return None;
    }
    let message = obj.get("errorMessage")?.as_str()?.to_string();
    let error_type = obj
        .get("errorType")
        .and_then(|t| t.as_str())
        .unwrap_or("")
        .to_string();
    Some((error_type, message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Body;
    use serde_json::json;

    #[test]
    fn success_json_and_text() {
        assert_eq!(
            classify(200, br#"{"a": 1}"#),
            Outcome::Success {
                body: Body::Json(json!({"a": 1}))
            }
        );
        assert_eq!(
            classify(200, b"hello"),
            Outcome::Success {
                body: Body::Text("hello".into())
            }
        );
        assert_eq!(
            classify(200, b"null"),
            Outcome::Success {
                body: Body::Json(json!(null))
            }
        );
    }

    // Regression: a binary response lost its bytes to lossy UTF-8 before it was judged.
    #[test]
    fn binary_responses_keep_their_exact_bytes() {
        let bytes = [0x89, b'P', b'N', b'G', 0xff, 0x00, 0xfe];
        let outcome = classify(200, &bytes);
        assert_eq!(
            outcome,
            Outcome::Success {
                body: Body::Binary(bytes.to_vec())
            }
        );
        assert_eq!(outcome.response(), None);
        let shown = match &outcome {
            Outcome::Success { body } => body.to_string(),
            _ => unreachable!(),
        };
        assert_eq!(
            shown,
            "7 bytes that are not UTF-8 text: 89 50 4e 47 ff 00 fe"
        );
        let json = serde_json::to_value(&outcome).unwrap();
        assert_eq!(
            json["body"],
            serde_json::json!({"type": "binary", "value": "iVBOR/8A/g=="})
        );
    }

    #[test]
    fn handler_errors_come_as_200_with_an_error_document() {
        let body = br#"{"errorMessage": "name is required", "errorType": "ValueError", "requestId": "x", "stackTrace": []}"#;
        assert!(matches!(
            classify(200, body),
            Outcome::FunctionError { error_type, message, .. } if error_type == "ValueError" && message == "name is required"
        ));
    }

    // Regression: Node's runtime client calls its stack `trace`, not `stackTrace`.
    #[test]
    fn node_error_documents_are_errors() {
        let body = br#"{"errorType": "TypeError", "errorMessage": "x is undefined", "trace": ["TypeError: x", "    at handler"]}"#;
        assert!(matches!(
            classify(200, body),
            Outcome::FunctionError { error_type, .. } if error_type == "TypeError"
        ));
    }

    // Regression: a result that merely has an `errorMessage` key among others is a success.
    #[test]
    fn a_result_with_other_keys_is_not_an_error_document() {
        let body = br#"{"errorMessage": "shown to users", "statusCode": 400}"#;
        assert!(matches!(classify(200, body), Outcome::Success { .. }));
    }

    #[test]
    fn timeouts_and_init_errors() {
        assert_eq!(
            classify(200, b"Task timed out after 1.00 seconds"),
            Outcome::Timeout {
                message: "Task timed out after 1.00 seconds".into()
            }
        );
        let init = br#"{"errorMessage": "Unable to import module 'app'", "errorType": "Runtime.ImportModuleError"}"#;
        assert!(matches!(
            classify(502, init),
            Outcome::RuntimeFailure { status: 502, error_type: Some(t), .. } if t == "Runtime.ImportModuleError"
        ));
        assert!(matches!(
            classify(502, b""),
            Outcome::RuntimeFailure {
                status: 502,
                error_type: None,
                ..
            }
        ));
    }
}

//! An IAM policy a Lambda authorizer returns, evaluated as API Gateway evaluates it for one
//! method: a statement applies when its `Action` matches `execute-api:Invoke` and a `Resource`
//! matches the method's ARN (`*` any run of characters, `?` one); an applicable `Deny` wins,
//! else an applicable `Allow` allows, else the method is not allowed.

use serde_json::Value;

/// Whether `policy` allows invoking `arn`: `Ok(())`, or `Err(explicit)` — denied by a `Deny`
/// (true) or for want of an `Allow` (false). A policy that is not one is an error, in words.
pub fn evaluate(policy: &Value, arn: &str) -> Result<Result<(), bool>, String> {
    let statements = match policy.get("Statement") {
        Some(Value::Array(all)) => all.iter().collect::<Vec<_>>(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => return Err("`policyDocument` has no `Statement`".into()),
    };
    let mut allowed = false;
    for (i, statement) in statements.iter().enumerate() {
        let effect = statement.get("Effect").and_then(Value::as_str);
        let actions = strings(statement.get("Action"))
            .ok_or_else(|| format!("`Statement[{i}].Action` is not a string or a list of them"))?;
        let resources = strings(statement.get("Resource")).ok_or_else(|| {
            format!("`Statement[{i}].Resource` is not a string or a list of them")
        })?;
        let applies = actions
            .iter()
            .any(|a| glob(&a.to_ascii_lowercase(), "execute-api:invoke"))
            && resources.iter().any(|r| glob(r, arn));
        match effect {
            Some("Deny") if applies => return Ok(Err(true)),
            Some("Allow") => allowed |= applies,
            Some("Deny") => {}
            _ => return Err(format!("`Statement[{i}].Effect` is not Allow or Deny")),
        }
    }
    Ok(if allowed { Ok(()) } else { Err(false) })
}

fn strings(value: Option<&Value>) -> Option<Vec<&str>> {
    match value? {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(all) => all.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

/// Whether `text` matches `pattern`, where `*` is any run of characters and `?` one.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // The classic two-pointer match with backtracking to the last `*`.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < t.len() {
        if i < p.len() && (p[i] == '?' || p[i] == t[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/Prod/GET/orders/42";

    fn policy(statements: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    #[test]
    fn wildcards_match_as_iam_matches_them() {
        assert!(glob("arn:aws:execute-api:*:*:*/Prod/GET/*", ARN));
        assert!(glob("*", ARN));
        assert!(glob(
            "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/Prod/GET/orders/4?",
            ARN
        ));
        assert!(!glob("arn:aws:execute-api:*:*:*/Prod/POST/*", ARN));
        assert!(!glob(
            "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/Prod/GET/orders",
            ARN
        ));
        assert!(glob("a*b*c", "aXXbYYc") && !glob("a*b*c", "aXXbYY"));
    }

    #[test]
    fn an_allow_allows_and_an_explicit_deny_wins() {
        let allow = json!({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:*:*:*/Prod/*"});
        let deny = json!({"Effect": "Deny", "Action": ["execute-api:*"], "Resource": [ARN]});
        assert_eq!(evaluate(&policy(json!([allow])), ARN), Ok(Ok(())));
        assert_eq!(evaluate(&policy(json!([allow, deny])), ARN), Ok(Err(true)));
        // A single statement may stand alone.
        assert_eq!(evaluate(&policy(allow.clone()), ARN), Ok(Ok(())));
        let elsewhere = json!({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:*:*:*/Prod/POST/*"});
        assert_eq!(evaluate(&policy(json!([elsewhere])), ARN), Ok(Err(false)));
        let other_action =
            json!({"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"});
        assert_eq!(
            evaluate(&policy(json!([other_action])), ARN),
            Ok(Err(false))
        );
    }

    #[test]
    fn a_malformed_policy_is_said() {
        assert!(
            evaluate(&json!({}), ARN)
                .unwrap_err()
                .contains("no `Statement`")
        );
        let bad = json!({"Effect": "Maybe", "Action": "*", "Resource": "*"});
        assert!(
            evaluate(&policy(json!([bad])), ARN)
                .unwrap_err()
                .contains("Effect")
        );
        let bad = json!({"Effect": "Allow", "Action": 3, "Resource": "*"});
        assert!(
            evaluate(&policy(json!([bad])), ARN)
                .unwrap_err()
                .contains("Action")
        );
    }
}

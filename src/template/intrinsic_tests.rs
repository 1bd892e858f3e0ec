//! Each intrinsic worked out, and what is left unresolved with its reason.

use serde_json::json;

use super::*;
use crate::template::stack::{Options, Stack};

const TEMPLATE: &str = r#"
Parameters:
  Stage: {Type: String, Default: dev}
  Names: {Type: CommaDelimitedList, Default: "a,b,c"}
  Secret: {Type: String, NoEcho: true, Default: hush}
  Missing: {Type: String}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsDev: !Not [!Condition IsProd]
  Both: !And [!Condition IsDev, !Equals [x, x]]
  Loop: !Condition Loop
Mappings:
  Sizes: {dev: {Memory: 256}, prod: {Memory: 1024}}
Resources:
  Named:
    Type: AWS::Serverless::Function
    Properties: {FunctionName: !Sub "orders-${Stage}"}
  Plain:
    Type: AWS::Lambda::Function
  Table:
    Type: AWS::DynamoDB::Table
  Loop:
    Type: AWS::Serverless::Function
    Properties: {FunctionName: !Sub "${Loop}-x"}
  Queue:
    Type: AWS::SQS::Queue
"#;

fn with(text: &str, f: impl FnOnce(&Scope)) {
    let stack = Stack::from_text("t.yaml".into(), None, TEMPLATE).unwrap();
    let (scope, _, problems) = stack.scope(&Options::default());
    assert!(problems.is_empty(), "{problems:?}");
    let _ = text;
    f(&scope)
}

fn eval(expr: &str) -> Val {
    let node = crate::template::yaml::parse(expr).unwrap();
    let mut out = None;
    with("", |scope| out = Some(scope.eval(&node)));
    out.unwrap()
}

fn json_of(expr: &str) -> serde_json::Value {
    eval(expr)
        .into_node()
        .unwrap_or_else(|u| panic!("{u:?}"))
        .to_json()
}

fn why(expr: &str) -> String {
    let v = eval(expr);
    let u = v
        .unresolved_part()
        .unwrap_or_else(|| panic!("resolved: {v:?}"));
    format!("{}: {}", u.what, u.why)
}

#[test]
fn refs_to_parameters_pseudo_parameters_and_resources() {
    assert_eq!(json_of("!Ref Stage"), json!("dev"));
    assert_eq!(json_of("!Ref Names"), json!(["a", "b", "c"]));
    assert_eq!(json_of("!Ref AWS::Region"), json!("us-east-1"));
    assert_eq!(json_of("!Ref AWS::AccountId"), json!("123456789012"));
    assert_eq!(json_of("!Ref AWS::Partition"), json!("aws"));
    // A function's Ref is its name when set, else its logical id.
    assert_eq!(json_of("!Ref Named"), json!("orders-dev"));
    assert_eq!(json_of("!Ref Plain"), json!("Plain"));
    assert_eq!(json_of("!Ref Table"), json!("Table"));
    assert_eq!(json_of("[a, !Ref AWS::NoValue, b]"), json!(["a", "b"]));
}

#[test]
fn get_att_of_a_function_arn_is_built_from_its_name() {
    assert_eq!(
        json_of("!GetAtt Named.Arn"),
        json!("arn:aws:lambda:us-east-1:123456789012:function:orders-dev")
    );
    assert!(why("!GetAtt Table.StreamArn").contains("known only once the stack is deployed"));
    assert!(why("!Ref Queue").contains("given by CloudFormation at deploy"));
}

#[test]
fn sub_join_select_split_find_in_map_base64() {
    assert_eq!(
        json_of("!Sub 'arn:${AWS::Partition}:x:${Stage}:${!Literal}'"),
        json!("arn:aws:x:dev:${Literal}")
    );
    assert_eq!(
        json_of("!Sub ['${A}-${Named.Arn}', {A: !Ref Stage}]"),
        json!("dev-arn:aws:lambda:us-east-1:123456789012:function:orders-dev")
    );
    assert_eq!(json_of("!Join ['-', [a, !Ref Stage]]"), json!("a-dev"));
    assert_eq!(json_of("!Join [',', !Ref Names]"), json!("a,b,c"));
    assert_eq!(json_of("!Select [1, !Ref Names]"), json!("b"));
    assert_eq!(json_of("!Select [0, !Split ['/', 'x/y']]"), json!("x"));
    assert_eq!(
        json_of("!FindInMap [Sizes, !Ref Stage, Memory]"),
        json!(256)
    );
    assert_eq!(json_of("!Base64 hi"), json!("aGk="));
    assert_eq!(json_of("!Select [0, !GetAZs '']"), json!("us-east-1a"));
}

#[test]
fn conditions_and_if() {
    assert_eq!(json_of("!If [IsProd, big, small]"), json!("small"));
    assert_eq!(json_of("!If [Both, yes-both, no]"), json!("yes-both"));
    assert_eq!(
        json_of("{A: !If [IsProd, x, !Ref AWS::NoValue], B: 1}"),
        json!({"B": 1})
    );
    assert!(why("!If [Loop, a, b]").contains("in a loop"));
    assert!(why("!If [Nope, a, b]").contains("no `Nope`"));
}

#[test]
fn what_only_the_account_knows_is_unresolved_never_guessed() {
    assert!(
        why("!ImportValue Shared")
            .starts_with("Fn::ImportValue Shared: an export of another stack")
    );
    assert!(why("'{{resolve:ssm:/app/key}}'").contains("dynamic reference"));
    assert!(why("!Ref Missing").contains("no `Default` and no value was passed"));
    assert!(why("!Ref Nothing").contains("no parameter or resource `Nothing`"));
    // Unresolved parts make the whole expression unresolved.
    assert!(why("!Sub 'x-${Missing}'").contains("Missing"));
    assert!(why("!Join ['', [a, !ImportValue B]]").contains("ImportValue"));
    // Where it is: the line of the expression.
    let v = eval("a: 1\nb: !ImportValue X\n");
    assert_eq!(v.unresolved_part().unwrap().pos.line, 2);
}

// Regression: a name made from its own resource overflowed the stack.
#[test]
fn a_resource_named_after_itself_is_a_circular_dependency_not_a_crash() {
    assert!(why("!Ref Loop").contains("refers to itself"));
    assert!(why("!GetAtt Loop.Arn").contains("refers to itself"));
}

#[test]
fn a_dynamic_reference_built_by_sub_or_join_is_unresolved() {
    assert!(why("!Sub '{{resolve:ssm:/app/${Stage}/db}}'").contains("dynamic reference"));
    assert!(why("!Join ['', ['{{resolve:ssm:', /x, '}}']]").contains("dynamic reference"));
}

#[test]
fn select_takes_a_known_item_beside_an_unknown_one() {
    assert_eq!(json_of("!Select [0, [a, !ImportValue X]]"), json!("a"));
    assert!(why("!Select [1, [a, !ImportValue X]]").contains("ImportValue"));
}

#[test]
fn the_partition_follows_the_region() {
    let stack = Stack::from_text("t.yaml".into(), None, TEMPLATE).unwrap();
    for (region, arn) in [
        (
            "cn-north-1",
            "arn:aws-cn:lambda:cn-north-1:123456789012:function:orders-dev",
        ),
        (
            "us-gov-west-1",
            "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:orders-dev",
        ),
        (
            "eu-west-1",
            "arn:aws:lambda:eu-west-1:123456789012:function:orders-dev",
        ),
    ] {
        let options = Options {
            region: Some(region.into()),
            ..Options::default()
        };
        let (scope, _, _) = stack.scope(&options);
        let node = crate::template::yaml::parse("!GetAtt Named.Arn").unwrap();
        assert_eq!(scope.eval(&node).text().unwrap(), arn);
    }
    let options = Options {
        region: Some("cn-north-1".into()),
        ..Options::default()
    };
    let (scope, _, _) = stack.scope(&options);
    let node = crate::template::yaml::parse("!Ref AWS::URLSuffix").unwrap();
    assert_eq!(scope.eval(&node).text().unwrap(), "amazonaws.com.cn");
}

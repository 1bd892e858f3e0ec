//! Front doors read from templates: SAM events and APIs, CloudFormation's API Gateway
//! resources (as CDK writes them), OpenAPI bodies, function URLs.

use serde_json::{Value, json};

use super::function::{Overrides, resolve};
use super::stack::{Options, Stack};

/// The `http` entries the template gives function `id`, and what it says is not emulated.
fn doors(template: &str, id: &str) -> (Value, Vec<String>) {
    let stack = Stack::from_text("t.yaml".into(), None, template).unwrap();
    let resolved = resolve(&stack, id, &Options::default(), &Overrides::default())
        .unwrap_or_else(|e| panic!("{e:?}"));
    let http = resolved.node.to_json()["http"].clone();
    (http, resolved.not_emulated)
}

const SAM: &str = r#"
Transform: AWS::Serverless-2016-10-31
Globals:
  Api:
    BinaryMediaTypes: [image~1png]
Resources:
  Orders:
    Type: AWS::Serverless::Api
    Properties:
      StageName: live
      Variables: {table: orders}
      Cors: {AllowOrigin: "'https://app.example.com'", AllowMethods: "'GET,PUT'", MaxAge: "'600'"}
  Items:
    Type: AWS::Serverless::HttpApi
    Properties:
      CorsConfiguration: {AllowOrigins: [https://app.example.com], AllowMethods: [GET], AllowCredentials: true}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      Handler: app.handler
      CodeUri: .
      FunctionUrlConfig: {AuthType: AWS_IAM, InvokeMode: RESPONSE_STREAM, Cors: {AllowOrigins: ["*"], MaxAge: 60}}
      Events:
        Implicit: {Type: Api, Properties: {Path: /a, Method: get}}
        Named: {Type: Api, Properties: {Path: "/b/{id}", Method: any, RestApiId: !Ref Orders}}
        Http: {Type: HttpApi, Properties: {ApiId: !Ref Items, Path: /c, Method: POST, PayloadFormatVersion: "1.0"}}
        Default: {Type: HttpApi}
        Queue: {Type: SQS, Properties: {Queue: arn}}
"#;

#[test]
fn sam_events_and_function_urls_become_routes_with_their_apis_settings() {
    let (http, _) = doors(SAM, "Fn");
    assert_eq!(
        http,
        json!([
            {"api": "rest", "method": "get", "path": "/a", "name": "ServerlessRestApi",
             "binary_media_types": ["image/png"]},
            {"api": "rest", "method": "any", "path": "/b/{id}", "stage": "live", "name": "Orders",
             "stage_variables": {"table": "orders"}, "binary_media_types": ["image/png"],
             "cors": {"allow_origins": ["https://app.example.com"], "allow_methods": ["GET", "PUT"],
                      "max_age": 600}},
            {"api": "http", "method": "POST", "path": "/c", "payload": "1.0", "name": "Items",
             "cors": {"allow_origins": ["https://app.example.com"], "allow_methods": ["GET"],
                      "allow_credentials": true}},
            {"api": "http", "path": "$default", "name": "ServerlessHttpApi"},
            {"api": "url", "auth": "AWS_IAM", "invoke_mode": "RESPONSE_STREAM",
             "cors": {"allow_origins": ["*"], "max_age": 60}},
        ])
    );
}

const CFN: &str = r#"
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.11
      Handler: app.handler
      Code: {ZipFile: "def handler(e, c): return e"}
      Role: arn:aws:iam::123456789012:role/r
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties: {Name: api, BinaryMediaTypes: [application/pdf]}
  Orders:
    Type: AWS::ApiGateway::Resource
    Properties: {RestApiId: !Ref Api, ParentId: !GetAtt Api.RootResourceId, PathPart: orders}
  Order:
    Type: AWS::ApiGateway::Resource
    Properties: {RestApiId: !Ref Api, ParentId: !Ref Orders, PathPart: "{id}"}
  GetOrder:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      ResourceId: !Ref Order
      HttpMethod: GET
      Integration:
        Type: AWS_PROXY
        IntegrationHttpMethod: POST
        Uri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"
  Mapped:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      ResourceId: !Ref Orders
      HttpMethod: POST
      Integration: {Type: AWS, Uri: !Join ["", ["arn:", !GetAtt Fn.Arn]]}
  Stage:
    Type: AWS::ApiGateway::Stage
    Properties: {RestApiId: !Ref Api, StageName: v2, DeploymentId: x, Variables: {env: test}}
  Http:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: http
      ProtocolType: HTTP
      Body:
        openapi: "3.0.1"
        paths:
          /docs:
            get:
              x-amazon-apigateway-integration: {type: aws_proxy, uri: !GetAtt Fn.Arn, payloadFormatVersion: "2.0"}
  Integration:
    Type: AWS::ApiGatewayV2::Integration
    Properties: {ApiId: !Ref Http, IntegrationType: AWS_PROXY, IntegrationUri: !GetAtt Fn.Arn, PayloadFormatVersion: "2.0"}
  Route:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Http, RouteKey: "ANY /items/{proxy+}", Target: !Join [/, [integrations, !Ref Integration]]}
  DefaultRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Http, RouteKey: $default, Target: !Sub "integrations/${Integration}"}
  HttpStage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {ApiId: !Ref Http, StageName: $default, StageVariables: {a: b}}
  Quick:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: quick, ProtocolType: HTTP, Target: !GetAtt Fn.Arn}
  Url:
    Type: AWS::Lambda::Url
    Properties: {TargetFunctionArn: !Ref Fn, AuthType: NONE}
"#;

#[test]
fn cloudformation_api_resources_and_openapi_bodies_become_routes() {
    let (http, not_emulated) = doors(CFN, "Fn");
    assert_eq!(
        http,
        json!([
            {"api": "url", "auth": "NONE"},
            {"api": "rest", "method": "GET", "path": "/orders/{id}", "stage": "v2", "name": "Api",
             "stage_variables": {"env": "test"}, "binary_media_types": ["application/pdf"]},
            {"api": "http", "method": "GET", "path": "/docs", "payload": "2.0", "stage": "$default",
             "name": "Http", "stage_variables": {"a": "b"}},
            {"api": "http", "method": "ANY", "path": "/items/{proxy+}", "payload": "2.0",
             "stage": "$default", "name": "Http", "stage_variables": {"a": "b"}},
            {"api": "http", "path": "$default", "payload": "2.0", "stage": "$default", "name": "Http",
             "stage_variables": {"a": "b"}},
            {"api": "http", "path": "$default", "name": "Quick"},
        ])
    );
    assert!(
        not_emulated
            .iter()
            .any(|n| n.contains("non-proxy `AWS` integration")),
        "{not_emulated:?}"
    );
}

#[test]
fn a_suite_that_gives_its_own_routes_reads_none_from_the_template() {
    let stack = Stack::from_text("t.yaml".into(), None, SAM).unwrap();
    let overrides = Overrides {
        fields: ["http".to_string()].into(),
        ..Overrides::default()
    };
    let resolved = resolve(&stack, "Fn", &Options::default(), &overrides).unwrap();
    assert!(resolved.node.to_json().get("http").is_none());
}

const AUTH: &str = r#"
Transform: AWS::Serverless-2016-10-31
Resources:
  Pool:
    Type: AWS::Serverless::Api
    Properties:
      StageName: Prod
      Auth:
        DefaultAuthorizer: Cognito
        Authorizers:
          Cognito: {UserPoolArn: arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_A}
  Iam:
    Type: AWS::Serverless::Api
    Properties:
      StageName: Prod
      Auth: {DefaultAuthorizer: AWS_IAM}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      Handler: app.handler
      CodeUri: .
      Events:
        A: {Type: Api, Properties: {RestApiId: !Ref Pool, Path: /a, Method: GET}}
        B: {Type: Api, Properties: {RestApiId: !Ref Iam, Path: /b, Method: GET}}
"#;

#[test]
fn authorizers_a_template_cannot_run_are_said_and_leave_the_route_open() {
    let (http, not_emulated) = doors(AUTH, "Fn");
    let routes = http.as_array().unwrap();
    assert_eq!(routes.len(), 2);
    assert!(
        routes.iter().all(|r| r.get("authorizer").is_none()),
        "{http:#}"
    );
    assert!(
        not_emulated
            .iter()
            .any(|n| n.contains("Cognito user-pool authorizer `Cognito`")),
        "{not_emulated:?}"
    );
    assert!(
        not_emulated
            .iter()
            .any(|n| n.contains("`AWS_IAM` authorizer")),
        "{not_emulated:?}"
    );
    // An authorizer the API does not declare is an error at the event.
    let unknown = AUTH.replace(
        "Path: /a, Method: GET}",
        "Path: /a, Method: GET, Auth: {Authorizer: Nope}}",
    );
    let stack = Stack::from_text("t.yaml".into(), None, &unknown).unwrap();
    let errors = resolve(&stack, "Fn", &Options::default(), &Overrides::default()).unwrap_err();
    assert!(
        format!("{errors:?}")
            .contains("authorizer `Nope` is not one of the API's `Auth.Authorizers`"),
        "{errors:?}"
    );
}

const OPENAPI_AUTH: &str = r#"
Transform: AWS::Serverless-2016-10-31
Globals:
  Api:
    StageName: live
    Variables: {table: t}
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      DefinitionBody:
        swagger: "2.0"
        securityDefinitions:
          Token:
            type: apiKey
            name: X-Token
            in: header
            x-amazon-apigateway-authtype: custom
            x-amazon-apigateway-authorizer:
              type: token
              authorizerUri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Auth.Arn}/invocations
              authorizerResultTtlInSeconds: 60
        paths:
          /guarded:
            get:
              security: [{Token: []}]
              x-amazon-apigateway-integration:
                type: aws_proxy
                httpMethod: POST
                uri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations
          /open:
            get:
              x-amazon-apigateway-integration:
                type: aws_proxy
                httpMethod: POST
                uri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations
  Fn:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.11, Handler: app.handler, CodeUri: .}
  Auth:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.11, Handler: auth.handler, CodeUri: .}
"#;

#[test]
fn an_openapi_bodys_security_gives_its_routes_their_lambda_authorizer_and_sam_its_globals() {
    let (http, _) = doors(OPENAPI_AUTH, "Fn");
    let routes = http.as_array().unwrap();
    assert_eq!(routes.len(), 2, "{http:#}");
    for r in routes {
        // The SAM API's stage and variables come from Globals, as SAM applies them.
        assert_eq!(
            (r["stage"].as_str(), &r["stage_variables"]),
            (Some("live"), &json!({"table": "t"}))
        );
    }
    let guarded = routes.iter().find(|r| r["path"] == "/guarded").unwrap();
    let authorizer = &guarded["authorizer"];
    assert_eq!(authorizer["type"], "token");
    assert_eq!(
        authorizer["identity_source"],
        json!(["method.request.header.X-Token"])
    );
    assert_eq!(authorizer["ttl"], 60);
    assert_eq!(authorizer["function"]["resource"], "Auth");
    let open = routes.iter().find(|r| r["path"] == "/open").unwrap();
    assert!(open.get("authorizer").is_none(), "{open}");
}

//! Tests of `function: {template, resource}`: a function read from a SAM or CloudFormation
//! template, the suite's keys over it, and the template's mistakes at the template's lines.

use std::path::Path;

use super::*;

const TEMPLATE: &str = r#"Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: dev, AllowedValues: [dev, prod]}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Globals:
  Function:
    Runtime: python3.11
    Timeout: 10
    Layers: [!Ref One]
    Environment: {Variables: {A: global, B: global}}
Resources:
  One:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: layers/one}
  Two:
    Type: AWS::Lambda::LayerVersion
    Properties: {Content: layers/two}
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: code
      Handler: app.handler
      MemorySize: "512"
      Architectures: [arm64]
      Layers: [!Ref Two]
      VpcConfig: {SubnetIds: [a]}
      Environment:
        Variables:
          B: !Sub "local-${Stage}"
          SHARED: !ImportValue SharedTable
  OnlyInProd:
    Type: AWS::Serverless::Function
    Condition: IsProd
    Properties: {CodeUri: code, Handler: app.handler}
  FromS3:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: {Bucket: b, Key: k}, Handler: app.handler}
  ByArn:
    Type: AWS::Lambda::Function
    Properties:
      Code: code
      Handler: app.handler
      Runtime: python3.11
      Layers: ["arn:aws:lambda:us-east-1:123456789012:layer:shared:3"]
  Image:
    Type: AWS::Serverless::Function
    Metadata: {DockerContext: ./image, Dockerfile: Dockerfile.lambda}
    Properties: {PackageType: Image}
  Table:
    Type: AWS::DynamoDB::Table
"#;

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for d in ["code", "layers/one", "layers/two", "image", "cases"] {
        std::fs::create_dir_all(dir.path().join(d)).unwrap();
    }
    std::fs::write(
        dir.path().join("code/app.py"),
        "def handler(e, c):\n    return e\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("image/Dockerfile.lambda"), "FROM scratch\n").unwrap();
    std::fs::write(dir.path().join("template.yaml"), TEMPLATE).unwrap();
    dir
}

fn load_in(dir: &Path, function: &str) -> (Result<Vec<Suite>, LoadErrors>, Vec<LoadError>) {
    let file = dir.join("cases/s.yaml");
    let text = format!(
        "function:\n  template: ../template.yaml\n{function}cases:\n  - name: a\n    event: {{}}\n"
    );
    std::fs::write(&file, text).unwrap();
    load_paths_warning(&[file])
}

fn function_of(function: &str) -> Function {
    let dir = project();
    let (loaded, _) = load_in(dir.path(), function);
    loaded.unwrap_or_else(|e| panic!("{e}")).remove(0).function
}

fn errors_of(function: &str) -> String {
    let dir = project();
    let (loaded, _) = load_in(dir.path(), function);
    let text = loaded.unwrap_err().to_string();
    text.replace(&dir.path().display().to_string(), "<dir>")
}

#[test]
fn globals_apply_as_sam_applies_them_and_the_suite_wins() {
    let f = function_of("  resource: Hello\n  environment: {SHARED: from-suite}\n");
    assert_eq!(f.name, "Hello");
    assert_eq!(f.runtime.as_deref(), Some("python3.11"));
    assert_eq!(f.handler.as_deref(), Some("app.handler"));
    // Scalars: Globals' Timeout, the resource's MemorySize (CloudFormation's text read as a number).
    assert_eq!((f.timeout, f.memory), (10, 512));
    assert_eq!(f.architecture, Architecture::Arm64);
    // Lists: Globals' layers first.
    let layers: Vec<_> = f
        .layers
        .iter()
        .map(|l| l.path.file_name().unwrap().to_owned())
        .collect();
    assert_eq!(layers, ["one", "two"]);
    // Mappings merge, the resource winning; the suite's variables win over both.
    let env: Vec<_> = f
        .environment
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    assert_eq!(env, ["A=global", "B=local-dev", "SHARED=from-suite"]);
}

#[test]
fn an_unresolved_value_fails_at_the_template_line_naming_the_override() {
    let e = errors_of("  resource: Hello\n");
    assert!(e.starts_with("<dir>/template.yaml:31:19: environment variable `SHARED`: `Fn::ImportValue SharedTable` cannot be resolved here"), "{e}");
    assert!(
        e.contains("hint: give it in the suite: `environment: {SHARED: ...}` under `function:`"),
        "{e}"
    );
}

#[test]
fn an_unknown_resource_lists_the_functions_with_a_did_you_mean() {
    let e = errors_of("  resource: Helo\n");
    assert!(
        e.starts_with("<dir>/cases/s.yaml:3:13: <dir>/template.yaml has no function `Helo`"),
        "{e}"
    );
    assert!(e.contains("did you mean `Hello`? the template's functions: Hello, OnlyInProd, FromS3, ByArn, Image"), "{e}");
    let e = errors_of("  resource: Table\n");
    assert!(
        e.contains("`Table` in <dir>/template.yaml is a `AWS::DynamoDB::Table`, not a function"),
        "{e}"
    );
}

#[test]
fn a_resource_whose_condition_is_false_does_not_exist() {
    let e = errors_of("  resource: OnlyInProd\n");
    assert!(e.contains("template.yaml:34:16: `OnlyInProd` does not exist with these parameters: its condition `IsProd` is false"), "{e}");
}

#[test]
fn code_in_s3_and_layers_by_arn_are_refused_at_their_line_with_the_fix() {
    let e = errors_of("  resource: FromS3\n");
    assert!(
        e.contains("template.yaml:38:27: the code of `FromS3` is in S3"),
        "{e}"
    );
    let e = errors_of("  resource: ByArn\n");
    assert!(e.contains("template.yaml:45:16: the layer `arn:aws:lambda:us-east-1:123456789012:layer:shared:3` is not a layer of this template"), "{e}");
    assert!(e.contains("copy the layer's content locally"), "{e}");
    // A suite that lists the layers itself does not need them.
    let f = function_of("  resource: ByArn\n  layers: [../layers/one]\n");
    assert_eq!(f.layers.len(), 1);
}

#[test]
fn an_image_function_is_built_from_its_metadata() {
    let f = function_of("  resource: Image\n");
    let build = f.build.expect("a build");
    assert!(build.context.ends_with("image"), "{:?}", build.context);
    assert_eq!(build.dockerfile, "Dockerfile.lambda");
}

#[test]
fn a_wrong_value_in_the_template_is_reported_in_the_template() {
    let dir = project();
    let text = TEMPLATE.replace(
        "Runtime: python3.11\n    Timeout",
        "Runtime: python2.7\n    Timeout",
    );
    std::fs::write(dir.path().join("template.yaml"), text).unwrap();
    let (loaded, _) = load_in(
        dir.path(),
        "  resource: Hello\n  environment: {SHARED: x}\n",
    );
    let e = loaded.unwrap_err().to_string();
    assert!(e.contains("template.yaml:8:14:"), "{e}");
    assert!(!e.contains("s.yaml"), "{e}");
}

#[test]
fn what_is_not_emulated_is_said_and_sam_builds_output_is_read_when_there() {
    let dir = project();
    let (loaded, warnings) = load_in(
        dir.path(),
        "  resource: Hello\n  environment: {SHARED: x}\n",
    );
    loaded.unwrap();
    let said: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        said.iter()
            .any(|w| w.contains("`Hello` sets what a local run does not emulate: VpcConfig")),
        "{said:?}"
    );
    // `sam build` wrote its template: that is the one read, and the run says so.
    let built = dir.path().join(".aws-sam/build");
    std::fs::create_dir_all(built.join("Hello")).unwrap();
    std::fs::write(
        built.join("Hello/app.py"),
        "def handler(e, c):\n    return 1\n",
    )
    .unwrap();
    let text = TEMPLATE
        .replace(
            "CodeUri: code\n      Handler: app.handler\n      MemorySize",
            "CodeUri: Hello\n      Handler: app.handler\n      MemorySize",
        )
        .replace("layers/", "../../layers/");
    std::fs::write(built.join("template.yaml"), text).unwrap();
    let (loaded, warnings) = load_in(
        dir.path(),
        "  resource: Hello\n  environment: {SHARED: x}\n",
    );
    let f = loaded.unwrap_or_else(|e| panic!("{e}")).remove(0).function;
    assert!(f.code.unwrap().path.ends_with(".aws-sam/build/Hello"));
    assert!(
        warnings
            .iter()
            .any(|w| w.message.contains("`sam build`'s output")),
        "{warnings:?}"
    );
}

#[test]
fn a_parameter_default_outside_its_allowed_values_is_refused() {
    let dir = project();
    let text = TEMPLATE.replace("Default: dev,", "Default: qa,");
    std::fs::write(dir.path().join("template.yaml"), text).unwrap();
    let (loaded, _) = load_in(
        dir.path(),
        "  resource: Hello\n  environment: {SHARED: x}\n",
    );
    let e = loaded.unwrap_err().to_string();
    assert!(
        e.contains("template.yaml:3:3: parameter `Stage`: `qa` is not one of its `AllowedValues`"),
        "{e}"
    );
}

#[test]
fn parameters_come_from_samconfig_then_the_command_line() {
    let dir = project();
    std::fs::write(
        dir.path().join("samconfig.toml"),
        "version = 0.1\n[default.deploy.parameters]\nparameter_overrides = \"Stage=prod\"\n[qa.deploy.parameters]\nparameter_overrides = \"Stage=qa\"\n",
    )
    .unwrap();
    let file = dir.path().join("cases/s.yaml");
    let text = "function:\n  template: ../template.yaml\n  resource: Hello\n  environment: {SHARED: x}\ncases:\n  - name: a\n    event: {}\n";
    std::fs::write(&file, text).unwrap();
    let env_b = |options: &LoadOptions| {
        let suites = load_paths_warning_with(std::slice::from_ref(&file), options).0;
        let suites = suites.unwrap_or_else(|e| panic!("{e}"));
        suites[0].function.environment["B"].clone()
    };
    assert_eq!(env_b(&LoadOptions::default()), "local-prod");
    let passed = LoadOptions {
        parameters: vec![("Stage".into(), "dev".into())],
        config_env: None,
    };
    assert_eq!(env_b(&passed), "local-dev");
    // `--config-env qa` reads another environment, whose value breaks AllowedValues.
    let qa = LoadOptions {
        parameters: Vec::new(),
        config_env: Some("qa".into()),
    };
    let e = load_paths_warning_with(std::slice::from_ref(&file), &qa)
        .0
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("parameter `Stage`: `qa` is not one of its `AllowedValues`"),
        "{e}"
    );
    assert!(e.contains("hint: pass one of: dev, prod"), "{e}");
}

#[test]
fn no_echo_parameters_are_secrets_of_the_function() {
    let dir = project();
    let text = TEMPLATE.replace(
        "Parameters:\n",
        "Parameters:\n  Token: {Type: String, NoEcho: true, Default: not-to-be-shown}\n",
    );
    std::fs::write(dir.path().join("template.yaml"), text).unwrap();
    let (loaded, _) = load_in(
        dir.path(),
        "  resource: Hello\n  environment: {SHARED: x}\n",
    );
    let f = loaded.unwrap_or_else(|e| panic!("{e}")).remove(0).function;
    assert_eq!(
        f.secrets,
        [("Token".to_string(), "not-to-be-shown".to_string())]
    );
}

#[test]
fn a_nested_stack_s_function_is_named_by_its_path_with_the_parameters_it_is_given() {
    let dir = project();
    std::fs::create_dir_all(dir.path().join("child/code")).unwrap();
    std::fs::write(
        dir.path().join("child/code/app.py"),
        "def handler(e, c):\n    return e\n",
    )
    .unwrap();
    let parent = TEMPLATE.replace(
        "  Table:\n",
        "  Orders:\n    Type: AWS::Serverless::Application\n    Properties:\n      Location: child/template.yaml\n      Parameters: {Size: !FindInMap [Sizes, big, mb]}\n  Legacy:\n    Type: AWS::CloudFormation::Stack\n    Properties: {TemplateURL: child/template.yaml}\n  Table:\n",
    ) + "Mappings:\n  Sizes: {big: {mb: 2048}}\n";
    std::fs::write(dir.path().join("template.yaml"), parent).unwrap();
    let child = "Parameters:\n  Size: {Type: Number, Default: 128}\nResources:\n  Inner:\n    Type: AWS::Lambda::Function\n    Properties: {Code: code, Handler: app.handler, Runtime: python3.11, MemorySize: !Ref Size}\n";
    std::fs::write(dir.path().join("child/template.yaml"), child).unwrap();
    let (loaded, _) = load_in(dir.path(), "  resource: Orders/Inner\n");
    let f = loaded.unwrap_or_else(|e| panic!("{e}")).remove(0).function;
    assert_eq!(f.memory, 2048);
    assert!(f.code.unwrap().path.ends_with("child/code"));
    let (loaded, _) = load_in(dir.path(), "  resource: Legacy/Inner\n");
    assert_eq!(loaded.unwrap().remove(0).function.memory, 128);
    let e = errors_of("  resource: Orders/Inr\n");
    assert!(
        e.contains("the template's functions: Hello, OnlyInProd, FromS3, ByArn, Image"),
        "{e}"
    );
}

#[test]
fn the_suite_s_region_is_the_template_s_and_the_template_is_an_input() {
    let dir = project();
    let text = TEMPLATE.replace(
        "B: !Sub \"local-${Stage}\"",
        "B: !Sub \"local-${AWS::Region}\"",
    );
    std::fs::write(dir.path().join("template.yaml"), text).unwrap();
    let (loaded, _) = load_in(
        dir.path(),
        "  resource: Hello\n  environment: {SHARED: x, AWS_REGION: eu-west-1}\n",
    );
    let suite = loaded.unwrap_or_else(|e| panic!("{e}")).remove(0);
    assert_eq!(suite.function.environment["B"], "local-eu-west-1");
    // A change to the template is a change to the suite (`watch`, `serve`).
    let template = std::path::absolute(dir.path().join("template.yaml")).unwrap();
    assert!(suite.inputs.contains(&template), "{:?}", suite.inputs);
}

/// A project with `template` as its template and the child template `child`, if any.
fn project_with(template: &str, child: Option<&str>) -> tempfile::TempDir {
    let dir = project();
    std::fs::write(dir.path().join("template.yaml"), template).unwrap();
    if let Some(child) = child {
        std::fs::create_dir_all(dir.path().join("child")).unwrap();
        std::fs::write(dir.path().join("child/template.yaml"), child).unwrap();
    }
    dir
}

const FN: &str = "Type: AWS::Serverless::Function\n    Properties: {CodeUri: code, Handler: app.handler, Runtime: python3.11";

#[test]
fn conditions_and_no_values_inside_properties_are_worked_out() {
    let text = format!(
        "Conditions:\n  Never: !Equals [a, b]\nResources:\n  L:\n    Type: AWS::Serverless::LayerVersion\n    Properties: {{ContentUri: layers/one}}\n  F:\n    {FN}, Environment: !If [Never, {{Variables: {{A: x}}}}, {{Variables: {{B: y}}}}], Layers: [!If [Never, !Ref L, !Ref AWS::NoValue], !Ref L]}}\n"
    );
    let dir = project_with(&text, None);
    let (loaded, _) = load_in(dir.path(), "  resource: F\n");
    let f = loaded.unwrap_or_else(|e| panic!("{e}")).remove(0).function;
    assert_eq!(f.environment.keys().collect::<Vec<_>>(), ["B"]);
    assert_eq!(f.layers.len(), 1);
}

#[test]
fn a_suite_s_name_makes_an_unresolved_function_name_unneeded() {
    let text = format!("Resources:\n  F:\n    {FN}, FunctionName: !ImportValue Name}}\n");
    let dir = project_with(&text, None);
    let (loaded, _) = load_in(dir.path(), "  resource: F\n");
    assert!(
        loaded
            .unwrap_err()
            .to_string()
            .contains("Fn::ImportValue Name")
    );
    let (loaded, _) = load_in(dir.path(), "  resource: F\n  name: mine\n");
    assert_eq!(loaded.unwrap()[0].function.name, "mine");
}

#[test]
fn unsupported_globals_are_refused_as_sam_refuses_them() {
    let text =
        format!("Globals:\n  Function:\n    FunctionName: shared\nResources:\n  F:\n    {FN}}}\n");
    let dir = project_with(&text, None);
    let (loaded, _) = load_in(dir.path(), "  resource: F\n");
    let e = loaded.unwrap_err().to_string();
    assert!(
        e.contains("template.yaml:3:5: `FunctionName` cannot be in `Globals.Function`"),
        "{e}"
    );
}

#[test]
fn nested_stacks_take_conditions_unknown_values_secrets_and_refuse_cycles() {
    let parent = "Parameters:\n  Pin: {Type: String, NoEcho: true, Default: pin-0123456789}\nConditions:\n  Never: !Equals [a, b]\nResources:\n  Off:\n    Type: AWS::CloudFormation::Stack\n    Condition: Never\n    Properties: {TemplateURL: child/template.yaml}\n  On:\n    Type: AWS::CloudFormation::Stack\n    Properties: {TemplateURL: child/template.yaml, Parameters: {Secret: !Ref Pin, Shared: !ImportValue S}}\n";
    let child = "Parameters:\n  Secret: {Type: String}\n  Shared: {Type: String, Default: guessed}\nResources:\n  Inner:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: ../code, Handler: app.handler, Runtime: python3.11, Environment: {Variables: {S: !Ref Secret, T: !Ref Shared}}}\n";
    let dir = project_with(parent, Some(child));
    let e = load_in(dir.path(), "  resource: Off/Inner\n")
        .0
        .unwrap_err()
        .to_string();
    assert!(e.contains("has no function `Off/Inner`"), "{e}");
    // The parent's unknown value is not replaced by the child's Default.
    let e = load_in(dir.path(), "  resource: On/Inner\n")
        .0
        .unwrap_err()
        .to_string();
    assert!(e.contains("`On` passes it `Fn::ImportValue S`"), "{e}");
    let (loaded, _) = load_in(
        dir.path(),
        "  resource: On/Inner\n  environment: {T: given}\n",
    );
    let f = loaded.unwrap_or_else(|e| panic!("{e}")).remove(0).function;
    assert_eq!(f.environment["S"], "pin-0123456789");
    assert!(
        f.secrets.iter().any(|(_, v)| v == "pin-0123456789"),
        "{:?}",
        f.secrets
    );
    // A child that nests its parent is a cycle, said at the resource.
    let cyclic = child.replace("Resources:\n", "Resources:\n  Back:\n    Type: AWS::CloudFormation::Stack\n    Properties: {TemplateURL: ../template.yaml}\n");
    let dir = project_with(parent, Some(&cyclic));
    let e = load_in(dir.path(), "  resource: On/Inner\n")
        .0
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("the nested stack `Back` is a template that includes it: a cycle"),
        "{e}"
    );
}

#[test]
fn an_ssm_parameter_s_name_from_a_deploy_section_is_not_taken_as_its_value() {
    let text = format!(
        "Parameters:\n  Host: {{Type: 'AWS::SSM::Parameter::Value<String>'}}\nResources:\n  F:\n    {FN}, Environment: {{Variables: {{HOST: !Ref Host}}}}}}\n"
    );
    let dir = project_with(&text, None);
    let config = "[default.deploy.parameters]\nparameter_overrides = \"Host=/prod/db/host\"\n";
    std::fs::write(dir.path().join("samconfig.toml"), config).unwrap();
    let e = load_in(dir.path(), "  resource: F\n")
        .0
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(
            "its value is read from SSM at deploy (`/prod/db/host` names the SSM parameter)"
        ),
        "{e}"
    );
    // A value for a local run is the value.
    let config = "[default.local_invoke.parameters]\nparameter_overrides = \"Host=db.local\"\n";
    std::fs::write(dir.path().join("samconfig.toml"), config).unwrap();
    let f = load_in(dir.path(), "  resource: F\n")
        .0
        .unwrap_or_else(|e| panic!("{e}"))
        .remove(0)
        .function;
    assert_eq!(f.environment["HOST"], "db.local");
}

#[test]
fn a_cdk_image_asset_is_built_from_its_asset_metadata() {
    let text = "Resources:\n  Img:\n    Type: AWS::Lambda::Function\n    Metadata: {aws:asset:path: image, aws:asset:dockerfile-path: Dockerfile.lambda}\n    Properties: {PackageType: Image, Code: {ImageUri: x}}\n";
    let dir = project_with(text, None);
    let f = load_in(dir.path(), "  resource: Img\n")
        .0
        .unwrap_or_else(|e| panic!("{e}"))
        .remove(0)
        .function;
    let build = f.build.expect("a build");
    assert!(build.context.ends_with("image"), "{:?}", build.context);
    assert_eq!(build.dockerfile, "Dockerfile.lambda");
}

//! `lambda-ci explain RESOURCE --template PATH`: the function a suite naming that resource
//! runs, each value with where it came from (the resource, `Globals`, the metadata, a default).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::error::Error;
use crate::exit;
use crate::suite::{self, Function};
use crate::template::params::Given;
use crate::template::{self, Origin, Overrides, Refused, Stack, locate};

/// `lambda-ci explain RESOURCE [--template PATH] [--json]`
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The function's logical id in the template.
    #[arg(value_name = "RESOURCE")]
    pub resource: String,

    /// The SAM or CloudFormation template (YAML or JSON), or the directory holding
    /// `template.yaml`.
    #[arg(long, value_name = "PATH", default_value = "template.yaml")]
    pub template: PathBuf,

    #[command(flatten)]
    pub passed: crate::cli::TemplateArgs,

    /// Print JSON (`{"version": 1, "resource", "template", "function", "origins"}`).
    #[arg(long)]
    pub json: bool,
}

/// Where a value came from, in words.
fn origin_words(field: &str, origin: Option<&Origin>) -> String {
    match origin {
        Some(Origin::Default) | None if field == "name" => {
            "the logical id (no FunctionName)".into()
        }
        Some(Origin::Resource(p)) => format!("the resource, line {}", p.line),
        Some(Origin::Globals(p)) => format!("Globals, line {}", p.line),
        Some(Origin::Merged(p)) => format!("Globals, then the resource (line {})", p.line),
        Some(Origin::Metadata(p)) => format!("the resource's Metadata, line {}", p.line),
        Some(Origin::Default) | None => "Lambda's default".into(),
    }
}

/// Runs `lambda-ci explain`, printing to `out`.
pub fn explain(args: &ExplainArgs, out: &mut impl Write) -> Result<u8, Error> {
    let template = std::path::absolute(&args.template).unwrap_or(args.template.clone());
    let quoted = serde_json::to_string(&template.display().to_string()).expect("a string");
    let resource = serde_json::to_string(&args.resource).expect("a string");
    let text = format!(
        "function: {{template: {quoted}, resource: {resource}}}\ncases: [{{name: explain, event: {{}}}}]\n"
    );
    let here = std::env::current_dir().unwrap_or_default().join("explain");
    let load = args.passed.options()?;
    let (options, _) =
        template::passed::options(&template, &load.parameters, load.config_env.as_deref())
            .map_err(Error::Usage)?;
    let stacks = locate::stacks(&template, &options).map_err(Error::Load)?;
    let Some(found) = locate::find(&stacks, &args.resource) else {
        let all: Vec<String> = locate::functions(&stacks)
            .iter()
            .map(|f| f.address())
            .collect();
        let unknown = Refused::Unknown {
            functions: Vec::new(),
        };
        return Err(Error::Usage(format!(
            "{} has no function `{}`: {}",
            stacks[0].stack.file.display(),
            args.resource,
            template::refused_words(&unknown, &all, &args.resource)
        )));
    };
    let (stack, options) = (&found.reached.stack, &found.reached.options);
    let resolved = match template::resolve(stack, &found.id, options, &Overrides::default()) {
        Ok(r) => r,
        Err(Refused::Template(errors)) => return Err(Error::Load(errors)),
        Err(other) => {
            return Err(Error::Usage(template::refused_words(
                &other,
                &[],
                &args.resource,
            )));
        }
    };
    let function = suite::load_bytes_with(&here, text.into_bytes(), &load)
        .map_err(Error::Load)?
        .function;
    let rows = rows(&function);
    let parameters = parameters(stack, options);
    let origin = |field: &str| {
        resolved
            .origins
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, o)| o)
    };
    if args.json {
        let mut origins: serde_json::Map<_, _> = rows
            .iter()
            .map(|(field, _, _)| (field.to_string(), json!(origin_words(field, origin(field)))))
            .collect();
        // Each variable's own origin, beside the environment's.
        for name in function.environment.keys() {
            let key = format!("environment.{name}");
            let words = origin_words(&key, origin(&key));
            origins.insert(key, json!(words));
        }
        let values: serde_json::Map<_, _> = rows
            .into_iter()
            .map(|(field, _, value)| (field.to_string(), value))
            .collect();
        let doc = json!({
            "version": 1,
            "resource": args.resource,
            "template": stack.file.display().to_string(),
            "function": values,
            "origins": origins,
            "not_emulated": resolved.not_emulated,
            "parameters": parameters.iter().map(|(name, value, from)| (name.clone(), json!({"value": value, "from": from}))).collect::<serde_json::Map<_, _>>(),
        });
        let mut json = serde_json::to_string_pretty(&doc).expect("JSON");
        json.push('\n');
        return say(out, json, &function.secrets);
    }
    let mut text = format!("{} in {}\n", args.resource, stack.file.display());
    if let Some(note) = &stack.note {
        text.push_str(&format!("note: {note}\n"));
    }
    for (field, shown, _) in rows.iter().filter(|(_, _, v)| !v.is_null()) {
        if *field == "environment" && !function.environment.is_empty() {
            for (i, (name, value)) in function.environment.iter().enumerate() {
                let key = format!("environment.{name}");
                let label = if i == 0 { "environment" } else { "" };
                text.push_str(&format!(
                    "  {label:<18} {name}={value}\n  {:<18}   from {}\n",
                    "",
                    origin_words(&key, origin(&key))
                ));
            }
            continue;
        }
        text.push_str(&format!(
            "  {field:<18} {shown}\n  {:<18}   from {}\n",
            "",
            origin_words(field, origin(field))
        ));
    }
    for (name, value, from) in &parameters {
        text.push_str(&format!("  parameter {name} = {value}  (from {from})\n"));
    }
    if !resolved.not_emulated.is_empty() {
        text.push_str(&format!(
            "not emulated locally: {}\n",
            resolved.not_emulated.join(", ")
        ));
    }
    say(out, text, &function.secrets)
}

/// Writes `text` with the template's `NoEcho` values redacted, as every report has them.
fn say(out: &mut impl Write, mut text: String, secrets: &[(String, String)]) -> Result<u8, Error> {
    crate::redact::Redactor::new(secrets).string(&mut text);
    out.write_all(text.as_bytes()).map_err(write_error)?;
    Ok(exit::SUCCESS)
}

/// Each parameter of the template: its value (a `NoEcho` one redacted) and where it came from.
fn parameters(stack: &Stack, options: &template::Options) -> Vec<(String, String, String)> {
    let (scope, given, _) = stack.scope(options);
    given
        .into_iter()
        .map(|(name, given)| {
            let param = &scope.params[&name];
            let value = match (&param.secret, param.value.text()) {
                (true, _) => crate::redact::REDACTED.to_string(),
                (false, Some(text)) => text,
                (false, None) => match param.value.unresolved_part() {
                    Some(u) => format!("(unresolved: {})", u.why),
                    None => "(a list)".into(),
                },
            };
            let from = match given {
                Given::Default => "its Default".to_string(),
                Given::Passed(from) => from,
            };
            (name, value, from)
        })
        .collect()
}

fn write_error(e: std::io::Error) -> Error {
    Error::Usage(format!("cannot write the explanation: {e}"))
}

/// Each value the run uses: its key, how it is shown, and its JSON.
fn rows(f: &Function) -> Vec<(&'static str, String, serde_json::Value)> {
    let path = |p: &Path| p.display().to_string();
    let layers: Vec<String> = f.layers.iter().map(|l| path(&l.path)).collect();
    let env: Vec<String> = f
        .environment
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let code = f.code.as_ref().map(|c| path(&c.path));
    let build = f
        .build
        .as_ref()
        .map(|b| path(&b.context.join(&b.dockerfile)));
    vec![
        ("name", f.name.clone(), json!(f.name)),
        (
            "runtime",
            f.runtime.clone().unwrap_or_else(|| f.image.clone()),
            json!(f.runtime),
        ),
        (
            "handler",
            f.handler.clone().unwrap_or_default(),
            json!(f.handler),
        ),
        ("code", code.clone().unwrap_or_default(), json!(code)),
        ("build", build.clone().unwrap_or_default(), json!(build)),
        (
            "layers",
            if layers.is_empty() {
                "-".into()
            } else {
                layers.join("\n                       ")
            },
            json!(layers),
        ),
        (
            "environment",
            if env.is_empty() {
                "-".into()
            } else {
                env.join("\n                       ")
            },
            json!(f.environment),
        ),
        ("timeout", format!("{} s", f.timeout), json!(f.timeout)),
        ("memory", format!("{} MB", f.memory), json!(f.memory)),
        (
            "ephemeral_storage",
            format!("{} MB", f.ephemeral_storage),
            json!(f.ephemeral_storage),
        ),
        (
            "architecture",
            f.architecture.name().to_string(),
            json!(f.architecture.name()),
        ),
        (
            "http",
            if f.http.is_empty() {
                "-".into()
            } else {
                let routes: Vec<String> = f.http.iter().map(|r| r.describe()).collect();
                routes.join("\n                       ")
            },
            json!(f.http.iter().map(|r| r.to_json()).collect::<Vec<_>>()),
        ),
    ]
}

//! SAM's `Globals`, applied as SAM applies them: a scalar on the resource replaces the global
//! one, mappings merge with the resource's keys winning, lists add up with the global entries
//! first. An intrinsic (`{Ref: X}`) counts as a scalar.

use crate::suite::node::{Node, Value};

/// The properties SAM applies to functions from `Globals.Function` (SAM's own list): any other
/// is an error in SAM, and so here.
pub const FUNCTION_GLOBALS: &[&str] = &[
    "Handler",
    "Runtime",
    "CodeUri",
    "DeadLetterQueue",
    "Description",
    "MemorySize",
    "Timeout",
    "VpcConfig",
    "Environment",
    "Tags",
    "PropagateTags",
    "Tracing",
    "KmsKeyArn",
    "AutoPublishAlias",
    "AutoPublishAliasAllProperties",
    "Layers",
    "DeploymentPreference",
    "RolePath",
    "PermissionsBoundary",
    "ReservedConcurrentExecutions",
    "ProvisionedConcurrencyConfig",
    "AssumeRolePolicyDocument",
    "EventInvokeConfig",
    "FileSystemConfigs",
    "CodeSigningConfigArn",
    "Architectures",
    "SnapStart",
    "EphemeralStorage",
    "FunctionUrlConfig",
    "RuntimeManagementConfig",
    "LoggingConfig",
    "RecursiveLoop",
    "SourceKMSKeyArn",
    "TenancyConfig",
    "DurableConfig",
    "CapacityProviderConfig",
    "FunctionScalingConfig",
    "PublishToLatestPublished",
    "VersionDeletionPolicy",
];

/// `local` over `global`.
pub fn merge(global: &Node, local: &Node) -> Node {
    match (&global.value, &local.value) {
        (Value::Map(g), Value::Map(l)) if !intrinsic(g) && !intrinsic(l) => {
            let mut entries = Vec::with_capacity(g.len() + l.len());
            for (key, gv) in g {
                match l.iter().find(|(k, _)| k.name == key.name) {
                    Some((lk, lv)) => entries.push((lk.clone(), merge(gv, lv))),
                    None => entries.push((key.clone(), gv.clone())),
                }
            }
            for (key, lv) in l {
                if !g.iter().any(|(k, _)| k.name == key.name) {
                    entries.push((key.clone(), lv.clone()));
                }
            }
            Node {
                pos: local.pos,
                value: Value::Map(entries),
            }
        }
        (Value::Seq(g), Value::Seq(l)) => Node {
            pos: local.pos,
            value: Value::Seq(g.iter().chain(l).cloned().collect()),
        },
        _ => local.clone(),
    }
}

fn intrinsic(entries: &[(crate::suite::node::Key, Node)]) -> bool {
    matches!(entries, [(k, _)] if k.name == "Ref" || k.name == "Condition" || k.name.starts_with("Fn::"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::template::yaml::parse;

    fn merged(global: &str, local: &str) -> serde_json::Value {
        merge(&parse(global).unwrap(), &parse(local).unwrap()).to_json()
    }

    #[test]
    fn scalars_are_replaced_by_the_resource() {
        assert_eq!(merged("a: 1", "a: 2"), json!({"a": 2}));
        assert_eq!(merged("a: 1", "b: 2"), json!({"a": 1, "b": 2}));
    }

    #[test]
    fn mappings_merge_with_the_resource_winning() {
        assert_eq!(
            merged(
                "Environment: {Variables: {A: g, B: g}}",
                "Environment: {Variables: {B: l, C: l}}"
            ),
            json!({"Environment": {"Variables": {"A": "g", "B": "l", "C": "l"}}})
        );
    }

    #[test]
    fn lists_add_up_global_entries_first() {
        assert_eq!(
            merged("Layers: [!Ref A, !Ref B]", "Layers: [!Ref C]"),
            json!({"Layers": [{"Ref": "A"}, {"Ref": "B"}, {"Ref": "C"}]})
        );
    }

    #[test]
    fn an_intrinsic_counts_as_a_scalar() {
        assert_eq!(
            merged("Environment: {Variables: {A: g}}", "Environment: !Ref Env"),
            json!({"Environment": {"Ref": "Env"}})
        );
    }
}

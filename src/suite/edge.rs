//! Lambda@Edge: the rules CloudFront applies to a function before it can be attached to a
//! trigger, checked at load so that a function that breaks them fails here, not after a
//! CloudFront deploy. Source: Amazon CloudFront Developer Guide, "Restrictions on edge
//! functions" and "Quotas on Lambda@Edge".

use super::Function;
use super::fields::{Ctx, Fields};
use super::node::Node;

/// The CloudFront event a Lambda@Edge function is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeTrigger {
    ViewerRequest,
    ViewerResponse,
    OriginRequest,
    OriginResponse,
}

impl EdgeTrigger {
    /// Every trigger by its name in suites (CloudFront's event type).
    pub const NAMED: &[(&'static str, EdgeTrigger)] = &[
        ("viewer-request", EdgeTrigger::ViewerRequest),
        ("viewer-response", EdgeTrigger::ViewerResponse),
        ("origin-request", EdgeTrigger::OriginRequest),
        ("origin-response", EdgeTrigger::OriginResponse),
    ];

    pub fn name(self) -> &'static str {
        Self::NAMED
            .iter()
            .find(|(_, t)| *t == self)
            .map_or("", |(name, _)| name)
    }

    fn viewer(self) -> bool {
        matches!(
            self,
            EdgeTrigger::ViewerRequest | EdgeTrigger::ViewerResponse
        )
    }

    /// The longest timeout CloudFront allows for the trigger, in seconds.
    pub fn max_timeout(self) -> u32 {
        if self.viewer() { 5 } else { 30 }
    }

    /// The most memory CloudFront allows for the trigger, in MB.
    pub fn max_memory(self) -> u32 {
        if self.viewer() { 128 } else { 10240 }
    }

    /// The largest response (headers and body) a function may generate for the trigger.
    pub fn max_response_bytes(self) -> usize {
        if self.viewer() {
            40 * 1024
        } else {
            1024 * 1024
        }
    }
}

impl Ctx<'_> {
    /// Checks a decoded function against the rules of its Edge trigger.
    pub(super) fn edge_rules(&mut self, node: &Node, f: &Fields, function: &Function) {
        let Some(trigger) = function.edge else {
            return;
        };
        let rule = |what: &str| format!("Lambda@Edge functions ({}) {what}", trigger.name());
        for (key, what, hint) in [
            (
                "environment",
                "cannot have environment variables",
                "CloudFront passes none to the function; build the configuration into the code",
            ),
            (
                "layers",
                "cannot use layers",
                "bundle the layer's files into the code",
            ),
            (
                "image",
                "cannot be container images",
                "deploy a .zip with a Node.js or Python runtime",
            ),
            (
                "build",
                "cannot be container images",
                "deploy a .zip with a Node.js or Python runtime",
            ),
        ] {
            if let Some(k) = f.key(key) {
                self.error(Some(k.pos), rule(what), Some(hint.into()));
            }
        }
        if let Some(runtime) = &function.runtime
            && !(runtime.starts_with("nodejs") || runtime.starts_with("python"))
        {
            let pos = f.get("runtime").map(|r| r.pos);
            self.error(
                pos,
                rule(&format!("must use Node.js or Python, not `{runtime}`")),
                None,
            );
        }
        if function.architecture != super::Architecture::X86_64 {
            let pos = f.get("architecture").map(|a| a.pos);
            self.error(
                pos,
                rule("run on x86_64 only"),
                Some("remove `architecture: arm64`".into()),
            );
        }
        let limits = [
            (
                "timeout",
                function.timeout,
                trigger.max_timeout(),
                "seconds",
            ),
            ("memory", function.memory, trigger.max_memory(), "MB"),
        ];
        for (key, value, max, unit) in limits {
            if value > max {
                let pos = f.get(key).map_or(node.pos, |n| n.pos);
                self.error(
                    Some(pos),
                    rule(&format!(
                        "allow a `{key}` of at most {max} {unit}, not {value}"
                    )),
                    None,
                );
            }
        }
    }
}

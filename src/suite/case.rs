//! Decodes `cases:`: each case's name, event (inline or from a file) and expectation.

use std::collections::BTreeMap;

use super::edge::EdgeTrigger;
use super::expect::Declared;
use super::fields::Ctx;
use super::node::{Node, Pos, Value};
use super::read::{EVENT_LIMIT, ReadError, read_limited, thousands};
use super::{Case, InvokeContext, Isolation};

/// The most bytes the Invoke API accepts in `X-Amz-Client-Context`, base64-encoded.
const CLIENT_CONTEXT_LIMIT: usize = 3583;

impl Ctx<'_> {
    /// `edge` is the function's Lambda@Edge trigger, which CloudFront templates follow.
    pub(super) fn cases(
        &mut self,
        node: &Node,
        defaults: &Declared,
        edge: Option<EdgeTrigger>,
    ) -> Option<Vec<Case>> {
        let Value::Seq(items) = &node.value else {
            self.wrong_kind(node, "`cases`", "a list");
            return None;
        };
        if items.is_empty() {
            self.error(
                Some(node.pos),
                "`cases` is empty",
                Some("add at least one case with a `name` and an `event`".into()),
            );
            return None;
        }
        let mut names: BTreeMap<String, Pos> = BTreeMap::new();
        let mut cases = Vec::new();
        let mut ok = true;
        let mut entries = Vec::new();
        // `each` rows count against the values a suite may hold, as written values do.
        let mut budget = super::node::MAX_VALUES;
        for item in items {
            match self.expand(item, &mut budget) {
                Some(expanded) => entries.extend(expanded),
                None => ok = false,
            }
        }
        for item in &entries {
            match self.case(item, defaults, edge) {
                Some(case) => {
                    if let Some(first) = names.get(&case.name) {
                        self.error(
                            Some(case.pos),
                            format!("duplicate case name `{}`", case.name),
                            Some(format!(
                                "the first is at line {}; case names are unique within a suite",
                                first.line
                            )),
                        );
                        ok = false;
                    } else {
                        names.insert(case.name.clone(), case.pos);
                    }
                    cases.push(case);
                }
                None => ok = false,
            }
        }
        ok.then_some(cases)
    }

    fn case(
        &mut self,
        node: &Node,
        defaults: &Declared,
        edge: Option<EdgeTrigger>,
    ) -> Option<Case> {
        const FIELDS: &[&str] = &[
            "name",
            "event",
            "event_file",
            "event_template",
            "client_context",
            "trace_id",
            "isolation",
            "expect",
            "each",
        ];
        let f = self.fields(node, "a case", FIELDS)?;
        let name = match f.get("name") {
            Some(n) => self.string(n, "case `name`"),
            None => {
                self.error(
                    Some(node.pos),
                    "case without `name`",
                    Some("give every case a name; reports show it".into()),
                );
                None
            }
        };
        let event = match (f.get("event"), f.get("event_file")) {
            (Some(_), Some(_)) => {
                let pos = f.key("event_file").map(|k| k.pos);
                self.error(
                    pos,
                    "`event` and `event_file` are exclusive",
                    Some("keep one of them".into()),
                );
                None
            }
            (Some(e), None) => Some(e.to_json()),
            (None, Some(file)) => self.event_file(file),
            (None, None) => Some(serde_json::json!({})),
        };
        let event = match f.get("event_template") {
            Some(t) => event.and_then(|over| {
                let given = f
                    .get("event")
                    .or(f.get("event_file"))
                    .map(|at| (over, at.pos));
                self.templated(t, given, edge)
            }),
            None => event,
        };
        let sized = f
            .get("event")
            .or(f.get("event_file"))
            .or(f.get("event_template"));
        let event = match (event, sized) {
            (Some(event), Some(at)) => self.event_size(at.pos, &event).map(|()| event),
            (event, _) => event,
        };
        let client_context = match f.get("client_context") {
            None => Some(None),
            Some(c) => self.client_context(c).map(Some),
        };
        let trace_id = match f.get("trace_id") {
            None => Some(None),
            Some(t) => self.string(t, "`trace_id`").map(Some),
        };
        let isolation = match f.get("isolation") {
            None => Some(None),
            Some(i) => self.choice(i, "`isolation`", Isolation::NAMED).map(Some),
        };
        let expect = match f.get("expect") {
            None => Some(Declared::default()),
            Some(e) => self.expectation(e),
        }
        .map(|own| own.with_defaults(defaults));
        Some(Case {
            name: name?,
            event: event?,
            context: InvokeContext {
                client_context: client_context?,
                trace_id: trace_id?,
            },
            isolation: isolation?,
            expect: expect?,
            pos: node.pos,
        })
    }

    /// The event made from the catalogue's template `node` names, with `over` (the case's
    /// `event` or `event_file`) merged over it and its derived fields recomputed.
    fn templated(
        &mut self,
        node: &Node,
        over: Option<(serde_json::Value, Pos)>,
        edge: Option<EdgeTrigger>,
    ) -> Option<serde_json::Value> {
        let name = self.string(node, "`event_template`")?;
        let Some(kind) = crate::events::Kind::named(&name) else {
            self.error(
                Some(node.pos),
                format!("unknown `event_template` `{name}`"),
                Some(crate::events::unknown_hint(&name)),
            );
            return None;
        };
        if let Some((over, at)) = &over
            && !over.is_object()
        {
            self.error(
                Some(*at),
                format!(
                    "with `event_template`, the case's event must be a mapping of the fields to change, not {}",
                    super::node::json_kind(over)
                ),
                Some("objects merge into the template's, key by key; write the whole event without `event_template` to replace it".into()),
            );
            return None;
        }
        if let (Some(trigger), Some(sent_to)) = (edge, kind.edge)
            && trigger.name() != sent_to
        {
            self.error(
                Some(node.pos),
                format!(
                    "`{name}` is a {sent_to} event, but the function's `edge:` is {}",
                    trigger.name()
                ),
                Some(format!(
                    "use `event_template: cloudfront-{}`, the event CloudFront sends to a {} function",
                    trigger.name(),
                    trigger.name()
                )),
            );
            return None;
        }
        Some(kind.build(over.map(|(v, _)| v), edge.map(EdgeTrigger::name)))
    }

    /// A client context: a mapping, within the Invoke API's limit once encoded.
    fn client_context(&mut self, node: &Node) -> Option<serde_json::Value> {
        if !matches!(node.value, Value::Map(_)) {
            self.wrong_kind(node, "`client_context`", "a mapping");
            return None;
        }
        let value = node.to_json();
        let encoded = value.to_string().len().div_ceil(3) * 4;
        if encoded > CLIENT_CONTEXT_LIMIT {
            self.error(
                Some(node.pos),
                format!(
                    "`client_context` is {encoded} bytes once base64-encoded; the Invoke API takes at most {CLIENT_CONTEXT_LIMIT}"
                ),
                None,
            );
            return None;
        }
        Some(value)
    }

    fn event_file(&mut self, node: &Node) -> Option<serde_json::Value> {
        let path = self.file(node, "`event_file`")?;
        self.inputs
            .push(std::path::absolute(&path).unwrap_or_else(|_| path.clone()));
        let bytes = match read_limited(&path, EVENT_LIMIT) {
            Ok(bytes) => bytes,
            Err(e) => {
                let hint = match e {
                    ReadError::TooLarge { .. } => Some(
                        "Lambda refuses a synchronous invocation's payload over 6 MB (RIE would cut it short)".to_string(),
                    ),
                    _ => e.hint(),
                };
                self.error(
                    Some(node.pos),
                    format!("`event_file` {} {e}", path.display()),
                    hint,
                );
                return None;
            }
        };
        match crate::json::parse(&bytes) {
            Ok(v) => Some(v),
            Err(e) => {
                // serde_json's words carry their own position; it is given once, as a path.
                let words = e.to_string();
                let words = words.split(" at line ").next().unwrap_or_default();
                let (at, hint) = match e.position() {
                    Some((line, column)) => (
                        format!(" at {}:{line}:{column}", path.display()),
                        format!(
                            "an event file holds one JSON value; `python3 -m json.tool {}` shows where it breaks",
                            path.display()
                        ),
                    ),
                    None => (
                        String::new(),
                        format!(
                            "JSON is read up to {} levels deep; flatten the event",
                            crate::json::MAX_DEPTH
                        ),
                    ),
                };
                self.error(
                    Some(node.pos),
                    format!(
                        "`event_file` {} is not valid JSON: {words}{at}",
                        path.display()
                    ),
                    Some(hint),
                );
                None
            }
        }
    }

    /// Refuses an event Lambda would refuse: over its synchronous payload limit once
    /// serialised, as it is sent.
    fn event_size(&mut self, pos: Pos, event: &serde_json::Value) -> Option<()> {
        let size = serde_json::to_vec(event).map_or(0, |v| v.len()) as u64;
        if size <= EVENT_LIMIT {
            return Some(());
        }
        self.error(
            Some(pos),
            format!(
                "the event is {} bytes as JSON, over Lambda's limit of {} bytes for a synchronous invocation's payload",
                thousands(size),
                thousands(EVENT_LIMIT)
            ),
            Some("RIE would cut it short and the function would fail to read it; send a smaller event".into()),
        );
        None
    }
}

//! Decodes `cases:`: each case's name, event (inline or from a file) and expectation.

use std::collections::BTreeMap;

use super::edge::EdgeTrigger;
use super::expect::Declared;
use super::fields::Ctx;
use super::node::{Node, Pos, Value};
use super::read::{EVENT_LIMIT, ReadError, read_limited, thousands};
use super::{Case, Function, InvokeContext, Isolation};

/// The most bytes the Invoke API accepts in `X-Amz-Client-Context`, base64-encoded.
const CLIENT_CONTEXT_LIMIT: usize = 3583;

impl Ctx<'_> {
    /// `function` is the function under test, when it loaded: CloudFront templates follow its
    /// Lambda@Edge trigger, and `request:` cases its front doors.
    pub(super) fn cases(
        &mut self,
        node: &Node,
        defaults: &Declared,
        function: Option<&Function>,
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
            match self.case(item, defaults, function) {
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
        function: Option<&Function>,
    ) -> Option<Case> {
        const FIELDS: &[&str] = &[
            "name",
            "request",
            "authorizer",
            "event",
            "event_file",
            "event_template",
            "event_add",
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
        let (event, front) = match f.get("request") {
            Some(request) => match self.request_event(&f, request, function) {
                Some((front, event)) => (Some(event), Some(front)),
                None => (None, None),
            },
            None => {
                if let Some(k) = f.key("authorizer") {
                    self.error(
                        Some(k.pos),
                        "`authorizer` injects an identity into a `request:` case, and this case gives its event",
                        Some("write the identity in the event's `requestContext.authorizer`".into()),
                    );
                }
                (self.case_event(&f, function.and_then(|f| f.edge)), None)
            }
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
            front,
            pos: node.pos,
        })
    }

    /// The event of a case that gives one: `event`, `event_file` or `event_template` (with
    /// `event_add`), within Lambda's payload limit.
    fn case_event(
        &mut self,
        f: &super::fields::Fields<'_>,
        edge: Option<EdgeTrigger>,
    ) -> Option<serde_json::Value> {
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
                let given = f.get("event").or(f.get("event_file")).map(|at| (over, at));
                self.templated(t, given, f.get("event_add"), edge)
            }),
            None => {
                if let Some(add) = f.get("event_add") {
                    self.error(
                        Some(add.pos),
                        "`event_add` adds fields to the event of an `event_template`, and this case has none",
                        Some("write the fields in `event`".into()),
                    );
                    return None;
                }
                event
            }
        };
        let sized = f
            .get("event")
            .or(f.get("event_file"))
            .or(f.get("event_template"));
        match (event, sized) {
            (Some(event), Some(at)) => self.event_size(at.pos, &event).map(|()| event),
            (event, _) => event,
        }
    }

    /// The event made from the catalogue's template `node` names, with `over` (the case's
    /// `event` or `event_file`, from `at`) merged over it, then `add` (fields the template does
    /// not have, on purpose), and its derived fields recomputed. A field of `over` that the
    /// template does not have is refused at its line, with the nearest it has.
    fn templated(
        &mut self,
        node: &Node,
        over: Option<(serde_json::Value, &Node)>,
        add: Option<&Node>,
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
                Some(at.pos),
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
        let edge = edge.map(EdgeTrigger::name);
        if let Some((over, at)) = &over
            && let Some(unknown) = crate::events::unknown_key(&kind.build(None, edge), over)
        {
            self.unknown_template_field(&name, &unknown, at);
            return None;
        }
        let mut over = over.map(|(v, _)| v);
        if let Some(add) = add {
            if !matches!(add.value, Value::Map(_)) {
                self.wrong_kind(add, "`event_add`", "a mapping of the fields to add");
                return None;
            }
            let base = over.get_or_insert_with(|| serde_json::json!({}));
            crate::events::merge(base, add.to_json());
        }
        Some(kind.build(over, edge))
    }

    /// A field the case's event sets that template `name` does not have, at its line.
    fn unknown_template_field(
        &mut self,
        name: &str,
        unknown: &crate::events::UnknownKey,
        at: &Node,
    ) {
        let path = unknown.path.join(".");
        let near = unknown
            .near
            .as_ref()
            .map(|n| format!("did you mean `{n}`? "))
            .unwrap_or_default();
        let (field, within) = unknown.path.split_last().expect("a path has its key");
        let there = if within.is_empty() {
            "at its top".to_string()
        } else {
            format!("in `{}`", within.join("."))
        };
        self.error(
            Some(key_pos(at, &unknown.path).unwrap_or(at.pos)),
            format!("the case's event sets `{path}`, which the `{name}` template does not have"),
            Some(format!(
                "{near}its fields {there}: {}; to add `{field}` on purpose, put it under `event_add:`",
                unknown.known.join(", ")
            )),
        );
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

/// Where the key at `path` is written in the mapping `node`, if it is.
fn key_pos(node: &Node, path: &[String]) -> Option<Pos> {
    let (first, rest) = path.split_first()?;
    let Value::Map(entries) = &node.value else {
        return None;
    };
    let (key, value) = entries.iter().find(|(k, _)| &k.name == first)?;
    if rest.is_empty() {
        Some(key.pos)
    } else {
        key_pos(value, rest)
    }
}

//! What every event a front door sends shares: where the API lives (region, account, its id
//! and domain) and what is particular to one call (its request id and time), and the choice of
//! the payload a route sends.

use serde_json::Value;

use super::{Api, Matched, Payload, Request};

/// The account id events carry: AWS's documentation account.
pub const ACCOUNT: &str = "123456789012";

/// Where a function's front doors live, as their events name it.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    pub region: String,
    /// The API's id (10 characters), or the function URL's (32).
    pub api_id: String,
}

impl Site {
    /// The site of `api` for `function` in `region`: its id is derived from both, so the same
    /// function has the same domain in every run.
    pub fn of(function: &str, api: Api, api_name: Option<&str>, region: &str) -> Site {
        let len = if api == Api::Url { 32 } else { 10 };
        let seed = format!("{function}\0{}\0{}", api.name(), api_name.unwrap_or(""));
        Site {
            region: region.to_string(),
            api_id: id_from(&seed, len),
        }
    }

    /// The domain the API answers on.
    pub fn domain(&self, api: Api) -> String {
        match api {
            Api::Url => format!("{}.lambda-url.{}.on.aws", self.api_id, self.region),
            Api::Rest | Api::Http => {
                format!("{}.execute-api.{}.amazonaws.com", self.api_id, self.region)
            }
        }
    }
}

/// Lower-case letters and digits derived from `seed`, as AWS's ids look.
fn id_from(seed: &str, len: usize) -> String {
    use sha2::Digest as _;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let digest = sha2::Sha256::digest(seed.as_bytes());
    digest
        .iter()
        .cycle()
        .take(len)
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// What is particular to one call: its ids and when it came.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// A UUID, as REST APIs and function URLs write it.
    pub request_id: String,
    /// 16 characters of base64, as HTTP APIs write their request ids and `extendedRequestId`.
    pub short_id: String,
    pub trace_id: String,
    pub time: chrono::DateTime<chrono::Utc>,
}

impl Call {
    /// A call made now, with fresh ids.
    pub fn now() -> Call {
        let mut bytes = [0u8; 32];
        // Ids need only be unique; a failing entropy source leaves them zero.
        let _ = getrandom::fill(&mut bytes);
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let request_id = format!(
            "{}-{}-4{}-a{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[13..16],
            &hex[17..20],
            &hex[20..32]
        );
        use base64::Engine as _;
        let short_id = base64::engine::general_purpose::STANDARD.encode(&bytes[16..27]);
        let time = chrono::Utc::now();
        let trace_id = format!("Root=1-{:08x}-{}", time.timestamp(), &hex[32..56]);
        Call {
            request_id,
            short_id,
            trace_id,
            time,
        }
    }

    /// `14/Mar/2025:12:00:00 +0000`, as API Gateway writes request times.
    pub fn clf_time(&self) -> String {
        self.time.format("%d/%b/%Y:%H:%M:%S +0000").to_string()
    }

    pub fn epoch_ms(&self) -> i64 {
        self.time.timestamp_millis()
    }

    /// Seconds since the epoch, as tokens count them (`exp`, `nbf`).
    pub fn epoch_secs(&self) -> u64 {
        u64::try_from(self.time.timestamp()).unwrap_or(0)
    }
}

/// The event the route `matched` sends for `request`.
pub fn build(matched: &Matched<'_>, request: &Request, site: &Site, call: &Call) -> Value {
    let with = super::event_v1::gateway_headers(request, matched.route.api, site, call);
    match matched.route.payload {
        Payload::V1 => super::event_v1::event(matched, &with, site, call),
        Payload::V2 => super::event_v2::event(matched, &with, site, call),
    }
}

/// Whether a body of `media` reaches the function as text on an HTTP API or a function URL:
/// `text/*`, JSON, XML and JavaScript do (as measured on AWS); anything else, a form or a body
/// without a type included, is sent base64-encoded. `+json` and `+xml` types are taken as
/// text, as JSON and XML are.
pub(super) fn is_text(media: Option<&str>) -> bool {
    let Some(media) = media else {
        return false;
    };
    let (kind, sub) = media.split_once('/').unwrap_or((media, ""));
    kind == "text"
        || (kind == "application" && matches!(sub, "json" | "xml" | "javascript"))
        || sub.ends_with("+json")
        || sub.ends_with("+xml")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_have_stable_aws_shaped_ids_and_domains() {
        let a = Site::of("orders", Api::Rest, None, "eu-west-1");
        assert_eq!(a, Site::of("orders", Api::Rest, None, "eu-west-1"));
        assert_eq!(a.api_id.len(), 10);
        assert_ne!(
            a.api_id,
            Site::of("users", Api::Rest, None, "eu-west-1").api_id
        );
        assert!(
            a.domain(Api::Rest)
                .ends_with(".execute-api.eu-west-1.amazonaws.com")
        );
        let u = Site::of("orders", Api::Url, None, "us-east-1");
        assert_eq!(u.api_id.len(), 32);
        assert!(u.domain(Api::Url).ends_with(".lambda-url.us-east-1.on.aws"));
    }

    #[test]
    fn calls_have_fresh_ids_and_gateway_times() {
        let (a, b) = (Call::now(), Call::now());
        assert_ne!(a.request_id, b.request_id);
        assert_eq!(a.request_id.len(), 36);
        assert_eq!(a.short_id.len(), 16);
        assert!(a.trace_id.starts_with("Root=1-"));
        assert!(
            regex::Regex::new(r"^\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000$")
                .unwrap()
                .is_match(&a.clf_time())
        );
    }
}

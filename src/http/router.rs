//! How a request's path is matched against the API's resources
//! (`api::RESOURCES`), the stage segment skipped and the parameters
//! percent-decoded.
//!
//! Works on the raw path of the event, so it behaves the same behind an HTTP
//! API, a REST API (stage in the path or not) and a function URL, which has
//! no route template and so no path parameters.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

/// A path the API answers, and the methods it answers on it.
#[derive(Debug, PartialEq, Eq)]
pub struct Resource {
    /// As the template's routes write it; `{…}` segments are parameters.
    pub path: &'static str,
    pub methods: &'static [&'static str],
}

impl Resource {
    /// The methods, as an `Allow` header lists them.
    pub fn allow(&self) -> String {
        self.methods.join(", ")
    }

    /// The parameters `segments` give, when they are this path's.
    fn parameters<'a>(&self, segments: &[&'a str]) -> Option<Vec<Cow<'a, str>>> {
        let template: Vec<&str> = self.path.split('/').skip(1).collect();
        if template.len() != segments.len() {
            return None;
        }
        let mut parameters = Vec::new();
        for (expected, segment) in template.iter().zip(segments) {
            if expected.starts_with('{') {
                parameters.push(decode(segment));
            } else if expected != segment {
                return None;
            }
        }
        Some(parameters)
    }
}

/// The resource of `resources` whose path `raw_path` is, with its
/// parameters in order; `None` when it is none of theirs.
pub fn resource_of<'a>(
    resources: &[&'static Resource],
    raw_path: &'a str,
    stage: Option<&str>,
) -> Option<(&'static Resource, Vec<Cow<'a, str>>)> {
    let mut segments = raw_path.split('/');
    if segments.next() != Some("") {
        return None;
    }
    let mut segments = segments.peekable();
    if stage.is_some_and(|stage| segments.peek() == Some(&stage)) {
        segments.next();
    }
    let segments: Vec<&str> = segments.collect();
    resources
        .iter()
        .find_map(|resource| Some((*resource, resource.parameters(&segments)?)))
}

/// A segment that does not decode to UTF-8 stays encoded; its `%` then fails
/// name validation like any other character GitHub refuses.
fn decode(segment: &str) -> Cow<'_, str> {
    percent_decode_str(segment)
        .decode_utf8()
        .unwrap_or(Cow::Borrowed(segment))
}

//! The baggage members Langfuse's and LangSmith's Python SDKs write and read for the
//! attributes of a whole trace, translated to and from ours (see [`crate::TraceAttributes`]).
//!
//! Inbound, each is read into our key and the SDK's member dropped (`inject` writes it
//! again from ours); where both say something, ours wins, then Langfuse's, then
//! LangSmith's; tags are the union.
//!
//! | ours | Langfuse (`propagate_attributes(as_baggage=True)`) | LangSmith (`RunTree.to_headers`) |
//! |---|---|---|
//! | `user.id` | `langfuse_user_id` | |
//! | `session.id` | `langfuse_session_id` | |
//! | `traced.trace.name` | `langfuse_trace_name` | |
//! | `traced.trace.tags` | `langfuse_tags` | `langsmith-tags` |
//! | `traced.trace.metadata.k` | `langfuse_metadata_k` | `langsmith-metadata` (JSON object) |
//! | `traced.version` | `langfuse_version` | |
//! | `traced.environment` | `langfuse_environment` (read only: v3 of their SDK turns it into metadata) | |
//!
//! Langfuse's Python SDK writes `langfuse_tags` as a Python list's text (`['a', 'b']`);
//! that, a JSON array, and comma-separated tags are all read. It writes values with
//! `quote_plus`, so `+` in a `langfuse_*` value is a space (done in
//! [`baggage`](super::baggage)). Metadata keys its SDK would take for its own fields
//! (`user_id`, `session_id`, `tags`, `version`, `trace_name`) are not written as
//! `langfuse_metadata_*`: its version 3 overwrites the field with them.

use crate::attributes::{SESSION_ID, USER_ID};
use crate::trace_wide::{
    is_trace_wide_key, split_tags, ENVIRONMENT, METADATA_PREFIX, TAGS, TRACE_NAME, VERSION,
};

use super::langsmith::{LANGSMITH_METADATA, LANGSMITH_TAGS};

/// Langfuse's single-valued members and our keys for them.
const LANGFUSE_FIELDS: [(&str, &str); 5] = [
    ("langfuse_user_id", USER_ID),
    ("langfuse_session_id", SESSION_ID),
    ("langfuse_trace_name", TRACE_NAME),
    ("langfuse_version", VERSION),
    ("langfuse_environment", ENVIRONMENT),
];
const LANGFUSE_TAGS: &str = "langfuse_tags";
const LANGFUSE_METADATA_PREFIX: &str = "langfuse_metadata_";
/// Metadata keys Langfuse's SDK (v3) reads as its own fields.
const LANGFUSE_RESERVED: [&str; 5] = ["user_id", "session_id", "tags", "version", "trace_name"];

/// Reads the SDKs' members into ours, in place.
pub(crate) fn normalise_inbound(members: &mut Vec<(String, String)>) {
    if !members.iter().any(|(key, _)| {
        key.starts_with("langfuse_") || key.starts_with("langsmith-") || key == TAGS
    }) {
        return;
    }
    let mut tags: Vec<String> = Vec::new();
    let mut extra: Vec<(String, String)> = Vec::new();
    let mut langsmith_metadata: Vec<(String, String)> = Vec::new();
    members.retain(|(key, value)| {
        if key == TAGS {
            tags.extend(split_tags(value).map(str::to_owned));
            return true;
        }
        if let Some((_, ours)) = LANGFUSE_FIELDS.iter().find(|(theirs, _)| theirs == key) {
            extra.push(((*ours).to_owned(), value.clone()));
            return false;
        }
        if key == LANGFUSE_TAGS {
            tags.extend(langfuse_tags(value));
            return false;
        }
        if let Some(name) = key.strip_prefix(LANGFUSE_METADATA_PREFIX) {
            extra.push((format!("{METADATA_PREFIX}{name}"), value.clone()));
            return false;
        }
        if key == LANGSMITH_TAGS {
            tags.extend(split_tags(value).map(str::to_owned));
            return false;
        }
        if key == LANGSMITH_METADATA {
            // Not a JSON object: passed on as it came rather than lost.
            return match json_object(value) {
                Some(object) => {
                    langsmith_metadata.extend(object);
                    false
                }
                None => true,
            };
        }
        true
    });
    // Ours first, then Langfuse's, then LangSmith's: the first of a key is kept.
    for (key, value) in extra.into_iter().chain(
        langsmith_metadata
            .into_iter()
            .map(|(k, v)| (format!("{METADATA_PREFIX}{k}"), v)),
    ) {
        if !members.iter().any(|(k, _)| *k == key) {
            members.push((key, value));
        }
    }
    let mut unique: Vec<String> = Vec::new();
    for tag in tags {
        if !unique.contains(&tag) {
            unique.push(tag);
        }
    }
    members.retain(|(key, _)| key != TAGS);
    if !unique.is_empty() {
        members.push((TAGS.to_owned(), unique.join(",")));
    }
}

/// The members the SDKs read, for the trace-wide members among `members` (ours).
pub(crate) fn outbound(members: &[(String, String)]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut metadata = serde_json::Map::new();
    for (key, value) in members {
        if !is_trace_wide_key(key) {
            continue;
        }
        if let Some((theirs, _)) = LANGFUSE_FIELDS
            .iter()
            .filter(|(theirs, _)| *theirs != "langfuse_environment")
            .find(|(_, ours)| ours == key)
        {
            out.push(((*theirs).to_owned(), value.clone()));
        } else if key == TAGS {
            out.push((LANGFUSE_TAGS.to_owned(), value.clone()));
            out.push((LANGSMITH_TAGS.to_owned(), value.clone()));
        } else if let Some(name) = key.strip_prefix(METADATA_PREFIX) {
            if !LANGFUSE_RESERVED.contains(&name) {
                out.push((format!("{LANGFUSE_METADATA_PREFIX}{name}"), value.clone()));
            }
            metadata.insert(name.to_owned(), serde_json::Value::String(value.clone()));
        }
    }
    if !metadata.is_empty() {
        out.push((
            LANGSMITH_METADATA.to_owned(),
            serde_json::Value::Object(metadata).to_string(),
        ));
    }
    out
}

/// `langfuse_tags` as JSON array, as a Python list's text, or comma-separated.
fn langfuse_tags(value: &str) -> Vec<String> {
    let trimmed = value.trim();
    if let Ok(list) = serde_json::from_str::<Vec<String>>(trimmed) {
        return list;
    }
    if let Some(inner) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        // Python's `str(list)`: `['a', "b's"]`. Quotes are what tells items apart.
        return python_strings(inner);
    }
    split_tags(trimmed).map(str::to_owned).collect()
}

/// The quoted strings of a Python list's text (without the brackets).
fn python_strings(inner: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\'' && c != '"' {
            continue;
        }
        let quote = c;
        let mut item = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(escaped) = chars.next() {
                        item.push(escaped);
                    }
                }
                c if c == quote => break,
                c => item.push(c),
            }
        }
        items.push(item);
    }
    items
}

/// A JSON object's members, strings as they are, other values as JSON text; `None` when
/// the text is not a JSON object.
fn json_object(text: &str) -> Option<Vec<(String, String)>> {
    let map = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text).ok()?;
    Some(
        map.into_iter()
            .map(|(key, value)| match value {
                serde_json::Value::String(text) => (key, text),
                other => (key, other.to_string()),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(members: &[(&str, &str)]) -> Vec<(String, String)> {
        members
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn langfuse_members_become_ours() {
        let mut members = pairs(&[
            ("langfuse_user_id", "u 1"),
            ("langfuse_session_id", "s1"),
            ("langfuse_tags", "['t1', 't,2']"),
            ("langfuse_metadata_tenant", "acme"),
            ("langfuse_trace_name", "checkout"),
            ("langfuse_version", "v9"),
            ("other", "kept"),
        ]);
        normalise_inbound(&mut members);
        assert_eq!(
            members,
            pairs(&[
                ("other", "kept"),
                ("user.id", "u 1"),
                ("session.id", "s1"),
                ("traced.trace.metadata.tenant", "acme"),
                ("traced.trace.name", "checkout"),
                ("traced.version", "v9"),
                ("traced.trace.tags", "t1,t,2"),
            ])
        );
    }

    #[test]
    fn ours_win_then_langfuse_then_langsmith_and_tags_are_a_union() {
        let mut members = pairs(&[
            ("user.id", "ours"),
            ("langfuse_user_id", "theirs"),
            ("traced.trace.tags", "a"),
            ("langfuse_tags", "[\"a\", \"b\"]"),
            ("langsmith-tags", "b,c"),
            ("langfuse_metadata_k", "langfuse"),
            (
                "langsmith-metadata",
                r#"{"k":"langsmith","n":1,"o":{"x":true}}"#,
            ),
            ("langsmith-project", "proj"),
        ]);
        normalise_inbound(&mut members);
        assert_eq!(
            members,
            pairs(&[
                ("user.id", "ours"),
                ("langsmith-project", "proj"),
                ("traced.trace.metadata.k", "langfuse"),
                ("traced.trace.metadata.n", "1"),
                ("traced.trace.metadata.o", r#"{"x":true}"#),
                ("traced.trace.tags", "a,b,c"),
            ])
        );
    }

    #[test]
    fn outbound_writes_what_each_sdk_reads() {
        let members = pairs(&[
            ("user.id", "u1"),
            ("session.id", "s1"),
            ("traced.trace.tags", "a,b"),
            ("traced.trace.metadata.tenant", "acme"),
            ("traced.trace.metadata.user_id", "clash"),
            ("traced.environment", "prod"),
            ("unrelated", "x"),
        ]);
        assert_eq!(
            outbound(&members),
            pairs(&[
                ("langfuse_user_id", "u1"),
                ("langfuse_session_id", "s1"),
                ("langfuse_tags", "a,b"),
                ("langsmith-tags", "a,b"),
                ("langfuse_metadata_tenant", "acme"),
                (
                    "langsmith-metadata",
                    r#"{"tenant":"acme","user_id":"clash"}"#
                ),
            ])
        );
    }

    #[test]
    fn what_is_not_understood_is_passed_on_and_tags_are_canonical() {
        let mut members = pairs(&[
            ("langsmith-metadata", "not json"),
            ("traced.trace.tags", " a , ,b "),
        ]);
        normalise_inbound(&mut members);
        assert_eq!(
            members,
            pairs(&[
                ("langsmith-metadata", "not json"),
                ("traced.trace.tags", "a,b")
            ])
        );
    }

    #[test]
    fn odd_tag_lists_do_not_panic() {
        for text in ["[", "['a", "['a\\", "[\"a\", 1]", "", ",,", "[]"] {
            let _ = langfuse_tags(text);
        }
        assert_eq!(langfuse_tags("['it\\'s', \"b\"]"), ["it's", "b"]);
    }
}

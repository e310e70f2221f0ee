//! JSON renderers: the machine contract (see README "JSON" and `tlsprobe schema`).

use serde::Serialize;

use crate::report::schema::Versioned;

/// Pretty JSON of a top-level report value, `schema_version` first, with a trailing newline.
pub fn render<T: Serialize>(value: &T) -> String {
    render_plain(&Versioned::new(value))
}

/// Pretty JSON of any value as it is, with a trailing newline.
pub fn render_plain<T: Serialize>(value: &T) -> String {
    let mut s =
        serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

//! JSON renderers: the machine contract (see README "JSON").

use serde::Serialize;

/// Pretty JSON of any report value, with a trailing newline.
pub fn render<T: Serialize>(value: &T) -> String {
    let mut s =
        serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

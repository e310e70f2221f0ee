//! URL passwords are never printed: for random passwords over the full printable ASCII
//! range, in every scheme and in an inventory's `url`, no output of `verify` (human and
//! JSON) or `audit` contains the password or any long piece of it.
//!
//! The targets point at 127.0.0.1:1 (nothing listens there) or cannot be parsed at all, so
//! each run ends at once; the property is about what is printed, whatever the outcome.

mod support;

use proptest::prelude::*;

/// The pieces of `pw` that would betray it: the whole, and every run between URL
/// delimiters long enough not to turn up in an output by chance.
fn betraying_pieces(pw: &str) -> Vec<String> {
    let alnum = |s: &str| s.chars().filter(char::is_ascii_alphanumeric).count();
    let mut pieces = vec![pw.to_string()];
    pieces.extend(
        pw.split(['/', '?', '#', '@', ':', '%', '[', ']', '"', '\\'])
            .filter(|p| p.len() >= 6 && alnum(p) >= 3)
            .map(String::from),
    );
    pieces
}

/// Targets holding `pw`: parseable ones in every scheme, and broken ones.
fn targets(pw: &str) -> Vec<String> {
    [
        format!("rediss://:{pw}@127.0.0.1:1"),
        format!("rediss://u:{pw}@127.0.0.1:1"),
        format!("redis://u:{pw}@127.0.0.1:1/0"),
        format!("postgres://u:{pw}@127.0.0.1:1/db"),
        format!("postgresql://u:{pw}@127.0.0.1:1"),
        format!("mysql://u:{pw}@127.0.0.1:1/db"),
        format!("tls://u:{pw}@127.0.0.1:1"),
        format!("u:{pw}@127.0.0.1:1"),
        format!("rediss://:{pw}@"),
        format!("rediss://:{pw}@127.0.0.1:port"),
        format!("mysql://u:{pw}@127.0.0.1:99999"),
    ]
    .into()
}

fn toml_basic_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Every output of every subcommand run on `pw`, as (what was run, what it printed).
fn outputs(pw: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    for (i, t) in targets(pw).iter().enumerate() {
        for format in ["human", "json"] {
            let r = support::run_text(&["verify", "--timeout", "2s", "--format", format, t]);
            out.push((
                format!("verify --format {format} <target {i}>"),
                r.stdout + &r.stderr,
            ));
        }
        let inv = dir.path().join(format!("inv{i}.toml"));
        std::fs::write(
            &inv,
            format!(
                "[[target]]\nid = \"t\"\nurl = {}\ntimeout = \"2s\"\n",
                toml_basic_string(t)
            ),
        )
        .unwrap();
        let inv = inv.display().to_string();
        for format in ["human", "json"] {
            let r = support::run_text(&["audit", "-q", "--format", format, &inv]);
            out.push((
                format!("audit --format {format} <inventory url {i}>"),
                r.stdout + &r.stderr,
            ));
        }
    }
    out
}

fn assert_no_leak(pw: &str) {
    let pieces = betraying_pieces(pw);
    for (what, text) in outputs(pw) {
        for p in &pieces {
            assert!(
                !text.contains(p.as_str()),
                "{what} printed {p:?} of password {pw:?}:\n{text}"
            );
        }
    }
}

#[test]
fn the_passwords_of_the_report_are_never_printed() {
    for pw in [
        "Sup3r/Secr3t",
        "p@ss:w/rd#1%xSecret",
        "hash#Secr3tValue",
        "at@Secr3tValue",
        "colon:Secr3tValue",
        "query?Secr3tValue",
    ] {
        assert_no_leak(pw);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn random_printable_passwords_are_never_printed(pw in "[ -~]{8,24}") {
        // A password of spaces and dashes would be found in any output by chance.
        prop_assume!(pw.chars().filter(char::is_ascii_alphanumeric).count() >= 4);
        assert_no_leak(&pw);
    }
}

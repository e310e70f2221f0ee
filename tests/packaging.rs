//! The conventions of a packaged CLI, checked with the real tools: bash loads the
//! completion script and completes with it, `man -l` renders every page, `--version`
//! names the rustls locked in Cargo.lock, and `verify --wait` shows its status line on a
//! terminal (a pty from `script`) and nothing on a pipe.

mod support;

use std::process::Command;

use support::*;

fn stdout_of(args: &[&str]) -> String {
    let r = run_text(args);
    assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    r.stdout
}

#[test]
fn bash_loads_the_completion_script_and_completes_subcommands_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let script = write_file(
        dir.path(),
        "tlsprobe.bash",
        stdout_of(&["completions", "bash"]),
    );
    // As bash calls it: `_tlsprobe COMMAND CURRENT-WORD PREVIOUS-WORD`.
    let complete = |words: &str| {
        let w: Vec<&str> = words.split(' ').collect();
        let cword = w.len() - 1;
        let (cur, prev) = (w[cword], w[cword - 1]);
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source {script} && complete -p tlsprobe && COMP_WORDS=({words}) COMP_CWORD={cword} \
                 COMP_LINE='{words}' COMP_POINT={} && _tlsprobe tlsprobe '{cur}' '{prev}' && echo \"${{COMPREPLY[*]}}\"",
                words.len()
            ))
            .output()
            .expect("bash");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let sub = complete("tlsprobe ver");
    assert!(sub.contains("complete -o bashdefault -o default"), "{sub}");
    assert!(
        sub.lines()
            .last()
            .unwrap()
            .split(' ')
            .any(|w| w == "verify"),
        "{sub}"
    );
    let flags = complete("tlsprobe audit --for");
    assert!(flags.contains("--format"), "{flags}");
    let values = complete("tlsprobe audit --format h");
    assert!(
        values.contains("html") && values.contains("human"),
        "{values}"
    );
}

#[test]
fn other_shells_get_their_own_scripts() {
    for (shell, marker) in [
        ("zsh", "#compdef tlsprobe"),
        ("fish", "complete -c tlsprobe"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let s = stdout_of(&["completions", shell]);
        assert!(s.contains(marker), "{shell}: {}", &s[..s.len().min(300)]);
    }
    let bad = run_text(&["completions", "tcsh"]);
    assert_eq!(bad.code, 2);
    assert_eq!(bad.stderr.trim_end().lines().count(), 1, "{}", bad.stderr);
}

/// `man -l FILE` rendered as plain text.
fn man_l(page: &str) -> String {
    let out = Command::new("man")
        .args(["-P", "cat", "-l", page])
        .env("MANWIDTH", "100")
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("man (scripts/install-deps.sh installs man-db)");
    assert!(
        out.status.success(),
        "man -l {page}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn man_pages_render_with_man_l() {
    let dir = tempfile::tempdir().unwrap();
    let main = write_file(dir.path(), "tlsprobe.1", stdout_of(&["man"]));
    let text = man_l(&main);
    assert!(text.contains("NAME") && text.contains("SYNOPSIS"), "{text}");
    for sub in ["inspect", "verify", "mtls", "chain", "audit", "schema"] {
        assert!(text.contains(sub), "tlsprobe(1) lists {sub}");
    }
    let verify = write_file(dir.path(), "v.1", stdout_of(&["man", "verify"]));
    let text = man_l(&verify);
    assert!(text.contains("tlsprobe-verify"), "{text}");
    assert!(
        text.contains("--expect-plaintext") && text.contains("--wait"),
        "{text}"
    );

    let out = dir.path().join("man1");
    stdout_of(&["man", "--dir", out.to_str().unwrap()]);
    let mut pages: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    assert!(pages.contains(&"tlsprobe.1".to_string()), "{pages:?}");
    assert!(pages.contains(&"tlsprobe-audit.1".to_string()), "{pages:?}");
    assert!(!pages.iter().any(|p| p.contains("help")), "{pages:?}");
    for p in &pages {
        let text = man_l(&out.join(p).display().to_string());
        assert!(text.contains(p.trim_end_matches(".1")), "{p}");
    }

    let bad = run_text(&["man", "nope"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .starts_with("error: man nope: no such subcommand"),
        "{}",
        bad.stderr
    );
}

#[test]
fn version_names_the_locked_rustls_and_the_ring_provider() {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock")).unwrap();
    let rustls = lock
        .split("[[package]]")
        .find(|p| p.contains("\nname = \"rustls\"\n"))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")))
        .and_then(|v| v.strip_suffix('"'))
        .expect("rustls in Cargo.lock");
    let v = stdout_of(&["--version"]);
    assert_eq!(
        v.trim_end(),
        format!(
            "tlsprobe {} (rustls {rustls}, crypto provider ring)",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[test]
fn verify_wait_shows_attempts_on_a_terminal_and_nothing_on_a_pipe() {
    let dead = format!("rediss://localhost:{}", free_port());
    let args = ["verify", "--wait", "1s", "--interval", "200ms", &dead];
    // A pipe: stderr stays empty, while the JSON shows the retries did happen.
    let r = run_text(&args);
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr, "", "nothing extra on a pipe");
    let (json, code, stderr) = verify_json(&["--wait", "1s", "--interval", "200ms", &dead]);
    assert_eq!(code, 1);
    assert_eq!(stderr, "");
    assert!(json["attempts"].as_u64().unwrap() > 1, "{json}");

    // A terminal: `script` runs tlsprobe on a pty.
    let cmd = format!(
        "{} {}",
        env!("CARGO_BIN_EXE_tlsprobe"),
        args.map(|a| format!("'{a}'")).join(" ")
    );
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("NO_COLOR", "1")
        .output()
        .expect("script (util-linux)");
    let tty = String::from_utf8_lossy(&out.stdout);
    assert!(tty.contains("waiting: attempt 1"), "{tty}");
    assert!(
        tty.contains("failed at tcp;") && tty.contains("s left"),
        "{tty}"
    );
    assert!(tty.contains("fail  tcp"), "the report follows: {tty}");
}

//! `audit --format html` against real local redis-servers: the page parses as HTML5, holds
//! every target, escapes what inventories and certificates say, and renders in headless
//! Chromium with one timeline mark per certificate seen.

mod support;

use std::path::Path;
use std::process::Command;

use scraper::{Html, Selector};
use support::*;

/// A hostile target id: it must show as text and never become an element.
const EVIL: &str = "<script>alert(1)</script>\"'&";

fn tls(cert: &'static str, key: &'static str) -> RedisOpts {
    RedisOpts {
        tls: Some((cert, key)),
        ..Default::default()
    }
}

struct Fleet {
    _servers: Vec<RedisServer>,
    dir: tempfile::TempDir,
    inventory: String,
}

/// good (mTLS), expired, wrong name, the hostile id, a dead port; two bundles.
fn fleet() -> Fleet {
    let good = RedisServer::start(RedisOpts {
        auth_clients: Some("yes"),
        ..tls("server-chain.pem", "server.key")
    });
    let expired = RedisServer::start(tls("server-expired-chain.pem", "server-expired.key"));
    let wrong = RedisServer::start(tls("server-wrong-name-chain.pem", "server-wrong-name.key"));
    let dead = free_port();
    let td = testdata("");
    let evil = EVIL.replace('\\', "\\\\").replace('"', "\\\"");
    let text = format!(
        r#"
[defaults]
cacert = "{td}/redis_ca.pem"
cert = "{td}/client-chain.pem"
key = "{td}/client.key"
timeout = "1s"

[[target]]
id = "good"
url = "rediss://localhost:{}"

[[target]]
id = "expired"
url = "rediss://localhost:{}"

[[target]]
id = "wrong-name"
url = "rediss://localhost:{}"

[[target]]
id = "{evil}"
url = "rediss://localhost:{}"

[[target]]
id = "dead"
url = "rediss://localhost:{dead}"

[[bundle]]
id = "redis_ca"
path = "{td}/redis_ca.pem"

[[bundle]]
id = "weak"
path = "{td}/rsa1024.pem"
"#,
        good.port, expired.port, wrong.port, good.port
    );
    let dir = tempfile::tempdir().unwrap();
    let inventory = write_file(dir.path(), "inventory.toml", text);
    Fleet {
        _servers: vec![good, expired, wrong],
        dir,
        inventory,
    }
}

/// One run writing JSON to stdout and HTML to a file; `at` puts the fixtures' 2124 expiry
/// 22 days ahead, so the page has expired, soon-expiring and (bundle) marks.
fn audit(f: &Fleet) -> (serde_json::Value, String, String) {
    let html_path = f.dir.path().join("report.html").display().to_string();
    let r = run_text(&[
        "audit",
        "-q",
        "--format",
        "json",
        "--at",
        "2123-12-10T00:00:00Z",
        "--report",
        &format!("html={html_path}"),
        &f.inventory,
    ]);
    assert_eq!(r.code, 1, "the fleet has failing targets: {}", r.stderr);
    let json: serde_json::Value = serde_json::from_str(&r.stdout).expect("audit JSON");
    let html = std::fs::read_to_string(&html_path).unwrap();
    (json, html, html_path)
}

fn count(doc: &Html, css: &str) -> usize {
    doc.select(&Selector::parse(css).unwrap()).count()
}

/// Certificates the JSON report shows: each target's presented chain and every bundle member.
fn certificates_seen(json: &serde_json::Value) -> usize {
    let targets: usize = json["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["chain"].as_array().unwrap().len())
        .sum();
    let bundles: usize = json["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["certificates"].as_array().unwrap().len())
        .sum();
    targets + bundles
}

fn expired_seen(json: &serde_json::Value) -> usize {
    let days = |c: &serde_json::Value| c["days_left"].as_i64().unwrap();
    let targets = json["targets"].as_array().unwrap().iter();
    let bundles = json["bundles"].as_array().unwrap().iter();
    targets
        .flat_map(|t| t["chain"].as_array().unwrap().clone())
        .chain(bundles.flat_map(|b| b["certificates"].as_array().unwrap().clone()))
        .filter(|c| days(c) < 0)
        .count()
}

#[test]
fn page_parses_holds_every_target_and_escapes_inventory_text() {
    let f = fleet();
    let (json, html, _) = audit(&f);
    let doc = Html::parse_document(&html);
    assert!(
        doc.errors.is_empty(),
        "HTML5 parse errors: {:?}",
        doc.errors
    );
    // Every target id appears as the text of its own table cell, the hostile one included.
    let cells: Vec<String> = doc
        .select(&Selector::parse("#targets td.id").unwrap())
        .map(|e| e.text().collect())
        .collect();
    let ids: Vec<String> = json["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(cells, ids);
    assert!(cells.iter().any(|c| c == EVIL));
    assert!(
        !html.contains("<script>alert"),
        "raw markup from the inventory"
    );
    // Our one script, and no other: the hostile id became no element.
    assert_eq!(count(&doc, "script"), 1);
    let nonce = doc
        .select(&Selector::parse("script").unwrap())
        .next()
        .and_then(|s| s.value().attr("nonce").map(String::from))
        .expect("nonce on the report's script");
    let csp = doc
        .select(&Selector::parse("meta[http-equiv=Content-Security-Policy]").unwrap())
        .next()
        .and_then(|m| m.value().attr("content").map(String::from))
        .expect("CSP");
    assert!(csp.contains("default-src 'none'") && csp.contains(&format!("'nonce-{nonce}'")));
    // Totals, one verdict per target, the timeline, findings by rule, bundles.
    let failed = json["summary"]["failed"].as_u64().unwrap() as usize;
    let total_fail: String = doc
        .select(&Selector::parse("#total-fail b").unwrap())
        .flat_map(|e| e.text())
        .collect();
    assert_eq!(total_fail, failed.to_string());
    assert_eq!(count(&doc, "#targets td.v.fail"), failed);
    assert_eq!(count(&doc, "svg circle.mark"), certificates_seen(&json));
    assert_eq!(count(&doc, "svg circle.mark.expired"), expired_seen(&json));
    assert!(
        count(&doc, "svg circle.mark.soon") > 0,
        "22 days left is soon"
    );
    assert_eq!(count(&doc, "svg line.thr-warn"), 1);
    let titles: Vec<String> = doc
        .select(&Selector::parse("svg circle.mark title").unwrap())
        .map(|e| e.text().collect())
        .collect();
    assert!(titles
        .iter()
        .any(|t| t.starts_with(EVIL) && t.contains("CN=")));
    assert!(titles.iter().any(|t| t.starts_with("redis_ca")));
    assert_eq!(count(&doc, "#bundles tbody tr"), 2);
    let rules: Vec<String> = doc
        .select(&Selector::parse("#findings h3.rule").unwrap())
        .map(|e| e.text().collect())
        .collect();
    assert!(
        rules.iter().any(|r| r.starts_with("cert-expiry")),
        "{rules:?}"
    );
}

#[test]
fn html_is_the_main_format_too_and_unknown_report_formats_name_it() {
    let f = fleet();
    let r = run_text(&["audit", "-q", "--format", "html", &f.inventory]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.starts_with("<!DOCTYPE html>"), "{}", r.stdout);
    assert!(r.stdout.trim_end().ends_with("</html>"));
    let bad = run_text(&["audit", "--report", "htm=x.html", &f.inventory]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("html"), "{}", bad.stderr);
}

fn chromium(profile: &Path) -> Command {
    let mut c = Command::new("/usr/bin/chromium");
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--window-size=1200,1400",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// Fraction of pixels that differ from the top-left pixel (the page background), and the
/// number of distinct colours.
fn ink(png_path: &Path) -> (f64, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let px = info.color_type.samples();
    let data = &buf[..info.buffer_size()];
    let bg = &data[..3];
    let mut colours = std::collections::HashSet::new();
    let mut differ = 0usize;
    for p in data.chunks(px) {
        if &p[..3] != bg {
            differ += 1;
        }
        colours.insert([p[0], p[1], p[2]]);
    }
    (differ as f64 / (data.len() / px) as f64, colours.len())
}

#[test]
fn renders_in_headless_chromium_with_one_mark_per_certificate() {
    let f = fleet();
    let (json, _, html_path) = audit(&f);
    let url = format!("file://{html_path}");
    let profile = tempfile::tempdir().unwrap();
    let shot = f.dir.path().join("report.png");
    let out = chromium(profile.path())
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .expect("run chromium (scripts/install-deps.sh installs it)");
    assert!(
        shot.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (ink, colours) = ink(&shot);
    assert!(
        ink > 0.02,
        "the screenshot is blank ({ink:.4} of pixels inked)"
    );
    assert!(colours > 8, "only {colours} colours: not a rendered report");

    let dom = chromium(profile.path())
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    let doc = Html::parse_document(&dom);
    assert_eq!(count(&doc, "svg circle.mark"), certificates_seen(&json));
    assert_eq!(
        count(&doc, "#targets tbody tr"),
        json["targets"].as_array().unwrap().len()
    );
    // After the browser ran the page, still only the report's own script exists.
    assert_eq!(count(&doc, "script"), 1);
}

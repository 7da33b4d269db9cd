//! What operators see: every series kofu exports is declared in its
//! catalogue (`gateway/series.rs`) and listed in the README, every declared
//! series is exported, no label takes a value outside its bounded set, and
//! Prometheus's own linter (`promtool check metrics`) passes on the output
//! after a flow that touches every stage.

use std::collections::{BTreeMap, BTreeSet};

use kofu::devkit::operator_pki::JLIS_OPERATOR_STEM;
use kofu::devkit::sim::OrderSpec;
use kofu::gateway::domain::CertificateKind;
use kofu::gateway::series::{Kind, SERIES, STAGES};
use serde_json::json;

use crate::harness::TestApp;

/// `GET path` on the operations listener (plain HTTP): status and body.
pub async fn ops_get(app: &TestApp, path: &str) -> (u16, String) {
    use http_body_util::BodyExt;
    let tcp = tokio::net::TcpStream::connect(app.gateway.ops_addr)
        .await
        .unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(conn);
    let req = hyper::Request::get(path)
        .header("host", "ops")
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .unwrap();
    let res = sender.send_request(req).await.unwrap();
    let status = res.status().as_u16();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// One sample line: the family it belongs to, its labels and its value.
struct Sample {
    family: String,
    labels: BTreeMap<String, String>,
}

fn samples(body: &str) -> Vec<Sample> {
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let (head, _value) = line.rsplit_once(' ').unwrap();
            let (name, labels) = match head.split_once('{') {
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
                None => (head, ""),
            };
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| {
                    let base = name.strip_suffix(s)?;
                    SERIES
                        .iter()
                        .any(|x| x.name == base && x.kind == Kind::Histogram)
                        .then(|| base.to_owned())
                })
                .unwrap_or_else(|| name.to_owned());
            let labels = labels
                .split("\",")
                .filter(|p| !p.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap();
                    (k.to_owned(), v.trim_matches('"').to_owned())
                })
                .collect();
            Sample { family, labels }
        })
        .collect()
}

#[tokio::test]
async fn every_series_is_declared_documented_exported_bounded_and_passes_promtool() {
    let app = TestApp::spawn().await;
    let copier = app.copier(1);
    // A whole issuance (every stage), a refused card, a failed print and a
    // J-LIS event.
    copier
        .issue(app.pki.card("card-rsa-1"), &OrderSpec::default(), "ja")
        .await
        .unwrap();
    let session = copier.open_session().await.unwrap();
    assert!(
        copier
            .present_card(&session, &app.pki.unlinked, "ja")
            .await
            .is_err()
    );
    let session = copier.open_session().await.unwrap();
    copier
        .present_card(&session, app.pki.card("card-ecdsa-1"), "ja")
        .await
        .unwrap();
    let ack = copier
        .place_order(session.session_id, "failed-1", &OrderSpec::default())
        .await
        .unwrap();
    let failed = copier.report_failed(ack.order_id).await.unwrap();
    assert_eq!(
        failed.status,
        200,
        "{}",
        String::from_utf8_lossy(&failed.body)
    );
    let event = json!({"event_id": "obs-1", "kind": "suspended",
                       "serial": crate::harness::serial_hex(app.pki.card("card-rsa-2"))});
    let r = app
        .admin_client(JLIS_OPERATOR_STEM)
        .post_json("/v1/admin/certificate-events", &[], &event)
        .await
        .unwrap();
    assert_eq!(r.status, 200);

    let (status, body) = ops_get(&app, "/metrics").await;
    assert_eq!(status, 200);

    // Exported ⊆ declared, with the declared type; declared ⊆ exported.
    let mut exported = BTreeMap::new();
    for line in body.lines().filter(|l| l.starts_with("# TYPE ")) {
        let mut parts = line.split_whitespace().skip(2);
        let (name, kind) = (parts.next().unwrap(), parts.next().unwrap());
        exported.insert(name.to_owned(), kind.to_owned());
    }
    for (name, kind) in &exported {
        let declared = SERIES
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{name} is exported but not in the catalogue"));
        let want = match declared.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        assert_eq!(kind, want, "{name}");
    }
    for s in SERIES {
        assert!(
            exported.contains_key(s.name),
            "{} is declared but not exported:\n{body}",
            s.name
        );
        assert!(
            body.contains(&format!("# HELP {} {}", s.name, s.help)),
            "{}: its HELP text",
            s.name
        );
    }

    // Each label one the series declares, each value from its bounded set.
    let db = app.db().await;
    let set = |q: &'static str| {
        let db = &db;
        async move {
            db.query(q, &[])
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect::<BTreeSet<String>>()
        }
    };
    let municipalities = set("SELECT code FROM municipalities").await;
    let mut chains = set("SELECT DISTINCT coalesce(store_chain, '') FROM orders").await;
    chains.insert(String::new());
    let templates: BTreeSet<&str> = kofu::gateway::routes::ROUTES
        .iter()
        .map(|r| r.template)
        .chain(["other"])
        .collect();
    let kinds: BTreeSet<&str> = CertificateKind::ALL.iter().map(|k| k.wire_name()).collect();
    let snake = |v: &str| {
        !v.is_empty() && v.len() <= 40 && v.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    };
    for sample in samples(&body) {
        let declared = SERIES.iter().find(|s| s.name == sample.family).unwrap();
        for (label, value) in &sample.labels {
            let bounded = match label.as_str() {
                "le" => declared.kind == Kind::Histogram,
                "route" => templates.contains(value.as_str()),
                "status" => value.parse::<u16>().is_ok_and(|s| (100..600).contains(&s)),
                "stage" => STAGES.contains(&value.as_str()),
                "algorithm" => {
                    value.len() <= 32
                        && value
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                }
                "code" | "reason" => snake(value),
                // This test's municipalities, or (the recorder is the
                // process's, shared by every test in it) another test's:
                // a local government code with its check digit either way.
                "municipality" => {
                    municipalities.contains(value)
                        || kofu::gateway::municipality::LocalGovernmentCode::parse(value).is_ok()
                }
                // A chain named by a copier certificate's CN, here or in another test.
                "store_chain" => {
                    chains.contains(value)
                        || (value.len() <= 40
                            && value
                                .bytes()
                                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
                }
                "kind" => kinds.contains(value.as_str()) || snake(value),
                "state" => ["accepted", "rendered", "released"].contains(&value.as_str()),
                "issuer" => value.len() == 16 && value.bytes().all(|b| b.is_ascii_hexdigit()),
                "outcome" => ["active", "pending"].contains(&value.as_str()),
                "certificate" => [
                    "server",
                    "copier_ca",
                    "operator_ca",
                    "card_ca",
                    "smartphone_ca",
                ]
                .contains(&value.as_str()),
                "credential" => ["card", "smartphone"].contains(&value.as_str()),
                "listener" => ["copier", "public", "admin", "ops"].contains(&value.as_str()),
                "phase" => ["handshake", "first_request", "idle", "body"].contains(&value.as_str()),
                "slot" => ["handshaking", "anonymous", "authenticated"].contains(&value.as_str()),
                "limit" => [
                    "copier",
                    "card",
                    "card_elsewhere",
                    "municipality",
                    "address",
                ]
                .contains(&value.as_str()),
                _ => false,
            };
            assert!(
                bounded && (label == "le" || declared.labels.contains(&label.as_str())),
                "{}: label {label}={value} is not one it declares from a bounded set",
                sample.family
            );
        }
    }

    // The README lists every series, and names none that is not one.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("### Metrics")
        .nth(1)
        .expect("a Metrics section in the README")
        .split("\n#")
        .next()
        .unwrap();
    for s in SERIES {
        assert!(
            section.contains(&format!("`{}`", s.name)),
            "{} is not in the README",
            s.name
        );
    }
    for word in section.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if word.starts_with("kofu_") {
            assert!(
                SERIES.iter().any(|s| s.name == word),
                "the README names {word}, which is not a series"
            );
        }
    }

    // Grafana's dashboard and the alerting rules query only series that exist.
    for file in ["deploy/grafana-dashboard.json", "deploy/alerts.yml"] {
        let text =
            std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let mut named = 0;
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if let Some(base) = word.strip_prefix("kofu_") {
                let base = format!("kofu_{base}");
                let base = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| base.strip_suffix(s))
                    .unwrap_or(&base);
                assert!(
                    SERIES.iter().any(|s| s.name == base),
                    "{file} queries {word}, which is not a series"
                );
                named += 1;
            }
        }
        assert!(named >= 10, "{file} names {named} series");
    }

    // Prometheus's linter.
    let mut promtool = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool (Debian prometheus; .ci/run installs it) runs");
    use std::io::Write;
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = promtool.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The dashboard as headless Chromium renders it after its scripts ran a
/// few refreshes: the DOM.
async fn dashboard_dom(app: &TestApp, extra: &[&str]) -> String {
    let url = format!("http://{}/dashboard", app.gateway.ops_addr);
    let mut args = vec![
        "--virtual-time-budget=7000".to_owned(),
        "--dump-dom".to_owned(),
    ];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        crate::harness::headless(&url, &args)
    })
    .await
    .unwrap()
}

/// The `data-state` of the page's state badge.
fn state_of(dom: &str) -> &str {
    let at = dom.find("id=\"state\"").expect("the state badge");
    let rest = &dom[at..];
    let start = rest.find("data-state=\"").unwrap() + "data-state=\"".len();
    &rest[start..start + rest[start..].find('"').unwrap()]
}

/// The largest `data-max` among a chart's lines.
fn chart_max(dom: &str, id: &str) -> f64 {
    let at = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("chart {id}"));
    let chart = &dom[at..at + dom[at..].find("</svg>").unwrap()];
    chart
        .match_indices("data-max=\"")
        .map(|(i, m)| {
            let v = &chart[i + m.len()..];
            v[..v.find('"').unwrap()].parse::<f64>().unwrap()
        })
        .fold(0.0, f64::max)
}

#[tokio::test]
async fn the_dashboard_shows_live_charts_in_chromium_and_fails_closed_without_postgresql() {
    use kofu::devkit::pgembed::{EmbeddedPostgres, Options};
    let dir = crate::harness::scratch_dir().join("dash");
    let pg = EmbeddedPostgres::start(&dir, Options { unsafe_fast: true })
        .await
        .unwrap();
    let admin = crate::harness::prepare_template(&pg).await;
    let app = TestApp::spawn_in(&admin, |_| {}).await;

    // A short load from two copiers while the page is open.
    // A card nobody's: the refusals table has a reason to show.
    let copier = app.copier(1);
    let session = copier.open_session().await.unwrap();
    assert!(
        copier
            .present_card(&session, &app.pki.unlinked, "ja")
            .await
            .is_err()
    );
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for n in 1..=2 {
        let copier = app.copier(n);
        let stop = stop.clone();
        let card = app.pki.card(["card-rsa-1", "card-ecdsa-1"][n - 1]);
        load.push(tokio::spawn(async move {
            let mut issued = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if copier
                    .issue(card, &OrderSpec::default(), "ja")
                    .await
                    .is_ok()
                {
                    issued += 1;
                }
            }
            issued
        }));
    }
    while app
        .scalar::<i64>(
            "SELECT count(*) FROM orders WHERE printed_at IS NOT NULL",
            &[],
        )
        .await
        < 10
    {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-under-load.png");
    let _ = std::fs::remove_file(&shot);
    let screenshot = format!("--screenshot={}", shot.display());
    let dom = dashboard_dom(&app, &["--window-size=1600,1000", &screenshot]).await;
    let dom = if dom.contains("id=\"state\"") {
        dom
    } else {
        dashboard_dom(&app, &[]).await
    };
    assert_eq!(state_of(&dom), "healthy", "{dom}");
    assert!(
        chart_max(&dom, "chart-rate") >= 1.0,
        "issuances per second plotted: {dom}"
    );
    assert!(
        dom.contains("<td>render</td>") && dom.contains("<td>print_confirmation</td>"),
        "latency per stage: {dom}"
    );
    assert!(
        dom.contains("ひなた市 (139998)"),
        "the busiest municipality: {dom}"
    );
    assert!(
        dom.contains("<td>card_not_registered</td>"),
        "refusals by reason: {dom}"
    );
    let png = std::fs::read(&shot).expect("a screenshot of the dashboard under load");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
    println!("dashboard screenshot under load: {}", shot.display());
    eprintln!("dashboard screenshot under load: {}", shot.display());
    // English, by the page's own switch.
    let url_en = format!("http://{}/dashboard?lang=en", app.gateway.ops_addr);
    let dom_en = tokio::task::spawn_blocking(move || {
        crate::harness::headless(&url_en, &["--virtual-time-budget=5000", "--dump-dom"])
    })
    .await
    .unwrap();
    assert!(
        dom_en.contains("Issuances per second") && dom_en.contains(">Healthy<"),
        "{dom_en}"
    );

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let issued: i32 = futures_sum(load).await;
    assert!(issued >= 10);

    // PostgreSQL stops: the page says the service fails closed, and why.
    pg.stop().await.unwrap();
    let dom = dashboard_dom(&app, &[]).await;
    assert_eq!(state_of(&dom), "failing_closed", "{dom}");
    assert!(dom.contains("database: "), "{dom}");
    // And back when it returns.
    let _pg = EmbeddedPostgres::start(&dir, Options { unsafe_fast: true })
        .await
        .unwrap();
    let mut back = String::new();
    for _ in 0..10 {
        back = dashboard_dom(&app, &[]).await;
        if state_of(&back) == "healthy" {
            break;
        }
    }
    assert_eq!(state_of(&back), "healthy", "{back}");
}

async fn futures_sum(tasks: Vec<tokio::task::JoinHandle<i32>>) -> i32 {
    let mut sum = 0;
    for t in tasks {
        sum += t.await.unwrap();
    }
    sum
}

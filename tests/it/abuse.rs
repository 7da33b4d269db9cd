//! Hostile clients: silent and slow connections are closed by their
//! deadlines and refused beyond their share of slots while a copier keeps
//! printing; rate limits refuse only whoever is over them; strict headers.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hyper::Method;
use kofu::devkit::sim::OrderSpec;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::TestApp;

/// Whether the server closes `stream` within `within` (a read returns EOF
/// or an error).
async fn closed_within<S: AsyncReadExt + Unpin>(stream: &mut S, within: Duration) -> bool {
    let mut buf = [0u8; 512];
    let started = Instant::now();
    while started.elapsed() < within {
        match tokio::time::timeout(within - started.elapsed(), stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
    false
}

fn addr_of(app: &TestApp) -> SocketAddr {
    app.gateway.api_addr
}

/// A TLS connection without a client certificate.
async fn anonymous_tls(app: &TestApp) -> tokio_rustls::client::TlsStream<TcpStream> {
    let config =
        kofu::gateway::tls::client_config(&app.pki.dir.join("store-ca.pem"), None).unwrap();
    let connector = tokio_rustls::TlsConnector::from(config);
    let tcp = TcpStream::connect(addr_of(app)).await.unwrap();
    connector
        .connect(
            rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap(),
            tcp,
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn silent_connections_are_closed_and_refused_beyond_their_share_while_a_copier_prints() {
    let app = TestApp::spawn_with(|c| {
        c.max_connections = 64;
        c.connections.max_handshaking = 8;
        c.connections.max_anonymous = 4;
        c.connections.handshake_timeout_ms = 1_500;
        c.connections.first_request_timeout_ms = 1_500;
    })
    .await;
    // 40 sockets that never say a word: at most 8 are handshaking at once
    // (the oldest give way to newer ones), none waits in a queue.
    let mut silent = Vec::new();
    let mut refused_at_connect = 0;
    for _ in 0..40 {
        match TcpStream::connect(addr_of(&app)).await {
            Ok(socket) => silent.push(socket),
            Err(_) => refused_at_connect += 1,
        }
    }
    // A copier still gets its certificate at once: its connection takes the
    // slot of a silent one.
    let copier = app.copier(1).with_timeout(Duration::from_secs(5));
    let started = Instant::now();
    let issued = copier
        .issue(app.pki.card("card-rsa-1"), &OrderSpec::default(), "ja")
        .await
        .expect("a copier prints while silent sockets wait");
    assert!(issued.pdf.starts_with(b"%PDF"));
    assert!(started.elapsed() < Duration::from_secs(5));
    // Every silent socket is closed: each newcomer beyond the eight
    // handshaking slots took the slot of the oldest silent one, and the
    // last ones met the handshake deadline.
    let mut closed = refused_at_connect;
    for socket in &mut silent {
        assert!(closed_within(socket, Duration::from_secs(4)).await);
        closed += 1;
    }
    assert_eq!(closed, 40);
    let cut = metric(&app, "kofu_connections_closed_total", "phase=\"handshake\"").await;
    assert!(cut >= 40.0, "closed in their handshake: {cut}");
    // Handshaken without a certificate and then silent: closed at the
    // first-request deadline.
    let mut quiet = anonymous_tls(&app).await;
    assert!(closed_within(&mut quiet, Duration::from_secs(4)).await);
    // (The connection gauges are the process's, shared by every test's
    // gateway, so they are not read here.)
}

#[tokio::test]
async fn the_operations_listener_closes_silent_connections_and_refuses_beyond_its_cap() {
    let app = TestApp::spawn_with(|c| {
        c.connections.first_request_timeout_ms = 800;
        c.header_timeout_ms = 800;
    })
    .await;
    let ops = app.gateway.ops_addr;
    // Silent: closed at the first-request deadline.
    let mut silent = TcpStream::connect(ops).await.unwrap();
    assert!(closed_within(&mut silent, Duration::from_secs(4)).await);
    // A request head dripped and never finished: closed at the head deadline.
    let mut dripping = TcpStream::connect(ops).await.unwrap();
    dripping
        .write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    assert!(closed_within(&mut dripping, Duration::from_secs(4)).await);
    // 64 connections held (each has just sent a request, which holds off the
    // deadlines' closing them for a while): the 65th is reset at once.
    let mut held = Vec::new();
    for _ in 0..64 {
        let mut tcp = TcpStream::connect(ops).await.unwrap();
        tcp.write_all(b"GET /nothing-here HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        held.push(tcp);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut extra = TcpStream::connect(ops).await.unwrap();
    let refused = tokio::time::timeout(Duration::from_secs(2), async {
        let mut buf = [0u8; 64];
        let _ = extra
            .write_all(b"GET /nothing-here HTTP/1.1\r\nhost: x\r\n\r\n")
            .await;
        matches!(extra.read(&mut buf).await, Ok(0) | Err(_))
    })
    .await;
    assert_eq!(refused, Ok(true), "the 65th connection is refused");
    // Once they are gone, the listener answers again.
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let answer = reqwest_like_get(&format!("http://{ops}/metrics")).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// The value of the copier listener's series `name` with `label`.
async fn metric(app: &TestApp, name: &str, label: &str) -> f64 {
    let url = format!("http://{}/metrics", app.gateway.ops_addr);
    let text = reqwest_like_get(&url).await;
    text.lines()
        .filter(|l| {
            l.starts_with(&format!("{name}{{"))
                && l.contains("listener=\"copier\"")
                && l.contains(label)
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// A plain HTTP/1.1 GET over TCP, the body as text.
async fn reqwest_like_get(url: &str) -> String {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut tcp = TcpStream::connect(host).await.unwrap();
    tcp.write_all(
        format!("GET /{path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut out = String::new();
    tcp.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn a_body_sent_a_byte_at_a_time_is_cut_off_with_a_problem() {
    let app = TestApp::spawn_with(|c| {
        c.connections.body_grace_ms = 800;
        c.connections.body_min_bytes_per_second = 100;
    })
    .await;
    let mut tls = anonymous_tls(&app).await;
    tls.write_all(
        b"POST /v1/sessions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n",
    )
    .await
    .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 2048];
    loop {
        if started.elapsed() > Duration::from_secs(10) {
            panic!("still open after 10 s");
        }
        let _ = tls.write_all(b" ").await;
        match tokio::time::timeout(Duration::from_millis(300), tls.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("\"request_body_too_slow\""), "{answer}");
}

#[tokio::test]
async fn duplicate_single_valued_headers_are_refused_and_a_405_names_what_is_allowed() {
    let app = TestApp::spawn().await;
    let copier = app.copier(1);
    let session = copier.open_session().await.unwrap();
    let path = format!("/v1/sessions/{}/orders", session.session_id);
    let twice = copier
        .call(
            Method::POST,
            &path,
            &[
                ("idempotency-key", "a".to_owned()),
                ("idempotency-key", "b".to_owned()),
            ],
            Some(br#"{"kind":"residence_certificate"}"#.to_vec()),
        )
        .await
        .unwrap();
    assert_eq!(twice.status, 400);
    assert_eq!(twice.problem_code().as_deref(), Some("duplicate_header"));

    let wrong = copier
        .call(Method::DELETE, "/v1/sessions", &[], None)
        .await
        .unwrap();
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("allow"), Some("POST"));
    assert_eq!(wrong.problem_code().as_deref(), Some("method_not_allowed"));
}

#[tokio::test]
async fn a_copier_over_its_limit_gets_429_while_another_copier_is_served() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limits.copier_requests_per_minute = 5;
        c.rate_limits.copier_requests_burst = 5;
    })
    .await;
    let greedy = app.copier(1);
    let mut refused = None;
    for _ in 0..10 {
        let r = greedy
            .call(Method::POST, "/v1/sessions", &[], None)
            .await
            .unwrap();
        if r.status == 429 {
            refused = Some(r);
            break;
        }
        assert_eq!(r.status, 201);
    }
    let refused = refused.expect("the sixth request in a minute is refused");
    assert_eq!(
        refused.problem_code().as_deref(),
        Some("copier_rate_limited")
    );
    assert!(
        refused
            .retry_after()
            .is_some_and(|d| d >= Duration::from_secs(1))
    );
    let other = app
        .copier(2)
        .call(Method::POST, "/v1/sessions", &[], None)
        .await
        .unwrap();
    assert_eq!(other.status, 201);
}

#[tokio::test]
async fn a_copier_gets_its_burst_at_once_and_no_more_however_large_its_minute() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limits.copier_requests_per_minute = 30;
        c.rate_limits.copier_requests_burst = 3;
    })
    .await;
    let copier = app.copier(1);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let r = copier
            .call(Method::POST, "/v1/sessions", &[], None)
            .await
            .unwrap();
        statuses.push(r.status);
    }
    // 30 a minute refills one every 2 s: four calls in a row on loopback
    // are far quicker, even on a loaded machine, so the fourth finds the
    // burst spent although the minute's quota is ten times the burst.
    assert_eq!(statuses, vec![201, 201, 201, 429]);
}

#[tokio::test]
async fn a_refusal_for_a_limit_waits_while_other_copiers_are_answered_at_once() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limits.copier_requests_per_minute = 1;
        c.rate_limits.copier_requests_burst = 1;
        c.rate_limits.refusal_delay_ms = 700;
    })
    .await;
    let greedy = app.copier(1);
    let first = greedy
        .call(Method::POST, "/v1/sessions", &[], None)
        .await
        .unwrap();
    assert_eq!(first.status, 201);
    // The greedy copier's refusal is held back; meanwhile another copier
    // (over no limit) is answered, and no sooner than the pause does the
    // refusal arrive.
    let started = std::time::Instant::now();
    let (refused, other) = tokio::join!(
        greedy.call(Method::POST, "/v1/sessions", &[], None),
        async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let r = app
                .copier(2)
                .call(Method::POST, "/v1/sessions", &[], None)
                .await
                .unwrap();
            (r.status, started.elapsed())
        }
    );
    let refused_after = started.elapsed();
    let refused = refused.unwrap();
    assert_eq!(refused.status, 429);
    assert_eq!(
        refused.problem_code().as_deref(),
        Some("copier_rate_limited")
    );
    assert!(
        refused_after >= Duration::from_millis(700),
        "{refused_after:?}"
    );
    let (other_status, other_after) = other;
    assert_eq!(other_status, 201);
    assert!(
        other_after < refused_after,
        "{other_after:?} {refused_after:?}"
    );
}

#[tokio::test]
async fn a_card_over_its_copies_is_refused_and_a_card_in_another_copier_is_busy() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limits.card_copies_per_hour = 1;
        c.rate_limits.card_copies_burst = 3;
        c.rate_limits.card_exclusive_secs = 120;
    })
    .await;
    let card = app.pki.card("card-ecdsa-1");
    let (first, session) = app.authenticated_session(1, "card-ecdsa-1").await;
    let spec = OrderSpec {
        copies: 2,
        ..OrderSpec::default()
    };
    first
        .place_order(session.session_id, "k1", &spec)
        .await
        .expect("two copies");
    let over = first
        .place_order(session.session_id, "k2", &spec)
        .await
        .unwrap_err();
    assert!(
        matches!(&over, kofu::devkit::sim::SimError::Refused { status, code, .. }
            if status.as_u16() == 429 && code == "card_rate_limited"),
        "{over}"
    );
    // The same card at another copier a moment later: busy.
    let second = app.copier(2);
    let session = second.open_session().await.unwrap();
    let busy = second.present_card(&session, card, "ja").await.unwrap_err();
    assert!(
        matches!(&busy, kofu::devkit::sim::SimError::Refused { status, code, .. }
            if status.as_u16() == 409 && code == "card_in_use_elsewhere"),
        "{busy}"
    );
    // Another card at that copier is not.
    let session = second.open_session().await.unwrap();
    second
        .present_card(&session, app.pki.card("card-rsa-1"), "ja")
        .await
        .expect("another card is welcome");
}

#[tokio::test]
async fn an_order_may_leave_out_every_option() {
    let app = TestApp::spawn().await;
    let (copier, session) = app.authenticated_session(1, "card-rsa-1").await;
    let r = copier
        .post_json(
            &format!("/v1/sessions/{}/orders", session.session_id),
            &[("idempotency-key", "partial".to_owned())],
            &serde_json::json!({"kind": "residence_certificate", "options": {"show_householder": true}}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
}

/// The certificate the gateway presents on a new connection.
async fn presented_certificate(app: &TestApp) -> Vec<u8> {
    let tls = anonymous_tls(app).await;
    tls.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

#[tokio::test]
async fn a_renewed_server_certificate_is_served_after_a_reload_without_a_restart() {
    let pki = crate::harness::pki();
    let dir = crate::harness::tempfile_dir("server-cert-reload");
    let (cert, key) = (dir.join("server.pem"), dir.join("server.key"));
    let write = |leaf: &kofu::devkit::demo_pki::Leaf| {
        use kofu::devkit::demo_pki::pem;
        std::fs::write(&cert, pem("CERTIFICATE", &leaf.cert_der)).unwrap();
        std::fs::write(&key, pem("PRIVATE KEY", &leaf.key_pkcs8_der)).unwrap();
    };
    let first = pki.demo.store_ca.issue_server(&["127.0.0.1"]).unwrap();
    write(&first);
    let app = TestApp::spawn_with(|c| {
        c.tls.server_cert = cert.clone();
        c.tls.server_key = key.clone();
    })
    .await;
    assert_eq!(presented_certificate(&app).await, first.cert_der);

    let renewed = pki.demo.store_ca.issue_server(&["127.0.0.1"]).unwrap();
    write(&renewed);
    app.gateway.server_certificate().reload().unwrap();
    assert_eq!(presented_certificate(&app).await, renewed.cert_der);

    // A broken file keeps the certificate in use.
    std::fs::write(&key, "not a key").unwrap();
    assert!(app.gateway.server_certificate().reload().is_err());
    assert_eq!(presented_certificate(&app).await, renewed.cert_der);
}

#[tokio::test]
async fn only_tls_1_3_and_1_2_with_aead_suites_are_offered() {
    let app = TestApp::spawn().await;
    // A client that offers TLS 1.2 only still connects, with an AEAD suite.
    let roots = {
        let mut roots = rustls::RootCertStore::empty();
        for cert in kofu::gateway::tls::load_certs(&app.pki.dir.join("store-ca.pem")).unwrap() {
            roots.add(cert).unwrap();
        }
        roots
    };
    for version in [&rustls::version::TLS12, &rustls::version::TLS13] {
        let config = rustls::ClientConfig::builder_with_provider(kofu::gateway::tls::provider())
            .with_protocol_versions(&[version])
            .unwrap()
            .with_root_certificates(roots.clone())
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
        let tcp = TcpStream::connect(addr_of(&app)).await.unwrap();
        let tls = connector
            .connect(
                rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap(),
                tcp,
            )
            .await
            .unwrap();
        let suite = tls.get_ref().1.negotiated_cipher_suite().unwrap();
        let name = format!("{:?}", suite.suite());
        assert!(
            name.contains("GCM") || name.contains("CHACHA20_POLY1305"),
            "{name}"
        );
    }
}

#[tokio::test]
async fn with_a_public_listener_the_copier_listener_requires_a_client_certificate() {
    let app = TestApp::spawn_with(|c| c.public_listen = Some("127.0.0.1:0".parse().unwrap())).await;
    let public = format!("https://{}", app.gateway.public_addr.unwrap());
    let ca = app.pki.dir.join("store-ca.pem");
    let anonymous_public = kofu::devkit::sim::CopierClient::new(&public, &ca, None).unwrap();
    let health = anonymous_public
        .call(Method::GET, "/healthz", &[], None)
        .await
        .unwrap();
    assert_eq!(health.status, 200);
    // The copier API is not on the public listener at all.
    let session = anonymous_public
        .call(Method::POST, "/v1/sessions", &[], None)
        .await
        .unwrap();
    assert_eq!(session.status, 404);
    assert_eq!(session.problem_code().as_deref(), Some("not_found"));
    // Without a certificate the copier listener ends the handshake.
    assert!(
        app.anonymous()
            .call(Method::GET, "/healthz", &[], None)
            .await
            .is_err()
    );
    // A copier still works there.
    let opened = app
        .copier(1)
        .call(Method::POST, "/v1/sessions", &[], None)
        .await
        .unwrap();
    assert_eq!(opened.status, 201);
}

/// Everything the gateway answers to `request` on a fresh TLS connection.
async fn raw_answer(app: &TestApp, request: &[u8]) -> String {
    let mut tls = anonymous_tls(app).await;
    tls.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tls.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn the_http_layers_own_refusals_are_problems_with_a_code() {
    let app = TestApp::spawn().await;
    let garbage = raw_answer(&app, b"BLAH\x01 / HTTP/1.1\r\n\r\n").await;
    assert!(garbage.starts_with("HTTP/1.1 400"), "{garbage}");
    assert!(garbage.contains("application/problem+json"), "{garbage}");
    assert!(
        garbage.contains("\"code\":\"malformed_request\""),
        "{garbage}"
    );

    let mut huge = b"GET /healthz HTTP/1.1\r\nhost: x\r\n".to_vec();
    for i in 0..40 {
        huge.extend_from_slice(format!("x-filler-{i}: {}\r\n", "a".repeat(1000)).as_bytes());
    }
    huge.extend_from_slice(b"\r\n");
    let too_large = raw_answer(&app, &huge).await;
    assert!(too_large.starts_with("HTTP/1.1 431"), "{too_large}");
    assert!(
        too_large.contains("\"code\":\"header_too_large\""),
        "{too_large}"
    );
}

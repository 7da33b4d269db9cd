//! The bad-input catalogue (issue 15, point 7): one table of malformed and
//! hostile requests across every route of every listener — truncated,
//! oversized, wrong types, invalid base64/DER/UTF-8, SQL and template
//! metacharacters in every text field, duplicate and conflicting headers,
//! replayed challenges, idempotency keys reused with other bodies, kinds and
//! options not on the menu, dates out of range — each answered with its
//! documented status and code, on a database that is the same afterwards.
//!
//! Rule: the table runs on a frozen database. Whatever a case needs that
//! writes (sessions, an authenticated session, printed and voided orders, a
//! spent challenge, an applied J-LIS event) is made before the first
//! snapshot; the only write a refused request may make is spending the
//! challenge of the session it names (a card that fails verification spends
//! it, so it cannot be tried again), and those cases say so and are counted.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hyper::Method;
use kofu::devkit::operator_pki::{
    JLIS_OPERATOR_STEM, MUNICIPALITY_OPERATOR_STEM, NEW_MUNICIPALITY_CODE,
    NEW_MUNICIPALITY_OPERATOR_STEM, TWO_MUNICIPALITIES_OPERATOR_STEM,
};
use kofu::devkit::sim::{CopierClient, OpenedSession, OrderSpec};
use serde_json::json;
use uuid::Uuid;

use crate::harness::TestApp;

/// Who sends a case, on which listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Who {
    /// Demo copier 1, which owns every session and order of the setup.
    Copier1,
    /// Demo copier 2, a stranger to them.
    Copier2,
    /// The copier listener without a client certificate.
    Anonymous,
    /// Operators on the administration listener.
    Jlis,
    /// `municipality:139998`, the demo municipality.
    Municipality,
    /// `municipality:139980`, which does not exist yet.
    Minato,
    /// A certificate naming both.
    TwoMunicipalities,
    /// The operations listener (plain HTTP).
    Ops,
}

/// One request and the answer it must get.
#[derive(Debug, Clone)]
pub struct Case {
    pub what: String,
    pub who: Who,
    pub method: Method,
    pub path: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
    pub status: u16,
    /// The problem `code`; `None` for an answer that is not problem+json
    /// (the HTML verification page, the operations listener's plain text).
    pub code: Option<&'static str>,
    /// The case spends its session's challenge (a card that fails verification).
    pub spends_challenge: bool,
}

pub fn case(what: impl Into<String>, who: Who, method: Method, path: impl Into<String>) -> Case {
    Case {
        what: what.into(),
        who,
        method,
        path: path.into(),
        headers: Vec::new(),
        body: None,
        status: 0,
        code: None,
        spends_challenge: false,
    }
}

impl Case {
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    pub fn json(self, value: serde_json::Value) -> Self {
        self.body(serde_json::to_vec(&value).expect("json"))
    }

    /// A problem+json answer with `code`.
    pub fn refused(mut self, status: u16, code: &'static str) -> Self {
        self.status = status;
        self.code = Some(code);
        self
    }

    /// An answer that is not a problem (a page, plain text, a success).
    pub fn answered(mut self, status: u16) -> Self {
        self.status = status;
        self.code = None;
        self
    }

    pub fn spending(mut self) -> Self {
        self.spends_challenge = true;
        self
    }
}

/// Text no field should treat as anything but text: SQL, template and
/// format-string metacharacters, markup, a path, right-to-left override.
pub const HOSTILE: [&str; 8] = [
    "' OR '1'='1",
    "'; DROP TABLE orders; --",
    "{{7*7}}",
    "${jndi:ldap://x/y}",
    "<script>alert(1)</script>",
    "%s%n%x%d",
    "../../../etc/passwd",
    "日向\u{202e}太郎",
];

/// `text` as one path segment or query value (every byte but unreserved ones escaped).
pub fn escaped(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The tables the gateway writes on its own clock, whatever the requests:
/// the audit keeper's signed checkpoints (every 10 s) and its key.
const KEEPER_TABLES: [&str; 2] = ["audit_checkpoints", "audit_keys"];

/// An MD5 of each public table's rows (in a stable order), without the
/// columns `ignored` names for it, once the audit entries committed so far
/// are sealed into the chain (the gateway's sealer moves them from
/// `audit_pending` to `audit_log` every 100 ms, so two snapshots around
/// nothing would otherwise differ by where the last entries were). The
/// keeper's own tables are left out.
pub async fn snapshot(app: &TestApp, ignored: &[(&str, &str)]) -> BTreeMap<String, String> {
    let db = app.db().await;
    for _ in 0..100 {
        let pending: i64 = db
            .query_one("SELECT count(*) FROM audit_pending", &[])
            .await
            .unwrap()
            .get(0);
        if pending == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let tables: Vec<String> = db
        .query(
            "SELECT table_name::text FROM information_schema.tables
              WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(tables.len() >= 20, "too few tables found: {tables:?}");
    let mut sums = BTreeMap::new();
    for table in tables {
        if KEEPER_TABLES.contains(&table.as_str()) {
            continue;
        }
        let drop: Vec<String> = ignored
            .iter()
            .filter(|(t, _)| *t == table)
            .map(|(_, c)| (*c).to_owned())
            .collect();
        // Table names come from the catalogue, not from input.
        let sql = format!(
            "SELECT count(*), coalesce(md5(string_agg(r, ',' ORDER BY r)), '')
               FROM (SELECT (to_jsonb(t) - $1::text[])::text AS r FROM public.\"{table}\" t) rows"
        );
        let row = db.query_one(&sql, &[&drop]).await.unwrap();
        let (count, sum): (i64, String) = (row.get(0), row.get(1));
        sums.insert(table, format!("{count} rows {sum}"));
    }
    sums
}

/// A request on the operations listener (plain HTTP/1.1): status and body.
pub async fn ops_call(
    app: &TestApp,
    method: &Method,
    path: &str,
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(app.gateway.ops_addr).await?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: ops\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await?;
    s.write_all(body).await?;
    let mut response = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        s.read_to_end(&mut response),
    )
    .await
    .map_err(|_| std::io::Error::other("ops listener did not answer"))??;
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.as_bytes().to_vec())
        .unwrap_or_default();
    Ok((status, body))
}

/// The clients of one gateway, by [`Who`].
pub struct Clients {
    copier1: CopierClient,
    copier2: CopierClient,
    anonymous: CopierClient,
    jlis: CopierClient,
    municipality: CopierClient,
    minato: CopierClient,
    two: CopierClient,
}

impl Clients {
    pub fn of(app: &TestApp) -> Clients {
        Clients {
            copier1: app.copier(1),
            copier2: app.copier(2),
            anonymous: app.anonymous(),
            jlis: app.admin_client(JLIS_OPERATOR_STEM),
            municipality: app.admin_client(MUNICIPALITY_OPERATOR_STEM),
            minato: app.admin_client(NEW_MUNICIPALITY_OPERATOR_STEM),
            two: app.admin_client(TWO_MUNICIPALITIES_OPERATOR_STEM),
        }
    }

    /// Sends `c`: its status, problem code and content type, or why nothing came back.
    pub async fn send(&self, app: &TestApp, c: &Case) -> Result<(u16, Option<String>), String> {
        let client = match c.who {
            Who::Copier1 => &self.copier1,
            Who::Copier2 => &self.copier2,
            Who::Anonymous => &self.anonymous,
            Who::Jlis => &self.jlis,
            Who::Municipality => &self.municipality,
            Who::Minato => &self.minato,
            Who::TwoMunicipalities => &self.two,
            Who::Ops => {
                let (status, _) =
                    ops_call(app, &c.method, &c.path, c.body.as_deref().unwrap_or(&[]))
                        .await
                        .map_err(|e| e.to_string())?;
                return Ok((status, None));
            }
        };
        let r = client
            .call(c.method.clone(), &c.path, &c.headers, c.body.clone())
            .await
            .map_err(|e| e.to_string())?;
        let problem = r.header("content-type") == Some("application/problem+json");
        let code = problem.then(|| r.problem_code()).flatten();
        if problem && code.is_none() {
            return Err(format!(
                "content-type {:?} with code {code:?}",
                r.header("content-type")
            ));
        }
        Ok((r.status.as_u16(), code))
    }
}

/// What the setup made for the cases to name.
struct Fixture {
    /// Copier 1's session, no card presented (only cases refused before
    /// the challenge is looked at use it).
    fresh: Uuid,
    /// Copier 1's sessions, each for one case that spends its challenge.
    spendable: Vec<OpenedSession>,
    /// Copier 1's session with card-rsa-1 verified.
    authenticated: OpenedSession,
    /// Copier 1's session whose challenge a refused card spent.
    spent: OpenedSession,
    /// Orders of `authenticated`: printed (key `catalogue-printed`) and voided.
    printed: Uuid,
    voided: Uuid,
    /// The printed order's verification code.
    printed_code: String,
}

const PRINTED_KEY: &str = "catalogue-printed";
const SETUP_EVENT: &str = "catalogue-setup-1";

async fn setup(app: &TestApp, clients: &Clients) -> Fixture {
    let c1 = &clients.copier1;
    let card = app.pki.card("card-rsa-1");
    let authenticated = c1.open_session().await.unwrap();
    c1.present_card(&authenticated, card, "ja").await.unwrap();
    let order = |key: &'static str| {
        let session = authenticated.session_id;
        async move {
            let ack = c1
                .place_order(session, key, &OrderSpec::default())
                .await
                .unwrap();
            let document = c1.fetch_document(session, ack.order_id).await.unwrap();
            assert_eq!(document.status, 200, "setup: {key} is delivered");
            ack.order_id
        }
    };
    let printed = order(PRINTED_KEY).await;
    assert_eq!(c1.confirm_printed(printed).await.unwrap().status, 200);
    let voided = order("catalogue-voided").await;
    assert_eq!(c1.report_failed(voided).await.unwrap().status, 200);
    let printed_code: String = app
        .scalar(
            "SELECT verification_code FROM orders WHERE id = $1",
            &[&printed],
        )
        .await;

    let spent = c1.open_session().await.unwrap();
    assert!(
        c1.present_card(&spent, &app.pki.expired, "ja")
            .await
            .is_err(),
        "setup: an expired card spends the challenge"
    );
    let fresh = c1.open_session().await.unwrap().session_id;
    let mut spendable = Vec::new();
    for _ in 0..24 {
        spendable.push(c1.open_session().await.unwrap());
    }
    let event = json!({"event_id": SETUP_EVENT, "kind": "issued", "serial": "0a0b0c0d",
                       "resident_code": "10000000037"});
    let r = clients
        .jlis
        .post_json("/v1/admin/certificate-events", &[], &event)
        .await
        .unwrap();
    assert_eq!(r.status, 200, "setup: a J-LIS event is applied");
    Fixture {
        fresh,
        spendable,
        authenticated,
        spent,
        printed,
        voided,
        printed_code,
    }
}

/// A card body: `certificate` and `signature` as given (base64 text),
/// algorithm `alg`.
fn card_body(certificate: &str, signature: &str, alg: &str) -> serde_json::Value {
    json!({"certificate": certificate, "signature": signature, "algorithm": alg})
}

/// Every case of the catalogue, with paths built from the setup.
fn catalogue(app: &TestApp, f: &Fixture) -> Vec<Case> {
    use Who::*;
    let (get, post, put) = (Method::GET, Method::POST, Method::PUT);
    let mut cases = Vec::new();
    let mut spendable = f.spendable.iter();
    let mut spend = || spendable.next().expect("enough spendable sessions");
    let card = app.pki.card("card-rsa-1");
    let cert_b64 = STANDARD.encode(&card.cert_der);
    let alg = card.algorithm.as_str();
    let fresh_card = format!("/v1/sessions/{}/card", f.fresh);
    let orders = format!("/v1/sessions/{}/orders", f.authenticated.session_id);
    let fresh_orders = format!("/v1/sessions/{}/orders", f.fresh);
    let domicile = format!(
        "/v1/sessions/{}/domicile-registrations",
        f.authenticated.session_id
    );
    let random = Uuid::from_bytes(kofu::gateway::random_bytes());
    let oversized = vec![b' '; 64 * 1024 + 1];
    let unknown_code = kofu::gateway::signing::VerificationCode::random().to_string();
    let m = kofu::devkit::demo_registers::MUNICIPALITY_CODE;
    let minato = NEW_MUNICIPALITY_CODE;

    // ---- POST /v1/sessions
    cases.push(
        case(
            "a session without a copier certificate",
            Anonymous,
            post.clone(),
            "/v1/sessions",
        )
        .refused(401, "copier_certificate_required"),
    );
    cases.push(
        case("GET /v1/sessions", Copier1, get.clone(), "/v1/sessions")
            .refused(405, "method_not_allowed"),
    );
    cases.push(
        case(
            "DELETE /v1/sessions",
            Copier1,
            Method::DELETE,
            "/v1/sessions",
        )
        .refused(405, "method_not_allowed"),
    );
    cases.push(
        case(
            "a session with a body over max_body_bytes",
            Copier1,
            post.clone(),
            "/v1/sessions",
        )
        .body(oversized.clone())
        .refused(413, "body_too_large"),
    );
    cases.push(
        case(
            "a session with two Content-Types",
            Copier1,
            post.clone(),
            "/v1/sessions",
        )
        .header("content-type", "application/json")
        .header("content-type", "text/plain")
        .body("{}")
        .refused(400, "duplicate_header"),
    );
    cases.push(
        case(
            "a session with two Idempotency-Keys",
            Copier1,
            post.clone(),
            "/v1/sessions",
        )
        .header("idempotency-key", "a")
        .header("idempotency-key", "b")
        .refused(400, "duplicate_header"),
    );
    cases.push(
        case(
            "a session with two Kofu-Session headers",
            Copier1,
            post.clone(),
            "/v1/sessions",
        )
        .header("kofu-session", f.fresh.to_string())
        .header("kofu-session", random.to_string())
        .refused(400, "duplicate_header"),
    );

    // ---- POST /v1/sessions/{id}/card: refused before the challenge is read
    cases.push(
        case(
            "a card without a copier certificate",
            Anonymous,
            post.clone(),
            fresh_card.clone(),
        )
        .json(card_body(&cert_b64, "AA==", alg))
        .refused(401, "copier_certificate_required"),
    );
    cases.push(
        case(
            "a card for a session id that is not a UUID",
            Copier1,
            post.clone(),
            "/v1/sessions/not-a-uuid/card",
        )
        .json(card_body(&cert_b64, "AA==", alg))
        .refused(404, "session_not_found"),
    );
    cases.push(
        case(
            "a card for a session id with a NUL",
            Copier1,
            post.clone(),
            "/v1/sessions/%00/card",
        )
        .json(card_body(&cert_b64, "AA==", alg))
        .refused(404, "session_not_found"),
    );
    cases.push(
        case(
            "a card for a session id of invalid UTF-8",
            Copier1,
            post.clone(),
            "/v1/sessions/%FF%FE/card",
        )
        .json(card_body(&cert_b64, "AA==", alg))
        .refused(404, "session_not_found"),
    );
    for (what, body) in [
        ("an empty card body", &b""[..]),
        ("a card body cut short", br#"{"certificate": "MIIB"#),
        ("a card body that is a JSON array", b"[]"),
        ("a card body that is null", b"null"),
        ("a card body that is a string", br#""certificate""#),
        ("a card body with a number for the certificate", br#"{"certificate": 1, "signature": "AA==", "algorithm": "x"}"#),
        ("a card body without a signature", br#"{"certificate": "AA==", "algorithm": "x"}"#),
        ("a card body with an unknown field", br#"{"certificate": "AA==", "signature": "AA==", "algorithm": "x", "pin": "1234"}"#),
        ("a card body of invalid UTF-8", b"{\"certificate\": \"\xff\xfe\", \"signature\": \"AA==\", \"algorithm\": \"x\"}"),
        ("a card body with a duplicate key", br#"{"certificate": "AA==", "certificate": "AA==", "signature": "AA==", "algorithm": "x"}"#),
        ("a card body of UTF-16", b"\xff\xfe{\x00}\x00"),
    ] {
        cases.push(case(what, Copier1, post.clone(), fresh_card.clone()).body(body).refused(400, "malformed_request"));
    }
    for (what, cert, sig) in [
        ("a certificate that is not base64", "not base64!", "AA=="),
        (
            "a certificate in base64url",
            &*URL_SAFE_NO_PAD.encode(&card.cert_der),
            "AA==",
        ),
        ("a certificate with broken padding", "QUJD=", "AA=="),
        ("a signature that is not base64", &*cert_b64, "***"),
        ("a signature with whitespace inside", &*cert_b64, "AA A="),
    ] {
        cases.push(
            case(what, Copier1, post.clone(), fresh_card.clone())
                .json(card_body(cert, sig, alg))
                .refused(400, "malformed_request"),
        );
    }
    for (i, hostile) in HOSTILE.iter().enumerate() {
        cases.push(
            case(
                format!("hostile text {i} as the certificate"),
                Copier1,
                post.clone(),
                fresh_card.clone(),
            )
            .json(card_body(hostile, "AA==", alg))
            .refused(400, "malformed_request"),
        );
        cases.push(
            case(
                format!("hostile text {i} as the signature"),
                Copier1,
                post.clone(),
                fresh_card.clone(),
            )
            .json(card_body(&cert_b64, hostile, alg))
            .refused(400, "malformed_request"),
        );
        cases.push(
            case(
                format!("hostile text {i} as the algorithm"),
                Copier1,
                post.clone(),
                fresh_card.clone(),
            )
            .json(card_body(&cert_b64, "AA==", hostile))
            .refused(400, "card_algorithm_unsupported"),
        );
    }
    for alg_name in ["", "md5WithRSAEncryption", "ECDSA-P256-SHA256 ", "none"] {
        cases.push(
            case(
                format!("the algorithm {alg_name:?}"),
                Copier1,
                post.clone(),
                fresh_card.clone(),
            )
            .json(card_body(&cert_b64, "AA==", alg_name))
            .refused(400, "card_algorithm_unsupported"),
        );
    }
    cases.push(
        case(
            "a card body over max_body_bytes",
            Copier1,
            post.clone(),
            fresh_card.clone(),
        )
        .body(oversized.clone())
        .refused(413, "body_too_large"),
    );
    cases.push(
        case(
            "GET on a session's card",
            Copier1,
            get.clone(),
            fresh_card.clone(),
        )
        .refused(405, "method_not_allowed"),
    );

    // ---- the card: refused by the verifier (each spends its session's challenge)
    let signed = |s: &OpenedSession, c: &kofu::devkit::demo_pki::DemoCard| {
        STANDARD.encode(c.sign(&URL_SAFE_NO_PAD.decode(&s.challenge).unwrap()))
    };
    let der_cases: Vec<(&str, Vec<u8>)> = vec![
        ("an empty certificate", Vec::new()),
        (
            "a certificate cut in half",
            card.cert_der[..card.cert_der.len() / 2].to_vec(),
        ),
        (
            "a certificate with trailing bytes",
            [card.cert_der.as_slice(), b"\x00\x01"].concat(),
        ),
        (
            "a certificate that is PEM text",
            format!("-----BEGIN CERTIFICATE-----\n{cert_b64}\n-----END CERTIFICATE-----\n")
                .into_bytes(),
        ),
        (
            "a certificate of random bytes",
            kofu::gateway::random_bytes::<512>().to_vec(),
        ),
        ("a certificate of 40 KiB of zeros", vec![0; 40 * 1024]),
        ("a certificate whose DER length lies", {
            let mut d = card.cert_der.clone();
            d[2] = 0xff;
            d
        }),
        ("a certificate with one bit of its signature flipped", {
            let mut d = card.cert_der.clone();
            let n = d.len() - 3;
            d[n] ^= 1;
            d
        }),
    ];
    for (what, der) in der_cases {
        let s = spend();
        let sig = signed(s, card);
        cases.push(
            case(
                what,
                Copier1,
                post.clone(),
                format!("/v1/sessions/{}/card", s.session_id),
            )
            .json(card_body(&STANDARD.encode(der), &sig, alg))
            .refused(400, "card_certificate_invalid")
            .spending(),
        );
    }
    {
        let s = spend();
        cases.push(
            case(
                "a signature over other bytes",
                Copier1,
                post.clone(),
                format!("/v1/sessions/{}/card", s.session_id),
            )
            .json(card_body(
                &cert_b64,
                &STANDARD.encode(card.sign(b"other bytes")),
                alg,
            ))
            .refused(403, "card_signature_invalid")
            .spending(),
        );
        let s = spend();
        cases.push(
            case(
                "an empty signature",
                Copier1,
                post.clone(),
                format!("/v1/sessions/{}/card", s.session_id),
            )
            .json(card_body(&cert_b64, "", alg))
            .refused(403, "card_signature_invalid")
            .spending(),
        );
        let s = spend();
        let other = app.pki.card("card-ecdsa-1");
        cases.push(
            case(
                "a signature made with another card's key",
                Copier1,
                post.clone(),
                format!("/v1/sessions/{}/card", s.session_id),
            )
            .json(card_body(&cert_b64, &signed(s, other), alg))
            .refused(403, "card_signature_invalid")
            .spending(),
        );
        let s = spend();
        cases.push(
            case(
                "a signature declared with the other algorithm",
                Copier1,
                post.clone(),
                format!("/v1/sessions/{}/card", s.session_id),
            )
            .json(card_body(
                &cert_b64,
                &signed(s, card),
                other.algorithm.as_str(),
            ))
            .refused(403, "card_signature_invalid")
            .spending(),
        );
        for (what, bad, code) in [
            (
                "a card from an unknown CA",
                &app.pki.unknown_issuer,
                "card_unknown_issuer",
            ),
            (
                "a card not valid yet",
                &app.pki.not_yet_valid,
                "card_not_yet_valid",
            ),
            (
                "a card no resident holds",
                &app.pki.unlinked,
                "card_not_registered",
            ),
        ] {
            let s = spend();
            cases.push(
                case(
                    what,
                    Copier1,
                    post.clone(),
                    format!("/v1/sessions/{}/card", s.session_id),
                )
                .json(card_body(
                    &STANDARD.encode(&bad.cert_der),
                    &signed(s, bad),
                    bad.algorithm.as_str(),
                ))
                .refused(403, code)
                .spending(),
            );
        }
    }
    // Replays: the challenge is single use.
    let valid_card = |s: &OpenedSession| card_body(&cert_b64, &signed(s, card), alg);
    cases.push(
        case(
            "a card replayed on a session it authenticated",
            Copier1,
            post.clone(),
            format!("/v1/sessions/{}/card", f.authenticated.session_id),
        )
        .json(valid_card(&f.authenticated))
        .refused(409, "challenge_already_used"),
    );
    cases.push(
        case(
            "a valid card on a session a refused card spent",
            Copier1,
            post.clone(),
            format!("/v1/sessions/{}/card", f.spent.session_id),
        )
        .json(valid_card(&f.spent))
        .refused(409, "challenge_already_used"),
    );
    cases.push(
        case(
            "a valid card on an unknown session",
            Copier1,
            post.clone(),
            format!("/v1/sessions/{random}/card"),
        )
        .json(valid_card(&f.spent))
        .refused(404, "session_not_found"),
    );
    cases.push(
        case(
            "a card on another copier's session",
            Copier2,
            post.clone(),
            format!("/v1/sessions/{}/card", f.authenticated.session_id),
        )
        .json(valid_card(&f.authenticated))
        .refused(403, "session_belongs_to_another_copier"),
    );

    // ---- POST /v1/sessions/{id}/orders
    let residence = json!({"kind": "residence_certificate", "options": {}, "copies": 1});
    cases.push(
        case(
            "an order without a copier certificate",
            Anonymous,
            post.clone(),
            orders.clone(),
        )
        .header("idempotency-key", "x")
        .json(residence.clone())
        .refused(401, "copier_certificate_required"),
    );
    cases.push(
        case(
            "an order without an Idempotency-Key",
            Copier1,
            post.clone(),
            orders.clone(),
        )
        .json(residence.clone())
        .refused(400, "idempotency_key_required"),
    );
    cases.push(
        case(
            "an order with an empty Idempotency-Key",
            Copier1,
            post.clone(),
            orders.clone(),
        )
        .header("idempotency-key", "")
        .json(residence.clone())
        .refused(400, "idempotency_key_required"),
    );
    cases.push(
        case(
            "an order with a 129-character Idempotency-Key",
            Copier1,
            post.clone(),
            orders.clone(),
        )
        .header("idempotency-key", "k".repeat(129))
        .json(residence.clone())
        .refused(400, "idempotency_key_required"),
    );
    cases.push(
        case(
            "an order with SQL in the Idempotency-Key",
            Copier1,
            post.clone(),
            orders.clone(),
        )
        .header("idempotency-key", "' OR '1'='1")
        .json(residence.clone())
        .refused(400, "idempotency_key_required"),
    );
    cases.push(
        case(
            "an order with two Idempotency-Keys",
            Copier1,
            post.clone(),
            orders.clone(),
        )
        .header("idempotency-key", "a")
        .header("idempotency-key", "b")
        .json(residence.clone())
        .refused(400, "duplicate_header"),
    );
    cases.push(
        case(
            "an order whose key was used for another body",
            Copier1,
            post.clone(),
            orders.clone(),
        )
        .header("idempotency-key", PRINTED_KEY)
        .json(json!({"kind": "residence_certificate", "options": {}, "copies": 2}))
        .refused(422, "idempotency_key_reused"),
    );
    cases.push(
        case(
            "an order whose key was used for another kind",
            Copier1,
            post.clone(),
            orders.clone(),
        )
        .header("idempotency-key", PRINTED_KEY)
        .json(json!({"kind": "seal_registration"}))
        .refused(422, "idempotency_key_reused"),
    );
    cases.push(
        case(
            "an order replayed with its key and body gets the first answer",
            Copier1,
            post.clone(),
            orders.clone(),
        )
        .header("idempotency-key", PRINTED_KEY)
        .json(json!({"kind": "residence_certificate", "options": {}, "copies": 1}))
        .answered(201),
    );
    for (what, body) in [
        ("an empty order body", &b""[..]),
        ("an order body cut short", br#"{"kind": "residence_cert"#),
        (
            "an order body of invalid UTF-8",
            b"{\"kind\": \"\xc3\x28\"}",
        ),
        (
            "an order body with a trailing comma",
            br#"{"kind": "residence_certificate",}"#,
        ),
    ] {
        cases.push(
            case(what, Copier1, post.clone(), orders.clone())
                .header("idempotency-key", "cat-malformed")
                .body(body)
                .refused(400, "malformed_request"),
        );
    }
    for (what, body, status, code) in [
        (
            "an order body that is an array",
            json!([]),
            422,
            "invalid_options",
        ),
        (
            "an order without a kind",
            json!({"copies": 1}),
            422,
            "invalid_options",
        ),
        (
            "an order whose kind is a number",
            json!({"kind": 5}),
            422,
            "invalid_options",
        ),
        (
            "an order whose kind is null",
            json!({"kind": null}),
            422,
            "invalid_options",
        ),
        (
            "an order with an unknown field",
            json!({"kind": "residence_certificate", "price": 0}),
            422,
            "invalid_options",
        ),
        (
            "an order of zero copies",
            json!({"kind": "residence_certificate", "copies": 0}),
            422,
            "invalid_options",
        ),
        (
            "an order of -1 copies",
            json!({"kind": "residence_certificate", "copies": -1}),
            422,
            "invalid_options",
        ),
        (
            "an order of 1000 copies",
            json!({"kind": "residence_certificate", "copies": 1000}),
            422,
            "invalid_options",
        ),
        (
            "an order of 2^31 copies",
            json!({"kind": "residence_certificate", "copies": 2147483648_i64}),
            422,
            "invalid_options",
        ),
        (
            "an order of 1.5 copies",
            json!({"kind": "residence_certificate", "copies": 1.5}),
            422,
            "invalid_options",
        ),
        (
            "an order of \"2\" copies",
            json!({"kind": "residence_certificate", "copies": "2"}),
            422,
            "invalid_options",
        ),
        (
            "an order whose options are a string",
            json!({"kind": "residence_certificate", "options": "all"}),
            422,
            "invalid_options",
        ),
        (
            "an order whose options are an array",
            json!({"kind": "residence_certificate", "options": []}),
            422,
            "invalid_options",
        ),
        (
            "an order with an option not on the menu",
            json!({"kind": "residence_certificate", "options": {"show_password": true}}),
            422,
            "invalid_options",
        ),
        (
            "an order whose option has the wrong type",
            json!({"kind": "residence_certificate", "options": {"whole_household": "yes"}}),
            422,
            "invalid_options",
        ),
        (
            "an order of member -1",
            json!({"kind": "residence_certificate", "options": {"members": [-1]}}),
            422,
            "invalid_options",
        ),
        (
            "an order of member 70000",
            json!({"kind": "residence_certificate", "options": {"members": [70000]}}),
            422,
            "invalid_options",
        ),
        (
            "an order of a member not in the household",
            json!({"kind": "residence_certificate", "options": {"members": [99]}}),
            422,
            "invalid_options",
        ),
        (
            "a seal certificate with residence options",
            json!({"kind": "seal_registration", "options": {"whole_household": true}}),
            422,
            "invalid_options",
        ),
        (
            "a tax certificate of fiscal year 2^31",
            json!({"kind": "tax_certificate", "options": {"fiscal_year": 2147483648_i64}}),
            422,
            "invalid_options",
        ),
        (
            "a tax certificate of fiscal year \"2024\"",
            json!({"kind": "tax_certificate", "options": {"fiscal_year": "2024"}}),
            422,
            "invalid_options",
        ),
        (
            "a tax certificate of fiscal year 1800",
            json!({"kind": "tax_certificate", "options": {"fiscal_year": 1800}}),
            422,
            "invalid_options",
        ),
        (
            "a tax certificate of fiscal year 9999",
            json!({"kind": "tax_certificate", "options": {"fiscal_year": 9999}}),
            422,
            "invalid_options",
        ),
        (
            "a tax certificate of fiscal year 2200, not released",
            json!({"kind": "tax_certificate", "options": {"fiscal_year": 2200}}),
            403,
            "tax_year_not_released",
        ),
        (
            "a family-register extract of position 0",
            json!({"kind": "family_register_individual", "options": {"position": 0}}),
            422,
            "invalid_options",
        ),
        (
            "a family-register extract of position 65536",
            json!({"kind": "family_register_individual", "options": {"position": 65536}}),
            422,
            "invalid_options",
        ),
        (
            "a residence certificate from a registered domicile",
            json!({"kind": "residence_certificate", "municipality_code": m}),
            422,
            "invalid_options",
        ),
        (
            "a family register from a five-digit municipality",
            json!({"kind": "family_register_full", "municipality_code": "13999"}),
            404,
            "domicile_municipality_unknown",
        ),
        (
            "a family register from a code with a wrong check digit",
            json!({"kind": "family_register_full", "municipality_code": "139997"}),
            404,
            "domicile_municipality_unknown",
        ),
        (
            "the passport, not a kind",
            json!({"kind": "passport"}),
            422,
            "certificate_kind_unavailable",
        ),
        (
            "a kind in capitals",
            json!({"kind": "RESIDENCE_CERTIFICATE"}),
            422,
            "certificate_kind_unavailable",
        ),
    ] {
        cases.push(
            case(what, Copier1, post.clone(), orders.clone())
                .header("idempotency-key", format!("cat-{}", cases.len()))
                .json(body)
                .refused(status, code),
        );
    }
    for (i, hostile) in HOSTILE.iter().enumerate() {
        cases.push(
            case(
                format!("hostile text {i} as the kind"),
                Copier1,
                post.clone(),
                orders.clone(),
            )
            .header("idempotency-key", format!("cat-kind-{i}"))
            .json(json!({"kind": hostile}))
            .refused(422, "certificate_kind_unavailable"),
        );
        cases.push(
            case(
                format!("hostile text {i} as the registered domicile's code"),
                Copier1,
                post.clone(),
                orders.clone(),
            )
            .header("idempotency-key", format!("cat-domicile-{i}"))
            .json(json!({"kind": "family_register_full", "municipality_code": hostile}))
            .refused(404, "domicile_municipality_unknown"),
        );
    }
    cases.push(
        case(
            "an order on a session no card authenticated",
            Copier1,
            post.clone(),
            fresh_orders.clone(),
        )
        .header("idempotency-key", "cat-fresh")
        .json(residence.clone())
        .refused(403, "session_not_authenticated"),
    );
    cases.push(
        case(
            "an order on another copier's session",
            Copier2,
            post.clone(),
            orders.clone(),
        )
        .header("idempotency-key", "cat-other")
        .json(residence.clone())
        .refused(403, "session_belongs_to_another_copier"),
    );
    cases.push(
        case(
            "an order on an unknown session",
            Copier1,
            post.clone(),
            format!("/v1/sessions/{random}/orders"),
        )
        .header("idempotency-key", "cat-unknown")
        .json(residence.clone())
        .refused(404, "session_not_found"),
    );
    cases.push(
        case(
            "an order on a session id that is not a UUID",
            Copier1,
            post.clone(),
            "/v1/sessions/1%20OR%201=1/orders",
        )
        .header("idempotency-key", "cat-sql")
        .json(residence.clone())
        .refused(404, "session_not_found"),
    );
    cases.push(
        case(
            "an order body over max_body_bytes",
            Copier1,
            post.clone(),
            orders.clone(),
        )
        .header("idempotency-key", "cat-big")
        .body(oversized.clone())
        .refused(413, "body_too_large"),
    );
    cases.push(
        case(
            "PUT on a session's orders",
            Copier1,
            put.clone(),
            orders.clone(),
        )
        .refused(405, "method_not_allowed"),
    );

    // ---- POST /v1/sessions/{id}/domicile-registrations
    let application = |code: &str, domicile: &str, head: &str| json!({"municipality_code": code, "domicile": domicile, "head_of_register": head});
    cases.push(
        case(
            "a domicile registration without a copier certificate",
            Anonymous,
            post.clone(),
            domicile.clone(),
        )
        .json(application(minato, "本籍", "筆頭者"))
        .refused(401, "copier_certificate_required"),
    );
    cases.push(
        case(
            "a domicile registration body cut short",
            Copier1,
            post.clone(),
            domicile.clone(),
        )
        .body(r#"{"municipality_code": "1399"#)
        .refused(400, "malformed_request"),
    );
    cases.push(
        case(
            "a domicile registration without a head of register",
            Copier1,
            post.clone(),
            domicile.clone(),
        )
        .json(json!({"municipality_code": minato, "domicile": "本籍"}))
        .refused(400, "malformed_request"),
    );
    cases.push(
        case(
            "a domicile registration whose code is a number",
            Copier1,
            post.clone(),
            domicile.clone(),
        )
        .json(
            json!({"municipality_code": 139980, "domicile": "本籍", "head_of_register": "筆頭者"}),
        )
        .refused(400, "malformed_request"),
    );
    cases.push(case("a domicile registration with an unknown field", Copier1, post.clone(), domicile.clone()).json(json!({"municipality_code": minato, "domicile": "本籍", "head_of_register": "筆頭者", "my_number": "123456789018"})).refused(400, "malformed_request"));
    cases.push(
        case(
            "a domicile registration with an empty domicile",
            Copier1,
            post.clone(),
            domicile.clone(),
        )
        .json(application(minato, "", "筆頭者"))
        .refused(422, "invalid_options"),
    );
    cases.push(
        case(
            "a domicile registration with a 201-character domicile",
            Copier1,
            post.clone(),
            domicile.clone(),
        )
        .json(application(minato, &"本".repeat(201), "筆頭者"))
        .refused(422, "invalid_options"),
    );
    cases.push(
        case(
            "a domicile registration with a NUL in the domicile",
            Copier1,
            post.clone(),
            domicile.clone(),
        )
        .json(application(minato, "本籍\u{0}", "筆頭者"))
        .refused(422, "invalid_options"),
    );
    cases.push(
        case(
            "a domicile registration with a newline in the head of register",
            Copier1,
            post.clone(),
            domicile.clone(),
        )
        .json(application(minato, "本籍", "筆頭\n者"))
        .refused(422, "invalid_options"),
    );
    cases.push(
        case(
            "a domicile registration with a municipality not taking part",
            Copier1,
            post.clone(),
            domicile.clone(),
        )
        .json(application(minato, "本籍", "筆頭者"))
        .refused(404, "domicile_municipality_unknown"),
    );
    cases.push(
        case(
            "a domicile registration on a session no card authenticated",
            Copier1,
            post.clone(),
            format!("/v1/sessions/{}/domicile-registrations", f.fresh),
        )
        .json(application(minato, "本籍", "筆頭者"))
        .refused(403, "session_not_authenticated"),
    );
    cases.push(
        case(
            "a domicile registration on another copier's session",
            Copier2,
            post.clone(),
            domicile.clone(),
        )
        .json(application(minato, "本籍", "筆頭者"))
        .refused(403, "session_belongs_to_another_copier"),
    );
    cases.push(
        case(
            "a domicile registration on a session id that is not a UUID",
            Copier1,
            post.clone(),
            "/v1/sessions/%27--/domicile-registrations",
        )
        .json(application(minato, "本籍", "筆頭者"))
        .refused(404, "session_not_found"),
    );
    for (i, hostile) in HOSTILE.iter().enumerate() {
        cases.push(
            case(
                format!("hostile text {i} as the domicile's municipality code"),
                Copier1,
                post.clone(),
                domicile.clone(),
            )
            .json(application(hostile, "本籍", "筆頭者"))
            .refused(404, "domicile_municipality_unknown"),
        );
        cases.push(
            case(
                format!("hostile text {i} as the domicile"),
                Copier1,
                post.clone(),
                domicile.clone(),
            )
            .json(application(minato, hostile, "筆頭者"))
            .refused(404, "domicile_municipality_unknown"),
        );
        cases.push(
            case(
                format!("hostile text {i} as the head of register"),
                Copier1,
                post.clone(),
                domicile.clone(),
            )
            .json(application(minato, "本籍", hostile))
            .refused(404, "domicile_municipality_unknown"),
        );
    }

    // ---- GET /v1/orders/{id}/document
    let document = |id: Uuid| format!("/v1/orders/{id}/document");
    let session_of = ("kofu-session", f.authenticated.session_id.to_string());
    cases.push(
        case(
            "a document without a copier certificate",
            Anonymous,
            get.clone(),
            document(f.printed),
        )
        .header(session_of.0, session_of.1.clone())
        .refused(401, "copier_certificate_required"),
    );
    cases.push(
        case(
            "a document without Kofu-Session",
            Copier1,
            get.clone(),
            document(f.printed),
        )
        .refused(403, "order_session_mismatch"),
    );
    cases.push(
        case(
            "a document with a Kofu-Session that is not a UUID",
            Copier1,
            get.clone(),
            document(f.printed),
        )
        .header("kofu-session", "' OR 1=1 --")
        .refused(403, "order_session_mismatch"),
    );
    cases.push(
        case(
            "a document with two Kofu-Session headers",
            Copier1,
            get.clone(),
            document(f.printed),
        )
        .header(session_of.0, session_of.1.clone())
        .header("kofu-session", f.fresh.to_string())
        .refused(400, "duplicate_header"),
    );
    cases.push(
        case(
            "a document for another session of the same copier",
            Copier1,
            get.clone(),
            document(f.printed),
        )
        .header("kofu-session", f.fresh.to_string())
        .refused(403, "order_session_mismatch"),
    );
    cases.push(
        case(
            "a document of another copier's order",
            Copier2,
            get.clone(),
            document(f.printed),
        )
        .header(session_of.0, session_of.1.clone())
        .refused(403, "order_belongs_to_another_copier"),
    );
    cases.push(
        case(
            "a document already printed",
            Copier1,
            get.clone(),
            document(f.printed),
        )
        .header(session_of.0, session_of.1.clone())
        .refused(409, "order_already_printed"),
    );
    cases.push(
        case(
            "a document of a voided order",
            Copier1,
            get.clone(),
            document(f.voided),
        )
        .header(session_of.0, session_of.1.clone())
        .refused(410, "order_voided"),
    );
    cases.push(
        case(
            "a document of an unknown order",
            Copier1,
            get.clone(),
            document(random),
        )
        .header(session_of.0, session_of.1.clone())
        .refused(404, "order_not_found"),
    );
    cases.push(
        case(
            "a document whose order id is not a UUID",
            Copier1,
            get.clone(),
            "/v1/orders/..%2F..%2Fetc/document",
        )
        .header(session_of.0, session_of.1.clone())
        .refused(404, "order_not_found"),
    );
    cases.push(
        case(
            "POST on a document",
            Copier1,
            post.clone(),
            document(f.printed),
        )
        .refused(405, "method_not_allowed"),
    );

    // ---- POST /v1/orders/{id}/printed, /failed
    for step in ["printed", "failed"] {
        cases.push(
            case(
                format!("{step} without a copier certificate"),
                Anonymous,
                post.clone(),
                format!("/v1/orders/{}/{step}", f.printed),
            )
            .refused(401, "copier_certificate_required"),
        );
        cases.push(
            case(
                format!("{step} for an order id that is not a UUID"),
                Copier1,
                post.clone(),
                format!("/v1/orders/{}/{step}", escaped(HOSTILE[1])),
            )
            .refused(404, "order_not_found"),
        );
        cases.push(
            case(
                format!("{step} for an unknown order"),
                Copier1,
                post.clone(),
                format!("/v1/orders/{random}/{step}"),
            )
            .refused(404, "order_not_found"),
        );
        cases.push(
            case(
                format!("{step} for another copier's order"),
                Copier2,
                post.clone(),
                format!("/v1/orders/{}/{step}", f.printed),
            )
            .refused(403, "order_belongs_to_another_copier"),
        );
        cases.push(
            case(
                format!("GET {step}"),
                Copier1,
                get.clone(),
                format!("/v1/orders/{}/{step}", f.printed),
            )
            .refused(405, "method_not_allowed"),
        );
    }
    cases.push(
        case(
            "printed for a voided order",
            Copier1,
            post.clone(),
            format!("/v1/orders/{}/printed", f.voided),
        )
        .refused(409, "order_voided"),
    );
    cases.push(
        case(
            "a print confirmed twice gets the same answer",
            Copier1,
            post.clone(),
            format!("/v1/orders/{}/printed", f.printed),
        )
        .answered(200),
    );
    cases.push(
        case(
            "a failure reported twice gets the same answer",
            Copier1,
            post.clone(),
            format!("/v1/orders/{}/failed", f.voided),
        )
        .answered(200),
    );
    cases.push(
        case(
            "failed for a printed order",
            Copier1,
            post.clone(),
            format!("/v1/orders/{}/failed", f.printed),
        )
        .refused(409, "order_already_printed"),
    );

    // ---- public endpoints
    for (path, method) in [
        ("/healthz", post.clone()),
        ("/readyz", Method::DELETE),
        ("/v1/openapi.yaml", put.clone()),
        ("/v1/keys", post.clone()),
        ("/verify", post.clone()),
    ] {
        cases.push(
            case(format!("{method} {path}"), Anonymous, method, path)
                .refused(405, "method_not_allowed"),
        );
    }
    for path in [
        "/",
        "/v1",
        "/v1/admin/certificate-events",
        "/metrics",
        "/../../etc/passwd",
        "/v1/sessions/x/card/x",
        "/V1/KEYS",
        "/healthz.php",
    ] {
        cases.push(
            case(
                format!("the unknown path {path}"),
                Anonymous,
                get.clone(),
                path,
            )
            .refused(404, "not_found"),
        );
    }
    let verify = |code: &str| format!("/v1/verify/{code}");
    for (what, code) in [
        (
            "a verification code one character short",
            &unknown_code[..unknown_code.len() - 1],
        ),
        ("a verification code of punctuation", "!!!!-!!!!-!!!!-!"),
        ("a verification code of 200 characters", &*"A".repeat(200)),
        ("a verification code with a wrong check character", &*{
            let mut c = unknown_code.clone();
            let last = c.pop().unwrap();
            c.push(if last == '0' { '1' } else { '0' });
            c
        }),
        ("a verification code of invalid UTF-8", "%FF%FE%FD"),
    ] {
        cases.push(
            case(what, Anonymous, get.clone(), verify(code))
                .refused(400, "verification_code_malformed"),
        );
    }
    for (i, hostile) in HOSTILE.iter().enumerate() {
        cases.push(
            case(
                format!("hostile text {i} as a verification code"),
                Anonymous,
                get.clone(),
                verify(&escaped(hostile)),
            )
            .refused(400, "verification_code_malformed"),
        );
        cases.push(
            case(
                format!("hostile text {i} on the verification page"),
                Anonymous,
                get.clone(),
                format!("/verify/{}", escaped(hostile)),
            )
            .answered(400),
        );
        cases.push(
            case(
                format!("hostile text {i} in the verification form"),
                Anonymous,
                get.clone(),
                format!("/verify?code={}", escaped(hostile)),
            )
            .answered(400),
        );
    }
    cases.push(
        case(
            "an unknown verification code",
            Anonymous,
            get.clone(),
            verify(&unknown_code),
        )
        .refused(404, "document_not_found"),
    );
    cases.push(
        case(
            "a digest that is not base64url",
            Anonymous,
            get.clone(),
            format!("{}?digest=%%%", verify(&f.printed_code)),
        )
        .refused(400, "digest_malformed"),
    );
    cases.push(
        case(
            "a digest of 31 bytes",
            Anonymous,
            get.clone(),
            format!(
                "{}?digest={}",
                verify(&f.printed_code),
                URL_SAFE_NO_PAD.encode([0u8; 31])
            ),
        )
        .refused(400, "digest_malformed"),
    );
    cases.push(
        case(
            "a digest of 33 bytes",
            Anonymous,
            get.clone(),
            format!(
                "{}?digest={}",
                verify(&f.printed_code),
                URL_SAFE_NO_PAD.encode([0u8; 33])
            ),
        )
        .refused(400, "digest_malformed"),
    );
    cases.push(
        case(
            "a digest with SQL",
            Anonymous,
            get.clone(),
            format!("{}?digest={}", verify(&f.printed_code), escaped(HOSTILE[0])),
        )
        .refused(400, "digest_malformed"),
    );
    cases.push(
        case(
            "the verification page of an unknown code",
            Anonymous,
            get.clone(),
            format!("/verify/{unknown_code}"),
        )
        .answered(404),
    );
    cases.push(
        case(
            "the verification page of invalid UTF-8",
            Anonymous,
            get.clone(),
            "/verify/%FF%FE",
        )
        .answered(400),
    );
    cases.push(
        case(
            "the verification page with a malformed digest",
            Anonymous,
            get.clone(),
            format!("/verify/{}?d=%ZZ", f.printed_code),
        )
        .answered(200),
    );

    // ---- administration: J-LIS certificate events
    let events = "/v1/admin/certificate-events";
    let event = |id: &str, kind: &str, serial: &str| json!({"event_id": id, "kind": kind, "serial": serial});
    for who in [Municipality, Minato, TwoMunicipalities] {
        cases.push(
            case(
                format!("a certificate event from {who:?}"),
                who,
                post.clone(),
                events,
            )
            .json(event("e-1", "suspended", "0a0b0c0d"))
            .refused(403, "operator_role_required"),
        );
    }
    for (what, body) in [
        ("an empty event body", &b""[..]),
        (
            "an event body cut short",
            br#"{"event_id": "e", "kind": "issu"#,
        ),
        (
            "an event of an unknown kind",
            br#"{"event_id": "e", "kind": "exploded", "serial": "01"}"#,
        ),
        (
            "an event without a serial",
            br#"{"event_id": "e", "kind": "suspended"}"#,
        ),
        (
            "an event whose serial is a number",
            br#"{"event_id": "e", "kind": "suspended", "serial": 1}"#,
        ),
        (
            "an event body of invalid UTF-8",
            b"{\"event_id\": \"\xed\xa0\x80\", \"kind\": \"suspended\", \"serial\": \"01\"}",
        ),
        (
            "a batch of events with a field beside them",
            br#"{"events": [{"event_id": "e", "kind": "suspended", "serial": "01"}], "note": 1}"#,
        ),
    ] {
        cases.push(
            case(what, Jlis, post.clone(), events)
                .body(body)
                .refused(400, "malformed_request"),
        );
    }
    let small =
        |i: usize| json!({"event_id": format!("b{i}"), "kind": "suspended", "serial": "01"});
    for (what, body) in [
        ("an empty batch of events", json!({"events": []})),
        (
            "a batch of 1001 events",
            json!({"events": (0..1001).map(small).collect::<Vec<_>>()}),
        ),
        ("an event with an empty id", event("", "suspended", "0a0b")),
        (
            "an event id with a space",
            event("e 1", "suspended", "0a0b"),
        ),
        (
            "an event id of 129 characters",
            event(&"e".repeat(129), "suspended", "0a0b"),
        ),
        (
            "an event id with non-ASCII",
            event("事象", "suspended", "0a0b"),
        ),
        ("a serial of odd length", event("e-odd", "suspended", "abc")),
        (
            "a serial that is not hexadecimal",
            event("e-hex", "suspended", "zz"),
        ),
        (
            "a serial of 33 bytes",
            event("e-long", "suspended", &"ab".repeat(33)),
        ),
        ("an empty serial", event("e-empty", "suspended", "")),
        (
            "an issue without a resident code",
            event("e-issued", "issued", "0a0b"),
        ),
        (
            "an issue with a ten-digit resident code",
            json!({"event_id": "e-rc", "kind": "issued", "serial": "0a0b", "resident_code": "1000000001"}),
        ),
        (
            "an issue with a new serial",
            json!({"event_id": "e-ns", "kind": "issued", "serial": "0a0b", "resident_code": "10000000011", "new_serial": "0c"}),
        ),
        (
            "a renewal to the same serial",
            json!({"event_id": "e-same", "kind": "renewed", "serial": "0a0b", "new_serial": "0a0b"}),
        ),
        (
            "a suspension with a reason",
            json!({"event_id": "e-sr", "kind": "suspended", "serial": "0a0b", "reason": "keyCompromise"}),
        ),
        (
            "a revocation with a reason not in RFC 5280",
            json!({"event_id": "e-rr", "kind": "revoked", "serial": "0a0b", "reason": "because"}),
        ),
        (
            "a phone's issue without the card it came from",
            event("e-pi", "smartphone_issued", "0a0b"),
        ),
        (
            "a phone's issue naming a card serial that is not hexadecimal",
            json!({"event_id": "e-pc", "kind": "smartphone_issued", "serial": "0a0b", "card_serial": "zz"}),
        ),
        (
            "a phone's issue with a resident code",
            json!({"event_id": "e-prc", "kind": "smartphone_issued", "serial": "0a0b", "card_serial": "0c0d", "resident_code": "10000000011"}),
        ),
        (
            "a card event naming a card serial",
            json!({"event_id": "e-cs", "kind": "revoked", "serial": "0a0b", "card_serial": "0c0d"}),
        ),
        (
            "a phone's suspension with a reason",
            json!({"event_id": "e-ps", "kind": "smartphone_suspended", "serial": "0a0b", "reason": "keyCompromise"}),
        ),
        (
            "a phone's revocation with a reason not in RFC 5280",
            json!({"event_id": "e-pr", "kind": "smartphone_revoked", "serial": "0a0b", "reason": "lost"}),
        ),
        (
            "a signing reissue with a new serial",
            json!({"event_id": "e-sig", "kind": "signing_reissued", "serial": "0a0b", "new_serial": "0c0d"}),
        ),
    ] {
        cases.push(
            case(what, Jlis, post.clone(), events)
                .json(body)
                .refused(400, "event_malformed"),
        );
    }
    for (i, hostile) in HOSTILE.iter().enumerate() {
        cases.push(
            case(
                format!("hostile text {i} as an event id"),
                Jlis,
                post.clone(),
                events,
            )
            .json(event(hostile, "suspended", "zz"))
            .refused(400, "event_malformed"),
        );
        cases.push(
            case(
                format!("hostile text {i} as a serial"),
                Jlis,
                post.clone(),
                events,
            )
            .json(event("e-hostile", "suspended", hostile))
            .refused(400, "event_malformed"),
        );
        cases.push(case(format!("hostile text {i} as a resident code"), Jlis, post.clone(), events).json(json!({"event_id": "e-h", "kind": "issued", "serial": "0a0b", "resident_code": hostile})).refused(400, "event_malformed"));
        cases.push(
            case(
                format!("hostile text {i} as a revocation reason"),
                Jlis,
                post.clone(),
                events,
            )
            .json(
                json!({"event_id": "e-h", "kind": "revoked", "serial": "0a0b", "reason": hostile}),
            )
            .refused(400, "event_malformed"),
        );
    }
    let card_serial = crate::harness::serial_hex(card);
    cases.push(
        case(
            "an event id reused for another event",
            Jlis,
            post.clone(),
            events,
        )
        .json(event(SETUP_EVENT, "suspended", "0a0b0c0d"))
        .refused(409, "event_id_reused"),
    );
    cases.push(case("a card linked to another resident", Jlis, post.clone(), events).json(json!({"event_id": "e-elsewhere", "kind": "issued", "serial": card_serial, "resident_code": "10000000045"})).refused(409, "serial_linked_elsewhere"));
    cases.push(case("an issue to a resident nobody has", Jlis, post.clone(), events).json(json!({"event_id": "e-nobody", "kind": "issued", "serial": "0e0f", "resident_code": "99999999999"})).refused(422, "resident_not_found"));
    cases.push(case("a phone derived from a card never linked", Jlis, post.clone(), events).json(json!({"event_id": "e-pnl", "kind": "smartphone_issued", "serial": "0e0f", "card_serial": "deadbeef"})).refused(422, "serial_not_linked"));
    cases.push(
        case(
            "a suspension of a phone never linked",
            Jlis,
            post.clone(),
            events,
        )
        .json(json!({"event_id": "e-psl", "kind": "smartphone_suspended", "serial": "0e0f"}))
        .refused(422, "serial_not_linked"),
    );
    cases.push(
        case(
            "a signing reissue of a card never linked",
            Jlis,
            post.clone(),
            events,
        )
        .json(json!({"event_id": "e-sgl", "kind": "signing_reissued", "serial": "deadbeef"}))
        .refused(422, "serial_not_linked"),
    );
    cases.push(case("a renewal of a serial never linked", Jlis, post.clone(), events).json(json!({"event_id": "{{7*7}}", "kind": "renewed", "serial": "deadbeef", "new_serial": "deadbeef01"})).refused(422, "serial_not_linked"));
    cases.push(
        case("GET the certificate events", Jlis, get.clone(), events)
            .refused(405, "method_not_allowed"),
    );
    cases.push(
        case(
            "an event body over max_body_bytes",
            Jlis,
            post.clone(),
            events,
        )
        .body(oversized.clone())
        .refused(413, "body_too_large"),
    );
    // Sent whole before the answer is read: the refusal must still arrive
    // (a connection closed on unread bytes is reset under the client).
    cases.push(
        case(
            "an event batch of 300 KiB, five times max_body_bytes",
            Jlis,
            post.clone(),
            events,
        )
        .body(vec![b' '; 300 * 1024])
        .refused(413, "body_too_large"),
    );

    // ---- administration: municipalities
    let muni = |code: &str, rest: &str| format!("/v1/admin/municipalities/{code}{rest}");
    let mut settings = serde_json::to_value(kofu::devkit::demo_registers::settings()).unwrap();
    settings["fees"]["residence_certificate"] = json!(-300);
    for (code, what) in [
        ("12345", "five digits"),
        ("139999", "a wrong check digit"),
        ("abcdef", "letters"),
        ("1399980", "seven digits"),
        (
            "%EF%BC%91%EF%BC%93%EF%BC%99%EF%BC%99%EF%BC%99%EF%BC%98",
            "full-width digits",
        ),
    ] {
        cases.push(
            case(
                format!("a municipality code of {what}"),
                Municipality,
                get.clone(),
                muni(code, ""),
            )
            .refused(400, "municipality_code_invalid"),
        );
    }
    for (i, hostile) in HOSTILE.iter().enumerate() {
        let code = escaped(hostile);
        cases.push(
            case(
                format!("hostile text {i} as a municipality code"),
                Municipality,
                get.clone(),
                muni(&code, ""),
            )
            .refused(400, "municipality_code_invalid"),
        );
        cases.push(
            case(
                format!("hostile text {i} as the municipality of its settlement"),
                Municipality,
                get.clone(),
                muni(&code, "/settlement"),
            )
            .refused(400, "municipality_code_invalid"),
        );
        cases.push(
            case(
                format!("hostile text {i} as a settlement date"),
                Municipality,
                get.clone(),
                muni(m, &format!("/settlement?date={code}")),
            )
            .refused(400, "date_malformed"),
        );
        cases.push(
            case(
                format!("hostile text {i} as a registration status"),
                Municipality,
                get.clone(),
                muni(m, &format!("/domicile-registrations?status={code}")),
            )
            .refused(400, "malformed_request"),
        );
        cases.push(
            case(
                format!("hostile text {i} as a settings version"),
                Municipality,
                get.clone(),
                muni(m, &format!("?version={code}")),
            )
            .refused(404, "settings_version_not_found"),
        );
        cases.push(
            case(
                format!("hostile text {i} as a register to import"),
                Municipality,
                post.clone(),
                muni(m, &format!("/imports?register={code}")),
            )
            .header("content-type", "text/csv")
            .body("a,b\n")
            .refused(400, "import_register_unknown"),
        );
        let mut hostile_settings = settings.clone();
        hostile_settings["name"] = json!(hostile);
        hostile_settings["mayor_name"] = json!(hostile);
        cases.push(
            case(
                format!("hostile text {i} in settings with a negative fee"),
                Minato,
                post.clone(),
                muni(minato, ""),
            )
            .json(hostile_settings)
            .refused(422, "settings_invalid"),
        );
    }
    cases.push(
        case(
            "the settings of a municipality the operator does not run",
            Minato,
            get.clone(),
            muni(m, ""),
        )
        .refused(403, "operator_role_required"),
    );
    cases.push(
        case(
            "the settings from an operator of two municipalities",
            TwoMunicipalities,
            get.clone(),
            muni(m, ""),
        )
        .refused(403, "operator_role_required"),
    );
    cases.push(
        case(
            "the settings from the J-LIS operator",
            Jlis,
            get.clone(),
            muni(m, ""),
        )
        .refused(403, "operator_role_required"),
    );
    cases.push(
        case(
            "the settings of a municipality not created yet",
            Minato,
            get.clone(),
            muni(minato, ""),
        )
        .refused(404, "municipality_not_found"),
    );
    cases.push(
        case(
            "settings version 0",
            Municipality,
            get.clone(),
            muni(m, "?version=0"),
        )
        .refused(404, "settings_version_not_found"),
    );
    cases.push(
        case(
            "settings version 2^31",
            Municipality,
            get.clone(),
            muni(m, "?version=2147483648"),
        )
        .refused(404, "settings_version_not_found"),
    );
    cases.push(
        case(
            "settings version -1",
            Municipality,
            get.clone(),
            muni(m, "?version=-1"),
        )
        .refused(404, "settings_version_not_found"),
    );
    cases.push(
        case(
            "a municipality created twice",
            Municipality,
            post.clone(),
            muni(m, ""),
        )
        .json(serde_json::to_value(kofu::devkit::demo_registers::settings()).unwrap())
        .refused(409, "municipality_exists"),
    );
    for (what, body) in [
        ("settings that are not JSON", &b"name=x"[..]),
        ("settings cut short", br#"{"name": "#),
        ("settings that are an array", b"[]"),
        ("settings without a name", br#"{"prefecture": "x"}"#),
        ("settings whose fees are a string", br#"{"name": "a", "prefecture": "b", "mayor_title": "c", "mayor_name": "d", "seal_text": "e", "fees": "free"}"#),
        ("settings with a seal image that is not base64", br#"{"name": "a", "prefecture": "b", "mayor_title": "c", "mayor_name": "d", "seal_text": "e", "fees": {}, "seal_image_png": "!!"}"#),
    ] {
        cases.push(case(format!("{what}, to create"), Minato, post.clone(), muni(minato, "")).body(body).refused(422, "settings_invalid"));
        cases.push(case(format!("{what}, to change"), Municipality, put.clone(), muni(m, "/settings")).body(body).refused(422, "settings_invalid"));
    }
    cases.push(
        case(
            "settings with a negative fee, to change",
            Municipality,
            put.clone(),
            muni(m, "/settings"),
        )
        .json(settings.clone())
        .refused(422, "settings_invalid"),
    );
    cases.push(
        case(
            "settings with a fee for a kind not on the menu",
            Municipality,
            put.clone(),
            muni(m, "/settings"),
        )
        .json({
            let mut s = settings.clone();
            s["fees"] = json!({"passport": 300});
            s
        })
        .refused(422, "settings_invalid"),
    );
    cases.push(
        case(
            "settings of a municipality not created yet",
            Minato,
            put.clone(),
            muni(minato, "/settings"),
        )
        .json(serde_json::to_value(kofu::devkit::demo_registers::settings()).unwrap())
        .refused(404, "municipality_not_found"),
    );
    cases.push(
        case(
            "settings of another municipality",
            Minato,
            put.clone(),
            muni(m, "/settings"),
        )
        .json(settings.clone())
        .refused(403, "operator_role_required"),
    );
    cases.push(
        case(
            "settings over max_body_bytes",
            Municipality,
            put.clone(),
            muni(m, "/settings"),
        )
        .body(oversized.clone())
        .refused(413, "body_too_large"),
    );
    cases.push(
        case(
            "DELETE a municipality",
            Municipality,
            Method::DELETE,
            muni(m, ""),
        )
        .refused(405, "method_not_allowed"),
    );
    // imports and change feeds
    cases.push(
        case(
            "an import without a register",
            Municipality,
            post.clone(),
            muni(m, "/imports"),
        )
        .header("content-type", "text/csv")
        .body("a\n")
        .refused(400, "import_register_unknown"),
    );
    cases.push(
        case(
            "an import as JSON",
            Municipality,
            post.clone(),
            muni(m, "/imports?register=residents"),
        )
        .body("{}")
        .refused(415, "import_format_unsupported"),
    );
    cases.push(
        case(
            "an import as XML",
            Municipality,
            post.clone(),
            muni(m, "/imports?register=residents"),
        )
        .header("content-type", "application/xml")
        .body("<a/>")
        .refused(415, "import_format_unsupported"),
    );
    cases.push(
        case(
            "an import with two Content-Types",
            Municipality,
            post.clone(),
            muni(m, "/imports?register=residents"),
        )
        .header("content-type", "text/csv")
        .header("content-type", "application/x-ndjson")
        .body("a\n")
        .refused(400, "duplicate_header"),
    );
    for (what, ct, body) in [
        ("a residents file with an unknown column", "text/csv", &b"household_no,address,password\nH1,x,hunter2\n"[..]),
        ("a residents file with a column twice", "text/csv", b"household_no,household_no\nH1,H2\n"),
        ("a residents file with a row of too many fields", "text/csv", b"household_no,address\nH1,x,y\n"),
        ("a residents file of invalid UTF-8", "text/csv", b"\xff\xfe\xfd\n"),
        ("a residents file with SQL in its fields", "text/csv", b"household_no,address,resident_code,register_order,name,name_kana,birth_date,sex,relationship,is_householder,became_resident_on,my_number\n'; DROP TABLE residents; --,x,1,1,{{7*7}},x,1980-13-45,x,x,x,x,x\n"),
        ("a residents file with a birth date in year 99999", "text/csv", b"household_no,address,resident_code,register_order,name,name_kana,birth_date,sex,relationship,is_householder,became_resident_on,my_number\nH9,x,10000000011,1,a,a,99999-01-01,male,x,true,2000-01-01,\n"),
        ("a residents file of NDJSON garbage", "application/x-ndjson", b"{\"a\": \nnot json\n"),
    ] {
        cases.push(case(what, Municipality, post.clone(), muni(m, "/imports?register=residents")).header("content-type", ct).body(body).refused(422, "import_invalid"));
    }
    cases.push(
        case(
            "an import to a municipality not created yet",
            Minato,
            post.clone(),
            muni(minato, "/imports?register=residents"),
        )
        .header("content-type", "text/csv")
        .body("a\n")
        .refused(404, "municipality_not_found"),
    );
    cases.push(
        case(
            "an import to another municipality",
            Minato,
            post.clone(),
            muni(m, "/imports?register=residents"),
        )
        .header("content-type", "text/csv")
        .body("a\n")
        .refused(403, "operator_role_required"),
    );
    cases.push(
        case(
            "an import from the J-LIS operator",
            Jlis,
            post.clone(),
            muni(m, "/imports?register=residents"),
        )
        .header("content-type", "text/csv")
        .body("a\n")
        .refused(403, "operator_role_required"),
    );
    cases.push(
        case(
            "a change feed as CSV",
            Municipality,
            post.clone(),
            muni(m, "/changes"),
        )
        .header("content-type", "text/csv")
        .body("a\n")
        .refused(415, "import_format_unsupported"),
    );
    cases.push(
        case(
            "a change feed of garbage",
            Municipality,
            post.clone(),
            muni(m, "/changes"),
        )
        .header("content-type", "application/x-ndjson")
        .body("{{7*7}}\n")
        .refused(422, "import_invalid"),
    );
    cases.push(
        case(
            "a change of an unknown kind",
            Municipality,
            post.clone(),
            muni(m, "/changes"),
        )
        .header("content-type", "application/x-ndjson")
        .body("{\"change\": \"'; DROP TABLE residents; --\"}\n")
        .refused(422, "import_invalid"),
    );
    cases.push(
        case(
            "a change feed to a municipality not created yet",
            Minato,
            post.clone(),
            muni(minato, "/changes"),
        )
        .header("content-type", "application/x-ndjson")
        .body("{}\n")
        .refused(404, "municipality_not_found"),
    );
    cases.push(
        case(
            "a change feed from the J-LIS operator",
            Jlis,
            post.clone(),
            muni(m, "/changes"),
        )
        .header("content-type", "application/x-ndjson")
        .body("{}\n")
        .refused(403, "operator_role_required"),
    );
    // settlement, registrations, check, go-live, keys
    for (what, date) in [
        ("month 13", "2025-13-01"),
        ("30 February", "2025-02-30"),
        ("year 99999", "99999-01-01"),
        ("day 0", "2025-01-00"),
        ("slashes", "2025/01/01"),
        ("an empty date", ""),
    ] {
        cases.push(
            case(
                format!("a settlement of {what}"),
                Municipality,
                get.clone(),
                muni(m, &format!("/settlement?date={date}")),
            )
            .refused(400, "date_malformed"),
        );
    }
    cases.push(
        case(
            "a settlement of year 0 is an empty day",
            Municipality,
            get.clone(),
            muni(m, "/settlement?date=0000-01-01"),
        )
        .answered(200),
    );
    cases.push(
        case(
            "a residents file with only its header loads nothing",
            Municipality,
            post.clone(),
            muni(m, "/imports?register=residents"),
        )
        .header("content-type", "text/csv")
        .body("household_no,address\n")
        .answered(200),
    );
    cases.push(
        case(
            "a settlement of a municipality not created yet",
            Minato,
            get.clone(),
            muni(minato, "/settlement?date=2025-01-01"),
        )
        .refused(404, "municipality_not_found"),
    );
    cases.push(
        case(
            "a settlement of another municipality",
            Minato,
            get.clone(),
            muni(m, "/settlement"),
        )
        .refused(403, "operator_role_required"),
    );
    cases.push(
        case(
            "registrations of another municipality",
            Minato,
            get.clone(),
            muni(m, "/domicile-registrations"),
        )
        .refused(403, "operator_role_required"),
    );
    cases.push(
        case(
            "registrations in an unknown status",
            Municipality,
            get.clone(),
            muni(m, "/domicile-registrations?status=all"),
        )
        .refused(400, "malformed_request"),
    );
    cases.push(
        case(
            "the check of another municipality",
            Minato,
            get.clone(),
            muni(m, "/check"),
        )
        .refused(403, "operator_role_required"),
    );
    cases.push(
        case(
            "the check of an invalid code",
            Municipality,
            get.clone(),
            muni("13999x", "/check"),
        )
        .refused(400, "municipality_code_invalid"),
    );
    cases.push(
        case(
            "going live for another municipality",
            Minato,
            post.clone(),
            muni(m, "/go-live"),
        )
        .refused(403, "operator_role_required"),
    );
    cases.push(
        case(
            "going live from the J-LIS operator",
            Jlis,
            post.clone(),
            muni(m, "/go-live"),
        )
        .refused(403, "operator_role_required"),
    );
    cases.push(
        case(
            "the keys of another municipality",
            Minato,
            get.clone(),
            muni(m, "/signing-keys"),
        )
        .refused(403, "operator_role_required"),
    );
    cases.push(
        case(
            "a key rotation for another municipality",
            Minato,
            post.clone(),
            muni(m, "/signing-keys"),
        )
        .refused(403, "operator_role_required"),
    );
    cases.push(
        case(
            "a key rotation for an invalid code",
            Municipality,
            post.clone(),
            muni("12345", "/signing-keys"),
        )
        .refused(400, "municipality_code_invalid"),
    );
    cases.push(
        case(
            "a key rotation for a municipality not created yet",
            Minato,
            post.clone(),
            muni(minato, "/signing-keys"),
        )
        .refused(404, "municipality_not_found"),
    );
    cases.push(
        case(
            "revoking an unknown key",
            Municipality,
            post.clone(),
            format!("/v1/admin/signing-keys/{m}-nosuchkey/revoke"),
        )
        .refused(404, "signing_key_not_found"),
    );
    cases.push(
        case(
            "revoking another municipality's key",
            Minato,
            post.clone(),
            format!("/v1/admin/signing-keys/{m}-nosuchkey/revoke"),
        )
        .refused(403, "operator_role_required"),
    );
    cases.push(
        case(
            "revoking a key whose id is SQL",
            Municipality,
            post.clone(),
            format!("/v1/admin/signing-keys/{}/revoke", escaped(HOSTILE[1])),
        )
        .refused(403, "operator_role_required"),
    );
    // domicile decisions and withdrawals
    for step in ["approve", "reject"] {
        cases.push(
            case(
                format!("{step} a registration id that is not a UUID"),
                Municipality,
                post.clone(),
                format!(
                    "/v1/admin/domicile-registrations/{}/{step}",
                    escaped(HOSTILE[0])
                ),
            )
            .json(json!({"position": 1}))
            .refused(404, "domicile_registration_not_found"),
        );
        cases.push(
            case(
                format!("{step} an unknown registration"),
                Municipality,
                post.clone(),
                format!("/v1/admin/domicile-registrations/{random}/{step}"),
            )
            .json(json!({"position": 1}))
            .refused(404, "domicile_registration_not_found"),
        );
        cases.push(
            case(
                format!("{step} from the J-LIS operator"),
                Jlis,
                post.clone(),
                format!("/v1/admin/domicile-registrations/{random}/{step}"),
            )
            .refused(403, "operator_role_required"),
        );
    }
    cases.push(
        case(
            "withdrawing a malformed code",
            Municipality,
            post.clone(),
            format!("/v1/admin/documents/{}/withdraw", escaped(HOSTILE[2])),
        )
        .refused(400, "verification_code_malformed"),
    );
    cases.push(
        case(
            "withdrawing an unknown code",
            Municipality,
            post.clone(),
            format!("/v1/admin/documents/{unknown_code}/withdraw"),
        )
        .refused(404, "document_not_found"),
    );
    cases.push(
        case(
            "withdrawing another municipality's document",
            Minato,
            post.clone(),
            format!("/v1/admin/documents/{}/withdraw", f.printed_code),
        )
        .refused(403, "operator_role_required"),
    );
    cases.push(
        case(
            "withdrawing from the J-LIS operator",
            Jlis,
            post.clone(),
            format!("/v1/admin/documents/{}/withdraw", f.printed_code),
        )
        .refused(403, "operator_role_required"),
    );
    cases.push(
        case(
            "a copier route on the administration listener",
            Municipality,
            post.clone(),
            "/v1/sessions",
        )
        .refused(404, "not_found"),
    );
    cases.push(
        case(
            "the public keys on the administration listener",
            Municipality,
            get.clone(),
            "/v1/keys",
        )
        .refused(404, "not_found"),
    );

    // ---- the operations listener
    for (what, method, path) in [
        (
            "an unknown path on the operations listener",
            get.clone(),
            "/nothing",
        ),
        ("POST /metrics", post.clone(), "/metrics"),
        ("DELETE /dashboard", Method::DELETE, "/dashboard"),
        (
            "the render-delay hook when test hooks are off",
            put.clone(),
            "/test/render-delay-ms",
        ),
        (
            "a copier route on the operations listener",
            post.clone(),
            "/v1/sessions",
        ),
        (
            "an administration route on the operations listener",
            get.clone(),
            "/v1/admin/municipalities/139998",
        ),
    ] {
        cases.push(case(what, Ops, method, path).body("5").answered(404));
    }
    cases.push(
        case(
            "a body over max_body_bytes on the operations listener",
            Ops,
            get.clone(),
            "/metrics",
        )
        .body(oversized)
        .answered(413),
    );
    cases
}

#[tokio::test]
async fn every_malformed_or_hostile_request_gets_its_documented_refusal_and_changes_nothing() {
    let app = TestApp::spawn_with(|c| {
        c.verify_lookups_per_minute = 1_000_000;
        c.document_wait_ms = 2_000;
    })
    .await;
    let clients = Clients::of(&app);
    let fixture = setup(&app, &clients).await;
    let cases = catalogue(&app, &fixture);

    // The table itself: big enough, every case expects something, no two alike.
    assert!(cases.len() >= 150, "only {} cases", cases.len());
    let mut seen = std::collections::HashSet::new();
    for c in &cases {
        assert!(c.status != 0, "{}: no expected status", c.what);
        assert!(
            seen.insert(c.what.clone()),
            "two cases are called {:?}",
            c.what
        );
    }
    let distinct: std::collections::HashSet<_> = cases
        .iter()
        .map(|c| (c.who, c.method.to_string(), &c.path, &c.headers, &c.body))
        .collect();
    assert_eq!(
        distinct.len(),
        cases.len(),
        "two cases send the same request"
    );
    // Every code the table expects is one the README documents.
    let readme = include_str!("../../README.md");
    for code in cases
        .iter()
        .filter_map(|c| c.code)
        .collect::<std::collections::BTreeSet<_>>()
    {
        // As `code` or `NNN code`.
        let documented = readme.match_indices(&format!("{code}`")).any(|(at, _)| {
            let before = &readme[..at];
            before.ends_with('`')
                || (before.ends_with(' ')
                    && before[..before.len() - 1]
                        .rsplit('`')
                        .next()
                        .is_some_and(|s| s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit())))
        });
        assert!(documented, "{code} is not documented in README.md");
    }

    let ignored = [("sessions", "challenge_used_at")];
    let spent = "SELECT count(*) FROM sessions WHERE challenge_used_at IS NOT NULL";
    let spent_before: i64 = app.scalar(spent, &[]).await;
    // The audit trail records what the cases do (its entries are checked
    // below by action), so it is left out of the snapshot.
    let audited = "SELECT coalesce(array_agg(action ORDER BY action), '{}')
                     FROM (SELECT action FROM audit_log UNION ALL SELECT action FROM audit_pending) a";
    let audited_before: Vec<String> = app.scalar(audited, &[]).await;
    let before = snapshot(&app, &ignored).await;

    let mut mismatches = Vec::new();
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for c in &cases {
        match clients.send(&app, c).await {
            Ok((status, code)) => {
                *statuses.entry(status).or_default() += 1;
                if status != c.status || code.as_deref() != c.code {
                    mismatches.push(format!(
                        "{}: {} {} got {status} {code:?}, expected {} {:?}",
                        c.what,
                        c.method,
                        c.path.chars().take(120).collect::<String>(),
                        c.status,
                        c.code
                    ));
                }
            }
            Err(e) => mismatches.push(format!("{}: no answer: {e}", c.what)),
        }
    }

    let mut after = snapshot(&app, &ignored).await;
    let mut audited_after: Vec<String> = app.scalar(audited, &[]).await;
    for entry in &audited_before {
        if let Some(at) = audited_after.iter().position(|a| a == entry) {
            audited_after.remove(at);
        }
    }
    assert!(
        audited_after
            .iter()
            .all(|a| a == "card.authenticated" || a == "register.imported"),
        "audit entries written by refused requests: {audited_after:?}"
    );
    after.retain(|t, _| !t.starts_with("audit_"));
    let spent_after: i64 = app.scalar(spent, &[]).await;
    let changed: Vec<&String> = before
        .keys()
        .filter(|t| !t.starts_with("audit_"))
        .filter(|t| before.get(*t) != after.get(*t))
        .collect();
    let spending = cases.iter().filter(|c| c.spends_challenge).count() as i64;
    assert!(
        mismatches.is_empty(),
        "{} cases, statuses {statuses:?}; {} mismatches:\n{}",
        cases.len(),
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(
        changed.is_empty(),
        "tables changed by refused requests: {changed:?}"
    );
    assert_eq!(
        spent_after - spent_before,
        spending,
        "only the cases that spend a challenge spent one"
    );
    println!("{} cases, statuses {statuses:?}", cases.len());
    // The gateway is still serving.
    let r = clients
        .anonymous
        .call(Method::GET, "/healthz", &[], None)
        .await
        .unwrap();
    assert_eq!(r.status, 200);
}

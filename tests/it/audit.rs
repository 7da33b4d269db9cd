//! The audit trail: a real flow (card authentications, orders printed, a
//! failed print, a J-LIS event, a key rotation, a withdrawal) leaves a chain
//! `kofu audit verify` accepts; a single edit, deletion, insertion, swap or
//! recomputed chain makes it fail at the right seq; the log holds no name,
//! address, My Number or raw serial; a rolled-back change leaves no entry.
//!
//! Tampering goes around the append-only triggers the way someone with
//! superuser access would (`session_replication_role = replica`).

use kofu::devkit::operator_pki::{JLIS_OPERATOR_STEM, MUNICIPALITY_OPERATOR_STEM};
use kofu::devkit::sim::OrderSpec;
use kofu::gateway::audit::{AuditSigner, Report};
use kofu::gateway::signing::{KeyStore, SigningSecret};
use serde_json::json;

use crate::harness::{SIGNING_SECRET, TestApp, serial_hex};

async fn verify(app: &TestApp) -> Report {
    let db = app.db().await;
    kofu::gateway::audit::verify(&db, &[]).await.unwrap()
}

/// Waits for the gateway's own sealer to chain every committed entry.
async fn sealed(app: &TestApp) {
    for _ in 0..100 {
        let pending: i64 = app.scalar("SELECT count(*) FROM audit_pending", &[]).await;
        if pending == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the gateway's sealer left entries pending for 5 s");
}

/// Signs the chain head as a gateway's keeper would, and returns its seq.
/// The gateway's own keeper signs every 10 s, so on a slow machine it may
/// have signed this very head first: then the head is checkpointed all the
/// same.
async fn checkpoint(app: &TestApp) -> i64 {
    let keys = std::sync::Arc::new(KeyStore::new(
        &SigningSecret::from_hex(SIGNING_SECRET).unwrap(),
    ));
    let db = app.db().await;
    if let Some(seq) = AuditSigner::new(keys).checkpoint(&db).await.unwrap() {
        return seq;
    }
    let head: i64 = app.scalar("SELECT seq FROM audit_head", &[]).await;
    let signed: i64 = app
        .scalar("SELECT max(seq) FROM audit_checkpoints", &[])
        .await;
    assert_eq!(signed, head, "the head is signed by the gateway's keeper");
    head
}

/// Runs `sql` as someone who bypasses the append-only triggers.
async fn tamper(app: &TestApp, sql: &str) {
    app.db()
        .await
        .batch_execute(&format!(
            "SET session_replication_role = replica; {sql}; RESET session_replication_role"
        ))
        .await
        .unwrap();
}

async fn seq_of(app: &TestApp, action: &str) -> i64 {
    app.scalar(
        "SELECT min(seq) FROM audit_log WHERE action = $1",
        &[&action],
    )
    .await
}

/// A gateway after a flow that touches every kind of writer the copier and
/// the administration API have, with a checkpoint at the head.
async fn recorded_flow() -> TestApp {
    let app = TestApp::spawn().await;
    let copier = app.copier(1);
    let printed = copier
        .issue(app.pki.card("card-rsa-1"), &OrderSpec::default(), "ja")
        .await
        .unwrap();
    copier
        .issue(app.pki.card("card-ecdsa-1"), &OrderSpec::default(), "en")
        .await
        .unwrap();
    // A failed print: the order is voided.
    let session = copier.open_session().await.unwrap();
    copier
        .present_card(&session, app.pki.card("card-rsa-1"), "ja")
        .await
        .unwrap();
    let ack = copier
        .place_order(session.session_id, "failed-print", &OrderSpec::default())
        .await
        .unwrap();
    let document = copier
        .fetch_document(session.session_id, ack.order_id)
        .await
        .unwrap();
    assert_eq!(document.status, 200);
    assert_eq!(
        copier.report_failed(ack.order_id).await.unwrap().status,
        200
    );
    // A J-LIS event and two administration changes.
    let r = app
        .admin_client(JLIS_OPERATOR_STEM)
        .post_json(
            "/v1/admin/certificate-events",
            &[],
            &json!({"event_id": "audit-1", "kind": "suspended",
                    "serial": serial_hex(app.pki.card("card-rsa-2"))}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{:?}", r.problem_code());
    let operator = app.admin_client(MUNICIPALITY_OPERATOR_STEM);
    let r = operator
        .post_json(
            "/v1/admin/municipalities/139998/signing-keys",
            &[],
            &json!({}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{:?}", r.problem_code());
    let code: String = app
        .scalar(
            "SELECT verification_code FROM orders WHERE id = $1",
            &[&printed.ack.order_id],
        )
        .await;
    let r = operator
        .post_json(
            &format!("/v1/admin/documents/{code}/withdraw"),
            &[],
            &json!({}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{:?}", r.problem_code());
    sealed(&app).await;
    checkpoint(&app).await;
    app
}

#[tokio::test]
async fn a_real_flow_leaves_a_chain_that_verifies_with_every_action_recorded() {
    let app = recorded_flow().await;
    let report = verify(&app).await;
    assert!(report.valid, "{report:?}");
    assert_eq!(report.pending, 0);
    // Ours, and perhaps the gateway keeper's (every 10 s) on a slow run.
    assert!(report.checkpoints >= 1, "{report:?}");
    let last: i64 = app.scalar("SELECT max(seq) FROM audit_log", &[]).await;
    assert_eq!(report.entries, last as u64);
    assert_eq!(report.last_checkpoint_seq, Some(last));

    let count = |action: &'static str| {
        let app = &app;
        async move {
            app.scalar::<i64>(
                "SELECT count(*) FROM audit_log WHERE action = $1",
                &[&action],
            )
            .await
        }
    };
    assert_eq!(count("card.authenticated").await, 3);
    assert_eq!(count("order.accepted").await, 3);
    assert_eq!(count("order.printed").await, 2);
    assert_eq!(count("order.voided").await, 1);
    assert_eq!(count("certificate.suspended").await, 1);
    assert_eq!(count("signing_key.retired").await, 1);
    assert_eq!(count("document.withdrawn").await, 1);
    // The void says why; the rotation and the withdrawal say who.
    let voided: serde_json::Value = app
        .scalar(
            "SELECT subject::jsonb FROM audit_log WHERE action = 'order.voided'",
            &[],
        )
        .await;
    assert_eq!(voided["reason"], "print_failed");
    for action in [
        "signing_key.retired",
        "document.withdrawn",
        "certificate.suspended",
    ] {
        let subject: serde_json::Value = app
            .scalar(
                "SELECT subject::jsonb FROM audit_log WHERE action = $1",
                &[&action],
            )
            .await;
        let operator = subject["operator"].as_str().unwrap_or_default();
        assert!(operator.starts_with("operator:"), "{action}: {subject}");
    }
    // Entries of one order come in the order they happened.
    let accepted = seq_of(&app, "order.accepted").await;
    let printed = seq_of(&app, "order.printed").await;
    assert!(accepted < printed);
}

#[tokio::test]
async fn the_audit_log_holds_no_name_address_my_number_or_raw_serial() {
    let app = recorded_flow().await;
    let text: String = app
        .scalar(
            "SELECT string_agg(action || ' ' || subject, E'\\n' ORDER BY seq) FROM audit_log",
            &[],
        )
        .await;
    assert!(
        text.contains("card.authenticated"),
        "the scan reads the log"
    );
    let mut secrets: Vec<String> = Vec::new();
    for r in kofu::devkit::demo_registers::RESIDENTS {
        secrets.push(r.name.to_owned());
        secrets.push(r.name_kana.to_owned());
        secrets.push(r.resident_code.to_owned());
        secrets.extend(r.my_number.map(str::to_owned));
        // The surname alone, too (names are "姓　名").
        secrets.extend(r.name.split('　').map(str::to_owned));
    }
    for (_, address) in kofu::devkit::demo_registers::HOUSEHOLDS {
        secrets.push((*address).to_owned());
    }
    for (label, _) in kofu::devkit::demo_registers::CARD_HOLDERS {
        let hex = serial_hex(app.pki.card(label));
        secrets.push(hex.to_uppercase());
        secrets.push(hex.to_lowercase());
    }
    for secret in secrets.iter().filter(|s| s.chars().count() > 1) {
        assert!(
            !text.contains(secret.as_str()),
            "the audit log holds a piece of personal data"
        );
    }
}

#[tokio::test]
async fn an_edited_entry_fails_verification_at_its_seq() {
    let app = recorded_flow().await;
    let k = seq_of(&app, "order.voided").await;
    tamper(
        &app,
        &format!(
            "UPDATE audit_log SET subject = replace(subject, 'print_failed', 'printed') WHERE seq = {k}"
        ),
    )
    .await;
    let report = verify(&app).await;
    assert_eq!(
        (report.valid, report.first_bad_seq, report.reason),
        (false, Some(k), "entry_altered")
    );
}

#[tokio::test]
async fn a_deleted_entry_fails_verification_at_its_seq() {
    let app = recorded_flow().await;
    let k = seq_of(&app, "order.voided").await;
    tamper(&app, &format!("DELETE FROM audit_log WHERE seq = {k}")).await;
    let report = verify(&app).await;
    assert_eq!(
        (report.valid, report.first_bad_seq, report.reason),
        (false, Some(k), "entry_missing")
    );
}

#[tokio::test]
async fn an_inserted_entry_fails_verification_at_the_entry_after_it() {
    let app = recorded_flow().await;
    let k = seq_of(&app, "order.voided").await;
    // A well-formed forgery after entry k: the later entries move up one,
    // the forged one links to k correctly, the head counts it.
    tamper(
        &app,
        &format!(
            "UPDATE audit_log SET seq = seq + 1000000 WHERE seq > {k};
             UPDATE audit_log SET seq = seq - 1000000 + 1 WHERE seq > 1000000;
             WITH p AS (SELECT hash, now() AS at, '{{\"order\": \"forged\"}}'::text AS subject
                          FROM audit_log WHERE seq = {k})
             INSERT INTO audit_log (seq, at, action, subject, prev_hash, hash)
             SELECT {k} + 1, p.at, 'order.printed', p.subject, p.hash,
                    sha256(kofu_audit_bytes({k} + 1, p.at, 'order.printed', p.subject, p.hash))
               FROM p;
             UPDATE audit_head SET seq = seq + 1"
        ),
    )
    .await;
    // The entry after the forgery moved to another seq, which its hash covers.
    let report = verify(&app).await;
    assert_eq!(
        (report.valid, report.first_bad_seq, report.reason),
        (false, Some(k + 2), "entry_altered")
    );
}

#[tokio::test]
async fn two_swapped_entries_fail_verification_at_the_first_of_them() {
    let app = recorded_flow().await;
    let k = seq_of(&app, "order.voided").await;
    tamper(
        &app,
        &format!(
            "UPDATE audit_log SET seq = CASE seq WHEN {k} THEN {k} + 1000001 ELSE {k} + 1000000 END
              WHERE seq IN ({k}, {k} + 1);
             UPDATE audit_log SET seq = seq - 1000000 WHERE seq > 1000000"
        ),
    )
    .await;
    let report = verify(&app).await;
    assert_eq!(
        (report.valid, report.first_bad_seq, report.reason),
        (false, Some(k), "entry_altered")
    );
}

#[tokio::test]
async fn a_chain_recomputed_after_an_edit_fails_at_the_signed_checkpoint() {
    let app = recorded_flow().await;
    let k = seq_of(&app, "order.voided").await;
    let signed: i64 = app
        .scalar("SELECT max(seq) FROM audit_checkpoints", &[])
        .await;
    // Edit k, then rehash every entry from k on and the head: the chain
    // alone is consistent again.
    tamper(
        &app,
        &format!(
            "DO $$ DECLARE r record; prev bytea; BEGIN
                 UPDATE audit_log SET subject = '{{\"order\": \"forged\"}}' WHERE seq = {k};
                 SELECT hash INTO prev FROM audit_log WHERE seq = {k} - 1;
                 FOR r IN SELECT * FROM audit_log WHERE seq >= {k} ORDER BY seq LOOP
                     UPDATE audit_log SET prev_hash = prev,
                            hash = sha256(kofu_audit_bytes(r.seq, r.at, r.action, r.subject, prev))
                      WHERE seq = r.seq RETURNING hash INTO prev;
                 END LOOP;
                 UPDATE audit_head SET hash = prev;
             END $$"
        ),
    )
    .await;
    let report = verify(&app).await;
    assert_eq!(
        (report.valid, report.first_bad_seq, report.reason),
        (false, Some(signed), "checkpoint_mismatch")
    );
}

#[tokio::test]
async fn a_rolled_back_change_leaves_no_audit_entry() {
    let app = recorded_flow().await;
    let before: i64 = app.scalar("SELECT seq FROM audit_head", &[]).await;
    let pending = || async {
        app.scalar::<i64>("SELECT count(*) FROM audit_pending", &[])
            .await
    };
    // Refused by the API after the event row was written: rolled back.
    let r = app
        .admin_client(JLIS_OPERATOR_STEM)
        .post_json(
            "/v1/admin/certificate-events",
            &[],
            &json!({"event_id": "audit-2", "kind": "renewed",
                    "serial": serial_hex(&app.pki.unlinked),
                    "new_serial": "0badc0de"}),
        )
        .await
        .unwrap();
    assert!(r.status.is_client_error(), "{:?}", r.problem_code());
    // The append runs inside the transaction: forced to run before the
    // rollback, it is rolled back with the change.
    let mut db = app.db().await;
    let tx = db.transaction().await.unwrap();
    let revoked = tx
        .execute(
            "UPDATE signing_keys SET revoked_at = now() WHERE revoked_at IS NULL",
            &[],
        )
        .await
        .unwrap();
    assert!(revoked > 0);
    tx.batch_execute("SET CONSTRAINTS ALL IMMEDIATE")
        .await
        .unwrap();
    let inside: i64 = tx
        .query_one("SELECT count(*) FROM audit_pending", &[])
        .await
        .unwrap()
        .get(0);
    assert!(inside > 0, "the append is visible inside the transaction");
    tx.rollback().await.unwrap();
    assert_eq!(pending().await, 0);
    // Nothing for the sealer to chain.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let after: i64 = app.scalar("SELECT seq FROM audit_head", &[]).await;
    assert_eq!(after, before);
    let entries: i64 = app.scalar("SELECT count(*) FROM audit_log", &[]).await;
    assert_eq!(entries, before);
    assert!(verify(&app).await.valid);
}

#[tokio::test]
async fn the_audit_log_refuses_updates_and_deletes() {
    let app = TestApp::spawn().await;
    sealed(&app).await;
    let entries: i64 = app.scalar("SELECT count(*) FROM audit_log", &[]).await;
    assert!(entries > 0, "the template's own changes are in the log");
    let db = app.db().await;
    for sql in [
        "UPDATE audit_log SET subject = '{}'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ] {
        let e = db.batch_execute(sql).await.unwrap_err();
        let message = e.as_db_error().map(|d| d.message()).unwrap_or_default();
        assert!(message.contains("append-only"), "{sql}: {e:?}");
    }
}

#[tokio::test]
async fn kofu_audit_verify_prints_one_json_line_and_exits_by_its_verdict() {
    let app = recorded_flow().await;
    let kofu = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kofu"))
            .args(args)
            .args(["--database-url", &app.database_url()])
            .output()
            .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        (out.status.code(), stdout)
    };
    let (status, keys) = kofu(&["audit", "keys"]);
    assert_eq!(status, Some(0));
    let key: serde_json::Value = serde_json::from_str(keys.lines().next().unwrap()).unwrap();
    let public_key = key["public_key"].as_str().unwrap().to_owned();

    let (status, out) = kofu(&["audit", "verify", "--key", &public_key]);
    assert_eq!(status, Some(0), "{out}");
    assert_eq!(out.lines().count(), 1);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["valid"], true);
    assert_eq!(report["reason"], "ok");

    let (status, out) = kofu(&["audit", "verify", "--key", &"00".repeat(32)]);
    assert_eq!(status, Some(1), "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["reason"], "checkpoint_key_not_pinned");

    let k = seq_of(&app, "order.printed").await;
    tamper(&app, &format!("DELETE FROM audit_log WHERE seq = {k}")).await;
    let (status, out) = kofu(&["audit", "verify"]);
    assert_eq!(status, Some(1), "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["first_bad_seq"], k);

    let (status, _) = kofu(&["audit", "verify", "--key", "not-a-key"]);
    assert_eq!(status, Some(2));
}

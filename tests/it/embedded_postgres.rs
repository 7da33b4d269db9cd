//! The private PostgreSQL of `kofu demo`: starts, stops cleanly, is reused.

use kofu::devkit::pgembed::{EmbeddedPostgres, Options};

async fn count_rows(pg: &EmbeddedPostgres) -> i64 {
    let (client, conn) = pg
        .config(kofu::devkit::pgembed::DATABASE)
        .connect(tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute("CREATE TABLE IF NOT EXISTS kept (n int); INSERT INTO kept VALUES (1)")
        .await
        .unwrap();
    client
        .query_one("SELECT count(*) FROM kept", &[])
        .await
        .unwrap()
        .get(0)
}

fn postmaster_running(dir: &std::path::Path) -> bool {
    std::fs::read_to_string(dir.join("pg/postmaster.pid"))
        .ok()
        .and_then(|s| s.lines().next().map(str::to_owned))
        .is_some_and(|pid| std::path::Path::new("/proc").join(pid.trim()).exists())
}

#[tokio::test]
async fn the_cluster_stops_cleanly_and_its_data_is_reused_on_the_next_start() {
    let dir = crate::harness::scratch_dir().join("embedded");
    let pg = EmbeddedPostgres::start(&dir, Options { unsafe_fast: true })
        .await
        .unwrap();
    assert_eq!(count_rows(&pg).await, 1);
    assert!(postmaster_running(&dir));
    pg.stop().await.unwrap();
    assert!(
        !postmaster_running(&dir),
        "postmaster left running after stop"
    );
    assert!(
        !dir.join("pg/postmaster.pid").exists(),
        "fast shutdown removes the pid file"
    );

    let pg = EmbeddedPostgres::start(&dir, Options { unsafe_fast: true })
        .await
        .unwrap();
    assert_eq!(count_rows(&pg).await, 2, "data kept across restarts");
    // Dropping without stop(): the watchdog sees its pipe close and stops PostgreSQL.
    drop(pg);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while postmaster_running(&dir) && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        !postmaster_running(&dir),
        "orphaned postmaster after the owner went away"
    );
}

//! `kofu demo`: the embedded default. A private PostgreSQL under `--data`,
//! the demo PKI under `--certs`, the fictional municipality ひなた市, the
//! gateway, and a simulated copier that prints a residence certificate for
//! each demo card into `<data>/out/`. Then it serves until Ctrl-C and stops
//! PostgreSQL cleanly.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use crate::BoxError;
use crate::devkit::demo_pki::{DemoPki, copier_files};
use crate::devkit::pgembed::{self, EmbeddedPostgres};
use crate::devkit::sim::{CopierClient, OrderSpec};
use crate::gateway::config::{Config, TlsFiles};
use crate::gateway::domain::CertificateKind;
use crate::gateway::server::Gateway;

/// `kofu demo`: the embedded default.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Where the private PostgreSQL cluster and the printed PDFs (out/) live.
    #[arg(long, default_value = "var")]
    pub data: PathBuf,
    /// Where the demo PKI is generated (and reused).
    #[arg(long, default_value = "certs/demo")]
    pub certs: PathBuf,
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
    #[arg(long, default_value = "127.0.0.1:9090")]
    pub ops_listen: SocketAddr,
    /// The administration API (J-LIS certificate events; operator mutual TLS).
    #[arg(long, default_value = "127.0.0.1:8444")]
    pub admin_listen: SocketAddr,
    /// Stop after the simulated copier run instead of serving until Ctrl-C.
    #[arg(long)]
    pub once: bool,
}

/// The copier run: which card (or smartphone) orders what — one of every
/// kind, and the residence certificate three ways by card and once by
/// smartphone.
fn scenarios() -> Vec<(
    &'static str,
    CertificateKind,
    &'static str,
    serde_json::Value,
)> {
    use CertificateKind as K;
    use serde_json::json;
    let residence = |whole: bool, householder: bool, domicile: bool| {
        json!({"whole_household": whole, "show_householder": householder,
               "show_domicile": domicile, "show_my_number": false})
    };
    vec![
        (
            "card-rsa-1",
            K::ResidenceCertificate,
            "self, householder and relationship",
            residence(false, true, false),
        ),
        (
            "card-ecdsa-1",
            K::ResidenceCertificate,
            "whole household, domicile",
            residence(true, true, true),
        ),
        (
            "card-rsa-2",
            K::ResidenceCertificate,
            "self",
            residence(false, false, false),
        ),
        (
            "card-ecdsa-1",
            K::ResidenceRecordCertificate,
            "former surname, birth date, address",
            json!({"show_former_surname": true, "show_birth_date": true, "show_address": true}),
        ),
        ("card-rsa-1", K::SealRegistration, "self", json!({})),
        (
            "card-rsa-1",
            K::TaxCertificate,
            "latest fiscal year",
            json!({}),
        ),
        (
            "card-rsa-1",
            K::FamilyRegisterFull,
            "seven members",
            json!({}),
        ),
        (
            "card-ecdsa-1",
            K::FamilyRegisterIndividual,
            "self",
            json!({}),
        ),
        (
            "card-rsa-1",
            K::FamilyRegisterAddresses,
            "address histories",
            json!({}),
        ),
        // The smartphone certificate derived from card-rsa-1, held to the
        // copier instead of the card.
        (
            "phone-ecdsa-1",
            K::ResidenceCertificate,
            "self, by smartphone",
            residence(false, false, false),
        ),
    ]
}

pub async fn run(args: &DemoArgs) -> Result<(), BoxError> {
    println!("kofu demo");
    let reused = args.data.join("pg").join("PG_VERSION").exists();
    let pg = EmbeddedPostgres::start(&args.data, pgembed::Options { unsafe_fast: false }).await?;
    println!(
        "  PostgreSQL   {} cluster at {} (Unix socket only)",
        if reused { "reused" } else { "new" },
        pg.cluster_dir().display()
    );
    let result = run_on(args, &pg).await;
    let stopped = pg.stop().await;
    result?;
    stopped?;
    println!("PostgreSQL stopped cleanly. Bye.");
    Ok(())
}

async fn run_on(args: &DemoArgs, pg: &EmbeddedPostgres) -> Result<(), BoxError> {
    let pool = crate::gateway::db::pool(
        pg.config(pgembed::DATABASE),
        16,
        std::time::Duration::from_secs(10),
    );
    let mut client = pool.get().await?;
    let applied = crate::gateway::db::migrate(&mut client).await?;
    println!(
        "  migrations   {applied} applied, schema version {}",
        crate::gateway::db::MIGRATIONS.len()
    );

    let certs = args.certs.clone();
    let had_pki = certs.join("user-auth-ca.pem").exists();
    let pki = tokio::task::spawn_blocking(move || {
        let pki = DemoPki::load_or_generate(&certs)?;
        crate::devkit::operator_pki::OperatorPki::ensure_files(&certs)?;
        Ok::<_, BoxError>(pki)
    })
    .await??;
    println!(
        "  demo PKI     {} in {}: user-auth CA, smartphone CA, store-network CA, operator CA, {} copiers, {} cards, {} smartphones",
        if had_pki { "reused" } else { "generated" },
        args.certs.display(),
        pki.copiers.len(),
        pki.cards.len(),
        pki.phones.len()
    );

    crate::devkit::demo_registers::seed(&mut client).await?;
    // Current CRLs of the demo CAs: certificates are refused when there is none.
    let (card_crl, phone_crl) =
        crate::devkit::demo_registers::link_demo_credentials(&mut client, &pki).await?;
    std::fs::write(args.certs.join("user-auth-ca.crl"), &card_crl)?;
    std::fs::write(args.certs.join("smartphone-auth-ca.crl"), &phone_crl)?;
    println!(
        "  revocation   current CRLs of the demo card and smartphone CAs imported ({}, {})",
        args.certs.join("user-auth-ca.crl").display(),
        args.certs.join("smartphone-auth-ca.crl").display()
    );
    drop(client);
    println!(
        "  registers    ひなた市 ({}): {} households, {} residents, {} cards and {} smartphones linked",
        crate::devkit::demo_registers::MUNICIPALITY_CODE,
        crate::devkit::demo_registers::HOUSEHOLDS.len(),
        crate::devkit::demo_registers::RESIDENTS.len(),
        crate::devkit::demo_registers::CARD_HOLDERS.len(),
        crate::devkit::demo_registers::SMARTPHONE_HOLDERS.len()
    );

    crate::gateway::ops::recorder();
    // `KOFU_*` settings apply as for `kofu serve` (the limits, deadlines,
    // workers…); the demo's own listeners, certificates, database and
    // signing secret win over them.
    let settings =
        Config::from_sources("", std::env::vars().filter(|(k, _)| k.starts_with("KOFU_")))?;
    let config = Config {
        listen: args.listen,
        ops_listen: args.ops_listen,
        admin_listen: args.admin_listen,
        tls: TlsFiles::in_dir(&args.certs),
        signing_secret: None,
        signing_secret_file: Some(signing_secret_file(&args.data)?),
        ..settings
    };
    let gateway = Gateway::start(config, pool).await?;
    let api = format!("https://{}", gateway.api_addr);
    println!(
        "  copier API   {api}  (mutual TLS; copier certificates from {})",
        args.certs.join("store-ca.pem").display()
    );
    println!("  public       {api}/healthz  {api}/v1/openapi.yaml");
    println!("  dashboard    http://{}/dashboard", gateway.ops_addr);
    println!("  metrics      http://{}/metrics", gateway.ops_addr);
    if let Some(admin) = gateway.admin_addr {
        println!(
            "  admin API    https://{admin}/v1/admin/certificate-events  (mutual TLS; operator certificates from {})",
            args.certs
                .join(crate::gateway::pki::operators::OPERATOR_CA_FILE)
                .display()
        );
    }

    let outcome = copier_run(args, &pki, &api, &gateway.state.pool).await;
    if let Err(e) = &outcome {
        println!("simulated copier failed: {e}");
    }
    if !args.once && outcome.is_ok() {
        // Installed before "Serving." is printed: a SIGTERM right after it drains.
        let stop = crate::cmd::shutdown_signal();
        println!(
            "Serving. Try `cargo run --release -p loadtest -- once --gateway {api}`. Press Ctrl-C to stop."
        );
        stop.await;
        println!("Stopping: draining requests, then PostgreSQL.");
    }
    gateway.shutdown().await;
    outcome
}

/// The demo's signing secret, `<data>/signing.secret`: made on the first
/// run (readable by its owner only) and kept with the demo's database,
/// whose keys are sealed under it.
fn signing_secret_file(data: &std::path::Path) -> Result<PathBuf, BoxError> {
    let path = data.join("signing.secret");
    if !path.exists() {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::create_dir_all(data)?;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        writeln!(
            file,
            "{}",
            crate::gateway::signing::SigningSecret::generate_hex()
        )?;
    }
    Ok(path)
}

async fn copier_run(
    args: &DemoArgs,
    pki: &DemoPki,
    api: &str,
    pool: &crate::gateway::db::Pool,
) -> Result<(), BoxError> {
    let (copier_id, copier_cert, copier_key) = copier_files(&args.certs, pki, 0);
    let copier = CopierClient::new(
        api,
        &args.certs.join("store-ca.pem"),
        Some((&copier_cert, &copier_key)),
    )?;
    let out = args.data.join("out");
    std::fs::create_dir_all(&out)?;
    // The public keys as `GET /v1/keys` publishes them, for checking the
    // PDFs offline: `kofu document verify --keys <data>/out/keys.json FILE`.
    let published = crate::gateway::signing::published(&pool.get().await?).await?;
    let keys_path = out.join("keys.json");
    std::fs::write(&keys_path, serde_json::to_vec_pretty(&published)?)?;
    let keys: crate::cmd::document_verify::KeyList =
        serde_json::from_slice(&std::fs::read(&keys_path)?)?;
    println!(
        "  signing keys {} published at {api}/v1/keys, saved to {}",
        published.keys.len(),
        keys_path.display()
    );
    println!("simulated copier {copier_id}:");
    for (label, kind, what, options) in scenarios() {
        let card = pki
            .cards
            .iter()
            .chain(&pki.phones)
            .find(|c| c.label == label)
            .ok_or_else(|| format!("demo certificate {label} missing"))?;
        let started = Instant::now();
        let spec = OrderSpec {
            copies: 1,
            ..OrderSpec::of(kind, options)
        };
        let issued = copier.issue(card, &spec, "ja").await?;
        let elapsed = started.elapsed();
        let path = out.join(format!(
            "{}-{}.pdf",
            issued.document_number,
            kind.wire_name()
        ));
        std::fs::write(&path, &issued.pdf)?;
        println!(
            "  {label:<13} {:<18} {} ({what}): ticket {}, {} yen, {} page(s), {} KB, {} ms end to end -> {}",
            card.algorithm.as_str(),
            crate::gateway::render::paper_title(kind),
            issued.ack.ticket,
            issued.ack.amount_yen,
            issued.page_count,
            issued.pdf.len().div_ceil(1024),
            elapsed.as_millis(),
            path.display()
        );
        let verdict = crate::cmd::document_verify::verify_pdf(&issued.pdf, &keys);
        let Some(payload) = verdict.payload.as_ref().filter(|_| verdict.genuine) else {
            return Err(format!(
                "{}: not verified offline ({})",
                path.display(),
                verdict.reason
            )
            .into());
        };
        println!(
            "  {:<13} verified offline: {}, code {}, key {}",
            "", verdict.reason, payload.code, payload.key_id
        );
    }
    Ok(())
}

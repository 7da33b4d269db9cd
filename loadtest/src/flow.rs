//! One issuance as a store copier runs it under load, with the retries a
//! real copier makes: session → card → order → document → printed.
//!
//! Rules:
//! - A transport error, a timeout or a 5xx repeats the same step (the order
//!   with the same Idempotency-Key) with backoff, on the next gateway, until
//!   the issuance's deadline. `503 document_not_ready` just waits.
//! - Every acknowledgement goes into the ack book, every final answer too;
//!   the audits compare them with the database at the end.
//! - A delivered document is checked against what its session asked for
//!   (headers, then the PDF's text); any mismatch is `misdelivered`, and the
//!   copier reports the print failed instead of printing it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hyper::{Method, StatusCode};
use kofu::devkit::demo_pki::DemoCard;
use kofu::devkit::sim::{Ack, CopierClient, OpenedSession, SimError, SimResponse};
use kofu::gateway::domain::CertificateKind;
use kofu::gateway::registry::ResidenceOptions;
use rand::Rng;
use uuid::Uuid;

use crate::audit::{AckBook, Charge, ClientOutcome};
use crate::pdfcheck::{self, Expected};
use crate::population::Holder;
use crate::stats::{Recorder, Stage};

/// A card and whose it is.
pub struct LoadCard {
    pub card: DemoCard,
    pub holder: Holder,
}

/// Knobs of the copier behaviour.
#[derive(Debug, Clone)]
pub struct FlowConfig {
    /// Give up on an issuance after this long (an acknowledged order is then reported failed).
    pub issuance_timeout: Duration,
    /// Fraction of issuances that report `failed` instead of printed.
    pub fail_fraction: f64,
    /// Fraction of orders sent a second time with the same Idempotency-Key after the acknowledgement.
    pub resend_fraction: f64,
    /// Fraction of delivered PDFs parsed and checked page by page.
    pub check_fraction: f64,
    /// Fraction of whole-household certificates.
    pub household_fraction: f64,
    /// Fraction of issuances for the kinds other than the residence certificate.
    pub other_kinds_fraction: f64,
    /// Time the simulated copier takes to print before confirming.
    pub print_time: Duration,
}

/// Everything the copiers share and count into.
pub struct World {
    pub cards: Vec<LoadCard>,
    pub config: FlowConfig,
    /// Names that must never appear on a document of someone else (small populations).
    pub foreign_names: Vec<String>,
    /// The fee per copy of each kind, by municipality code, as the harness set them.
    pub fees: HashMap<String, BTreeMap<CertificateKind, i32>>,
    pub tally: Mutex<Tally>,
    pub started: Instant,
}

/// The run's counters and raw samples.
#[derive(Debug, Default)]
pub struct Tally {
    pub rec: Recorder,
    pub book: AckBook,
    pub issuances: u64,
    pub printed: u64,
    pub voided: u64,
    pub misdelivered: u64,
    pub failed: u64,
    pub abandoned: u64,
    pub restarts: u64,
    /// Issuances started over because a relaxed commit (a session, a card
    /// binding) was lost with the database.
    pub relaxed_restarts: u64,
    pub resends: u64,
    pub dropped_arrivals: u64,
    pub errors: BTreeMap<String, u64>,
    pub retries: BTreeMap<String, u64>,
    /// When each retried answer came (seconds into the run): the windows
    /// of refusals around the faults.
    pub retried_at: Vec<f64>,
    pub voided_by: BTreeMap<String, u64>,
    pub pdf_checked: u64,
    pub pdf_check_ms: Vec<f64>,
    pub misdelivery_examples: Vec<String>,
    pub options: BTreeMap<String, u64>,
}

impl World {
    pub fn now_s(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    fn tally(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.tally.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn retry(&self, what: String) {
        let at = self.now_s();
        let mut t = self.tally();
        *t.retries.entry(what).or_default() += 1;
        t.retried_at.push(at);
    }
}

/// One virtual copier: its identity on every gateway, its home gateway (as
/// a load balancer would spread copiers), and the one it uses now.
pub struct Copier {
    pub clients: Vec<CopierClient>,
    home: usize,
    current: AtomicUsize,
    index: usize,
    /// How many copiers share the cards (a card sits in one copier: copier
    /// `i` uses the cards `j` with `j % of == i % of`, as a resident goes to
    /// the one store near them); 0: any card.
    of: usize,
    /// Cards at the end of the list kept out of everyone's share.
    reserved: usize,
    /// The one card this copier uses (the abusive card of `--abusive-card`).
    card: Option<usize>,
}

impl Copier {
    pub fn new(clients: Vec<CopierClient>, index: usize) -> Copier {
        let home = index % clients.len().max(1);
        Copier {
            clients,
            home,
            current: AtomicUsize::new(home),
            index,
            of: 0,
            reserved: 0,
            card: None,
        }
    }

    /// Shares the cards among `of` copiers, keeping the last `reserved` out.
    pub fn sharing(mut self, of: usize, reserved: usize) -> Copier {
        self.of = of;
        self.reserved = reserved;
        self
    }

    /// Uses card `card` only.
    pub fn with_card(mut self, card: usize) -> Copier {
        self.card = Some(card);
        self
    }

    /// The card of this copier's next issuance, among `n`.
    fn pick_card(&self, rng: &mut impl Rng, n: usize) -> usize {
        if let Some(card) = self.card {
            return card;
        }
        let n = n.saturating_sub(self.reserved).max(1);
        if self.of > 0 && n >= self.of {
            let lane = self.index % self.of;
            let in_lane = (n - lane).div_ceil(self.of);
            rng.gen_range(0..in_lane) * self.of + lane
        } else {
            rng.gen_range(0..n)
        }
    }

    /// Each issuance starts at the home gateway, so load spreads again after
    /// a failed-over gateway is back.
    fn go_home(&self) {
        self.current.store(self.home, Ordering::Relaxed);
    }

    fn client(&self) -> &CopierClient {
        &self.clients[self.current.load(Ordering::Relaxed) % self.clients.len()]
    }

    /// Moves to the next gateway (after a transport failure).
    fn fail_over(&self) {
        self.current.fetch_add(1, Ordering::Relaxed);
    }

    pub fn connections_opened(&self) -> u64 {
        // Clients of one copier do not share connections; sum them.
        self.clients.iter().map(|c| c.connections_opened()).sum()
    }
}

/// How one issuance ended.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    Printed,
    Voided(&'static str),
    /// Refused or broken before or after the order; `stage:code`.
    Failed(String),
    Misdelivered(String),
    /// The deadline passed after the order was acknowledged.
    Abandoned,
}

/// Why a step did not give an answer to act on.
enum StepError {
    /// A non-retryable failure (`stage:code`).
    Fatal(String),
    /// The issuance's deadline passed while retrying (`stage:last code`).
    Deadline(String),
}

fn error_code(stage: Stage, e: &SimError) -> String {
    let what = match e {
        SimError::Transport(_) => "transport".to_owned(),
        SimError::Timeout(_) => "timeout".to_owned(),
        SimError::Refused { status, code, .. } => format!("{} {code}", status.as_u16()),
        other => other.to_string(),
    };
    format!("{}:{what}", stage.name())
}

fn response_code(stage: Stage, r: &SimResponse) -> String {
    format!(
        "{}:{} {}",
        stage.name(),
        r.status.as_u16(),
        r.problem_code().unwrap_or_default()
    )
}

struct Req {
    method: Method,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
}

/// Sends `req` until it gets an answer that is not a transport error or a
/// 5xx (other than `document_not_ready`), backing off, failing over to the
/// next gateway, until `deadline`.
async fn send(
    world: &World,
    copier: &Copier,
    stage: Stage,
    deadline: Instant,
    req: &Req,
) -> Result<SimResponse, StepError> {
    send_counting(world, copier, stage, deadline, req)
        .await
        .map(|(r, _)| r)
}

/// [`send`], also saying whether it had to repeat the request.
async fn send_counting(
    world: &World,
    copier: &Copier,
    stage: Stage,
    deadline: Instant,
    req: &Req,
) -> Result<(SimResponse, bool), StepError> {
    let mut backoff = Duration::from_millis(50);
    let mut repeated = false;
    loop {
        let client = copier.client();
        let result = client
            .call(
                req.method.clone(),
                &req.path,
                &req.headers,
                req.body.clone(),
            )
            .await;
        let code = match result {
            Ok(r)
                if r.status.is_server_error()
                    && r.problem_code().as_deref() != Some("document_not_ready") =>
            {
                response_code(stage, &r)
            }
            Ok(r) => return Ok((r, repeated)),
            Err(e @ (SimError::Transport(_) | SimError::Timeout(_))) => {
                copier.fail_over();
                error_code(stage, &e)
            }
            Err(e) => return Err(StepError::Fatal(error_code(stage, &e))),
        };
        world.retry(code.clone());
        repeated = true;
        let jitter = rand::thread_rng().gen_range(0..=backoff.as_millis() as u64 / 2);
        let pause = backoff + Duration::from_millis(jitter);
        if Instant::now() + pause >= deadline {
            return Err(StepError::Deadline(code));
        }
        tokio::time::sleep(pause).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

fn pick_options(rng: &mut impl Rng, household_fraction: f64) -> (ResidenceOptions, &'static str) {
    if rng.gen_bool(household_fraction.clamp(0.0, 1.0)) {
        let householder = rng.gen_bool(0.5);
        let domicile = rng.gen_bool(0.3);
        (
            ResidenceOptions {
                whole_household: true,
                show_householder: householder,
                show_domicile: domicile,
                show_my_number: false,
                ..Default::default()
            },
            "household",
        )
    } else {
        let roll: f64 = rng.r#gen();
        let options = ResidenceOptions {
            whole_household: false,
            show_householder: roll < 0.3,
            show_domicile: (0.3..0.5).contains(&roll),
            show_my_number: (0.5..0.6).contains(&roll),
            ..Default::default()
        };
        (options, "self")
    }
}

/// The other kinds and their weights within `other_kinds_fraction`.
const OTHER_KINDS: [(CertificateKind, u32); 6] = [
    (CertificateKind::ResidenceRecordCertificate, 2),
    (CertificateKind::SealRegistration, 3),
    (CertificateKind::TaxCertificate, 3),
    (CertificateKind::FamilyRegisterFull, 2),
    (CertificateKind::FamilyRegisterIndividual, 1),
    (CertificateKind::FamilyRegisterAddresses, 1),
];

/// The kind and options of one issuance (and its tally label).
fn pick_order(
    rng: &mut impl Rng,
    config: &FlowConfig,
) -> (
    CertificateKind,
    ResidenceOptions,
    serde_json::Value,
    &'static str,
) {
    if rng.gen_bool(config.other_kinds_fraction.clamp(0.0, 1.0)) {
        let total: u32 = OTHER_KINDS.iter().map(|(_, w)| w).sum();
        let mut roll = rng.gen_range(0..total);
        for (kind, weight) in OTHER_KINDS {
            if roll < weight {
                let options = match kind {
                    CertificateKind::ResidenceRecordCertificate => {
                        serde_json::json!({"show_birth_date": true, "show_address": true})
                    }
                    _ => serde_json::json!({}),
                };
                return (kind, ResidenceOptions::default(), options, kind.wire_name());
            }
            roll -= weight;
        }
    }
    let (options, label) = pick_options(rng, config.household_fraction);
    let json = serde_json::to_value(&options).expect("options serialise");
    (CertificateKind::ResidenceCertificate, options, json, label)
}

const LANGS: [&str; 6] = ["ja", "ja", "ja", "en", "zh-Hans", "ko"];

/// Copies per order.
const COPIES: i32 = 1;

impl World {
    /// What an order of `kind` by `holder` must cost (a fee of 0 when the
    /// harness set none, so any charge then shows as wrong).
    fn charge(&self, holder: &Holder, kind: CertificateKind) -> Charge {
        let fee = self
            .fees
            .get(&holder.municipality)
            .and_then(|fees| fees.get(&kind))
            .copied()
            .unwrap_or(0);
        Charge {
            municipality: holder.municipality.clone(),
            fee_yen: i64::from(fee) * i64::from(COPIES),
        }
    }
}

/// Runs one issuance for a random card and records everything about it.
pub async fn issue(world: &World, copier: &Copier) -> End {
    let (card_index, (certificate_kind, options, order_options, kind), lang, fail, resend, check) = {
        let mut rng = rand::thread_rng();
        let order = pick_order(&mut rng, &world.config);
        (
            copier.pick_card(&mut rng, world.cards.len()),
            order,
            LANGS[rng.gen_range(0..LANGS.len())],
            rng.gen_bool(world.config.fail_fraction.clamp(0.0, 1.0)),
            rng.gen_bool(world.config.resend_fraction.clamp(0.0, 1.0)),
            rng.gen_bool(world.config.check_fraction.clamp(0.0, 1.0)),
        )
    };
    let card = &world.cards[card_index];
    copier.go_home();
    {
        let mut t = world.tally();
        t.issuances += 1;
        *t.options.entry(kind.to_owned()).or_default() += 1;
    }
    let started = Instant::now();
    let deadline = started + world.config.issuance_timeout;
    let plan = Plan {
        card,
        kind: certificate_kind,
        options,
        order_options,
        lang,
        fail,
        resend,
        check,
    };
    let end = run(world, copier, &plan, deadline).await;
    let at = world.now_s();
    let mut t = world.tally();
    match &end {
        End::Printed => {
            t.printed += 1;
            t.rec.printed(at, started.elapsed().as_secs_f64() * 1000.0);
        }
        End::Voided(why) => {
            t.voided += 1;
            *t.voided_by.entry((*why).to_owned()).or_default() += 1;
            t.rec.voided(at);
        }
        End::Failed(code) => {
            t.failed += 1;
            *t.errors.entry(code.clone()).or_default() += 1;
            t.rec.error(at);
        }
        End::Misdelivered(detail) => {
            t.misdelivered += 1;
            if t.misdelivery_examples.len() < 20 {
                t.misdelivery_examples.push(detail.clone());
            }
            t.rec.error(at);
        }
        End::Abandoned => {
            t.abandoned += 1;
            *t.errors.entry("abandoned_after_ack".into()).or_default() += 1;
            t.rec.error(at);
        }
    }
    end
}

struct Plan<'a> {
    card: &'a LoadCard,
    kind: CertificateKind,
    /// The residence certificate's options (what the PDF check expects).
    options: ResidenceOptions,
    /// The options sent, of `kind`.
    order_options: serde_json::Value,
    lang: &'static str,
    fail: bool,
    resend: bool,
    check: bool,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

async fn run(world: &World, copier: &Copier, plan: &Plan<'_>, deadline: Instant) -> End {
    // A lost answer to the card step leaves the challenge used: start over
    // with a new session (at most twice).
    // A session or card binding lost with a relaxed commit in a database
    // crash or failover: the copier's screen says to start over.
    for _ in 0..3 {
        match attempt(world, copier, plan, deadline).await {
            Attempt::Restart => {
                world.tally().restarts += 1;
                continue;
            }
            Attempt::StartOver => {
                world.tally().relaxed_restarts += 1;
                continue;
            }
            Attempt::Done(end) => return end,
        }
    }
    End::Failed("card:restarts_exhausted".into())
}

enum Attempt {
    /// The card step's answer was lost and its challenge is spent.
    Restart,
    /// After the database was lost, the session (`404 session_not_found`)
    /// or its card holder (`403 session_not_authenticated`) is gone: the
    /// relaxed commit that made it did not survive.
    StartOver,
    Done(End),
}

async fn attempt(world: &World, copier: &Copier, plan: &Plan<'_>, deadline: Instant) -> Attempt {
    let fail = |e: StepError| match e {
        StepError::Fatal(code) | StepError::Deadline(code) => Attempt::Done(End::Failed(code)),
    };

    // 1. Session.
    let t = Instant::now();
    let req = Req {
        method: Method::POST,
        path: "/v1/sessions".into(),
        headers: Vec::new(),
        body: None,
    };
    let r = match send(world, copier, Stage::Session, deadline, &req).await {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    if r.status != StatusCode::CREATED {
        return Attempt::Done(End::Failed(response_code(Stage::Session, &r)));
    }
    let Ok(session) = serde_json::from_slice::<OpenedSession>(&r.body) else {
        return Attempt::Done(End::Failed("session:malformed".into()));
    };
    world.tally().rec.stage(Stage::Session, ms(t));

    // 2. Card: the chip signs the challenge.
    let t = Instant::now();
    let Ok(challenge) = URL_SAFE_NO_PAD.decode(&session.challenge) else {
        return Attempt::Done(End::Failed("card:bad_challenge".into()));
    };
    let body = serde_json::json!({
        "certificate": STANDARD.encode(&plan.card.card.cert_der),
        "signature": STANDARD.encode(plan.card.card.sign(&challenge)),
        "algorithm": plan.card.card.algorithm.as_str(),
    });
    let req = Req {
        method: Method::POST,
        path: format!("/v1/sessions/{}/card", session.session_id),
        headers: vec![("accept-language", plan.lang.to_owned())],
        body: Some(body.to_string().into_bytes()),
    };
    let (r, repeated) = match send_counting(world, copier, Stage::Card, deadline, &req).await {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    if repeated
        && r.status == StatusCode::CONFLICT
        && r.problem_code().as_deref() == Some("challenge_already_used")
    {
        return Attempt::Restart;
    }
    if repeated
        && r.status == StatusCode::NOT_FOUND
        && r.problem_code().as_deref() == Some("session_not_found")
    {
        return Attempt::StartOver;
    }
    if r.status != StatusCode::OK {
        return Attempt::Done(End::Failed(response_code(Stage::Card, &r)));
    }
    world.tally().rec.stage(Stage::Card, ms(t));

    // 3. Order, with one Idempotency-Key for every try.
    let t = Instant::now();
    let key = Uuid::from_bytes(kofu::gateway::random_bytes()).to_string();
    let body = serde_json::json!({
        "kind": plan.kind.wire_name(),
        "options": plan.order_options,
        "copies": COPIES,
    });
    let req = Req {
        method: Method::POST,
        path: format!("/v1/sessions/{}/orders", session.session_id),
        headers: vec![("idempotency-key", key.clone())],
        body: Some(body.to_string().into_bytes()),
    };
    let (r, repeated) = match send_counting(world, copier, Stage::Order, deadline, &req).await {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    if repeated
        && r.status == StatusCode::FORBIDDEN
        && r.problem_code().as_deref() == Some("session_not_authenticated")
    {
        return Attempt::StartOver;
    }
    if r.status != StatusCode::CREATED {
        return Attempt::Done(End::Failed(response_code(Stage::Order, &r)));
    }
    let Ok(ack) = serde_json::from_slice::<Ack>(&r.body) else {
        return Attempt::Done(End::Failed("order:malformed".into()));
    };
    let charge = world.charge(&plan.card.holder, plan.kind);
    {
        let mut tally = world.tally();
        tally.book.ack(session.session_id, &key, &ack, &charge);
        tally.rec.stage(Stage::Order, ms(t));
    }
    if plan.resend {
        // The same order again, as a copier whose answer came after its own timeout would.
        if let Ok(r) = send(world, copier, Stage::Order, deadline, &req).await {
            let mut tally = world.tally();
            tally.resends += 1;
            match serde_json::from_slice::<Ack>(&r.body) {
                Ok(again) if r.status == StatusCode::CREATED => {
                    tally.book.ack(session.session_id, &key, &again, &charge)
                }
                _ => {
                    *tally
                        .errors
                        .entry(format!("order_resend:{}", r.status.as_u16()))
                        .or_default() += 1
                }
            }
        }
    }

    let end = deliver_and_print(world, copier, plan, session.session_id, &ack, deadline).await;
    let outcome = match &end {
        End::Printed => ClientOutcome::Printed,
        End::Voided(_) | End::Misdelivered(_) => ClientOutcome::Voided,
        _ => ClientOutcome::Abandoned,
    };
    world.tally().book.outcome(ack.order_id, outcome);
    Attempt::Done(end)
}

async fn deliver_and_print(
    world: &World,
    copier: &Copier,
    plan: &Plan<'_>,
    session_id: Uuid,
    ack: &Ack,
    deadline: Instant,
) -> End {
    // 4. Document: wait for it (ordered release may hold it back).
    let t = Instant::now();
    let req = Req {
        method: Method::GET,
        path: format!("/v1/orders/{}/document", ack.order_id),
        headers: vec![(
            kofu::gateway::copier::SESSION_HEADER,
            session_id.to_string(),
        )],
        body: None,
    };
    let document = loop {
        let r = match send(world, copier, Stage::Document, deadline, &req).await {
            Ok(r) => r,
            Err(StepError::Deadline(_)) => return abandon(world, copier, ack.order_id).await,
            Err(StepError::Fatal(code)) => {
                report_failed(world, copier, ack.order_id).await;
                return End::Failed(code);
            }
        };
        match (r.status, r.problem_code().as_deref()) {
            (StatusCode::OK, _) => break r,
            (StatusCode::SERVICE_UNAVAILABLE, Some("document_not_ready")) => {
                if Instant::now() >= deadline {
                    return abandon(world, copier, ack.order_id).await;
                }
                let pause = r
                    .retry_after()
                    .unwrap_or(Duration::from_millis(200))
                    .min(Duration::from_millis(200));
                tokio::time::sleep(pause).await;
            }
            (_, Some("order_voided")) => return End::Voided("voided_before_delivery"),
            _ => {
                report_failed(world, copier, ack.order_id).await;
                return End::Failed(response_code(Stage::Document, &r));
            }
        }
    };
    world.tally().rec.stage(Stage::Document, ms(t));

    // Binding checks, headers first.
    if let Err(detail) = check_document(world, plan, ack, &document).await {
        report_failed(world, copier, ack.order_id).await;
        return End::Misdelivered(format!(
            "order {} ticket {}: {detail}",
            ack.order_id, ack.ticket
        ));
    }

    // 5. Print (or fail to), and confirm.
    if !world.config.print_time.is_zero() {
        tokio::time::sleep(world.config.print_time).await;
    }
    let t = Instant::now();
    let verb = if plan.fail { "failed" } else { "printed" };
    let req = Req {
        method: Method::POST,
        path: format!("/v1/orders/{}/{verb}", ack.order_id),
        headers: Vec::new(),
        body: None,
    };
    let r = match send(world, copier, Stage::Printed, deadline, &req).await {
        Ok(r) => r,
        Err(StepError::Deadline(_)) => return abandon(world, copier, ack.order_id).await,
        Err(StepError::Fatal(code)) => return End::Failed(code),
    };
    match (r.status, r.problem_code().as_deref(), plan.fail) {
        (StatusCode::OK, _, false) => {
            world.tally().rec.stage(Stage::Printed, ms(t));
            End::Printed
        }
        (StatusCode::OK, _, true) => End::Voided("reported_failed"),
        (_, Some("order_voided"), _) => End::Voided("voided_before_print_confirmed"),
        _ => End::Failed(response_code(Stage::Printed, &r)),
    }
}

async fn check_document(
    world: &World,
    plan: &Plan<'_>,
    ack: &Ack,
    document: &SimResponse,
) -> Result<(), String> {
    let body_sha = kofu::gateway::http::hex(
        ring::digest::digest(&ring::digest::SHA256, &document.body).as_ref(),
    );
    if document.header("kofu-document-sha256") != Some(body_sha.as_str()) {
        return Err("Kofu-Document-Sha256 does not match the body".into());
    }
    let ticket = document
        .header("kofu-ticket")
        .and_then(|t| t.parse::<i64>().ok());
    if ticket != Some(ack.ticket) {
        return Err(format!(
            "Kofu-Ticket {ticket:?} is not the acknowledged {}",
            ack.ticket
        ));
    }
    let Some(document_number) = document
        .header("kofu-document-number")
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
    else {
        return Err("no Kofu-Document-Number".into());
    };
    // The number names the municipality: a document of the holder's, and no other.
    let own_number =
        kofu::gateway::pipeline::document_number(&plan.card.holder.municipality, ack.ticket);
    if document_number != own_number {
        return Err(format!(
            "Kofu-Document-Number {document_number} is not {own_number}, the holder's municipality's"
        ));
    }
    let page_count: usize = document
        .header("kofu-page-count")
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    if !document.body.starts_with(b"%PDF-") {
        return Err("body is not a PDF".into());
    }
    // The page-by-page check knows the residence certificate's layout; the
    // other kinds are checked for their identity headers above (and by the
    // integration tests' pdftotext reads).
    if !plan.check || plan.kind != CertificateKind::ResidenceCertificate {
        return Ok(());
    }
    let holder = &plan.card.holder;
    let members: Vec<String> = if plan.options.whole_household {
        holder.household_names.clone()
    } else {
        vec![holder.name.clone()]
    };
    let household = holder.household_names.clone();
    // 個人番号: the holder's when asked for on a self-only copy; none otherwise.
    let (my_number_shown, my_numbers_hidden): (Option<String>, Vec<String>) =
        match (plan.options.show_my_number, plan.options.whole_household) {
            (false, _) => (None, holder.household_my_numbers.clone()),
            (true, false) => (
                holder.my_number.clone(),
                holder
                    .household_my_numbers
                    .iter()
                    .filter(|n| Some(*n) != holder.my_number.as_ref())
                    .cloned()
                    .collect(),
            ),
            (true, true) => (None, Vec::new()),
        };
    let pdf = document.body.clone();
    let allowed = holder.household_numbers.clone();
    let address = holder.address.clone();
    let foreign = world.foreign_names.clone();
    let (order_id, ticket) = (ack.order_id, ack.ticket);
    let started = Instant::now();
    let verdict = tokio::task::spawn_blocking(move || {
        pdfcheck::check_pdf(
            &pdf,
            &Expected {
                order_id,
                ticket,
                document_number: &document_number,
                page_count,
                members: &members,
                address: &address,
                allowed_numbers: &allowed,
                household: &household,
                foreign_names: &foreign,
                my_number_shown: my_number_shown.as_deref(),
                my_numbers_hidden: &my_numbers_hidden,
            },
        )
    })
    .await
    .unwrap_or_else(|_| Err("PDF check panicked".into()));
    let mut t = world.tally();
    t.pdf_checked += 1;
    t.pdf_check_ms.push(ms(started));
    verdict
}

/// The deadline passed after the acknowledgement: tell the gateway the print
/// failed (so the order is voided now rather than at its print deadline).
async fn abandon(world: &World, copier: &Copier, order_id: Uuid) -> End {
    if report_failed(world, copier, order_id).await {
        End::Voided("abandoned_then_reported_failed")
    } else {
        End::Abandoned
    }
}

/// `POST /failed` with a few seconds of retries; true when the order is voided.
async fn report_failed(world: &World, copier: &Copier, order_id: Uuid) -> bool {
    let req = Req {
        method: Method::POST,
        path: format!("/v1/orders/{order_id}/failed"),
        headers: Vec::new(),
        body: None,
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    match send(world, copier, Stage::Printed, deadline, &req).await {
        Ok(r) => r.status == StatusCode::OK || r.problem_code().as_deref() == Some("order_voided"),
        Err(_) => false,
    }
}

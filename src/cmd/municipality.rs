//! `kofu municipality …`: a municipality's clerk (or a script) runs its
//! onboarding and settings over the administration API, with their operator
//! certificate. Human-readable by default, one JSON document with `--json`.
//!
//! Exit codes: 0 done, 1 the gateway refused (its code, and every wrong
//! field or failed check, are printed), 2 the request could not be made
//! (usage, files, network).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use base64::Engine;
use hyper::Method;
use serde_json::Value;

use crate::cmd::https::{self, Answer};

/// Where the administration API is and who is asking.
#[derive(Debug, Clone, clap::Args)]
pub struct Connection {
    /// Base URL of the administration listener, e.g. https://127.0.0.1:8444
    #[arg(long, env = "KOFU_ADMIN_URL")]
    pub url: String,
    /// The CA that issued the gateway's server certificate (PEM).
    #[arg(long, env = "KOFU_ADMIN_CA")]
    pub ca: PathBuf,
    /// The operator certificate (PEM), naming the municipality's role.
    #[arg(long, env = "KOFU_OPERATOR_CERT")]
    pub cert: PathBuf,
    /// The operator certificate's private key (PEM).
    #[arg(long, env = "KOFU_OPERATOR_KEY")]
    pub key: PathBuf,
    /// Print the gateway's JSON answer instead of the human-readable form.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum MunicipalityCommand {
    /// Creates the municipality from a settings file (JSON or TOML), not live yet.
    Create {
        /// 全国地方公共団体コード: six digits with its check digit.
        code: String,
        #[arg(long)]
        settings: PathBuf,
        #[command(flatten)]
        connection: Connection,
    },
    /// Replaces the settings with a file's (a new version; orders accepted
    /// from now on are taken under it).
    Set {
        code: String,
        #[arg(long)]
        settings: PathBuf,
        #[command(flatten)]
        connection: Connection,
    },
    /// Shows the current settings (or those of `--version N`) and whether it is live.
    Show {
        code: String,
        #[arg(long)]
        version: Option<u32>,
        #[command(flatten)]
        connection: Connection,
    },
    /// The onboarding checklist: settings, registers, signing key, and a
    /// sample of every kind offered rendered without being issued.
    Check {
        code: String,
        #[command(flatten)]
        connection: Connection,
    },
    /// Loads a register file (CSV with the documented header, or NDJSON:
    /// `.ndjson`/`.jsonl`) in one transaction: every error is listed by line
    /// and field and nothing is loaded; the same file twice changes nothing.
    Import {
        code: String,
        /// Which register: residents, seals, tax, family_registers,
        /// family_register_events, family_register_addresses (附票).
        #[arg(long)]
        register: String,
        file: PathBuf,
        #[command(flatten)]
        connection: Connection,
    },
    /// Applies a change feed (異動: NDJSON, one change per line named by
    /// `change`) in one transaction: every error is listed by line and
    /// field and nothing is applied.
    Changes {
        code: String,
        file: PathBuf,
        #[command(flatten)]
        connection: Connection,
    },
    /// A day's settlement per store chain (Asia/Tokyo), as CSV (`--json`
    /// for the API's JSON).
    Settlement {
        code: String,
        /// YYYY-MM-DD; today when left out.
        #[arg(long)]
        date: Option<String>,
        #[command(flatten)]
        connection: Connection,
    },
    /// The registered-domicile registrations with this municipality: the
    /// staff queue, and the staff's decisions.
    DomicileRegistrations {
        #[command(subcommand)]
        command: DomicileCommand,
    },
    /// Takes the municipality live (only when the check passes).
    GoLive {
        code: String,
        #[command(flatten)]
        connection: Connection,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum DomicileCommand {
    /// Lists the registrations in a status (default: pending, the queue).
    List {
        code: String,
        #[arg(long, default_value = "pending")]
        status: String,
        #[command(flatten)]
        connection: Connection,
    },
    /// Approves a pending registration as the register entry at `--position`.
    Approve {
        id: String,
        #[arg(long)]
        position: i32,
        #[command(flatten)]
        connection: Connection,
    },
    /// Rejects a pending registration.
    Reject {
        id: String,
        #[command(flatten)]
        connection: Connection,
    },
}

/// What a command ends with.
enum Outcome {
    Done,
    Refused,
    CouldNotAsk(String),
}

pub fn run(command: &MunicipalityCommand) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kofu municipality: runtime_unavailable: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(execute(command)) {
        Outcome::Done => ExitCode::SUCCESS,
        Outcome::Refused => ExitCode::from(1),
        Outcome::CouldNotAsk(why) => {
            eprintln!("kofu municipality: {why}");
            ExitCode::from(2)
        }
    }
}

async fn execute(command: &MunicipalityCommand) -> Outcome {
    use MunicipalityCommand as C;
    let (connection, method, path, body, view): (
        &Connection,
        Method,
        String,
        Option<Vec<u8>>,
        View,
    ) = match command {
        C::Create {
            code,
            settings,
            connection,
        } => match settings_file(settings) {
            Ok(body) => (
                connection,
                Method::POST,
                format!("/v1/admin/municipalities/{code}"),
                Some(body),
                View::Municipality,
            ),
            Err(why) => return Outcome::CouldNotAsk(why),
        },
        C::Set {
            code,
            settings,
            connection,
        } => match settings_file(settings) {
            Ok(body) => (
                connection,
                Method::PUT,
                format!("/v1/admin/municipalities/{code}/settings"),
                Some(body),
                View::Municipality,
            ),
            Err(why) => return Outcome::CouldNotAsk(why),
        },
        C::Show {
            code,
            version,
            connection,
        } => (
            connection,
            Method::GET,
            match version {
                Some(v) => format!("/v1/admin/municipalities/{code}?version={v}"),
                None => format!("/v1/admin/municipalities/{code}"),
            },
            None,
            View::Municipality,
        ),
        C::Check { code, connection } => (
            connection,
            Method::GET,
            format!("/v1/admin/municipalities/{code}/check"),
            None,
            View::Checklist,
        ),
        C::Import {
            code,
            register,
            file,
            connection,
        } => return import(code, register, file, connection).await,
        C::Changes {
            code,
            file,
            connection,
        } => return changes(code, file, connection).await,
        C::Settlement {
            code,
            date,
            connection,
        } => return settlement(code, date.as_deref(), connection).await,
        C::DomicileRegistrations { command } => match command {
            DomicileCommand::List {
                code,
                status,
                connection,
            } => (
                connection,
                Method::GET,
                format!("/v1/admin/municipalities/{code}/domicile-registrations?status={status}"),
                None,
                View::Registrations,
            ),
            DomicileCommand::Approve {
                id,
                position,
                connection,
            } => (
                connection,
                Method::POST,
                format!("/v1/admin/domicile-registrations/{id}/approve"),
                Some(serde_json::to_vec(&serde_json::json!({"position": position})).expect("JSON")),
                View::Decision,
            ),
            DomicileCommand::Reject { id, connection } => (
                connection,
                Method::POST,
                format!("/v1/admin/domicile-registrations/{id}/reject"),
                None,
                View::Decision,
            ),
        },
        C::GoLive { code, connection } => (
            connection,
            Method::POST,
            format!("/v1/admin/municipalities/{code}/go-live"),
            None,
            View::Live,
        ),
    };
    let answer = match https::request(
        &connection.url,
        method,
        &path,
        body,
        &connection.ca,
        Some((&connection.cert, &connection.key)),
    )
    .await
    {
        Ok(a) => a,
        Err(e) => return Outcome::CouldNotAsk(e.code().to_owned()),
    };
    let value: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    if connection.json {
        println!("{value}");
    } else {
        print!("{}", human(&answer, &value, view));
    }
    let failed_check = matches!(view, View::Checklist) && value["passed"] != Value::Bool(true);
    if answer.status.is_success() && failed_check {
        return Outcome::Refused;
    }
    outcome_of(&answer)
}

async fn import(code: &str, register: &str, file: &Path, connection: &Connection) -> Outcome {
    let ndjson = file
        .extension()
        .is_some_and(|e| e == "ndjson" || e == "jsonl");
    let path = format!("/v1/admin/municipalities/{code}/imports?register={register}");
    let media = if ndjson {
        "application/x-ndjson"
    } else {
        "text/csv"
    };
    let answer = match upload(&path, file, media, connection).await {
        Ok(a) => a,
        Err(outcome) => return outcome,
    };
    report(&answer, connection, |value| {
        format!(
            "{}: {} records: {} inserted, {} updated, {} unchanged",
            value["register"].as_str().unwrap_or(register),
            value["records"],
            value["inserted"],
            value["updated"],
            value["unchanged"]
        )
    })
}

/// Prints an upload's answer: the API's JSON with `--json`, else `done`'s
/// summary of a success or every error of a refusal.
fn report(
    answer: &https::Answer,
    connection: &Connection,
    done: impl Fn(&Value) -> String,
) -> Outcome {
    let value: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    if connection.json {
        println!("{value}");
    } else if answer.status.is_success() {
        println!("{}", done(&value));
    } else {
        print!("{}", human(answer, &value, View::Import));
    }
    outcome_of(answer)
}

async fn changes(code: &str, file: &Path, connection: &Connection) -> Outcome {
    let path = format!("/v1/admin/municipalities/{code}/changes");
    let answer = match upload(&path, file, "application/x-ndjson", connection).await {
        Ok(a) => a,
        Err(outcome) => return outcome,
    };
    report(&answer, connection, |value| {
        let by_change: Vec<String> = value["by_change"]
            .as_object()
            .map(|o| o.iter().map(|(k, v)| format!("{k} {v}")).collect())
            .unwrap_or_default();
        format!(
            "{} changes applied: {}",
            value["changes"],
            by_change.join(", ")
        )
    })
}

/// Sends `file` to `path` with a progress bar while it is sent (then a
/// spinner while the gateway checks and applies it in one transaction).
async fn upload(
    path: &str,
    file: &Path,
    content_type: &'static str,
    connection: &Connection,
) -> Result<https::Answer, Outcome> {
    let data = std::fs::read(file)
        .map_err(|e| Outcome::CouldNotAsk(format!("file_unreadable: {}: {e}", file.display())))?;
    // The bar shows the upload; then the gateway checks and loads it all
    // in one transaction, and the spinner waits for that.
    let bar = if connection.json || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(data.len() as u64)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {elapsed}")
            .expect("the template parses")
            .progress_chars("#>-"),
    );
    bar.set_message(format!("sending {}", file.display()));
    let upload = https::Upload {
        content_type,
        data: bytes::Bytes::from(data),
        progress: Some(bar.clone()),
    };
    let sent = bar.clone();
    let ticker = tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            if sent.position() >= sent.length().unwrap_or(0) {
                sent.set_message("checking and loading");
                sent.tick();
            }
        }
    });
    let answer = https::send(
        &connection.url,
        Method::POST,
        path,
        Some(upload),
        &connection.ca,
        Some((&connection.cert, &connection.key)),
    )
    .await;
    ticker.abort();
    bar.finish_and_clear();
    answer.map_err(|e| Outcome::CouldNotAsk(e.code().to_owned()))
}

async fn settlement(code: &str, date: Option<&str>, connection: &Connection) -> Outcome {
    let mut path = format!("/v1/admin/municipalities/{code}/settlement?");
    if let Some(d) = date {
        path.push_str(&format!("date={d}&"));
    }
    if !connection.json {
        path.push_str("format=csv");
    }
    let answer = match https::request(
        &connection.url,
        Method::GET,
        &path,
        None,
        &connection.ca,
        Some((&connection.cert, &connection.key)),
    )
    .await
    {
        Ok(a) => a,
        Err(e) => return Outcome::CouldNotAsk(e.code().to_owned()),
    };
    if answer.status.is_success() {
        print!("{}", String::from_utf8_lossy(&answer.body));
        if connection.json {
            println!();
        }
    } else {
        let value: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        if connection.json {
            println!("{value}");
        } else {
            print!("{}", human(&answer, &value, View::Import));
        }
    }
    outcome_of(&answer)
}

fn outcome_of(answer: &Answer) -> Outcome {
    if answer.status.is_success() {
        Outcome::Done
    } else if answer.status.is_server_error() || answer.status.as_u16() == 429 {
        Outcome::CouldNotAsk(answer.problem_code())
    } else {
        Outcome::Refused
    }
}

/// The settings file as a JSON body: `.toml` files are read as TOML, anything
/// else as JSON. A `seal_image_file` names the seal image's PNG (relative to
/// the settings file), sent as `seal_image_png`.
fn settings_file(path: &Path) -> Result<Vec<u8>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("settings_unreadable: {}: {e}", path.display()))?;
    let value: Value = if path.extension().is_some_and(|e| e == "toml") {
        let table: toml::Value =
            toml::from_str(&text).map_err(|e| format!("settings_malformed: {e}"))?;
        serde_json::to_value(table).map_err(|e| format!("settings_malformed: {e}"))?
    } else {
        serde_json::from_str(&text).map_err(|e| format!("settings_malformed: {e}"))?
    };
    let mut value = value;
    if let Some(object) = value.as_object_mut()
        && let Some(file) = object.remove("seal_image_file")
    {
        let file = file
            .as_str()
            .ok_or("settings_malformed: seal_image_file is not a path")?;
        let file = path.parent().unwrap_or(Path::new(".")).join(file);
        let png = std::fs::read(&file)
            .map_err(|e| format!("seal_image_unreadable: {}: {e}", file.display()))?;
        object.insert(
            "seal_image_png".to_owned(),
            Value::String(base64::engine::general_purpose::STANDARD.encode(png)),
        );
    }
    Ok(serde_json::to_vec(&value).expect("JSON serialises"))
}

#[derive(Debug, Clone, Copy)]
enum View {
    Municipality,
    Checklist,
    Live,
    Import,
    Registrations,
    Decision,
}

/// The answer for a person.
fn human(answer: &Answer, value: &Value, view: View) -> String {
    let mut out = String::new();
    if !answer.status.is_success() {
        out.push_str(&format!(
            "refused: {} — {}\n",
            answer.problem_code(),
            value["detail"].as_str().unwrap_or("")
        ));
        for e in value["errors"].as_array().into_iter().flatten() {
            let at = match e["line"].as_u64() {
                Some(line) => format!("line {line}, "),
                None => String::new(),
            };
            out.push_str(&format!(
                "  {at}{}: {}\n",
                e["field"].as_str().unwrap_or("?"),
                e["reason"].as_str().unwrap_or("?")
            ));
        }
        if let Some(count) = value["error_count"].as_u64() {
            let listed = value["errors"].as_array().map_or(0, Vec::len) as u64;
            if count > listed {
                out.push_str(&format!("  … and {} more\n", count - listed));
            }
        }
        if let Some(message) = value["message"].as_str() {
            out.push_str(&format!("  {message}\n"));
        }
        for c in value["checks"].as_array().into_iter().flatten() {
            out.push_str(&check_line(c));
        }
        return out;
    }
    match view {
        View::Municipality => {
            let s = &value["settings"];
            out.push_str(&format!(
                "{} {}{} (settings version {}){}\n",
                value["code"].as_str().unwrap_or(""),
                s["prefecture"].as_str().unwrap_or(""),
                s["name"].as_str().unwrap_or(""),
                value["settings_version"],
                match value["live_at"].as_str() {
                    Some(at) => format!(", live since {at}"),
                    None if value.get("live_at").is_some() => ", not live".to_owned(),
                    None => String::new(),
                }
            ));
            out.push_str(&format!(
                "  mayor: {} {}; seal: {}{}\n",
                s["mayor_title"].as_str().unwrap_or(""),
                s["mayor_name"].as_str().unwrap_or(""),
                s["seal_text"].as_str().unwrap_or(""),
                match s["seal_image_png"]
                    .as_str()
                    .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
                {
                    Some(png) => format!(" (printed as its image, {} bytes)", png.len()),
                    None => String::new(),
                }
            ));
            for (kind, fee) in s["fees"].as_object().into_iter().flatten() {
                let hours = &s["hours"][kind];
                out.push_str(&format!(
                    "  {kind}: {fee} yen, {}\n",
                    if hours.is_object() {
                        format!(
                            "{}–{}{}",
                            hours["open"].as_str().unwrap_or(""),
                            hours["close"].as_str().unwrap_or(""),
                            if hours["weekdays_only"] == Value::Bool(true) {
                                " weekdays"
                            } else {
                                ""
                            }
                        )
                    } else {
                        "06:30–23:00".to_owned()
                    }
                ));
            }
        }
        View::Checklist => {
            out.push_str(&format!(
                "onboarding check of {}: {}\n",
                value["code"].as_str().unwrap_or(""),
                if value["passed"] == Value::Bool(true) {
                    "passed"
                } else {
                    "not passed"
                }
            ));
            for c in value["checks"].as_array().into_iter().flatten() {
                out.push_str(&check_line(c));
            }
        }
        View::Import => {}
        View::Registrations => {
            let list = value["registrations"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            out.push_str(&format!(
                "{} {} registration(s) with {}\n",
                list.len(),
                value["status"].as_str().unwrap_or(""),
                value["code"].as_str().unwrap_or("")
            ));
            for r in &list {
                out.push_str(&format!(
                    "  {}  {}  {} (born {})  本籍 {}  筆頭者 {}\n",
                    r["registration_id"].as_str().unwrap_or(""),
                    r["created_at"].as_str().unwrap_or(""),
                    r["name"].as_str().unwrap_or(""),
                    r["birth_date"].as_str().unwrap_or(""),
                    r["domicile"].as_str().unwrap_or(""),
                    r["head_of_register"].as_str().unwrap_or("")
                ));
            }
        }
        View::Decision => out.push_str(&format!(
            "{}: {}\n",
            value["registration_id"].as_str().unwrap_or(""),
            value["status"].as_str().unwrap_or("")
        )),
        View::Live => out.push_str(&format!(
            "{} is live since {}\n",
            value["code"].as_str().unwrap_or(""),
            value["live_at"].as_str().unwrap_or("")
        )),
    }
    out
}

fn check_line(c: &Value) -> String {
    format!(
        "  [{}] {}: {}\n",
        if c["passed"] == Value::Bool(true) {
            "x"
        } else {
            " "
        },
        c["name"].as_str().unwrap_or(""),
        c["detail"].as_str().unwrap_or("")
    )
}

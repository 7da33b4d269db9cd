//! The settlement audit: kofu's daily settlement
//! ([`settlement::for_day`]) of each municipality for each Asia/Tokyo day
//! the run covered, against totals made here from the order rows, to the
//! yen, per store chain and in total; and each order of the run against
//! what its card holder's municipality charges.
//!
//! Rules:
//! - The totals here share no SQL with kofu's: the rows are fetched plain,
//!   and the day (UTC+9; Japan has no daylight saving time), the store chain
//!   and the sums are worked out in Rust.
//! - Beside recomputing kofu's lines, the totals are held to the fee rules:
//!   the fees are the settings' fee for the kind (in the version the order
//!   names) times the copies, the commission 123 yen a copy, a refund the
//!   whole amount.
//! - Every figure that differs is one mismatch; any mismatch fails the run.
//! - The arithmetic is pure functions over plain data, unit-tested; the SQL
//!   only fetches.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kofu::gateway::db::Client;
use kofu::gateway::municipality::LocalGovernmentCode;
use kofu::gateway::municipality::settlement::{self, COMMISSION_PER_COPY_YEN, Line, Settlement};
use serde::Serialize;
use time::macros::offset;
use time::{Date, Duration, OffsetDateTime, UtcOffset};
use uuid::Uuid;

use crate::BoxError;
use crate::audit::{Charge, DbOrder};

/// Japan Standard Time, in which settlement days are counted.
const TOKYO: UtcOffset = offset!(+9);

/// How many mismatches the report lists (all are counted).
const EXAMPLES: usize = 20;

/// The Asia/Tokyo calendar day of an instant.
pub fn tokyo_day(at: OffsetDateTime) -> Date {
    at.to_offset(TOKYO).date()
}

/// The Asia/Tokyo days from `from` to `to`, both included (a run that
/// crosses midnight covers two).
pub fn tokyo_days(from: OffsetDateTime, to: OffsetDateTime) -> Vec<Date> {
    let (mut day, last) = (tokyo_day(from), tokyo_day(to));
    let mut days = Vec::new();
    while day <= last {
        days.push(day);
        match day.next_day() {
            Some(next) => day = next,
            None => break,
        }
    }
    days
}

/// A printed or voided order, as the audit reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRow {
    pub municipality: String,
    /// `orders.store_chain`, or the first part of the session's copier CN
    /// for an order from before the chain was recorded.
    pub store_chain: String,
    pub printed_at: Option<OffsetDateTime>,
    pub voided_at: Option<OffsetDateTime>,
    pub copies: i64,
    pub amount_yen: i64,
    pub commission_yen: Option<i64>,
    pub refund_yen: Option<i64>,
    /// The fee per copy of the order's kind in the settings version the
    /// order names; `None` when that version or fee is not found.
    pub listed_fee_yen: Option<i64>,
}

/// One line of a settlement: municipality, day, store chain.
pub type Key = (String, Date, String);

/// One store chain's day with one municipality, summed from the rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sums {
    /// kofu's line, recomputed.
    pub line: Line,
    /// Σ listed fee × copies over the printed orders.
    pub listed_fees_yen: i64,
    /// Σ 123 yen × copies over the printed orders.
    pub commission_by_copies_yen: i64,
    /// Σ amount over the voided orders (each refund is the whole amount).
    pub voided_amounts_yen: i64,
}

/// Sums the rows by municipality, Asia/Tokyo day and store chain: a printed
/// order on the day it was printed, a voided one on the day it was voided.
pub fn sum_rows(rows: &[OrderRow]) -> BTreeMap<Key, Sums> {
    fn sums<'a>(
        out: &'a mut BTreeMap<Key, Sums>,
        r: &OrderRow,
        at: OffsetDateTime,
    ) -> &'a mut Sums {
        let key = (r.municipality.clone(), tokyo_day(at), r.store_chain.clone());
        out.entry(key).or_insert_with(|| Sums {
            line: Line {
                store_chain: r.store_chain.clone(),
                ..Line::default()
            },
            ..Sums::default()
        })
    }
    let mut out: BTreeMap<Key, Sums> = BTreeMap::new();
    for r in rows {
        let by_copies = r.copies * i64::from(COMMISSION_PER_COPY_YEN);
        if let Some(at) = r.printed_at {
            let s = sums(&mut out, r, at);
            s.line.printed_orders += 1;
            s.line.copies += r.copies;
            s.line.fees_yen += r.amount_yen;
            s.line.commission_yen += r.commission_yen.unwrap_or(by_copies);
            s.listed_fees_yen += r.listed_fee_yen.unwrap_or(0) * r.copies;
            s.commission_by_copies_yen += by_copies;
        }
        if let Some(at) = r.voided_at {
            let s = sums(&mut out, r, at);
            s.line.voided_orders += 1;
            s.line.refunds_yen += r.refund_yen.unwrap_or(0);
            s.voided_amounts_yen += r.amount_yen;
        }
    }
    for s in out.values_mut() {
        s.line.payable_yen = s.line.fees_yen - s.line.commission_yen;
    }
    out
}

/// One figure of a settlement that is not what the orders say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub municipality: String,
    pub date: String,
    /// The store chain, or `TOTAL` for the day's total.
    pub store_chain: String,
    /// The figure (a field of the settlement line, or a rule: `fees_yen
    /// by settings`, `commission_yen by copies`, `refunds_yen by amounts`).
    pub field: &'static str,
    /// What kofu's settlement says.
    pub settlement: i64,
    /// What the orders say.
    pub orders: i64,
}

fn figures(line: &Line) -> [(&'static str, i64); 7] {
    [
        ("printed_orders", line.printed_orders),
        ("copies", line.copies),
        ("fees_yen", line.fees_yen),
        ("commission_yen", line.commission_yen),
        ("payable_yen", line.payable_yen),
        ("voided_orders", line.voided_orders),
        ("refunds_yen", line.refunds_yen),
    ]
}

fn add(total: &mut Line, line: &Line) {
    total.printed_orders += line.printed_orders;
    total.copies += line.copies;
    total.fees_yen += line.fees_yen;
    total.commission_yen += line.commission_yen;
    total.payable_yen += line.payable_yen;
    total.voided_orders += line.voided_orders;
    total.refunds_yen += line.refunds_yen;
}

/// Every figure of kofu's settlements (`(day, settlement)`) that differs
/// from the sums, line by line and in total, and every line that breaks a
/// fee rule. Sums of a municipality and day not settled are left out.
pub fn compare(settled: &[(Date, Settlement)], sums: &BTreeMap<Key, Sums>) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let mut push = |key: &Key, field, settlement: i64, orders: i64| {
        if settlement != orders {
            out.push(Mismatch {
                municipality: key.0.clone(),
                date: key.1.to_string(),
                store_chain: key.2.clone(),
                field,
                settlement,
                orders,
            });
        }
    };
    let mut lines: BTreeMap<Key, &Line> = BTreeMap::new();
    let days: BTreeSet<(String, Date)> = settled
        .iter()
        .map(|(day, s)| (s.code.clone(), *day))
        .collect();
    for (day, s) in settled {
        for line in &s.chains {
            lines.insert((s.code.clone(), *day, line.store_chain.clone()), line);
        }
    }
    let keys: BTreeSet<&Key> = lines
        .keys()
        .chain(sums.keys().filter(|k| days.contains(&(k.0.clone(), k.1))))
        .collect();
    let (no_line, no_sums) = (Line::default(), Sums::default());
    for key in keys {
        let kofu = lines.get(key).copied().unwrap_or(&no_line);
        let ours = sums.get(key).unwrap_or(&no_sums);
        for ((field, a), (_, b)) in figures(kofu).into_iter().zip(figures(&ours.line)) {
            push(key, field, a, b);
        }
        push(
            key,
            "fees_yen by settings",
            kofu.fees_yen,
            ours.listed_fees_yen,
        );
        push(
            key,
            "commission_yen by copies",
            kofu.commission_yen,
            ours.commission_by_copies_yen,
        );
        push(
            key,
            "refunds_yen by amounts",
            kofu.refunds_yen,
            ours.voided_amounts_yen,
        );
    }
    for (day, s) in settled {
        let mut total = Line::default();
        for (_, ours) in sums
            .range((s.code.clone(), *day, String::new())..)
            .take_while(|(k, _)| k.0 == s.code && k.1 == *day)
        {
            add(&mut total, &ours.line);
        }
        let key = (s.code.clone(), *day, "TOTAL".to_owned());
        for ((field, a), (_, b)) in figures(&s.total).into_iter().zip(figures(&total)) {
            push(&key, field, a, b);
        }
    }
    out
}

/// The run's orders of one municipality, as the database has them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunOrders {
    pub orders: u64,
    pub printed: u64,
    pub voided: u64,
    /// Σ amount over the printed ones.
    pub fees_yen: i64,
}

/// Each order of the run against what it must cost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Charges {
    pub by_municipality: BTreeMap<String, RunOrders>,
    /// Orders the database records under another municipality than their
    /// card holder's.
    pub wrong_municipality: u64,
    /// Orders acknowledged, or recorded, at another amount than the holder's
    /// municipality charges for the kind.
    pub wrong_amount: u64,
}

/// Compares each acknowledged order (`(id, what it must cost, the amount
/// acknowledged)`) with its row, and counts the run's rows by municipality.
/// Acknowledged orders without a row are the lost-order audit's.
pub fn charges<'a>(
    acked: impl Iterator<Item = (Uuid, &'a Charge, i64)>,
    db: &HashMap<Uuid, DbOrder>,
) -> Charges {
    let mut out = Charges::default();
    for row in db.values() {
        let m = out
            .by_municipality
            .entry(row.municipality.clone())
            .or_default();
        m.orders += 1;
        match row.state.as_str() {
            "printed" => {
                m.printed += 1;
                m.fees_yen += row.amount_yen;
            }
            "voided" => m.voided += 1,
            _ => {}
        }
    }
    for (id, charge, acked_yen) in acked {
        let Some(row) = db.get(&id) else { continue };
        if row.municipality != charge.municipality {
            out.wrong_municipality += 1;
        }
        if acked_yen != charge.fee_yen || row.amount_yen != charge.fee_yen {
            out.wrong_amount += 1;
        }
    }
    out
}

/// One municipality in the report.
#[derive(Debug, Clone, Serialize)]
pub struct MunicipalityReport {
    /// The run's orders.
    pub run: RunOrders,
    /// kofu's settlement over the days (every order of those days, earlier
    /// runs' on the same cluster too).
    pub settled: Line,
    pub by_day: Vec<Settlement>,
}

/// The settlement audit, as the report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SettlementReport {
    pub days: Vec<String>,
    pub municipalities: BTreeMap<String, MunicipalityReport>,
    /// Settlement figures that differ from the orders' ([`compare`]).
    pub figure_mismatches: u64,
    pub wrong_municipality: u64,
    pub wrong_amount: u64,
    /// The sum of the three above (must be 0).
    pub settlement_mismatches: u64,
    pub mismatch_examples: Vec<Mismatch>,
}

/// Puts the audit together.
pub fn report(
    days: &[Date],
    settled: Vec<(Date, Settlement)>,
    mismatches: &[Mismatch],
    charges: Charges,
) -> SettlementReport {
    let mut municipalities: BTreeMap<String, MunicipalityReport> = BTreeMap::new();
    for (_, s) in settled {
        let m = municipalities
            .entry(s.code.clone())
            .or_insert_with(|| MunicipalityReport {
                run: charges
                    .by_municipality
                    .get(&s.code)
                    .cloned()
                    .unwrap_or_default(),
                settled: Line {
                    store_chain: "TOTAL".to_owned(),
                    ..Line::default()
                },
                by_day: Vec::new(),
            });
        add(&mut m.settled, &s.total);
        m.by_day.push(s);
    }
    let figure_mismatches = mismatches.len() as u64;
    SettlementReport {
        days: days.iter().map(Date::to_string).collect(),
        municipalities,
        figure_mismatches,
        wrong_municipality: charges.wrong_municipality,
        wrong_amount: charges.wrong_amount,
        settlement_mismatches: figure_mismatches
            + charges.wrong_municipality
            + charges.wrong_amount,
        mismatch_examples: mismatches.iter().take(EXAMPLES).cloned().collect(),
    }
}

/// The printed or voided orders of the municipalities `$1` in the instants
/// `[$2, $3)`, with the settings' fee for the kind in the version each
/// names. Left joins, so an order whose session or settings are missing is
/// still counted here (and then differs from kofu's settlement).
const ORDERS_OF_THE_DAYS: &str = "
    SELECT o.municipality_code, o.store_chain, s.copier_id, o.copies, o.amount_yen, o.commission_yen,
           o.refund_yen, o.printed_at, o.voided_at, (v.settings -> 'fees' ->> o.kind)::int8
      FROM orders o
      LEFT JOIN sessions s ON s.id = o.session_id
      LEFT JOIN municipality_settings v
             ON v.municipality_code = o.municipality_code AND v.version = o.settings_version
     WHERE o.municipality_code = ANY($1)
       AND (o.printed_at >= $2 AND o.printed_at < $3 OR o.voided_at >= $2 AND o.voided_at < $3)";

/// Settles each of `codes` for each of `days` through kofu, sums the
/// orders here, and compares.
pub async fn audit(
    client: &Client,
    codes: &[String],
    days: &[Date],
    charges: Charges,
) -> Result<SettlementReport, BoxError> {
    let mut settled = Vec::new();
    for code in codes {
        let code = LocalGovernmentCode::parse(code)?;
        for day in days {
            settled.push((*day, settlement::for_day(client, &code, *day).await?));
        }
    }
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return Ok(report(days, settled, &[], charges));
    };
    let midnight = |day: Date| day.midnight().assume_offset(TOKYO);
    let (from, to) = (midnight(*first), midnight(*last) + Duration::days(1));
    let rows: Vec<OrderRow> = client
        .query(ORDERS_OF_THE_DAYS, &[&codes, &from, &to])
        .await?
        .iter()
        .map(|r| {
            let copier: Option<String> = r.get(2);
            let chain = copier.as_deref().unwrap_or_default();
            OrderRow {
                municipality: r.get(0),
                store_chain: r
                    .get::<_, Option<String>>(1)
                    .unwrap_or_else(|| chain.split('/').next().unwrap_or_default().to_owned()),
                copies: i64::from(r.get::<_, i32>(3)),
                amount_yen: i64::from(r.get::<_, i32>(4)),
                commission_yen: r.get::<_, Option<i32>>(5).map(i64::from),
                refund_yen: r.get::<_, Option<i32>>(6).map(i64::from),
                printed_at: r.get(7),
                voided_at: r.get(8),
                listed_fee_yen: r.get(9),
            }
        })
        .collect();
    let mismatches = compare(&settled, &sum_rows(&rows));
    Ok(report(days, settled, &mismatches, charges))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn row(
        chain: &str,
        printed: Option<OffsetDateTime>,
        voided: Option<OffsetDateTime>,
    ) -> OrderRow {
        OrderRow {
            municipality: "139971".into(),
            store_chain: chain.into(),
            printed_at: printed,
            voided_at: voided,
            copies: 1,
            amount_yen: 300,
            commission_yen: Some(123),
            refund_yen: voided.map(|_| 300),
            listed_fee_yen: Some(300),
        }
    }

    fn line(chain: &str, printed: i64, voided: i64) -> Line {
        Line {
            store_chain: chain.into(),
            printed_orders: printed,
            copies: printed,
            fees_yen: 300 * printed,
            commission_yen: 123 * printed,
            payable_yen: 177 * printed,
            voided_orders: voided,
            refunds_yen: 300 * voided,
        }
    }

    /// kofu's settlement of 139971 on 2026-12-03 as the rows below make it.
    fn settled(chains: Vec<Line>) -> Vec<(Date, Settlement)> {
        let mut total = Line {
            store_chain: "TOTAL".into(),
            ..Line::default()
        };
        for l in &chains {
            add(&mut total, l);
        }
        vec![(
            time::macros::date!(2026 - 12 - 03),
            Settlement {
                code: "139971".into(),
                date: "2026-12-03".into(),
                chains,
                total,
            },
        )]
    }

    fn rows() -> Vec<OrderRow> {
        let day = datetime!(2026-12-03 01:00 UTC); // 10:00 in Tokyo
        vec![
            row("chain-a", Some(day), None),
            row("chain-a", Some(day), None),
            row("chain-a", None, Some(day)),
            row("chain-b", Some(day), None),
        ]
    }

    #[test]
    fn a_settlement_equal_to_its_orders_has_no_mismatch() {
        let settled = settled(vec![line("chain-a", 2, 1), line("chain-b", 1, 0)]);
        assert_eq!(compare(&settled, &sum_rows(&rows())), []);
    }

    #[test]
    fn one_yen_off_in_a_line_is_a_mismatch_of_that_line_and_the_total() {
        let mut a = line("chain-a", 2, 1);
        a.fees_yen += 1;
        a.payable_yen += 1;
        let mut settled = settled(vec![a, line("chain-b", 1, 0)]);
        let mismatches = compare(&settled, &sum_rows(&rows()));
        let fields: Vec<(&str, &str)> = mismatches
            .iter()
            .map(|m| (m.store_chain.as_str(), m.field))
            .collect();
        assert_eq!(
            fields,
            [
                ("chain-a", "fees_yen"),
                ("chain-a", "payable_yen"),
                ("chain-a", "fees_yen by settings"),
                ("TOTAL", "fees_yen"),
                ("TOTAL", "payable_yen"),
            ]
        );
        assert_eq!((mismatches[0].settlement, mismatches[0].orders), (601, 600));
        // Only the total off by a yen.
        settled = self::settled(vec![line("chain-a", 2, 1), line("chain-b", 1, 0)]);
        settled[0].1.total.commission_yen += 1;
        let mismatches = compare(&settled, &sum_rows(&rows()));
        assert_eq!(mismatches.len(), 1);
        assert_eq!(
            (mismatches[0].store_chain.as_str(), mismatches[0].field),
            ("TOTAL", "commission_yen")
        );
    }

    #[test]
    fn a_line_on_one_side_only_is_a_mismatch() {
        // kofu lost chain-b's order.
        let settled = settled(vec![line("chain-a", 2, 1)]);
        let mismatches = compare(&settled, &sum_rows(&rows()));
        assert!(
            mismatches
                .iter()
                .any(|m| m.store_chain == "chain-b" && m.field == "printed_orders")
        );
        // kofu settled a chain the orders do not have.
        let settled = self::settled(vec![
            line("chain-a", 2, 1),
            line("chain-b", 1, 0),
            line("chain-c", 1, 0),
        ]);
        let mismatches = compare(&settled, &sum_rows(&rows()));
        assert!(mismatches.iter().any(|m| m.store_chain == "chain-c"));
    }

    #[test]
    fn fees_are_held_to_the_settings_commission_to_the_copies_refunds_to_the_amount() {
        let settled = settled(vec![line("chain-a", 2, 1), line("chain-b", 1, 0)]);
        let mut changed = rows();
        // Charged and settled alike, but not what the settings list.
        changed[3].listed_fee_yen = Some(200);
        let mismatches = compare(&settled, &sum_rows(&changed));
        assert_eq!(mismatches.len(), 1);
        assert_eq!(mismatches[0].field, "fees_yen by settings");
        assert_eq!((mismatches[0].settlement, mismatches[0].orders), (300, 200));
        // A settings version that is not found.
        changed[3].listed_fee_yen = None;
        assert_eq!(compare(&settled, &sum_rows(&changed)).len(), 1);
        let mut changed = rows();
        changed[2].refund_yen = Some(299);
        let fields: Vec<&str> = compare(&settled, &sum_rows(&changed))
            .iter()
            .map(|m| m.field)
            .collect();
        assert_eq!(fields, ["refunds_yen", "refunds_yen"]); // the line and the total
    }

    #[test]
    fn orders_count_on_their_tokyo_day() {
        // 15:00 UTC is midnight in Tokyo: the next day there.
        let late = row("chain-a", Some(datetime!(2026-12-02 15:00 UTC)), None);
        let early = row("chain-a", Some(datetime!(2026-12-02 14:59:59 UTC)), None);
        let sums = sum_rows(&[late, early]);
        let days: Vec<Date> = sums.keys().map(|k| k.1).collect();
        assert_eq!(
            days,
            [
                time::macros::date!(2026 - 12 - 02),
                time::macros::date!(2026 - 12 - 03)
            ]
        );
        assert_eq!(
            tokyo_days(
                datetime!(2026-12-02 14:50 UTC),
                datetime!(2026-12-02 15:10 UTC)
            ),
            days
        );
        assert_eq!(
            tokyo_days(
                datetime!(2026-12-02 15:00 UTC),
                datetime!(2026-12-03 14:59 UTC)
            ),
            [time::macros::date!(2026 - 12 - 03)]
        );
    }

    #[test]
    fn an_order_under_another_municipality_or_at_another_amount_is_counted() {
        let order = |n: u128, municipality: &str, amount_yen: i64, state: &str| {
            (
                Uuid::from_u128(n),
                DbOrder {
                    ticket: n as i64,
                    municipality: municipality.into(),
                    amount_yen,
                    state: state.into(),
                    void_reason: None,
                    released_us: None,
                    resolved_us: None,
                },
            )
        };
        let db: HashMap<Uuid, DbOrder> = [
            order(1, "139998", 200, "printed"),
            order(2, "139971", 300, "printed"),
            order(3, "139998", 300, "printed"), // a かえで市 resident's, under ひなた市
            order(4, "139971", 250, "voided"),  // charged 250, not 300
            order(5, "139971", 300, "voided"),  // acknowledged at 200
        ]
        .into();
        let hinata = Charge {
            municipality: "139998".into(),
            fee_yen: 200,
        };
        let kaede = Charge {
            municipality: "139971".into(),
            fee_yen: 300,
        };
        let acked = [
            (Uuid::from_u128(1), &hinata, 200),
            (Uuid::from_u128(2), &kaede, 300),
            (Uuid::from_u128(3), &kaede, 300),
            (Uuid::from_u128(4), &kaede, 250),
            (Uuid::from_u128(5), &kaede, 200),
            (Uuid::from_u128(6), &kaede, 300), // no row: the lost-order audit's
        ];
        let c = charges(acked.into_iter(), &db);
        assert_eq!((c.wrong_municipality, c.wrong_amount), (1, 2));
        assert_eq!(
            c.by_municipality["139998"],
            RunOrders {
                orders: 2,
                printed: 2,
                voided: 0,
                fees_yen: 500
            }
        );
        assert_eq!(c.by_municipality["139971"].voided, 2);
        let r = report(&[], Vec::new(), &[], c);
        assert_eq!(r.settlement_mismatches, 3);
    }
}

//! The audits behind the report's invariant numbers: what the copiers were
//! told (the ack book) against what the database holds after the drain.
//!
//! - `lost`: acknowledged orders that are not printed or voided at the end,
//!   or that the database does not have at all (invariant 3).
//! - `duplicates`: one ticket acknowledged with two order ids, one order id
//!   acknowledged to two issuances, a repeated Idempotency-Key answered with
//!   another order, two order rows for one (session, key), an order both
//!   printed and voided (invariant 3).
//! - `out_of_order`: orders released while an order with a smaller ticket was
//!   still neither released nor voided (invariant 2), computed in SQL with a
//!   running maximum over ticket order, and recomputed here from the rows as
//!   a cross-check.
//!
//! Rule: the arithmetic is pure functions over plain data, unit-tested; the
//! SQL only fetches.

use std::collections::{BTreeMap, HashMap};

use kofu::devkit::sim::Ack;
use serde::Serialize;
use uuid::Uuid;

use crate::BoxError;

/// How an order ended, as its copier saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientOutcome {
    /// Acknowledged, nothing final seen yet.
    Pending,
    Printed,
    Voided,
    /// The copier gave up (deadline) without a final answer.
    Abandoned,
}

/// What an order must cost, from the fees the harness set (not from the
/// database): the municipality of the card's holder and its fee for the
/// kind, times the copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub municipality: String,
    pub fee_yen: i64,
}

#[derive(Debug, Clone)]
struct AckedOrder {
    ticket: i64,
    /// The issuance that placed it (session id + Idempotency-Key).
    owner: (Uuid, String),
    outcome: ClientOutcome,
    /// The amount the acknowledgement named.
    acked_yen: i64,
    charge: Charge,
}

/// Every acknowledgement the copiers received.
#[derive(Debug, Default)]
pub struct AckBook {
    by_ticket: HashMap<i64, Uuid>,
    orders: HashMap<Uuid, AckedOrder>,
    by_key: HashMap<(Uuid, String), Uuid>,
    /// One ticket acknowledged with two different order ids.
    pub ticket_conflicts: u64,
    /// One order id acknowledged to two different issuances.
    pub shared_order_ids: u64,
    /// A repeated (session, Idempotency-Key) answered with a different order.
    pub key_remapped: u64,
}

impl AckBook {
    /// Records an acknowledgement for the issuance (`session`, `key`),
    /// which must cost `charge`.
    pub fn ack(&mut self, session: Uuid, key: &str, ack: &Ack, charge: &Charge) {
        let (order_id, ticket) = (ack.order_id, ack.ticket);
        let owner = (session, key.to_owned());
        match self.by_ticket.get(&ticket) {
            Some(other) if *other != order_id => self.ticket_conflicts += 1,
            Some(_) => {}
            None => {
                self.by_ticket.insert(ticket, order_id);
            }
        }
        match self.by_key.get(&owner) {
            Some(other) if *other != order_id => self.key_remapped += 1,
            Some(_) => {}
            None => {
                self.by_key.insert(owner.clone(), order_id);
            }
        }
        match self.orders.get(&order_id) {
            Some(existing) if existing.owner != owner => self.shared_order_ids += 1,
            Some(_) => {}
            None => {
                self.orders.insert(
                    order_id,
                    AckedOrder {
                        ticket,
                        owner,
                        outcome: ClientOutcome::Pending,
                        acked_yen: i64::from(ack.amount_yen),
                        charge: charge.clone(),
                    },
                );
            }
        }
    }

    /// Records how an acknowledged order ended for its copier.
    pub fn outcome(&mut self, order_id: Uuid, outcome: ClientOutcome) {
        if let Some(o) = self.orders.get_mut(&order_id) {
            o.outcome = outcome;
        }
    }

    pub fn accepted(&self) -> usize {
        self.orders.len()
    }

    pub fn duplicates(&self) -> u64 {
        self.ticket_conflicts + self.shared_order_ids + self.key_remapped
    }

    /// Order id → (ticket, outcome).
    pub fn acked(&self) -> impl Iterator<Item = (Uuid, i64, ClientOutcome)> + '_ {
        self.orders.iter().map(|(id, o)| (*id, o.ticket, o.outcome))
    }

    /// Order id → (what it must cost, the amount its acknowledgement named).
    pub fn charges(&self) -> impl Iterator<Item = (Uuid, &Charge, i64)> + '_ {
        self.orders
            .iter()
            .map(|(id, o)| (*id, &o.charge, o.acked_yen))
    }
}

/// An order row as the audit reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct DbOrder {
    pub ticket: i64,
    pub municipality: String,
    pub amount_yen: i64,
    pub state: String,
    pub void_reason: Option<String>,
    /// Microseconds since the epoch.
    pub released_us: Option<i64>,
    /// First of released, voided (delivered, printed for old rows).
    pub resolved_us: Option<i64>,
}

/// What went missing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Lost {
    /// Acknowledged ids the database does not have.
    pub missing: u64,
    /// Acknowledged ids still neither printed nor voided.
    pub unfinished: u64,
    /// The copier was told printed but the database says voided, or the reverse.
    pub outcome_mismatch: u64,
}

impl Lost {
    pub fn total(&self) -> u64 {
        self.missing + self.unfinished
    }
}

/// Compares the ack book with the database rows of the run.
pub fn lost(
    acked: impl Iterator<Item = (Uuid, i64, ClientOutcome)>,
    db: &HashMap<Uuid, DbOrder>,
) -> Lost {
    let mut out = Lost::default();
    for (id, _ticket, outcome) in acked {
        let Some(row) = db.get(&id) else {
            out.missing += 1;
            continue;
        };
        match (row.state.as_str(), outcome) {
            ("printed", ClientOutcome::Voided) | ("voided", ClientOutcome::Printed) => {
                out.outcome_mismatch += 1
            }
            ("printed" | "voided", _) => {}
            _ => out.unfinished += 1,
        }
    }
    out
}

/// The reference for the out-of-order count, over `(ticket, released_at,
/// resolved_at)` rows (`resolved_at`: when the order stopped holding later
/// ones back — released or voided, whichever came first; `None` = never):
/// released orders for which an order with a smaller ticket was resolved
/// strictly later. O(n log n).
pub fn out_of_order(rows: &[(i64, Option<i64>, Option<i64>)]) -> u64 {
    let mut sorted: Vec<_> = rows.to_vec();
    sorted.sort_by_key(|r| r.0);
    let mut earlier_max = i64::MIN; // the latest resolution among smaller tickets
    let mut count = 0;
    for (_, released, resolved) in sorted {
        if released.is_some_and(|t| earlier_max > t) {
            count += 1;
        }
        earlier_max = earlier_max.max(resolved.unwrap_or(i64::MAX));
    }
    count
}

/// Orders released before an order with a smaller ticket was released or
/// voided. `least()` ignores NULLs; an order never resolved counts as
/// resolved at infinity. `delivered_at` and `printed_at` join the `least()`
/// only for orders finished before `released_at` existed (migration 0003):
/// for every later order they come after `released_at`, so they change
/// nothing. `$1`: only orders with a larger ticket are counted (the run's),
/// but every earlier order is looked at.
pub const OUT_OF_ORDER_SQL: &str = "
    WITH o AS (
        SELECT ticket, released_at,
               max(coalesce(least(released_at, voided_at, delivered_at, printed_at), 'infinity'::timestamptz))
                   OVER (ORDER BY ticket ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier_resolved_by
          FROM orders)
    SELECT count(*) FROM o
     WHERE ticket > $1 AND released_at IS NOT NULL AND earlier_resolved_by > released_at";

const HAS_RELEASED_AT: &str = "
    SELECT count(*) FROM information_schema.columns
     WHERE table_name = 'orders' AND column_name = 'released_at'";

const RUN_ORDERS_WITH_RELEASE: &str = "
    SELECT id, ticket, municipality_code, amount_yen, state, void_reason,
           (extract(epoch FROM released_at) * 1000000)::int8,
           (extract(epoch FROM least(released_at, voided_at, delivered_at, printed_at)) * 1000000)::int8
      FROM orders WHERE ticket > $1";
const RUN_ORDERS: &str = "
    SELECT id, ticket, municipality_code, amount_yen, state, void_reason, NULL::int8, NULL::int8
      FROM orders WHERE ticket > $1";
const KEY_DUPLICATES: &str = "
    SELECT count(*) FROM (SELECT 1 FROM orders WHERE ticket > $1
                           GROUP BY session_id, idempotency_key HAVING count(*) > 1) d";
const PRINTED_AND_VOIDED: &str = "
    SELECT count(*) FROM orders
     WHERE ticket > $1 AND ((printed_at IS NOT NULL AND voided_at IS NOT NULL)
                         OR (state = 'printed' AND voided_at IS NOT NULL)
                         OR (state = 'voided' AND printed_at IS NOT NULL))";
/// Orders of the run still in flight.
pub const UNFINISHED_SQL: &str =
    "SELECT count(*) FROM orders WHERE ticket > $1 AND state NOT IN ('printed', 'voided')";
/// Where the run starts: every order with a larger ticket is the run's.
pub const BASE_TICKET_SQL: &str = "SELECT coalesce(max(ticket), 0) FROM orders";

/// What the database says about the run.
#[derive(Debug, Default, Serialize)]
pub struct DbAudit {
    pub orders: usize,
    pub by_state: BTreeMap<String, u64>,
    pub void_reasons: BTreeMap<String, u64>,
    /// Orders by the credential that authenticated their session (`card`,
    /// `smartphone`); empty on a schema without the column.
    pub by_credential: BTreeMap<String, u64>,
    /// Orders the database has that no copier got an acknowledgement for
    /// (the answer was lost and never retried to success); they must end voided.
    pub unacknowledged: u64,
    pub unacknowledged_printed: u64,
    pub key_duplicates: u64,
    pub printed_and_voided: u64,
    /// `None` until the `released_at` column exists.
    pub out_of_order_sql: Option<u64>,
    pub out_of_order_recomputed: Option<u64>,
    #[serde(skip)]
    pub rows: HashMap<Uuid, DbOrder>,
}

/// Reads the run's orders and runs the SQL audits.
pub async fn audit_db(
    client: &tokio_postgres::Client,
    base_ticket: i64,
    acked: &std::collections::HashSet<Uuid>,
) -> Result<DbAudit, BoxError> {
    let has_release = client
        .query_one(HAS_RELEASED_AT, &[])
        .await?
        .get::<_, i64>(0)
        > 0;
    let query = if has_release {
        RUN_ORDERS_WITH_RELEASE
    } else {
        RUN_ORDERS
    };
    let mut audit = DbAudit::default();
    for row in client.query(query, &[&base_ticket]).await? {
        let id: Uuid = row.get(0);
        let order = DbOrder {
            ticket: row.get(1),
            municipality: row.get(2),
            amount_yen: i64::from(row.get::<_, i32>(3)),
            state: row.get(4),
            void_reason: row.get(5),
            released_us: row.get(6),
            resolved_us: row.get(7),
        };
        *audit.by_state.entry(order.state.clone()).or_default() += 1;
        if let Some(reason) = &order.void_reason {
            *audit.void_reasons.entry(reason.clone()).or_default() += 1;
        }
        audit.rows.insert(id, order);
    }
    audit.orders = audit.rows.len();
    for (id, row) in &audit.rows {
        if !acked.contains(id) {
            audit.unacknowledged += 1;
            if row.state == "printed" {
                audit.unacknowledged_printed += 1;
            }
        }
    }
    if let Ok(rows) = client
        .query(
            "SELECT credential, count(*) FROM orders WHERE ticket > $1 GROUP BY 1",
            &[&base_ticket],
        )
        .await
    {
        for row in rows {
            audit
                .by_credential
                .insert(row.get(0), row.get::<_, i64>(1) as u64);
        }
    }
    audit.key_duplicates = count(client, KEY_DUPLICATES, base_ticket).await?;
    audit.printed_and_voided = count(client, PRINTED_AND_VOIDED, base_ticket).await?;
    if has_release {
        audit.out_of_order_sql = Some(count(client, OUT_OF_ORDER_SQL, base_ticket).await?);
        // The reference needs the earlier orders too; only the latest
        // resolution among them matters.
        let earlier = client
            .query(
                "SELECT 0::int8, NULL::int8,
                        (extract(epoch FROM max(coalesce(least(released_at, voided_at, delivered_at, printed_at),
                                                         'infinity'::timestamptz))) * 1000000)::int8
                   FROM orders WHERE ticket <= $1 HAVING count(*) > 0",
                &[&base_ticket],
            )
            .await?;
        let mut rows: Vec<(i64, Option<i64>, Option<i64>)> = earlier
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        rows.extend(
            audit
                .rows
                .values()
                .map(|o| (o.ticket, o.released_us, o.resolved_us)),
        );
        audit.out_of_order_recomputed = Some(out_of_order(&rows));
    }
    Ok(audit)
}

async fn count(client: &tokio_postgres::Client, sql: &str, base: i64) -> Result<u64, BoxError> {
    Ok(client.query_one(sql, &[&base]).await?.get::<_, i64>(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn ack(order: u128, ticket: i64) -> Ack {
        Ack {
            order_id: id(order),
            ticket,
            amount_yen: 200,
        }
    }

    fn charge() -> Charge {
        Charge {
            municipality: "139998".into(),
            fee_yen: 200,
        }
    }

    /// `resolved_at` of the brief's definition: the first of release and void.
    fn resolved(released: Option<i64>, voided: Option<i64>) -> Option<i64> {
        match (released, voided) {
            (Some(r), Some(v)) => Some(r.min(v)),
            (r, v) => r.or(v),
        }
    }

    /// The count over `(ticket, released_at, voided_at)` rows, as the brief defines it.
    fn brief(rows: &[(i64, Option<i64>, Option<i64>)]) -> u64 {
        let rows: Vec<_> = rows
            .iter()
            .map(|(t, r, v)| (*t, *r, resolved(*r, *v)))
            .collect();
        out_of_order(&rows)
    }

    #[test]
    fn ack_book_counts_each_kind_of_duplicate() {
        let s = id(100);
        let mut book = AckBook::default();
        book.ack(s, "k1", &ack(1, 1), &charge());
        book.ack(s, "k1", &ack(1, 1), &charge()); // a retry answered with the same order: fine
        assert_eq!(book.duplicates(), 0);
        book.ack(s, "k2", &ack(2, 1), &charge()); // ticket 1 again, other order
        assert_eq!(book.ticket_conflicts, 1);
        book.ack(s, "k1", &ack(3, 3), &charge()); // same key, other order
        assert_eq!(book.key_remapped, 1);
        book.ack(id(200), "k9", &ack(1, 1), &charge()); // order 1 acknowledged to another issuance
        assert_eq!(book.shared_order_ids, 1);
        assert_eq!(book.duplicates(), 3);
        assert_eq!(book.accepted(), 3);
    }

    fn row(ticket: i64, state: &str) -> DbOrder {
        DbOrder {
            ticket,
            municipality: "139998".into(),
            amount_yen: 200,
            state: state.into(),
            void_reason: None,
            released_us: None,
            resolved_us: None,
        }
    }

    #[test]
    fn lost_counts_missing_unfinished_and_mismatched_orders() {
        let mut book = AckBook::default();
        for n in 1..=5 {
            book.ack(id(0), &n.to_string(), &ack(n, n as i64), &charge());
        }
        book.outcome(id(1), ClientOutcome::Printed);
        book.outcome(id(2), ClientOutcome::Printed);
        book.outcome(id(3), ClientOutcome::Abandoned);
        let mut db = HashMap::new();
        db.insert(id(1), row(1, "printed"));
        db.insert(id(2), row(2, "voided")); // told printed, database says voided
        db.insert(id(3), row(3, "voided")); // abandoned, voided by deadline: fine
        db.insert(id(4), row(4, "released")); // unfinished
        // id 5 is missing
        db.insert(id(9), row(9, "voided")); // unacknowledged: not the book's business
        let l = lost(book.acked(), &db);
        assert_eq!(
            l,
            Lost {
                missing: 1,
                unfinished: 1,
                outcome_mismatch: 1
            }
        );
        assert_eq!(l.total(), 2);
    }

    #[test]
    fn out_of_order_counts_releases_overtaking_an_unresolved_smaller_ticket() {
        // In order: 1 released at 10, 2 voided before release at 12, 3 released at 12.
        let in_order = [
            (1, Some(10), None),
            (2, None, Some(12)),
            (3, Some(12), None),
        ];
        assert_eq!(brief(&in_order), 0);
        // 3 released at 11 while 2 was still open until 12.
        let overtaken = [
            (1, Some(10), None),
            (2, Some(12), None),
            (3, Some(11), None),
        ];
        assert_eq!(brief(&overtaken), 1);
        // An order never resolved blocks everything after it.
        let stuck = [(1, None, None), (2, Some(5), None), (3, Some(6), Some(9))];
        assert_eq!(brief(&stuck), 2);
        // Released then voided (print deadline) counts as resolved at release.
        let voided_later = [(1, Some(10), Some(50)), (2, Some(11), None)];
        assert_eq!(brief(&voided_later), 0);
        // Input order does not matter.
        let shuffled = [
            (3, Some(11), None),
            (1, Some(10), None),
            (2, Some(12), None),
        ];
        assert_eq!(brief(&shuffled), 1);
        // Several overtaking one.
        let many = [
            (1, Some(100), None),
            (2, Some(1), None),
            (3, Some(2), None),
            (4, Some(100), None),
        ];
        assert_eq!(brief(&many), 2);
    }

    #[test]
    fn reference_agrees_with_the_quadratic_definition() {
        // The definition from the brief, O(n^2), on pseudo-random rows.
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as i64
        };
        for _ in 0..50 {
            let rows: Vec<(i64, Option<i64>, Option<i64>)> = (1..=40)
                .map(|t| {
                    let r = next() % 100;
                    let v = next() % 100;
                    let kind = next() % 4;
                    (
                        t,
                        (kind != 1 && kind != 3).then_some(r),
                        (kind == 1 || kind == 2).then_some(v),
                    )
                })
                .collect();
            let naive = rows
                .iter()
                .filter(|t| {
                    let Some(tr) = t.1 else { return false };
                    rows.iter().any(|s| {
                        s.0 < t.0 && s.1.is_none_or(|sr| sr > tr) && s.2.is_none_or(|sv| sv > tr)
                    })
                })
                .count() as u64;
            assert_eq!(brief(&rows), naive, "{rows:?}");
        }
    }
}

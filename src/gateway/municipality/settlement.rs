//! Daily settlement, per municipality and store chain, to the yen. A day is
//! a calendar day in Asia/Tokyo. An order counts on the day it was printed
//! (its fee collected, the store's commission owed) or on the day it was
//! voided (its refund); an order is never both.
//!
//! The store chain collects the municipality's fee at the copier and keeps
//! its commission: what it owes the municipality for a day is `fees_yen −
//! commission_yen` (`payable_yen`). Refunds went back to the resident at the
//! copier and are reported beside it.

use serde::Serialize;
use time::Date;

use super::LocalGovernmentCode;
use crate::gateway::db::{Client, DbError};

/// The store's commission per printed copy (DOMAIN: 123 yen).
pub const COMMISSION_PER_COPY_YEN: i32 = 123;

/// One store chain's day with one municipality (or the day's total).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Line {
    pub store_chain: String,
    pub printed_orders: i64,
    pub copies: i64,
    pub fees_yen: i64,
    pub commission_yen: i64,
    pub payable_yen: i64,
    pub voided_orders: i64,
    pub refunds_yen: i64,
}

/// A municipality's settlement for one day.
#[derive(Debug, Clone, Serialize)]
pub struct Settlement {
    pub code: String,
    pub date: String,
    pub chains: Vec<Line>,
    pub total: Line,
}

/// The CSV columns of [`Settlement::to_csv`].
pub const CSV_HEADER: &str = "date,municipality_code,store_chain,printed_orders,copies,fees_yen,commission_yen,payable_yen,voided_orders,refunds_yen";

impl Settlement {
    /// One line per store chain, then a `TOTAL` line.
    pub fn to_csv(&self) -> String {
        let mut out = format!("{CSV_HEADER}\n");
        for line in self.chains.iter().chain(std::iter::once(&self.total)) {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{}\n",
                self.date,
                self.code,
                line.store_chain,
                line.printed_orders,
                line.copies,
                line.fees_yen,
                line.commission_yen,
                line.payable_yen,
                line.voided_orders,
                line.refunds_yen
            ));
        }
        out
    }
}

const BY_CHAIN: &str = "
    SELECT coalesce(o.store_chain, split_part(s.copier_id, '/', 1)) AS chain,
           count(*) FILTER (WHERE o.printed_at IS NOT NULL),
           coalesce(sum(o.copies) FILTER (WHERE o.printed_at IS NOT NULL), 0)::bigint,
           coalesce(sum(o.amount_yen) FILTER (WHERE o.printed_at IS NOT NULL), 0)::bigint,
           coalesce(sum(coalesce(o.commission_yen, o.copies * $3))
                        FILTER (WHERE o.printed_at IS NOT NULL), 0)::bigint,
           count(*) FILTER (WHERE o.voided_at IS NOT NULL),
           coalesce(sum(o.refund_yen) FILTER (WHERE o.voided_at IS NOT NULL), 0)::bigint
      FROM orders o
      JOIN sessions s ON s.id = o.session_id
     WHERE o.municipality_code = $1
       AND (o.printed_at >= ($2::date)::timestamp AT TIME ZONE 'Asia/Tokyo'
                AND o.printed_at < ($2::date + 1)::timestamp AT TIME ZONE 'Asia/Tokyo'
            OR o.voided_at >= ($2::date)::timestamp AT TIME ZONE 'Asia/Tokyo'
                AND o.voided_at < ($2::date + 1)::timestamp AT TIME ZONE 'Asia/Tokyo')
     GROUP BY 1
     ORDER BY 1";

/// The settlement of `code` for `date` (Asia/Tokyo).
pub async fn for_day(
    client: &Client,
    code: &LocalGovernmentCode,
    date: Date,
) -> Result<Settlement, DbError> {
    let rows = client
        .query(BY_CHAIN, &[&code.as_str(), &date, &COMMISSION_PER_COPY_YEN])
        .await?;
    let mut total = Line {
        store_chain: "TOTAL".to_owned(),
        ..Line::default()
    };
    let chains: Vec<Line> = rows
        .iter()
        .map(|r| {
            let (fees, commission): (i64, i64) = (r.get(3), r.get(4));
            Line {
                store_chain: r.get(0),
                printed_orders: r.get(1),
                copies: r.get(2),
                fees_yen: fees,
                commission_yen: commission,
                payable_yen: fees - commission,
                voided_orders: r.get(5),
                refunds_yen: r.get(6),
            }
        })
        .collect();
    for l in &chains {
        total.printed_orders += l.printed_orders;
        total.copies += l.copies;
        total.fees_yen += l.fees_yen;
        total.commission_yen += l.commission_yen;
        total.payable_yen += l.payable_yen;
        total.voided_orders += l.voided_orders;
        total.refunds_yen += l.refunds_yen;
    }
    Ok(Settlement {
        code: code.as_str().to_owned(),
        date: date.to_string(),
        chains,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_has_a_line_per_chain_and_a_total() {
        let line = |chain: &str, n: i64| Line {
            store_chain: chain.to_owned(),
            printed_orders: n,
            copies: n,
            fees_yen: 200 * n,
            commission_yen: 123 * n,
            payable_yen: 77 * n,
            voided_orders: 0,
            refunds_yen: 0,
        };
        let s = Settlement {
            code: "139998".into(),
            date: "2026-12-03".into(),
            chains: vec![line("chain-a", 2), line("chain-b", 1)],
            total: line("TOTAL", 3),
        };
        assert_eq!(
            s.to_csv(),
            format!(
                "{CSV_HEADER}\n\
                 2026-12-03,139998,chain-a,2,2,400,246,154,0,0\n\
                 2026-12-03,139998,chain-b,1,1,200,123,77,0,0\n\
                 2026-12-03,139998,TOTAL,3,3,600,369,231,0,0\n"
            )
        );
    }
}

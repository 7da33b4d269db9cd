//! Whether a kind can be issued at an instant, by the municipality's own
//! calendar, in Asia/Tokyo: maintenance windows, closed days (the year end
//! by default), weekday-only kinds, and the service hours of each kind.
//! The menu shows the reason; an order is refused with the same code; an
//! order accepted while open is rendered and printed whenever it is ready.

use time::{OffsetDateTime, Weekday};

use super::{Hours, Settings, minute_of_day, month_day};
use crate::gateway::domain::CertificateKind;

/// Why a kind cannot be issued now. The first that applies, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// Inside one of the municipality's maintenance windows.
    Maintenance,
    /// A closed day (the year end, or a weekend for a weekdays-only kind).
    ClosedToday,
    /// Before the kind's opening or from its closing time on.
    OutsideServiceHours,
}

impl Settings {
    /// Every kind closed at `at`, and why (the menu's reasons).
    pub fn closed_kinds(&self, at: OffsetDateTime) -> Vec<(CertificateKind, Closed)> {
        CertificateKind::ALL
            .into_iter()
            .filter_map(|kind| self.closed(kind, at).map(|why| (kind, why)))
            .collect()
    }

    /// Why `kind` is closed at `at`, or `None` when it is open.
    pub fn closed(&self, kind: CertificateKind, at: OffsetDateTime) -> Option<Closed> {
        if self.maintenance.iter().any(|w| w.from <= at && at < w.to) {
            return Some(Closed::Maintenance);
        }
        let local = at.to_offset(time::macros::offset!(+9));
        let today = (u8::from(local.month()), local.day());
        let closed_day = self.closed_days.iter().any(|range| {
            match (month_day(&range.from), month_day(&range.to)) {
                (Some(from), Some(to)) if from <= to => from <= today && today <= to,
                // A range across the new year: 12-29 to 01-03.
                (Some(from), Some(to)) => today >= from || today <= to,
                _ => false,
            }
        });
        let default = Hours::default();
        let hours = self.hours.get(&kind).unwrap_or(&default);
        let weekend = matches!(local.weekday(), Weekday::Saturday | Weekday::Sunday);
        if closed_day || (hours.weekdays_only && weekend) {
            return Some(Closed::ClosedToday);
        }
        let minute = u16::from(local.hour()) * 60 + u16::from(local.minute());
        match (minute_of_day(&hours.open), minute_of_day(&hours.close)) {
            (Some(open), Some(close)) if open <= minute && minute < close => None,
            _ => Some(Closed::OutsideServiceHours),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn settings() -> Settings {
        serde_json::from_value(serde_json::json!({
            "name": "みどり市", "prefecture": "東京都", "mayor_title": "みどり市長",
            "mayor_name": "山田　一郎", "seal_text": "みどり市長之印",
            "fees": {"residence_certificate": 200, "family_register_full": 450},
            "hours": {"family_register_full": {"open": "09:00", "close": "17:00", "weekdays_only": true}},
            "maintenance": [{"from": "2026-12-05T01:00:00+09:00", "to": "2026-12-05T05:00:00+09:00"}]
        }))
        .unwrap()
    }

    const R: CertificateKind = CertificateKind::ResidenceCertificate;
    const F: CertificateKind = CertificateKind::FamilyRegisterFull;

    #[test]
    fn the_default_day_is_0630_to_2300_in_tokyo_whatever_the_offset() {
        let s = settings();
        // Thursday 3 December 2026.
        assert_eq!(
            s.closed(R, datetime!(2026-12-03 06:29:59 +09:00)),
            Some(Closed::OutsideServiceHours)
        );
        assert_eq!(s.closed(R, datetime!(2026-12-03 06:30:00 +09:00)), None);
        assert_eq!(s.closed(R, datetime!(2026-12-03 22:59:59 +09:00)), None);
        assert_eq!(
            s.closed(R, datetime!(2026-12-03 23:00:00 +09:00)),
            Some(Closed::OutsideServiceHours)
        );
        // 13:59 UTC is 22:59 in Tokyo; 14:00 UTC is 23:00.
        assert_eq!(s.closed(R, datetime!(2026-12-03 13:59:00 UTC)), None);
        assert_eq!(
            s.closed(R, datetime!(2026-12-03 14:00:00 UTC)),
            Some(Closed::OutsideServiceHours)
        );
    }

    #[test]
    fn a_kind_narrows_its_own_hours_and_days() {
        let s = settings();
        assert_eq!(
            s.closed(F, datetime!(2026-12-03 08:59:00 +09:00)),
            Some(Closed::OutsideServiceHours)
        );
        assert_eq!(s.closed(F, datetime!(2026-12-03 09:00:00 +09:00)), None);
        assert_eq!(
            s.closed(F, datetime!(2026-12-03 17:00:00 +09:00)),
            Some(Closed::OutsideServiceHours)
        );
        // Saturday: the 戸籍 is closed all day, the 住民票 is not.
        assert_eq!(
            s.closed(F, datetime!(2026-12-05 10:00:00 +09:00)),
            Some(Closed::ClosedToday)
        );
        assert_eq!(s.closed(R, datetime!(2026-12-05 10:00:00 +09:00)), None);
    }

    #[test]
    fn the_year_end_and_maintenance_close_every_kind() {
        let s = settings();
        for at in [
            datetime!(2026-12-29 10:00:00 +09:00),
            datetime!(2026-12-31 10:00:00 +09:00),
            datetime!(2027-01-03 22:00:00 +09:00),
            // 28 Dec 15:00 UTC is already the 29th in Tokyo.
            datetime!(2026-12-28 15:00:00 UTC),
        ] {
            assert_eq!(s.closed(R, at), Some(Closed::ClosedToday), "{at}");
        }
        assert_eq!(s.closed(R, datetime!(2027-01-04 06:30:00 +09:00)), None);
        assert_eq!(s.closed(R, datetime!(2026-12-28 22:00:00 +09:00)), None);
        // Maintenance comes first, even inside hours.
        assert_eq!(
            s.closed(R, datetime!(2026-12-05 04:59:59 +09:00)),
            Some(Closed::Maintenance)
        );
        assert_eq!(s.closed(R, datetime!(2026-12-05 07:00:00 +09:00)), None);
    }
}

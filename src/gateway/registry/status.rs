//! A resident's status in the 住民基本台帳 (`residents.status`), read once
//! from the column's text into a type, so that no other code compares the
//! register's words. (Some of them — `moved_out`, `moving_out`,
//! `deceased` — are also the API's refusal codes; that is the same
//! vocabulary, not a comparison of codes.)

use std::error::Error;

use tokio_postgres::types::{FromSql, Type};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResidentStatus {
    Active,
    /// A 転出届 is filed; still a member until the move.
    MovingOut,
    MovedOut,
    Deceased,
}

impl ResidentStatus {
    /// Still on the household's current register (shown on its certificates).
    pub const fn is_current(self) -> bool {
        matches!(self, ResidentStatus::Active | ResidentStatus::MovingOut)
    }
}

impl<'a> FromSql<'a> for ResidentStatus {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(match <&str as FromSql>::from_sql(ty, raw)? {
            "active" => ResidentStatus::Active,
            "moving_out" => ResidentStatus::MovingOut,
            "moved_out" => ResidentStatus::MovedOut,
            "deceased" => ResidentStatus::Deceased,
            _ => return Err("a resident status the CHECK constraint does not allow".into()),
        })
    }

    fn accepts(ty: &Type) -> bool {
        <&str as FromSql>::accepts(ty)
    }
}

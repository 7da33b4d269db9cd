//! The snapshots of the kinds that show the resident alone: 住民票記載事項証明書,
//! 印鑑登録証明書 and 課税・所得証明書. Each reads the household and the
//! resident's row under `FOR SHARE` (the residence certificate's lock order),
//! re-makes the resident-wide decision, then locks and reads its own register.
//!
//! Rule: the decision the menu showed is made again here, inside the
//! acceptance transaction, so a change committed before acceptance always
//! wins: an abolished seal is never certified (Niigata, Saitama, Kumamoto), a
//! changed address is the one printed (Itano).

use time::Date;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use deadpool_postgres::GenericClient;

use super::options::{RecordItems, TaxOptions};
use super::residence::LOCK_HOUSEHOLD;
use super::{Ineligible, KindRefusal, SessionResident, ineligibility, sex_of};
use crate::gateway::db::DbError;
use crate::gateway::render::model::{
    Deduction, DocumentIdentity, Domicile, IncomeItem, ResidenceRecordCertificate, SealCertificate,
    TaxCertificate,
};

/// Why one of these kinds cannot be snapshotted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnRefusal {
    Ineligible(Ineligible),
    Kind(KindRefusal),
}

const LOCK_RESIDENT: &str = "
    SELECT r.name, r.name_kana, r.birth_date, r.sex, r.former_surname, r.alias, r.status, r.protected,
           r.moved_in_on = (now() AT TIME ZONE 'Asia/Tokyo')::date, r.relationship,
           r.became_resident_on, r.domicile, r.head_of_register, r.household_id,
           (SELECT x.name FROM residents x
             WHERE x.household_id = r.household_id AND x.is_householder
               AND x.status IN ('active', 'moving_out')
             ORDER BY x.register_order LIMIT 1)
      FROM residents r
     WHERE r.id = $1
       FOR SHARE OF r";

/// The household's address and the resident's row, locked in that order,
/// with the resident-wide decision made again.
async fn lock_resident<C: GenericClient>(
    tx: &C,
    holder: &SessionResident,
) -> Result<Result<(String, Row), Ineligible>, DbError> {
    let (lock_household, lock_resident) = tokio::try_join!(
        tx.prepare_cached(LOCK_HOUSEHOLD),
        tx.prepare_cached(LOCK_RESIDENT),
    )?;
    let by_household: [&(dyn ToSql + Sync); 1] = [&holder.household_id];
    let by_resident: [&(dyn ToSql + Sync); 1] = [&holder.resident_id];
    let (household, row) = tokio::try_join!(
        tx.query_one(&lock_household, &by_household),
        tx.query_one(&lock_resident, &by_resident),
    )?;
    if row.get::<_, i64>(13) != holder.household_id {
        return Ok(Err(Ineligible::MovedOut)); // moved to another household meanwhile
    }
    if let Some(why) = ineligibility(row.get(6), row.get(7)) {
        return Ok(Err(why));
    }
    if row.get::<_, Option<bool>>(8) == Some(true) {
        return Ok(Err(Ineligible::MovedInToday));
    }
    if holder.card_issued_today {
        return Ok(Err(Ineligible::CardIssuedToday));
    }
    Ok(Ok((household.get(0), row)))
}

/// 住民票記載事項証明書: the name, and each item only when chosen.
pub async fn snapshot_record<C: GenericClient>(
    tx: &C,
    holder: &SessionResident,
    items: &RecordItems,
    document: DocumentIdentity,
    issued_on: Date,
) -> Result<Result<ResidenceRecordCertificate, OwnRefusal>, DbError> {
    let (address, r) = match lock_resident(tx, holder).await? {
        Ok(found) => found,
        Err(why) => return Ok(Err(OwnRefusal::Ineligible(why))),
    };
    let householder: Option<String> = r.get(14);
    Ok(Ok(ResidenceRecordCertificate {
        municipality: holder.municipality.clone(),
        document,
        issued_on,
        name: r.get(0),
        former_surname: if items.show_former_surname {
            r.get(4)
        } else {
            None
        },
        birth_date: items.show_birth_date.then(|| r.get(2)),
        sex: items.show_sex.then(|| sex_of(r.get(3))),
        address: items.show_address.then_some(address),
        became_resident_on: items.show_became_resident_on.then(|| r.get(10)),
        householder: match householder {
            Some(name) if items.show_householder => Some((name, r.get(9))),
            _ => None,
        },
        domicile: match (items.show_domicile, r.get(11), r.get(12)) {
            (true, Some(domicile), Some(head_of_register)) => Some(Domicile {
                domicile,
                head_of_register,
            }),
            _ => None,
        },
    }))
}

const LOCK_SEAL: &str = "
    SELECT registration_no, impression_png, abolished_on IS NULL
      FROM seal_registrations
     WHERE resident_id = $1 AND municipality_code = $2
     ORDER BY abolished_on IS NULL DESC, registered_on DESC
     LIMIT 1
       FOR SHARE";

/// 印鑑登録証明書: only while the registration is active; 旧氏 and 通称
/// printed whenever recorded.
pub async fn snapshot_seal<C: GenericClient>(
    tx: &C,
    holder: &SessionResident,
    document: DocumentIdentity,
    issued_on: Date,
) -> Result<Result<SealCertificate, OwnRefusal>, DbError> {
    let (address, r) = match lock_resident(tx, holder).await? {
        Ok(found) => found,
        Err(why) => return Ok(Err(OwnRefusal::Ineligible(why))),
    };
    let seal = tx
        .query_opt(
            &tx.prepare_cached(LOCK_SEAL).await?,
            &[&holder.resident_id, &holder.municipality.code],
        )
        .await?;
    let seal = match seal {
        None => return Ok(Err(OwnRefusal::Kind(KindRefusal::SealNotRegistered))),
        Some(s) if !s.get::<_, bool>(2) => {
            return Ok(Err(OwnRefusal::Kind(KindRefusal::SealAbolished)));
        }
        Some(s) => s,
    };
    Ok(Ok(SealCertificate {
        municipality: holder.municipality.clone(),
        document,
        issued_on,
        registration_no: seal.get(0),
        impression_png: seal.get(1),
        name: r.get(0),
        former_surname: r.get(4),
        alias: r.get(5),
        birth_date: r.get(2),
        sex: sex_of(r.get(3)),
        address,
    }))
}

/// The fiscal year asked (default: the latest released today) and whether
/// it is released; [`LOCK_ASSESSMENT`] goes out with it.
const TAX_YEAR: &str = "
    WITH year AS (
        SELECT coalesce($2::int, (SELECT max(fiscal_year) FROM tax_year_releases
                                   WHERE municipality_code = $1
                                     AND released_on <= (now() AT TIME ZONE 'Asia/Tokyo')::date)) AS year)
    SELECT year.year,
           EXISTS (SELECT 1 FROM tax_year_releases t
                    WHERE t.municipality_code = $1 AND t.fiscal_year = year.year
                      AND t.released_on <= (now() AT TIME ZONE 'Asia/Tokyo')::date)
      FROM year";
/// The resident's assessment for that year, locked.
const LOCK_ASSESSMENT: &str = "
    SELECT a.id, a.resident_on_january_1, a.dependants, a.taxable_income_yen,
           a.municipal_tax_yen, a.prefectural_tax_yen
      FROM tax_assessments a
     WHERE a.resident_id = $1 AND a.municipality_code = $2
       AND a.fiscal_year = coalesce($3::int, (SELECT max(fiscal_year) FROM tax_year_releases
                                               WHERE municipality_code = $2
                                                 AND released_on <= (now() AT TIME ZONE 'Asia/Tokyo')::date))
       FOR SHARE";
const INCOME_ITEMS: &str = "
    SELECT kind, receipts_yen, income_yen FROM tax_income_items
     WHERE assessment_id = $1 ORDER BY array_position(ARRAY['salary', 'business', 'real_estate',
           'interest', 'dividend', 'pension', 'miscellaneous', 'temporary', 'other'], kind)";
const DEDUCTIONS: &str = "
    SELECT kind, amount_yen FROM tax_deductions
     WHERE assessment_id = $1 ORDER BY array_position(ARRAY['social_insurance', 'small_business_mutual_aid',
           'life_insurance', 'earthquake_insurance', 'medical', 'casualty', 'disability', 'widow',
           'single_parent', 'working_student', 'spouse', 'spouse_special', 'dependant', 'basic'], kind)";

/// 課税・所得証明書 for one fiscal year.
pub async fn snapshot_tax<C: GenericClient>(
    tx: &C,
    holder: &SessionResident,
    options: &TaxOptions,
    document: DocumentIdentity,
    issued_on: Date,
) -> Result<Result<TaxCertificate, OwnRefusal>, DbError> {
    let (address, r) = match lock_resident(tx, holder).await? {
        Ok(found) => found,
        Err(why) => return Ok(Err(OwnRefusal::Ineligible(why))),
    };
    let (tax_year, lock_assessment) = tokio::try_join!(
        tx.prepare_cached(TAX_YEAR),
        tx.prepare_cached(LOCK_ASSESSMENT)
    )?;
    let year_params: [&(dyn ToSql + Sync); 2] = [&holder.municipality.code, &options.fiscal_year];
    let assessment_params: [&(dyn ToSql + Sync); 3] = [
        &holder.resident_id,
        &holder.municipality.code,
        &options.fiscal_year,
    ];
    let (year, assessment) = tokio::try_join!(
        tx.query_one(&tax_year, &year_params),
        tx.query_opt(&lock_assessment, &assessment_params),
    )?;
    let refuse = |why| Ok(Err(OwnRefusal::Kind(why)));
    let (Some(year), true) = (year.get::<_, Option<i32>>(0), year.get::<_, bool>(1)) else {
        return refuse(KindRefusal::TaxYearNotReleased);
    };
    let Some(a) = assessment else {
        return refuse(KindRefusal::NoTaxRecord);
    };
    let assessment_id: i64 = a.get(0);
    if !a.get::<_, bool>(1) {
        return refuse(KindRefusal::NotRegisteredHereOnJanuary1);
    }
    let (income_items, deductions) = tokio::try_join!(
        tx.prepare_cached(INCOME_ITEMS),
        tx.prepare_cached(DEDUCTIONS)
    )?;
    let by_assessment: [&(dyn ToSql + Sync); 1] = [&assessment_id];
    let (income, deductions) = tokio::try_join!(
        tx.query(&income_items, &by_assessment),
        tx.query(&deductions, &by_assessment),
    )?;
    fn code<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
        serde_json::from_value(serde_json::Value::from(text))
    }
    let income = income
        .iter()
        .map(|i| {
            Ok(IncomeItem {
                kind: code(i.get(0))?,
                receipts_yen: i.get(1),
                income_yen: i.get(2),
            })
        })
        .collect::<Result<Vec<_>, serde_json::Error>>();
    let deductions = deductions
        .iter()
        .map(|d| {
            Ok(Deduction {
                kind: code(d.get(0))?,
                amount_yen: d.get(1),
            })
        })
        .collect::<Result<Vec<_>, serde_json::Error>>();
    // The table's CHECK admits exactly the kinds the model names.
    let (Ok(income), Ok(deductions)) = (income, deductions) else {
        return Err(DbError::Data("a tax item kind the model does not name"));
    };
    Ok(Ok(TaxCertificate {
        municipality: holder.municipality.clone(),
        document,
        issued_on,
        fiscal_year: year,
        name: r.get(0),
        birth_date: r.get(2),
        address,
        income,
        deductions,
        dependants: a.get(2),
        taxable_income_yen: a.get(3),
        municipal_tax_yen: a.get(4),
        prefectural_tax_yen: a.get(5),
    }))
}

//! Japanese era dates (和暦), as certificates print them: `令和7年(2025年)4月1日`.
//!
//! Rule: an era begins on its exact first day and its first year is written
//! 元年, so 2019-04-30 is 平成31年 and 2019-05-01 is 令和元年. The Western year
//! follows in parentheses so a reader never has to convert.

use time::Date;
use time::macros::date;

/// The eras a certificate can show, newest first, each with its first day in
/// the Gregorian calendar. 明治 counts from 1868-01-25, the Gregorian date of
/// 明治元年1月1日 (the era was proclaimed later that year and applied from the
/// start of the year).
const ERAS: [(&str, Date); 5] = [
    ("令和", date!(2019 - 05 - 01)),
    ("平成", date!(1989 - 01 - 08)),
    ("昭和", date!(1926 - 12 - 25)),
    ("大正", date!(1912 - 07 - 30)),
    ("明治", date!(1868 - 01 - 25)),
];

/// Formats `d` as `{era}{year}年({western}年){month}月{day}日`, e.g.
/// `令和7年(2025年)4月1日`, with the first year of an era written `元年`.
///
/// Dates before 明治 have no era on a residence certificate; they are written
/// in Western form only (`1867年12月31日`).
pub fn format_japanese_date(d: Date) -> String {
    let (year, month, day) = (d.year(), u8::from(d.month()), d.day());
    match ERAS.iter().find(|(_, first_day)| d >= *first_day) {
        Some((era, first_day)) => {
            let era_year = year - first_day.year() + 1;
            if era_year == 1 {
                format!("{era}元年({year}年){month}月{day}日")
            } else {
                format!("{era}{era_year}年({year}年){month}月{day}日")
            }
        }
        None => format!("{year}年{month}月{day}日"),
    }
}

/// Formats `d` as `{era}{year}年{month}月{day}日` (`令和7年4月1日`), the era
/// form alone; Western form only before 明治.
pub fn format_era_date(d: Date) -> String {
    let (year, month, day) = (d.year(), u8::from(d.month()), d.day());
    match ERAS.iter().find(|(_, first_day)| d >= *first_day) {
        Some((era, first_day)) => match year - first_day.year() + 1 {
            1 => format!("{era}元年{month}月{day}日"),
            n => format!("{era}{n}年{month}月{day}日"),
        },
        None => format!("{year}年{month}月{day}日"),
    }
}

/// A fiscal year (年度, April to March) in era and Western form, e.g.
/// `令和7年度(2025年度)`. The era is the one in force at the end of the
/// calendar year, so fiscal 2019 is 令和元年度.
pub fn format_fiscal_year(year: i32) -> String {
    let Ok(end) = Date::from_calendar_date(year, time::Month::December, 31) else {
        return format!("{year}年度");
    };
    match ERAS.iter().find(|(_, first_day)| end >= *first_day) {
        Some((era, first_day)) => match year - first_day.year() + 1 {
            1 => format!("{era}元年度({year}年度)"),
            n => format!("{era}{n}年度({year}年度)"),
        },
        None => format!("{year}年度"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(d: Date) -> String {
        format_japanese_date(d)
    }

    #[test]
    fn ordinary_reiwa_date_has_era_year_and_western_year() {
        assert_eq!(f(date!(2025 - 04 - 01)), "令和7年(2025年)4月1日");
        assert_eq!(f(date!(2020 - 12 - 31)), "令和2年(2020年)12月31日");
    }

    #[test]
    fn the_era_form_alone_drops_the_western_year_and_keeps_gannen() {
        assert_eq!(format_era_date(date!(2025 - 04 - 01)), "令和7年4月1日");
        assert_eq!(format_era_date(date!(2019 - 05 - 01)), "令和元年5月1日");
        assert_eq!(format_era_date(date!(2019 - 04 - 30)), "平成31年4月30日");
        assert_eq!(format_era_date(date!(1989 - 01 - 08)), "平成元年1月8日");
    }

    #[test]
    fn reiwa_starts_on_2019_05_01_as_gannen() {
        assert_eq!(f(date!(2019 - 04 - 30)), "平成31年(2019年)4月30日");
        assert_eq!(f(date!(2019 - 05 - 01)), "令和元年(2019年)5月1日");
    }

    #[test]
    fn heisei_starts_on_1989_01_08_as_gannen() {
        assert_eq!(f(date!(1989 - 01 - 07)), "昭和64年(1989年)1月7日");
        assert_eq!(f(date!(1989 - 01 - 08)), "平成元年(1989年)1月8日");
        assert_eq!(f(date!(1990 - 01 - 01)), "平成2年(1990年)1月1日");
    }

    #[test]
    fn showa_starts_on_1926_12_25_as_gannen() {
        assert_eq!(f(date!(1926 - 12 - 24)), "大正15年(1926年)12月24日");
        assert_eq!(f(date!(1926 - 12 - 25)), "昭和元年(1926年)12月25日");
        assert_eq!(f(date!(1927 - 01 - 01)), "昭和2年(1927年)1月1日");
    }

    #[test]
    fn taisho_starts_on_1912_07_30_as_gannen() {
        assert_eq!(f(date!(1912 - 07 - 29)), "明治45年(1912年)7月29日");
        assert_eq!(f(date!(1912 - 07 - 30)), "大正元年(1912年)7月30日");
    }

    #[test]
    fn meiji_starts_on_1868_01_25_and_earlier_dates_are_western_only() {
        assert_eq!(f(date!(1868 - 01 - 24)), "1868年1月24日");
        assert_eq!(f(date!(1868 - 01 - 25)), "明治元年(1868年)1月25日");
        assert_eq!(f(date!(1873 - 01 - 01)), "明治6年(1873年)1月1日");
    }

    #[test]
    fn eras_are_listed_newest_first_so_the_first_match_is_right() {
        assert!(ERAS.windows(2).all(|w| w[0].1 > w[1].1));
    }

    #[test]
    fn fiscal_years_take_the_era_of_their_december() {
        assert_eq!(format_fiscal_year(2025), "令和7年度(2025年度)");
        assert_eq!(format_fiscal_year(2019), "令和元年度(2019年度)");
        assert_eq!(format_fiscal_year(2018), "平成30年度(2018年度)");
    }
}

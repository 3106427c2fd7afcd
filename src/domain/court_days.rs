//! California court days. Saturdays, Sundays and the judicial holidays (CCP 135, Gov. Code 6700;
//! observed dates per Cal. Rules of Court, rule 1.11) are not court days. The holidays are rows of
//! the rules table (`[[holiday]]` in `data/rules.toml`, or the file `--rules` names), one per
//! observed day with its source (docs/law/durations.md#court-holidays). A date in a year the data
//! does not cover is an error: an unknown year is never taken to be free of holidays.
//!
//! Days are California days: an instant is placed on the calendar in Pacific time, and a day ends
//! at the following midnight, Pacific time.
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::America::Los_Angeles;

use super::rules;

/// Where a holiday's date comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// A California court's published holiday calendar lists the date.
    Published,
    /// Our reading of CCP 135, Gov. Code 6700 and rule 1.11; no published calendar was found.
    Statute,
}

impl Basis {
    /// The data's word for it: `published` or `statute`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "published" => Some(Basis::Published),
            "statute" => Some(Basis::Statute),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Published => "published",
            Basis::Statute => "statute",
        }
    }
}

/// One judicial holiday, on the day the courts observe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub date: NaiveDate,
    pub name: String,
    pub basis: Basis,
    /// The published calendar's address, or the provisions read.
    pub source: String,
}

/// Why a court day could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CourtDaysError {
    #[error(
        "court holidays are known for {first} to {last} only, not for {date} \
         (the rules table's [[holiday]] rows)"
    )]
    OutOfRange {
        date: NaiveDate,
        first: i32,
        last: i32,
    },
    #[error("the rules table has no row for {form} in force on {day}")]
    NoRule { form: &'static str, day: NaiveDate },
}

/// The judicial holidays of a contiguous run of years.
#[derive(Debug)]
pub struct Calendar {
    holidays: Vec<Holiday>,
    first: i32,
    last: i32,
}

impl Calendar {
    /// Checks the holidays: in date order, none on a weekend (the observed day is listed), every
    /// year from the first to the last present, at least one. An error names the index of the
    /// holiday at fault (the rules loader turns it into a line).
    pub fn new(holidays: Vec<Holiday>) -> Result<Self, (usize, String)> {
        for (i, h) in holidays.iter().enumerate() {
            if matches!(h.date.weekday(), Weekday::Sat | Weekday::Sun) {
                return Err((
                    i,
                    format!(
                        "{} is a {}; list the day observed instead (Cal. Rules of Court, rule 1.11)",
                        h.date,
                        h.date.format("%A")
                    ),
                ));
            }
            if i > 0 && holidays[i - 1].date >= h.date {
                return Err((i, format!("{} is out of date order", h.date)));
            }
        }
        let (Some(first), Some(last)) = (holidays.first(), holidays.last()) else {
            return Err((
                0,
                "no [[holiday]] rows: court days cannot be counted".to_owned(),
            ));
        };
        let (first, last) = (first.date.year(), last.date.year());
        if let Some(gap) = (first..=last).find(|y| !holidays.iter().any(|h| h.date.year() == *y)) {
            let after = holidays
                .iter()
                .position(|h| h.date.year() > gap)
                .unwrap_or(0);
            return Err((
                after,
                format!("no holidays for {gap}, between {first} and {last}"),
            ));
        }
        Ok(Self {
            holidays,
            first,
            last,
        })
    }

    /// A calendar that covers no year: every court-day count is an error. Only for a rules table
    /// that could not be read (start-up stops first).
    pub fn none() -> Self {
        Self {
            holidays: Vec::new(),
            first: 1,
            last: 0,
        }
    }

    /// Every holiday, in date order.
    pub fn holidays(&self) -> &[Holiday] {
        &self.holidays
    }

    /// The first and last year covered.
    pub fn years(&self) -> (i32, i32) {
        (self.first, self.last)
    }

    /// Whether the courts sit on `date`: a weekday that is no judicial holiday.
    pub fn is_court_day(&self, date: NaiveDate) -> Result<bool, CourtDaysError> {
        if !(self.first..=self.last).contains(&date.year()) {
            return Err(CourtDaysError::OutOfRange {
                date,
                first: self.first,
                last: self.last,
            });
        }
        if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            return Ok(false);
        }
        Ok(self
            .holidays
            .binary_search_by_key(&date, |h| h.date)
            .is_err())
    }

    /// The `n`th court day following `date` (`date` itself is not counted; `n = 0` is `date`).
    pub fn add_court_days(&self, date: NaiveDate, n: u32) -> Result<NaiveDate, CourtDaysError> {
        let mut day = date;
        let mut counted = 0;
        while counted < n {
            day = day.succ_opt().ok_or(CourtDaysError::OutOfRange {
                date: day,
                first: self.first,
                last: self.last,
            })?;
            if self.is_court_day(day)? {
                counted += 1;
            }
        }
        Ok(day)
    }
}

/// The calendar of the rules in force (`rules::active`).
pub fn calendar() -> Result<&'static Calendar, CourtDaysError> {
    Ok(&rules::active().holidays)
}

/// Whether the courts sit on `date`.
pub fn is_court_day(date: NaiveDate) -> Result<bool, CourtDaysError> {
    calendar()?.is_court_day(date)
}

/// The `n`th court day following `date`, not counting `date`.
pub fn add_court_days(date: NaiveDate, n: u32) -> Result<NaiveDate, CourtDaysError> {
    calendar()?.add_court_days(date, n)
}

/// The end of the first court day after the California day of `t`: the deadline of a duty due
/// "within one business day" of an event, such as transmitting an order to DOJ (Fam. Code
/// 6380(a), docs/law/lifecycle.md#transmission).
pub fn end_of_next_court_day(t: DateTime<Utc>) -> Result<DateTime<Utc>, CourtDaysError> {
    end_of_day(add_court_days(california_date(t), 1)?)
}

/// The California (Pacific time) calendar date of instant `t`.
pub fn california_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&Los_Angeles).date_naive()
}

/// The instant California day `date` ends: midnight, Pacific time, as the next day begins.
pub fn end_of_day(date: NaiveDate) -> Result<DateTime<Utc>, CourtDaysError> {
    let out_of_range = CourtDaysError::OutOfRange {
        date,
        first: date.year(),
        last: date.year(),
    };
    let next = date.succ_opt().ok_or(out_of_range.clone())?;
    // Midnight always exists in Pacific time (clocks change at 02:00).
    Los_Angeles
        .from_local_datetime(&next.and_time(NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or(out_of_range)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_shipped_data_parses_and_covers_2024_to_2028() {
        let cal = calendar().unwrap();
        assert_eq!(cal.years(), (2024, 2028));
        for year in 2024..=2028 {
            let n = cal
                .holidays()
                .iter()
                .filter(|h| h.date.year() == year)
                .count();
            // 14 judicial holidays a year; New Year's Day 2028 (a Saturday) is observed on
            // 31 December 2027, so 2027 has 15 and 2028 has 13.
            let expected = match year {
                2027 => 15,
                2028 => 13,
                _ => 14,
            };
            assert_eq!(n, expected, "{year}");
        }
        for h in cal.holidays() {
            match h.basis {
                Basis::Published => assert!(h.source.starts_with("https://"), "{h:?}"),
                Basis::Statute => assert!(h.source.contains("CCP 135"), "{h:?}"),
            }
        }
    }

    #[test]
    fn weekends_and_holidays_are_not_court_days() {
        assert!(is_court_day(d(2026, 12, 4)).unwrap(), "a Friday");
        assert!(!is_court_day(d(2026, 12, 5)).unwrap(), "a Saturday");
        assert!(!is_court_day(d(2026, 12, 6)).unwrap(), "a Sunday");
        assert!(!is_court_day(d(2026, 12, 25)).unwrap(), "Christmas");
        assert!(!is_court_day(d(2026, 7, 3)).unwrap(), "July 4 observed");
        assert!(
            is_court_day(d(2026, 10, 12)).unwrap(),
            "Columbus Day is no judicial holiday"
        );
    }

    #[test]
    fn counting_skips_weekends() {
        // Monday: Tuesday to Friday, then the next Monday.
        assert_eq!(add_court_days(d(2026, 10, 5), 5).unwrap(), d(2026, 10, 12));
        // Saturday: Monday to Friday.
        assert_eq!(add_court_days(d(2026, 10, 3), 5).unwrap(), d(2026, 10, 9));
        assert_eq!(add_court_days(d(2026, 10, 3), 1).unwrap(), d(2026, 10, 5));
        assert_eq!(add_court_days(d(2026, 10, 3), 0).unwrap(), d(2026, 10, 3));
    }

    #[test]
    fn a_friday_before_a_monday_holiday() {
        // Labor Day 2026 is Monday 7 September.
        assert_eq!(add_court_days(d(2026, 9, 4), 1).unwrap(), d(2026, 9, 8));
        assert_eq!(add_court_days(d(2026, 9, 4), 5).unwrap(), d(2026, 9, 14));
        // Thursday before it: Friday, then Tuesday to Friday.
        assert_eq!(add_court_days(d(2026, 9, 3), 5).unwrap(), d(2026, 9, 11));
    }

    #[test]
    fn thanksgiving_and_the_day_after() {
        assert!(!is_court_day(d(2026, 11, 26)).unwrap());
        assert!(!is_court_day(d(2026, 11, 27)).unwrap());
        assert!(is_court_day(d(2026, 11, 25)).unwrap());
        // Wednesday before: Monday 30 November is the first court day after it.
        assert_eq!(add_court_days(d(2026, 11, 25), 1).unwrap(), d(2026, 11, 30));
        assert_eq!(add_court_days(d(2025, 11, 26), 1).unwrap(), d(2025, 12, 1));
    }

    #[test]
    fn counting_crosses_the_year_boundary() {
        // 31 Dec 2026 (Thursday); 1 Jan 2027 is a holiday, then a weekend.
        assert_eq!(add_court_days(d(2026, 12, 31), 1).unwrap(), d(2027, 1, 4));
        // 2027 ends on an observed New Year's Day 2028 (Friday 31 December).
        assert!(!is_court_day(d(2027, 12, 31)).unwrap());
        assert_eq!(add_court_days(d(2027, 12, 22), 2).unwrap(), d(2027, 12, 27));
        // ... and 2028 begins on a Saturday: the next court day is Monday 3 January.
        assert_eq!(add_court_days(d(2027, 12, 30), 1).unwrap(), d(2028, 1, 3));
        // Veterans Day 2028 is a Saturday, observed on Friday 10 November (CRC 1.11).
        assert_eq!(add_court_days(d(2028, 11, 9), 1).unwrap(), d(2028, 11, 13));
    }

    /// EPO entry (Fam. Code 6256) refuses years outside the data, so the shipped file must run at
    /// least to the end of next year: this test fails a year before the data runs out.
    #[test]
    fn the_data_covers_this_year_and_the_next() {
        let this_year = california_date(Utc::now()).year();
        let (first, last) = calendar().unwrap().years();
        assert!(first <= this_year, "data starts in {first}");
        assert!(
            last > this_year,
            "court holidays run only to {last}; add {} from CCP 135 / Gov. Code 6700",
            this_year + 1
        );
    }

    #[test]
    fn years_outside_the_data_are_errors() {
        let err = is_court_day(d(2023, 6, 5)).unwrap_err();
        assert!(matches!(
            err,
            CourtDaysError::OutOfRange {
                first: 2024,
                last: 2028,
                ..
            }
        ));
        assert!(err.to_string().contains("2024 to 2028"), "{err}");
        assert!(is_court_day(d(2029, 1, 3)).is_err());
        // Counting into an uncovered year fails rather than guessing.
        assert!(add_court_days(d(2028, 12, 29), 2).is_err());
    }

    #[test]
    fn california_days_follow_pacific_time() {
        // 06:59 UTC on 10 October 2026 is 23:59 PDT on the 9th.
        let t = Utc.with_ymd_and_hms(2026, 10, 10, 6, 59, 0).unwrap();
        assert_eq!(california_date(t), d(2026, 10, 9));
        assert_eq!(california_date(t + Duration::minutes(1)), d(2026, 10, 10));
        // In winter the lag is 8 hours.
        let w = Utc.with_ymd_and_hms(2026, 12, 5, 7, 30, 0).unwrap();
        assert_eq!(california_date(w), d(2026, 12, 4));
        assert_eq!(
            end_of_day(d(2026, 10, 9)).unwrap(),
            Utc.with_ymd_and_hms(2026, 10, 10, 7, 0, 0).unwrap()
        );
        assert_eq!(
            end_of_day(d(2026, 12, 4)).unwrap(),
            Utc.with_ymd_and_hms(2026, 12, 5, 8, 0, 0).unwrap()
        );
        // The days clocks change (8 March and 1 November 2026).
        assert_eq!(
            end_of_day(d(2026, 3, 7)).unwrap(),
            Utc.with_ymd_and_hms(2026, 3, 8, 8, 0, 0).unwrap()
        );
        assert_eq!(
            end_of_day(d(2026, 3, 8)).unwrap(),
            Utc.with_ymd_and_hms(2026, 3, 9, 7, 0, 0).unwrap()
        );
        assert_eq!(
            end_of_day(d(2026, 10, 31)).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 1, 7, 0, 0).unwrap()
        );
        assert_eq!(
            end_of_day(d(2026, 11, 1)).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 2, 8, 0, 0).unwrap()
        );
    }

    #[test]
    fn one_business_day_after_an_event() {
        // Friday afternoon before Labor Day: due by the end of Tuesday.
        let fri = Utc.with_ymd_and_hms(2026, 9, 4, 22, 0, 0).unwrap();
        assert_eq!(
            end_of_next_court_day(fri).unwrap(),
            Utc.with_ymd_and_hms(2026, 9, 9, 7, 0, 0).unwrap()
        );
        // Friday evening in California is Saturday in UTC; still Friday's deadline.
        let late = Utc.with_ymd_and_hms(2026, 9, 5, 5, 0, 0).unwrap();
        assert_eq!(end_of_next_court_day(late), end_of_next_court_day(fri));
        assert!(
            end_of_next_court_day(Utc.with_ymd_and_hms(2023, 5, 1, 12, 0, 0).unwrap()).is_err()
        );
    }

    fn h(date: NaiveDate) -> Holiday {
        Holiday {
            date,
            name: "A".to_owned(),
            basis: Basis::Statute,
            source: "CCP 135".to_owned(),
        }
    }

    #[test]
    fn malformed_holidays_are_refused_with_their_row() {
        let bad =
            |days: &[NaiveDate]| Calendar::new(days.iter().map(|d| h(*d)).collect()).unwrap_err();
        assert!(bad(&[]).1.contains("no [[holiday]]"));
        let sat = bad(&[d(2026, 12, 25), d(2026, 12, 26)]);
        assert_eq!(sat.0, 1);
        assert!(sat.1.contains("Saturday"), "{}", sat.1);
        let unordered = bad(&[d(2026, 12, 25), d(2026, 1, 1)]);
        assert_eq!(unordered.0, 1);
        assert!(unordered.1.contains("order"));
        let gap = bad(&[d(2024, 12, 25), d(2026, 12, 25)]);
        assert!(gap.1.contains("2025"), "{}", gap.1);
        assert_eq!(gap.0, 1);
        let ok = Calendar::new(vec![h(d(2026, 12, 25))]).unwrap();
        assert_eq!(ok.years(), (2026, 2026));
        assert!(Calendar::none().is_court_day(d(2026, 12, 24)).is_err());
    }
}

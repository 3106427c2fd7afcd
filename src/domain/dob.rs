//! Dates of birth and estimated ages. The forms allow an estimated age when the DOB is unknown
//! (CH-110 marks "age (estimate allowed)" as required for CLETS,
//! docs/law/identity.md#required-descriptors).
use chrono::{Datelike, NaiveDate};

use super::Invalid;

/// Oldest age the registry accepts; anything older is a keying error.
pub const MAX_AGE: i32 = 120;

/// A plausible date of birth: not in the future, not more than `MAX_AGE` years ago.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dob(NaiveDate);

impl Dob {
    pub fn parse(field: &str, dob: NaiveDate, today: NaiveDate) -> Result<Self, Invalid> {
        if dob > today {
            return Err(Invalid::new(
                field,
                format!("date of birth {dob} is in the future"),
            ));
        }
        if age_on(dob, today) > MAX_AGE {
            return Err(Invalid::new(
                field,
                format!("date of birth {dob} makes the person older than {MAX_AGE}"),
            ));
        }
        Ok(Self(dob))
    }

    pub fn date(self) -> NaiveDate {
        self.0
    }
}

/// Whole years of age on `day`.
pub fn age_on(dob: NaiveDate, day: NaiveDate) -> i32 {
    let mut age = day.year() - dob.year();
    if (day.month(), day.day()) < (dob.month(), dob.day()) {
        age -= 1;
    }
    age
}

/// An estimated age as written on a form.
pub fn parse_estimated_age(field: &str, age: i32) -> Result<i32, Invalid> {
    if (0..=MAX_AGE).contains(&age) {
        Ok(age)
    } else {
        Err(Invalid::new(
            field,
            format!("estimated age {age} is not between 0 and {MAX_AGE}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn validates_dob() {
        let today = d(2026, 11, 27);
        assert!(Dob::parse("dob", d(1990, 2, 28), today).is_ok());
        assert!(Dob::parse("dob", d(2026, 11, 28), today).is_err());
        assert!(Dob::parse("dob", d(1900, 1, 1), today).is_err());
    }

    #[test]
    fn computes_age() {
        assert_eq!(age_on(d(2000, 6, 15), d(2026, 6, 14)), 25);
        assert_eq!(age_on(d(2000, 6, 15), d(2026, 6, 15)), 26);
        assert!(parse_estimated_age("a", 121).is_err());
        assert_eq!(parse_estimated_age("a", 35).unwrap(), 35);
    }
}

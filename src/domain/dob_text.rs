//! A date of birth as a clerk types it into a search: ISO `1988-04-23`, US `04/23/1988` or
//! `4/23/88`, digits run together (`19880423`, `04231988`), year only (`1988`) or year and
//! month (`1988-04`, `04/1988`). Keying errors are read the way a person would read them: an
//! impossible month is taken as day and month swapped (`1988-23-04`), and a year nobody now
//! alive was born in (`2088`, `1588`, `8198`) is set aside so month and day still count.
//! The reading is reported back ("DOB 1988-23-04 read as 1988-04-23"), so the match can be judged.
use chrono::{Datelike, NaiveDate};

use super::Invalid;
use super::dob::MAX_AGE;

/// Longest DOB text accepted.
pub const MAX_DOB_TEXT: usize = 20;

/// What could be read of a typed DOB. At least one part is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedDob {
    pub year: Option<i32>,
    pub month: Option<u32>,
    pub day: Option<u32>,
    /// How the text was read, when that is not plain from it (a swap, a year set aside, a
    /// partial date, another format than ISO).
    pub note: Option<String>,
}

impl TypedDob {
    /// The whole date, when every part is known.
    pub fn date(&self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.year?, self.month?, self.day?)
    }

    /// `1988-04-23`, `1988-04-??`, `????-04-23`.
    fn shown(&self) -> String {
        let y = self.year.map_or("????".to_owned(), |y| format!("{y:04}"));
        let m = self.month.map_or("??".to_owned(), |m| format!("{m:02}"));
        let d = self.day.map_or("??".to_owned(), |d| format!("{d:02}"));
        if self.month.is_none() && self.day.is_none() {
            y
        } else if self.day.is_none() {
            format!("{y}-{m}")
        } else {
            format!("{y}-{m}-{d}")
        }
    }
}

fn bad(field: &str, text: &str) -> Invalid {
    Invalid::new(
        field,
        format!(
            "'{text}' is not a date of birth; use YYYY-MM-DD, MM/DD/YYYY, YYYYMMDD, YYYY or YYYY-MM"
        ),
    )
}

/// Reads a typed DOB (see the module). `today` bounds plausible birth years.
pub fn read_dob_text(field: &str, text: &str, today: NaiveDate) -> Result<TypedDob, Invalid> {
    let text = text.trim();
    if text.chars().count() > MAX_DOB_TEXT {
        return Err(Invalid::new(
            field,
            format!("longer than {MAX_DOB_TEXT} characters"),
        ));
    }
    // A scanned or hurried form puts letters for digits ("O3/18/1954", "06/0|/1958"): read
    // them as the digits they stand for, once enough of the text is digits to be a date.
    let digits = text.chars().filter(char::is_ascii_digit).count();
    let lookalikes = digits >= 4
        && text
            .chars()
            .any(|c| !c.is_ascii_digit() && lookalike_digit(c).is_some());
    let read_text: String = if lookalikes {
        text.chars()
            .map(|c| lookalike_digit(c).unwrap_or(c))
            .collect()
    } else {
        text.to_owned()
    };
    if read_text.is_empty()
        || !read_text
            .chars()
            .all(|c| c.is_ascii_digit() || "-/. ".contains(c))
    {
        return Err(bad(field, text));
    }
    let groups: Vec<&str> = read_text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    let plausible = |y: i32| (today.year() - MAX_AGE..=today.year()).contains(&y);
    let num = |s: &str| s.parse::<u32>().map_err(|_| bad(field, text));
    let year = |s: &str| s.parse::<i32>().map_err(|_| bad(field, text));
    let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    // (year, first of month/day as typed, second of them)
    let (y, a, b): (i32, Option<u32>, Option<u32>) = match lens.as_slice() {
        [8] => {
            let g = groups[0];
            let iso = (year(&g[..4])?, num(&g[4..6])?, num(&g[6..])?);
            let us = (year(&g[4..])?, num(&g[..2])?, num(&g[2..4])?);
            if !plausible(iso.0) && plausible(us.0) {
                (us.0, Some(us.1), Some(us.2))
            } else {
                (iso.0, Some(iso.1), Some(iso.2))
            }
        }
        [6] => {
            let g = groups[0];
            let (y1, m1) = (year(&g[..4])?, num(&g[4..])?);
            let (m2, y2) = (num(&g[..2])?, year(&g[2..])?);
            if plausible(y1) && (1..=12).contains(&m1) {
                (y1, Some(m1), None)
            } else if plausible(y2) && (1..=12).contains(&m2) {
                (y2, Some(m2), None)
            } else {
                return Err(bad(field, text));
            }
        }
        [4] => (year(groups[0])?, None, None),
        [4, 1 | 2] => (year(groups[0])?, Some(num(groups[1])?), None),
        [1 | 2, 4] => (year(groups[1])?, Some(num(groups[0])?), None),
        [4, 1 | 2, 1 | 2] => (
            year(groups[0])?,
            Some(num(groups[1])?),
            Some(num(groups[2])?),
        ),
        [1 | 2, 1 | 2, 4] => (
            year(groups[2])?,
            Some(num(groups[0])?),
            Some(num(groups[1])?),
        ),
        [1 | 2, 1 | 2, 2] => {
            // two-digit year: the latest century that does not put the birth in the future
            let yy = year(groups[2])?;
            let century = today.year() / 100 * 100;
            let y = if century + yy > today.year() {
                century - 100 + yy
            } else {
                century + yy
            };
            (y, Some(num(groups[0])?), Some(num(groups[1])?))
        }
        // A digit typed twice or one too many ("087/31/1956", "11/26/20102"): that part is no
        // month, day or year, and the checks below set it aside; the others still count.
        [4 | 5, 1..=3, 1..=3] => (
            year(groups[0])?,
            Some(num(groups[1])?),
            Some(num(groups[2])?),
        ),
        [1..=3, 1..=3, 4 | 5] => (
            year(groups[2])?,
            Some(num(groups[0])?),
            Some(num(groups[1])?),
        ),
        _ => return Err(bad(field, text)),
    };
    let (mut month, mut day) = (a, b);
    let mut swapped = false;
    if let (Some(m), Some(d)) = (month, day)
        && m > 12
        && (1..=12).contains(&d)
    {
        (month, day) = (Some(d), Some(m));
        swapped = true;
    }
    // A part no date can have (a mistyped digit: month 14, day 71, 30 February) is set aside
    // and the rest still counts, as a wrong year is below; the note says so.
    let mut aside: Vec<String> = Vec::new();
    if let Some(m) = month.filter(|m| !(1..=12).contains(m)) {
        if a.is_some() && b.is_none() {
            return Err(Invalid::new(field, format!("'{text}' has no month 1–12")));
        }
        aside.push(format!("month {m} set aside"));
        month = None;
    }
    if let Some(d) = day.filter(|&d| match month {
        // not in that month in any year (29 February is in some), nor in that year's
        Some(m) => {
            NaiveDate::from_ymd_opt(2000, m, d).is_none()
                || (plausible(y) && NaiveDate::from_ymd_opt(y, m, d).is_none())
        }
        None => !(1..=31).contains(&d),
    }) {
        aside.push(format!("day {d} set aside"));
        day = None;
    }
    if month.is_none() && day.is_none() && a.is_some() && !plausible(y) {
        return Err(bad(field, text));
    }
    let mut read = TypedDob {
        year: Some(y),
        month,
        day,
        note: None,
    };
    let future = read.date().is_some_and(|d| d > today);
    let year_set_aside = !plausible(y) || future;
    if year_set_aside {
        if month.is_none() || day.is_none() {
            return Err(Invalid::new(
                field,
                format!("'{text}': {y} cannot be a birth year"),
            ));
        }
        read.year = None;
    }
    let shown = read.shown();
    let mut why: Vec<String> = Vec::new();
    if lookalikes {
        why.push("letters read as digits".to_owned());
    }
    if swapped {
        why.push("day and month swapped".to_owned());
    }
    why.extend(aside);
    if year_set_aside {
        why.push(format!("year {y} set aside"));
    }
    if read.day.is_none() && b.is_none() {
        why.push(if read.month.is_none() {
            "year only".to_owned()
        } else {
            "year and month only".to_owned()
        });
    }
    if shown != text || !why.is_empty() {
        let why = if why.is_empty() {
            String::new()
        } else {
            format!(" ({})", why.join(", "))
        };
        read.note = Some(format!("DOB {text} read as {shown}{why}"));
    }
    Ok(read)
}

/// The digit a letter or mark stands for when typed or scanned into a date ("O" for 0, "l" or
/// "|" for 1, "S" for 5, "B" for 8).
fn lookalike_digit(c: char) -> Option<char> {
    Some(match c {
        'O' | 'o' | 'Q' | 'D' => '0',
        'l' | 'I' | 'i' | '|' | '!' => '1',
        'Z' | 'z' => '2',
        'A' => '4',
        'S' | 's' => '5',
        'G' | 'b' => '6',
        'T' => '7',
        'B' => '8',
        'g' | 'q' => '9',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 4).unwrap()
    }

    fn read(text: &str) -> TypedDob {
        read_dob_text("dobText", text, today()).unwrap_or_else(|e| panic!("{text}: {e:?}"))
    }

    fn ymd(t: &TypedDob) -> (Option<i32>, Option<u32>, Option<u32>) {
        (t.year, t.month, t.day)
    }

    const APRIL_23: (Option<i32>, Option<u32>, Option<u32>) = (Some(1988), Some(4), Some(23));

    #[test]
    fn whole_dates_in_every_format() {
        for text in [
            "1988-04-23",
            "1988/4/23",
            "04/23/1988",
            "4/23/1988",
            "4-23-88",
            "04.23.1988",
            "19880423",
            "04231988",
            " 1988-04-23 ",
        ] {
            assert_eq!(ymd(&read(text)), APRIL_23, "{text}");
        }
        assert_eq!(read("1988-04-23").note, None);
        assert_eq!(
            read("04/23/1988").note.as_deref(),
            Some("DOB 04/23/1988 read as 1988-04-23")
        );
        // two-digit years never land in the future
        assert_eq!(read("1/2/25").year, Some(2025));
        assert_eq!(read("1/2/27").year, Some(1927));
    }

    #[test]
    fn impossible_month_is_read_as_swapped() {
        let r = read("1988-23-04");
        assert_eq!(ymd(&r), APRIL_23);
        assert_eq!(
            r.note.as_deref(),
            Some("DOB 1988-23-04 read as 1988-04-23 (day and month swapped)")
        );
        assert_eq!(ymd(&read("23/04/1988")), APRIL_23);
    }

    #[test]
    fn a_wrong_year_keeps_month_and_day() {
        for text in ["2088-04-23", "1588-04-23", "8198-04-23", "2027-04-23"] {
            let r = read(text);
            assert_eq!(ymd(&r), (None, Some(4), Some(23)), "{text}");
            assert!(
                r.note
                    .as_deref()
                    .is_some_and(|n| n.contains("????-04-23") && n.contains("set aside")),
                "{text}: {:?}",
                r.note
            );
        }
        assert_eq!(ymd(&read("2088-23-04")), (None, Some(4), Some(23)));
    }

    #[test]
    fn partial_dates() {
        let r = read("1988");
        assert_eq!(ymd(&r), (Some(1988), None, None));
        assert_eq!(r.note.as_deref(), Some("DOB 1988 read as 1988 (year only)"));
        for text in ["1988-04", "04/1988", "198804", "041988"] {
            assert_eq!(ymd(&read(text)), (Some(1988), Some(4), None), "{text}");
        }
        assert!(read("1988-04").date().is_none());
        assert_eq!(
            read("19880423").date(),
            NaiveDate::from_ymd_opt(1988, 4, 23)
        );
    }

    #[test]
    fn letters_scanned_or_typed_for_digits_are_read_as_them() {
        for (text, want) in [
            ("O3/18/1954", (Some(1954), Some(3), Some(18))),
            ("06/0|/1958", (Some(1958), Some(6), Some(1))),
            ("0S/29/1981", (Some(1981), Some(5), Some(29))),
            ("1988-O4-2B", (Some(1988), Some(4), Some(28))),
        ] {
            let r = read(text);
            assert_eq!(ymd(&r), want, "{text}");
            assert!(
                r.note
                    .as_deref()
                    .is_some_and(|n| n.contains("letters read as digits")),
                "{text}: {:?}",
                r.note
            );
        }
        // too few digits to be a date with a letter in it
        assert!(read_dob_text("dobText", "Sept", today()).is_err());
    }

    #[test]
    fn a_part_no_date_can_have_is_set_aside() {
        // a mistyped day: year and month still count
        let r = read("04/71/1914");
        assert_eq!(ymd(&r), (Some(1914), Some(4), None));
        assert_eq!(
            r.note.as_deref(),
            Some("DOB 04/71/1914 read as 1914-04 (day 71 set aside)")
        );
        assert_eq!(ymd(&read("1988-02-30")), (Some(1988), Some(2), None));
        // 29 February of a year that had none
        assert_eq!(ymd(&read("1987-02-29")), (Some(1987), Some(2), None));
        assert_eq!(ymd(&read("1988-02-29")), (Some(1988), Some(2), Some(29)));
        // a month no swap explains: year and day still count
        let r = read("1988-13-13");
        assert_eq!(ymd(&r), (Some(1988), None, Some(13)));
        assert!(
            r.note
                .as_deref()
                .is_some_and(|n| n.contains("month 13 set aside"))
        );
        // a digit too many: that part set aside
        assert_eq!(ymd(&read("087/31/1956")), (Some(1956), None, Some(31)));
        assert_eq!(ymd(&read("03/065/2005")), (Some(2005), Some(3), None));
        let r = read("11/26/20102");
        assert_eq!(ymd(&r), (None, Some(11), Some(26)));
        assert!(
            r.note
                .as_deref()
                .is_some_and(|n| n.contains("year 20102 set aside"))
        );
        // both impossible: the year alone
        assert_eq!(ymd(&read("1988-40-40")), (Some(1988), None, None));
        // zeros for an unknown month and day
        assert_eq!(
            read("1988-00-00").note.as_deref(),
            Some("DOB 1988-00-00 read as 1988 (month 0 set aside, day 0 set aside)")
        );
    }

    #[test]
    fn nonsense_is_a_clear_error() {
        for text in [
            "",
            "yesterday",
            "Apr 23 1988",
            "1988-13",
            "2088-00-00",
            "12345",
            "1988-04-23-01",
            "8198",
            "2088-04",
            "01/02/03/04",
            "14/54/4984",
            "0087/31/1956",
        ] {
            let e = read_dob_text("dobText", text, today()).expect_err(text);
            assert_eq!(e.field, "dobText");
            assert!(!e.message.is_empty());
        }
        assert!(read_dob_text("dobText", &"1".repeat(30), today()).is_err());
    }
}

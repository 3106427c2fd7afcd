//! Where and when a chain is filed: its family, its court (by county population), its case
//! number and its issue time.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::Rng;

use super::{Generator, pick};
use crate::domain::case_number::CaseNumber;
use crate::domain::order_rules::OrderFamily;
use crate::error::AppResult;

/// Approximate county populations (2020 Census, thousands), by alphabetical county number;
/// used only to spread demo orders like the state's caseload.
const COUNTY_WEIGHTS: [u32; 58] = [
    1682, 1, 41, 211, 45, 22, 1165, 28, 191, 1008, 29, 136, 179, 19, 909, 152, 68, 33, 10014, 156,
    262, 17, 91, 281, 9, 13, 439, 138, 102, 3186, 404, 20, 2418, 1585, 64, 2181, 3298, 873, 779,
    282, 764, 448, 1936, 270, 182, 3, 44, 453, 488, 552, 99, 65, 16, 473, 55, 843, 216, 81,
];

/// Share of chains by family (docs/law/registry.md#scale: DV ≈ 70 % and CH ≈ 26 % of civil
/// filings).
const FAMILY_MIX: &[(OrderFamily, f64)] = &[
    (OrderFamily::Dv, 0.50),
    (OrderFamily::Ch, 0.19),
    (OrderFamily::Cr, 0.12),
    (OrderFamily::Epo, 0.07),
    (OrderFamily::Ea, 0.04),
    (OrderFamily::Wv, 0.025),
    (OrderFamily::Gv, 0.015),
    (OrderFamily::Jv, 0.01),
    (OrderFamily::Sv, 0.005),
    (OrderFamily::Rt, 0.01),
    (OrderFamily::OutOfState, 0.005),
];

impl Generator {
    pub(super) fn family(&mut self) -> OrderFamily {
        let mut x = self.rng.random::<f64>();
        for (f, w) in FAMILY_MIX {
            if x < *w {
                return *f;
            }
            x -= w;
        }
        OrderFamily::Dv
    }

    pub(super) fn court(&mut self, family: OrderFamily) -> usize {
        if !self.tribal.is_empty()
            && matches!(family, OrderFamily::Dv | OrderFamily::Ch)
            && self.rng.random_bool(0.01)
        {
            return *pick(&mut self.rng, &self.tribal);
        }
        let total: u32 = COUNTY_WEIGHTS.iter().sum();
        let mut x = self.rng.random_range(0..total);
        let mut county = 1;
        for (i, w) in COUNTY_WEIGHTS.iter().enumerate() {
            if x < *w {
                county = i32::try_from(i).unwrap_or(0) + 1;
                break;
            }
            x -= w;
        }
        self.superior
            .iter()
            .copied()
            .find(|&i| self.courts[i].county_number == county)
            .unwrap_or(self.superior[0])
    }

    /// Case numbers shaped like the county's (docs/law/identity.md#case-numbers, synthetic
    /// sequences).
    pub(super) fn case_number(
        &mut self,
        court: usize,
        family: OrderFamily,
        issued: DateTime<Utc>,
    ) -> AppResult<CaseNumber> {
        self.case_seq += 1;
        let seq = self.case_seq;
        let yy = issued.format("%y");
        let yyyy = issued.format("%Y");
        let c = &self.courts[court];
        let kind = match family {
            OrderFamily::Cr => "CR",
            OrderFamily::Jv => "JV",
            OrderFamily::Dv | OrderFamily::Epo | OrderFamily::OutOfState => "FL",
            _ => "CV",
        };
        let raw = match (c.tribal, c.county_number, family) {
            (true, _, _) => format!("{}-{yy}-{seq:05}", c.code),
            (_, _, OrderFamily::Epo) => format!("EPO{yy}-{seq:06}"),
            (_, 19, OrderFamily::Dv | OrderFamily::Ch) => format!("{yy}STRO{seq:05}"),
            (_, 30, OrderFamily::Ch | OrderFamily::Wv | OrderFamily::Ea) => {
                format!("30-{yyyy}-{seq:08}-CU-HR-CJC")
            }
            (_, 37, OrderFamily::Ch | OrderFamily::Wv) => format!("37-{yyyy}-{seq:08}-CU-HR-CTL"),
            (_, 38, OrderFamily::Dv) => format!("FDV-{yy}-{seq:06}"),
            (_, 38, OrderFamily::Ch) => format!("CCH-{yy}-{seq:06}"),
            (_, 1, OrderFamily::Dv) => format!("HF{yy}{seq:06}"),
            _ => format!("{yy}{kind}{seq:06}"),
        };
        Ok(CaseNumber::parse("caseNumber", &raw)?)
    }

    pub(super) fn issue_time(&mut self, day: DateTime<Utc>) -> DateTime<Utc> {
        // Court hours in Pacific time are roughly 16:00–01:00 UTC.
        let date = day.date_naive();
        let secs = self.rng.random_range(16 * 3600..24 * 3600);
        Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default())
            + Duration::seconds(secs)
    }
}

//! Reference data seeded by the migrations: California's 58 counties (alphabetical number, FIPS)
//! and the tribal courts the registry knows. Participation modes are administrative data that an
//! admin changes later; every court starts as `full`.

/// One of California's 58 counties; each has one superior court.
pub struct County {
    pub number: i32,
    pub name: &'static str,
    pub fips: &'static str,
}

/// A tribal court, placed in the county where it sits.
pub struct TribalCourt {
    pub number: i32,
    pub name: &'static str,
    pub county_number: i32,
}

macro_rules! counties {
    ($(($n:expr, $name:expr, $fips:expr)),* $(,)?) => {
        &[$(County { number: $n, name: $name, fips: $fips }),*]
    };
}

/// Alphabetical county numbers as used in California ORIs; FIPS county codes are the odd numbers
/// 001–115 in the same order (docs/law/identity.md#counties).
pub const COUNTIES: &[County] = counties![
    (1, "Alameda", "06001"),
    (2, "Alpine", "06003"),
    (3, "Amador", "06005"),
    (4, "Butte", "06007"),
    (5, "Calaveras", "06009"),
    (6, "Colusa", "06011"),
    (7, "Contra Costa", "06013"),
    (8, "Del Norte", "06015"),
    (9, "El Dorado", "06017"),
    (10, "Fresno", "06019"),
    (11, "Glenn", "06021"),
    (12, "Humboldt", "06023"),
    (13, "Imperial", "06025"),
    (14, "Inyo", "06027"),
    (15, "Kern", "06029"),
    (16, "Kings", "06031"),
    (17, "Lake", "06033"),
    (18, "Lassen", "06035"),
    (19, "Los Angeles", "06037"),
    (20, "Madera", "06039"),
    (21, "Marin", "06041"),
    (22, "Mariposa", "06043"),
    (23, "Mendocino", "06045"),
    (24, "Merced", "06047"),
    (25, "Modoc", "06049"),
    (26, "Mono", "06051"),
    (27, "Monterey", "06053"),
    (28, "Napa", "06055"),
    (29, "Nevada", "06057"),
    (30, "Orange", "06059"),
    (31, "Placer", "06061"),
    (32, "Plumas", "06063"),
    (33, "Riverside", "06065"),
    (34, "Sacramento", "06067"),
    (35, "San Benito", "06069"),
    (36, "San Bernardino", "06071"),
    (37, "San Diego", "06073"),
    (38, "San Francisco", "06075"),
    (39, "San Joaquin", "06077"),
    (40, "San Luis Obispo", "06079"),
    (41, "San Mateo", "06081"),
    (42, "Santa Barbara", "06083"),
    (43, "Santa Clara", "06085"),
    (44, "Santa Cruz", "06087"),
    (45, "Shasta", "06089"),
    (46, "Sierra", "06091"),
    (47, "Siskiyou", "06093"),
    (48, "Solano", "06095"),
    (49, "Sonoma", "06097"),
    (50, "Stanislaus", "06099"),
    (51, "Sutter", "06101"),
    (52, "Tehama", "06103"),
    (53, "Trinity", "06105"),
    (54, "Tulare", "06107"),
    (55, "Tuolumne", "06109"),
    (56, "Ventura", "06111"),
    (57, "Yolo", "06113"),
    (58, "Yuba", "06115"),
];

/// Tribal courts in California (public institutions). CCPOR counts 13–14 participating tribal
/// courts (docs/law/registry.md#participating-courts); which ones is administrative data, so this
/// list is a starting set.
pub const TRIBAL_COURTS: &[TribalCourt] = &[
    TribalCourt {
        number: 1,
        name: "Yurok Tribal Court",
        county_number: 12,
    },
    TribalCourt {
        number: 2,
        name: "Hoopa Valley Tribal Court",
        county_number: 12,
    },
    TribalCourt {
        number: 3,
        name: "Karuk Tribal Court",
        county_number: 47,
    },
    TribalCourt {
        number: 4,
        name: "Tolowa Dee-ni' Nation Tribal Court",
        county_number: 8,
    },
    TribalCourt {
        number: 5,
        name: "Blue Lake Rancheria Tribal Court",
        county_number: 12,
    },
    TribalCourt {
        number: 6,
        name: "Bishop Paiute Tribal Court",
        county_number: 14,
    },
    TribalCourt {
        number: 7,
        name: "Shingle Springs Band of Miwok Indians Tribal Court",
        county_number: 9,
    },
    TribalCourt {
        number: 8,
        name: "Table Mountain Rancheria Tribal Court",
        county_number: 10,
    },
    TribalCourt {
        number: 9,
        name: "Quechan Tribal Court",
        county_number: 13,
    },
    TribalCourt {
        number: 10,
        name: "Intertribal Court of Southern California",
        county_number: 37,
    },
];

/// The county with this alphabetical number.
pub fn county(number: i32) -> Option<&'static County> {
    COUNTIES.iter().find(|c| c.number == number)
}

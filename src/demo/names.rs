//! Synthetic names drawn from Census frequency tables (`assets/names/`, see its NOTICE), mixed to
//! resemble California: Hispanic (with compound surnames and particles), White, Asian, Filipino,
//! Black and Armenian name pools. No drawn name describes a real person.
use std::collections::HashMap;

use rand::Rng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;

use crate::domain::codes::{Race, Sex};

const SURNAMES: &str = include_str!("../../assets/names/surnames.csv");
const GIVEN: &str = include_str!("../../assets/names/given_names.csv");

/// Name pools by background.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Background {
    Hispanic,
    White,
    Asian,
    Filipino,
    Black,
    Armenian,
}

/// Approximate shares of California's population by background, used only to mix demo names.
const MIX: &[(Background, f64)] = &[
    (Background::Hispanic, 0.40),
    (Background::White, 0.34),
    (Background::Asian, 0.12),
    (Background::Filipino, 0.04),
    (Background::Black, 0.06),
    (Background::Armenian, 0.02),
];

/// Census strips spaces from particle surnames ("DELACRUZ"); these are restored as written.
const PARTICLES: &[(&str, &str)] = &[
    ("DELACRUZ", "de la Cruz"),
    ("DELAROSA", "de la Rosa"),
    ("DELATORRE", "de la Torre"),
    ("DELAGARZA", "de la Garza"),
    ("DELAFUENTE", "de la Fuente"),
    ("DELAPAZ", "de la Paz"),
    ("DELAVEGA", "de la Vega"),
    ("DELOSSANTOS", "de los Santos"),
    ("DELOSREYES", "de los Reyes"),
    ("DELEON", "de León"),
    ("DELRIO", "del Río"),
    ("DELTORO", "del Toro"),
    ("DELVALLE", "del Valle"),
];

/// Accents Census lists drop, for common Spanish given names and surnames.
const ACCENTS: &[(&str, &str)] = &[
    ("JOSE", "José"),
    ("JESUS", "Jesús"),
    ("MARIA", "María"),
    ("RAMON", "Ramón"),
    ("RAUL", "Raúl"),
    ("ANGEL", "Ángel"),
    ("HECTOR", "Héctor"),
    ("OSCAR", "Óscar"),
    ("JULIAN", "Julián"),
    ("ADRIAN", "Adrián"),
    ("RUBEN", "Rubén"),
    ("SOFIA", "Sofía"),
    ("LUCIA", "Lucía"),
    ("ROCIO", "Rocío"),
    ("MONICA", "Mónica"),
    ("VERONICA", "Verónica"),
    ("GONZALEZ", "González"),
    ("RODRIGUEZ", "Rodríguez"),
    ("HERNANDEZ", "Hernández"),
    ("MARTINEZ", "Martínez"),
    ("LOPEZ", "López"),
    ("PEREZ", "Pérez"),
    ("SANCHEZ", "Sánchez"),
    ("RAMIREZ", "Ramírez"),
    ("GOMEZ", "Gómez"),
    ("DIAZ", "Díaz"),
    ("JIMENEZ", "Jiménez"),
    ("NUNEZ", "Núñez"),
    ("MUNOZ", "Muñoz"),
    ("GUTIERREZ", "Gutiérrez"),
    ("CASTANEDA", "Castañeda"),
    ("IBARRA", "Ibarra"),
    ("ALVAREZ", "Álvarez"),
    ("FERNANDEZ", "Fernández"),
    ("VASQUEZ", "Vásquez"),
];

/// Spanish diminutives the English nickname list lacks.
const SPANISH_NICKNAMES: &[(&str, &str)] = &[
    ("JESUS", "Chuy"),
    ("GUADALUPE", "Lupe"),
    ("JOSE", "Pepe"),
    ("FRANCISCO", "Paco"),
    ("IGNACIO", "Nacho"),
    ("GUILLERMO", "Memo"),
    ("EDUARDO", "Lalo"),
    ("ROBERTO", "Beto"),
    ("ALBERTO", "Beto"),
    ("ENRIQUE", "Kike"),
    ("CONCEPCION", "Concha"),
    ("REFUGIO", "Cuca"),
    ("DOLORES", "Lola"),
    ("ROSARIO", "Chayo"),
    ("ALEJANDRO", "Alex"),
    ("MANUEL", "Manny"),
];

struct Pool {
    names: Vec<&'static str>,
    index: WeightedIndex<f64>,
}

impl Pool {
    fn new(entries: Vec<(&'static str, f64)>) -> Option<Self> {
        let (names, weights): (Vec<_>, Vec<_>) =
            entries.into_iter().filter(|(_, w)| *w > 0.0).unzip();
        WeightedIndex::new(weights)
            .ok()
            .map(|index| Self { names, index })
    }

    fn draw<R: Rng>(&self, rng: &mut R) -> &'static str {
        self.names[self.index.sample(rng)]
    }
}

/// A drawn name.
#[derive(Debug, Clone)]
pub struct DrawnName {
    pub last: String,
    pub first: String,
    pub middle: Option<String>,
    pub sex: Sex,
    pub race: Race,
    pub background: Background,
    /// Another name this person is known by, if any.
    pub alias: Option<(String, Option<String>)>,
}

/// All pools, built once.
pub struct Names {
    surnames: HashMap<Background, Pool>,
    given: HashMap<(Background, bool), Pool>,
}

fn f(s: &str) -> f64 {
    s.parse().unwrap_or(0.0)
}

impl Names {
    /// Builds the pools from the embedded tables.
    pub fn load() -> Self {
        let mut by_bg: HashMap<Background, Vec<(&'static str, f64)>> = HashMap::new();
        for line in SURNAMES.lines().skip(1) {
            let c: Vec<&'static str> = line.split(',').collect();
            if c.len() < 6 {
                continue;
            }
            let (name, freq, white, black, api, hisp) =
                (c[0], f(c[1]), f(c[2]), f(c[3]), f(c[4]), f(c[5]));
            let armenian =
                (name.ends_with("IAN") || name.ends_with("YAN")) && white >= 0.5 && name.len() > 5;
            let mut push = |bg, w: f64| by_bg.entry(bg).or_default().push((name, w));
            if armenian {
                push(Background::Armenian, freq);
            } else {
                push(Background::White, freq * white);
            }
            push(Background::Hispanic, freq * hisp * hisp);
            push(Background::Asian, freq * api * api);
            push(Background::Black, freq * black * black);
            if api >= 0.15 && hisp >= 0.15 {
                push(Background::Filipino, freq * api);
            }
        }
        let surnames = by_bg
            .into_iter()
            .filter_map(|(bg, v)| Pool::new(v).map(|p| (bg, p)))
            .collect();
        let mut given_raw: HashMap<(Background, bool), Vec<(&'static str, f64)>> = HashMap::new();
        for line in GIVEN.lines().skip(1) {
            let c: Vec<&'static str> = line.split(',').collect();
            if c.len() < 6 {
                continue;
            }
            let female = match c[1] {
                "F" => true,
                "M" => false,
                _ => continue,
            };
            let (white, black, api, hisp) = (f(c[2]), f(c[3]), f(c[4]), f(c[5]));
            for (bg, w) in [
                (Background::White, white),
                (Background::Armenian, white),
                (Background::Black, black),
                (Background::Asian, api),
                (Background::Hispanic, hisp),
                (Background::Filipino, (hisp + white) / 2.0),
            ] {
                given_raw.entry((bg, female)).or_default().push((c[0], w));
            }
        }
        let given = given_raw
            .into_iter()
            .filter_map(|(k, v)| Pool::new(v).map(|p| (k, p)))
            .collect();
        Self { surnames, given }
    }

    /// Draws a name of the given sex.
    pub fn draw<R: Rng>(&self, rng: &mut R, sex: Sex) -> DrawnName {
        let bg = background(rng);
        let female = match sex {
            Sex::Female => true,
            Sex::Male => false,
            _ => rng.random_bool(0.5),
        };
        let surname = |rng: &mut R| {
            self.surnames
                .get(&bg)
                .or_else(|| self.surnames.get(&Background::White))
                .map(|p| p.draw(rng))
                .unwrap_or("DOE")
        };
        let given = |rng: &mut R| {
            self.given
                .get(&(bg, female))
                .map(|p| p.draw(rng))
                .unwrap_or("ALEX")
        };
        let first_raw = given(rng);
        let first = render(first_raw);
        let mut last = render(surname(rng));
        let mut alias = None;
        if bg == Background::Hispanic && rng.random_bool(0.4) {
            let second = render(surname(rng));
            if second != last {
                let compound = if rng.random_bool(0.1) {
                    format!("{last}-{second}")
                } else {
                    format!("{last} {second}")
                };
                // Records often carry only the first (paternal) surname.
                alias = Some((last.clone(), Some(first.clone())));
                last = compound;
            }
        }
        if alias.is_none() && rng.random_bool(0.12) {
            alias = nickname(first_raw, rng).map(|n| (last.clone(), Some(n)));
        }
        if alias.is_none() && bg == Background::Asian && rng.random_bool(0.1) {
            // Family and given name keyed in swapped order on another record.
            alias = Some((first.clone(), Some(last.clone())));
        }
        let middle = rng.random_bool(0.35).then(|| render(given(rng)));
        let race = match bg {
            Background::Black => Race::Black,
            Background::Asian | Background::Filipino => Race::AsianPacificIslander,
            Background::White | Background::Armenian => Race::White,
            // NCIC RAC has no Hispanic code; most Hispanic Californians are recorded as W.
            Background::Hispanic => {
                if rng.random_bool(0.9) {
                    Race::White
                } else {
                    Race::Unknown
                }
            }
        };
        DrawnName {
            last,
            first,
            middle,
            sex: if female { Sex::Female } else { Sex::Male },
            race,
            background: bg,
            alias,
        }
    }
}

fn background<R: Rng>(rng: &mut R) -> Background {
    let total: f64 = MIX.iter().map(|(_, w)| w).sum();
    let mut x = rng.random::<f64>() * total;
    for (bg, w) in MIX {
        if x < *w {
            return *bg;
        }
        x -= w;
    }
    Background::White
}

/// A nickname for a Census given name: Spanish diminutives first, then the English list.
fn nickname<R: Rng>(upper: &str, rng: &mut R) -> Option<String> {
    if let Some((_, n)) = SPANISH_NICKNAMES.iter().find(|(k, _)| *k == upper) {
        return Some((*n).to_owned());
    }
    let list = nicknamer::nicknames(&upper.to_lowercase());
    if list.is_empty() {
        return None;
    }
    let pick = &list[rng.random_range(0..list.len())];
    Some(title_case(pick))
}

fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for ch in s.chars() {
        if start {
            out.extend(ch.to_uppercase());
        } else {
            out.extend(ch.to_lowercase());
        }
        start = ch == ' ' || ch == '-';
    }
    out
}

/// Census upper case to the form a person writes: accents, particles, Mc.
pub fn render(upper: &str) -> String {
    if let Some((_, s)) = PARTICLES.iter().find(|(k, _)| *k == upper) {
        return (*s).to_owned();
    }
    if let Some((_, s)) = ACCENTS.iter().find(|(k, _)| *k == upper) {
        return (*s).to_owned();
    }
    let t = title_case(upper);
    if let Some(rest) = t.strip_prefix("Mc")
        && rest.len() > 1
    {
        return format!("Mc{}", title_case(rest));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn renders_census_names() {
        assert_eq!(render("DELACRUZ"), "de la Cruz");
        assert_eq!(render("NUNEZ"), "Núñez");
        assert_eq!(render("MCDONALD"), "McDonald");
        assert_eq!(render("SMITH"), "Smith");
    }

    #[test]
    fn draws_a_california_mix() {
        let names = Names::load();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let drawn: Vec<DrawnName> = (0..2000)
            .map(|_| names.draw(&mut rng, Sex::Female))
            .collect();
        let hispanic = drawn
            .iter()
            .filter(|d| d.background == Background::Hispanic)
            .count();
        assert!((600..1000).contains(&hispanic), "{hispanic}");
        assert!(
            drawn.iter().any(|d| d.last.contains(' ')),
            "compound surnames"
        );
        assert!(drawn.iter().any(|d| d.alias.is_some()));
        assert!(drawn.iter().all(|d| d.sex == Sex::Female));
        // Every drawn name passes the same validation as keyed names.
        for d in &drawn {
            crate::domain::names::NamePart::parse("last", &d.last).unwrap();
            crate::domain::names::NamePart::parse("first", &d.first).unwrap();
        }
    }
}

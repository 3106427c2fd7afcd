//! Entry points of the fuzz targets (`fuzz/fuzz_targets/`, run by `cargo +nightly fuzz`; README
//! "Operations"): one function per parser that takes outside bytes. Each takes the fuzzer's bytes,
//! feeds them to the parser as the server or a command would, and asserts what the parser
//! promises: no panic, and where a formatter exists that its output reads back to the same value.
//! Not an API: the targets and the corpus replay below are its only callers.
//!
//! | target | parser |
//! |---|---|
//! | `import_line` | `import::parse_line` (an NDJSON `createOrder` line, validated) |
//! | `feed_message` | `feed::message` (a court feed's line, its order validated) |
//! | `graphql_document` | `graphql::parsed`, `graphql::document`, the size limits, then the schema's depth, complexity (`graphql::limits`) and directive limits |
//! | `search_query` | `searchPersons`' arguments (`dobText`, names, case number, court, county) and the index's query normalisation |
//! | `dob_text` | `domain::dob_text::read_dob_text` |
//! | `identifiers` | `CaseNumber`, `Ori`, `CourtCode`, county names |
//! | `image` | `images::format::Format::sniff`, `images::inspect` (PDF pages, TIFF pages, raster preview) |
//! | `token` | a bearer token: `auth::shape::check_size`, `auth::verify::parse`, `auth::token::revocation_ids`, `attenuate` |
//! | `token_block` | a holder's appended Datalog block on a real token: `verify::parse`, `shape::inspect`, `verify::authorize` |
//! | `carpos_wire` | `carpos::wire::parse_message`, `parse_answer` |
mod images;
mod requests;
mod text;

pub use images::image;
pub use requests::{graphql_document, search_query, token, token_block};
pub use text::{carpos_wire, dob_text, feed_message, identifiers, import_line};

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::domain::codes::ParticipationMode;
use crate::service::refs::{CourtRef, Refs};

/// The fuzzer's bytes as text. Every input the server reads is UTF-8 by then (HTTP bodies and
/// NDJSON lines are refused otherwise), so invalid bytes are replaced rather than wasted.
fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// The courts and agencies a fresh database holds (the seeded superior and tribal courts, all
/// participating but one), without a database.
static REFS: LazyLock<Refs> = LazyLock::new(|| {
    let mut courts = HashMap::new();
    for c in migrations::COUNTIES {
        let mode = if c.number == 58 {
            ParticipationMode::NotParticipating
        } else {
            ParticipationMode::Full
        };
        courts.insert(
            format!("SC{:02}", c.number),
            CourtRef { id: c.number, mode },
        );
    }
    for t in migrations::TRIBAL_COURTS {
        courts.insert(
            format!("TC{:02}", t.number),
            CourtRef {
                id: 100 + t.number,
                mode: ParticipationMode::ImageOnly,
            },
        );
    }
    let agencies = HashMap::from([("CA0190000".to_owned(), 1), ("CA0190100".to_owned(), 2)]);
    Refs::from_parts(courts, agencies)
});

/// A runtime for the async parts (schema execution) of a synchronous fuzz target.
static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    #[expect(
        clippy::expect_used,
        reason = "start-up of a fuzz harness: without a runtime no target can run"
    )]
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime")
});

#[cfg(test)]
mod tests {
    //! Every committed corpus file (`fuzz/corpus/<target>/`) through its target, on the stable
    //! toolchain with the rest of the unit tests: the inputs that once crashed a target stay
    //! fixed, and the targets themselves stay compiled and sound.
    use std::path::Path;

    fn replay(target: &str, run: fn(&[u8])) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus")
            .join(target);
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            run(&std::fs::read(&path).unwrap());
            n += 1;
        }
        assert!(n > 0, "{}: empty corpus", dir.display());
    }

    #[test]
    fn import_line() {
        replay("import_line", super::import_line);
    }

    #[test]
    fn feed_message() {
        replay("feed_message", super::feed_message);
    }

    #[test]
    fn graphql_document() {
        replay("graphql_document", super::graphql_document);
    }

    #[test]
    fn search_query() {
        replay("search_query", super::search_query);
    }

    #[test]
    fn dob_text() {
        replay("dob_text", super::dob_text);
    }

    /// The target's invariants over DOBs as a scan or a slip of the hand makes them: letters
    /// for digits, a digit doubled or dropped in any part, in both orders of month and day.
    #[test]
    fn dob_text_slips() {
        let parts = [
            "0", "1", "9", "12", "13", "29", "31", "40", "087", "O3", "|2", "S5",
        ];
        let years = [
            "1958", "1563", "2026", "2027", "19580", "195", "88", "B8", "l9S8",
        ];
        for a in parts {
            for b in parts {
                for y in years {
                    for text in [
                        format!("{a}/{b}/{y}"),
                        format!("{y}-{a}-{b}"),
                        format!("{a}{b}{y}"),
                    ] {
                        super::dob_text(text.as_bytes());
                    }
                }
            }
        }
    }

    #[test]
    fn identifiers() {
        replay("identifiers", super::identifiers);
    }

    #[test]
    fn image() {
        replay("image", super::image);
    }

    #[test]
    fn token() {
        replay("token", super::token);
    }

    #[test]
    fn token_block() {
        replay("token_block", super::token_block);
    }

    #[test]
    fn carpos_wire() {
        replay("carpos_wire", super::carpos_wire);
    }
}

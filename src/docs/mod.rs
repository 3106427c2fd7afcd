//! The project's own account of the law and wire facts the code relies on lives in `docs/law/`.
//! Where a table in the code is the source (forms, caps, code lists, precedence, roles), the
//! document's section is rendered from it here, between markers, and a test fails when the
//! committed text and the code disagree; `links` checks that every citation into `docs/` resolves.
pub mod links;
pub mod tables;

use std::path::Path;

/// The command that rewrites the generated sections from the code.
pub const REGENERATE: &str = "CCPOR_BLESS_DOCS=1 cargo test --lib docs::";

/// One generated section: the file (from the repository root), its marker name and renderer.
pub struct Section {
    pub file: &'static str,
    pub name: &'static str,
    pub render: fn() -> String,
}

/// Every generated section of the document.
pub const SECTIONS: &[Section] = &[
    Section {
        file: "docs/law/forms.md",
        name: "families",
        render: tables::families,
    },
    Section {
        file: "docs/law/durations.md",
        name: "caps",
        render: tables::caps,
    },
    Section {
        file: "docs/law/durations.md",
        name: "court-holidays",
        render: tables::court_holidays,
    },
    Section {
        file: "docs/law/durations.md",
        name: "renewals",
        render: tables::renewals,
    },
    Section {
        file: "docs/law/ncic.md",
        name: "pco",
        render: tables::pco,
    },
    Section {
        file: "docs/law/ncic.md",
        name: "descriptors",
        render: tables::descriptors,
    },
    Section {
        file: "docs/law/precedence.md",
        name: "precedence",
        render: tables::precedence,
    },
    Section {
        file: "docs/law/precedence.md",
        name: "conflict-kinds",
        render: tables::conflict_kinds,
    },
    Section {
        file: "docs/law/confidentiality.md",
        name: "roles",
        render: tables::roles,
    },
    Section {
        file: "docs/law/rules.md",
        name: "rules",
        render: tables::rules,
    },
    Section {
        file: "docs/law/identity.md",
        name: "counties",
        render: tables::counties,
    },
];

/// Failures reading or splicing the document.
#[derive(Debug, thiserror::Error)]
pub enum DocsError {
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: no generated section `{name}` (a line `{begin}` … then a line `{end}`)")]
    Missing {
        file: String,
        name: String,
        begin: String,
        end: String,
    },
}

/// The line that opens section `name`.
pub fn begin_marker(name: &str) -> String {
    format!("<!-- generated:{name} from the code; do not edit, regenerate: {REGENERATE} -->")
}

/// The line that closes section `name`.
pub fn end_marker(name: &str) -> String {
    format!("<!-- end generated:{name} -->")
}

/// `text` with the body of section `name` replaced by `body`; `None` without both markers.
/// The opening line is matched by its prefix, so a changed command text is rewritten too.
pub fn splice(text: &str, name: &str, body: &str) -> Option<String> {
    let open = format!("<!-- generated:{name} ");
    let start = text.find(&open)?;
    let after_open = start + text[start..].find('\n')? + 1;
    let close = end_marker(name);
    let stop = after_open + text[after_open..].find(&close)?;
    Some(format!(
        "{}{}\n\n{}\n{}",
        &text[..start],
        begin_marker(name),
        body.trim_end(),
        &text[stop..]
    ))
}

fn read(root: &Path, file: &str) -> Result<String, DocsError> {
    std::fs::read_to_string(root.join(file)).map_err(|source| DocsError::Io {
        file: file.to_owned(),
        source,
    })
}

/// Each document file as the code would render it: (file, committed text, rendered text).
fn rendered(root: &Path) -> Result<Vec<(&'static str, String, String)>, DocsError> {
    let mut out: Vec<(&'static str, String, String)> = Vec::new();
    for s in SECTIONS {
        let pos = match out.iter().position(|(f, _, _)| *f == s.file) {
            Some(i) => i,
            None => {
                let text = read(root, s.file)?;
                out.push((s.file, text.clone(), text));
                out.len() - 1
            }
        };
        let entry = &mut out[pos];
        entry.2 = splice(&entry.2, s.name, &(s.render)()).ok_or_else(|| DocsError::Missing {
            file: s.file.to_owned(),
            name: s.name.to_owned(),
            begin: begin_marker(s.name),
            end: end_marker(s.name),
        })?;
    }
    Ok(out)
}

/// The document files under `root` whose generated sections differ from the code.
pub fn stale(root: &Path) -> Result<Vec<&'static str>, DocsError> {
    Ok(rendered(root)?
        .into_iter()
        .filter(|(_, committed, fresh)| committed != fresh)
        .map(|(f, _, _)| f)
        .collect())
}

/// Rewrites the generated sections under `root`; returns the files that changed.
pub fn write(root: &Path) -> Result<Vec<&'static str>, DocsError> {
    let mut changed = Vec::new();
    for (file, committed, fresh) in rendered(root)? {
        if committed != fresh {
            std::fs::write(root.join(file), fresh).map_err(|source| DocsError::Io {
                file: file.to_owned(),
                source,
            })?;
            changed.push(file);
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn generated_sections_match_the_code() {
        if std::env::var_os("CCPOR_BLESS_DOCS").is_some() {
            let changed = write(root()).unwrap();
            eprintln!("rewrote {changed:?}");
        }
        let stale = stale(root()).unwrap();
        assert!(
            stale.is_empty(),
            "the generated sections of {stale:?} disagree with the code; regenerate them with \
             `{REGENERATE}` and commit the result"
        );
    }

    #[test]
    fn splice_replaces_only_the_body() {
        let text = format!(
            "# T\n\nbefore\n{}\nold\n{}\nafter\n",
            begin_marker("x"),
            end_marker("x")
        );
        let out = splice(&text, "x", "new\n").unwrap();
        assert_eq!(
            out,
            format!(
                "# T\n\nbefore\n{}\n\nnew\n{}\nafter\n",
                begin_marker("x"),
                end_marker("x")
            )
        );
        assert_eq!(splice(&out, "x", "new").unwrap(), out, "idempotent");
        assert!(splice(&text, "y", "new").is_none());
        assert!(splice("<!-- generated:x old -->\nno end\n", "x", "b").is_none());
    }

    #[test]
    fn a_disagreeing_document_is_reported() {
        let dir = std::env::temp_dir().join(format!("ccpor-docs-{}", std::process::id()));
        for s in SECTIONS {
            let path = dir.join(s.file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::copy(root().join(s.file), &path).unwrap();
        }
        write(&dir).unwrap();
        assert!(stale(&dir).unwrap().is_empty());
        let durations = dir.join("docs/law/durations.md");
        let text = std::fs::read_to_string(&durations).unwrap();
        std::fs::write(&durations, text.replace("| 7 days |", "| 8 days |")).unwrap();
        assert_eq!(stale(&dir).unwrap(), vec!["docs/law/durations.md"]);
        assert_eq!(write(&dir).unwrap(), vec!["docs/law/durations.md"]);
        assert!(stale(&dir).unwrap().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! Citations into the document resolve: every `docs/…` path named in the repository's sources,
//! schema and README names a file that exists, and its `#anchor` a heading of that file; every
//! relative link inside a markdown file resolves the same way.
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Directories never scanned: build output, dependencies, vendored and data files.
const SKIP_DIRS: &[&str] = &[".git", "target", "node_modules", "assets", "data"];
/// Text files that can carry a citation.
const EXTENSIONS: &[&str] = &[
    "rs", "md", "graphql", "toml", "sh", "html", "mjs", "sql", "yml", "yaml",
];

/// The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens.
pub fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a markdown text: its headings (outside code fences; a repeated heading gets
/// `-1`, `-2` as on GitHub) and any explicit `id="…"`.
pub fn anchors(markdown: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut fenced = false;
    for line in markdown.lines() {
        let t = line.trim_start();
        if t.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let hashes = t.chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&hashes) && t[hashes..].starts_with(' ') {
            let base = slug(t[hashes..].trim().trim_end_matches('#'));
            let mut s = base.clone();
            let mut n = 0;
            while out.contains(&s) {
                n += 1;
                s = format!("{base}-{n}");
            }
            out.insert(s);
        }
        let mut rest = line;
        while let Some(i) = rest.find("id=\"") {
            rest = &rest[i + 4..];
            if let Some(end) = rest.find('"') {
                out.insert(rest[..end].to_owned());
            }
        }
    }
    out
}

fn path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-')
}

/// Targets named in `text`: each `docs/…` path (with its `#anchor`) and, in markdown, each
/// relative link target. Returns (line number, target as written).
pub fn targets(text: &str, markdown: bool) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut from = 0;
        while let Some(i) = line[from..].find("docs/") {
            let at = from + i;
            from = at + 5;
            if line[..at].chars().next_back().is_some_and(path_char) {
                continue;
            }
            let path: String = line[at..].chars().take_while(|c| path_char(*c)).collect();
            let path = path.trim_end_matches(['.', '/']).to_owned();
            let rest = &line[at + path.len()..];
            let anchor: String = rest
                .strip_prefix('#')
                .map(|a| {
                    a.chars()
                        .take_while(|c| c.is_alphanumeric() || matches!(c, '-' | '_'))
                        .collect()
                })
                .unwrap_or_default();
            let mut target = path;
            if !anchor.is_empty() {
                target = format!("{target}#{anchor}");
            }
            if !markdown || !line[..at].ends_with("](") {
                out.push((n + 1, target));
            }
        }
        if markdown {
            let mut rest = line;
            while let Some(i) = rest.find("](") {
                rest = &rest[i + 2..];
                let Some(end) = rest.find(')') else { break };
                let link = &rest[..end];
                if !link.contains("://") && !link.starts_with("mailto:") && !link.is_empty() {
                    out.push((n + 1, format!("./{link}")));
                }
            }
        }
    }
    out
}

/// Why `target`, named in `file` (relative to `root`), does not resolve; `None` when it does.
/// `./x` is relative to the naming file's directory, anything else to the repository root.
pub fn check(root: &Path, file: &Path, target: &str) -> Option<String> {
    let (path, anchor) = match target.split_once('#') {
        Some((p, a)) => (p, Some(a)),
        None => (target, None),
    };
    let resolved: PathBuf = match path.strip_prefix("./") {
        Some("") => root.join(file),
        Some(rel) => root.join(file).parent().unwrap_or(root).join(rel),
        None => root.join(path),
    };
    if !resolved.exists() {
        return Some(format!("{} does not exist", resolved.display()));
    }
    let anchor = anchor?;
    let text = std::fs::read_to_string(&resolved).ok()?;
    if anchors(&text).contains(anchor) {
        None
    } else {
        Some(format!("{} has no heading #{anchor}", resolved.display()))
    }
}

/// The text files under `dir` that can carry a citation.
pub fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if !SKIP_DIRS.contains(&name.as_ref()) {
                files(&path, out);
            }
        } else if path
            .extension()
            .is_some_and(|x| EXTENSIONS.iter().any(|e| x == *e))
        {
            out.push(path);
        }
    }
}

/// Every citation under `root` that does not resolve, as `file:line: target: why`.
pub fn broken(root: &Path) -> Vec<String> {
    let mut all = Vec::new();
    files(root, &mut all);
    all.sort();
    let mut out = Vec::new();
    for path in all {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let rel = path.strip_prefix(root).unwrap_or(&path);
        let markdown = path.extension().is_some_and(|x| x == "md");
        for (line, target) in targets(&text, markdown) {
            let why = match target.strip_prefix("./#") {
                Some(a) => (!anchors(&text).contains(a))
                    .then(|| format!("{} has no heading #{a}", rel.display())),
                None => check(root, rel, &target),
            };
            if let Some(why) = why {
                out.push(format!("{}:{line}: {target}: {why}", rel.display()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn slugs_follow_github() {
        assert_eq!(slug("EPO"), "epo");
        assert_eq!(
            slug("Precedence (Fam. Code 6457, PC 136.2)"),
            "precedence-fam-code-6457-pc-1362"
        );
        assert_eq!(slug("`PCO` codes"), "pco-codes");
        let a = anchors("# A\n## B\n```\n# not\n```\n## B\n<a id=\"x\"></a>\n");
        let want: HashSet<String> = ["a", "b", "b-1", "x"].map(str::to_owned).into();
        assert_eq!(a, want);
    }

    #[test]
    fn targets_are_found_in_code_and_markdown() {
        let d = "docs";
        let code = format!("// see {d}/law/durations.md#epo, and {d}/law/ for more.\nx_{d}/no");
        assert_eq!(
            targets(&code, false),
            vec![
                (1, format!("{d}/law/durations.md#epo")),
                (1, format!("{d}/law"))
            ]
        );
        let md = "[caps](durations.md#epo) and [web](https://example.org) and [top](#t)";
        assert_eq!(
            targets(md, true),
            vec![(1, "./durations.md#epo".to_owned()), (1, "./#t".to_owned())]
        );
    }

    #[test]
    fn a_missing_file_or_anchor_is_reported() {
        let file = Path::new("src/lib.rs");
        let d = "docs/law";
        assert_eq!(check(root(), file, &format!("{d}/durations.md#epo")), None);
        assert!(check(root(), file, &format!("{d}/durations.md#no-such-heading")).is_some());
        assert!(check(root(), file, &format!("{d}/no-such-file.md")).is_some());
    }

    #[test]
    fn every_citation_into_docs_resolves() {
        let broken = broken(root());
        assert!(
            broken.is_empty(),
            "unresolved citations:\n{}",
            broken.join("\n")
        );
    }

    #[test]
    fn nothing_cites_the_research_note_outside_the_repository() {
        let note = concat!("domain", ".md");
        let mut all = Vec::new();
        files(root(), &mut all);
        let hits: Vec<String> = all
            .iter()
            .filter(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains(note)))
            .map(|p| p.display().to_string())
            .collect();
        assert!(hits.is_empty(), "cite docs/law instead of {note}: {hits:?}");
    }

    #[test]
    fn the_readme_map_reaches_the_three_rules_in_one_step() {
        let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
        let map = readme
            .split("## Where things live")
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .unwrap();
        let links: Vec<String> = targets(map, true).into_iter().map(|(_, t)| t).collect();
        for rule in [
            "durations.md#epo",
            "confidentiality.md#clets-001",
            "precedence.md#enforcement-order",
        ] {
            let want = format!("./docs/law/{rule}");
            assert!(links.contains(&want), "README map lacks a link to {want}");
        }
    }
}

//! SHA-256 of text and JSON written straight into the hasher, without building the whole text
//! first (the audit chain's row hashes and the whole-answer cache's keys, both per request).
use sha2::{Digest, Sha256};

/// A SHA-256 being fed; `hex` finishes it.
pub struct Sha256Hex(Sha256);

impl Sha256Hex {
    pub fn new() -> Self {
        Self(Sha256::new())
    }

    pub fn text(&mut self, text: &str) -> &mut Self {
        self.0.update(text.as_bytes());
        self
    }

    /// `value` as `serde_json::to_string` prints it. `None` if it cannot be printed (a map
    /// with non-string keys).
    pub fn json(&mut self, value: &impl serde::Serialize) -> Option<&mut Self> {
        serde_json::to_writer(&mut *self, value).ok()?;
        Some(self)
    }

    /// The digest in lower-case hex.
    pub fn hex(self) -> String {
        hex::encode(self.0.finalize())
    }
}

impl Default for Sha256Hex {
    fn default() -> Self {
        Self::new()
    }
}

impl std::io::Write for Sha256Hex {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fed_in_parts_it_is_the_hash_of_the_whole_text() {
        let value = serde_json::json!({ "id": "a\"b", "n": [1, 2.5, null] });
        let mut h = Sha256Hex::new();
        h.text("doc\u{1f}");
        h.json(&value).unwrap().text("\u{1f}end");
        let whole = format!(
            "doc\u{1f}{}\u{1f}end",
            serde_json::to_string(&value).unwrap()
        );
        assert_eq!(h.hex(), hex::encode(Sha256::digest(whole.as_bytes())));
    }
}

//! File formats the registry takes, decided by magic bytes only: a file's name and the type a
//! client declares are never trusted.

/// An accepted file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Tiff,
    Png,
    Jpeg,
}

/// Bytes of the file's start that `sniff` needs.
pub const HEAD_LEN: usize = 8;

impl Format {
    /// The format the file's first bytes announce, if it is one we take.
    pub fn sniff(head: &[u8]) -> Option<Format> {
        if head.starts_with(b"%PDF-") {
            Some(Format::Pdf)
        } else if head.starts_with(b"II*\0")
            || head.starts_with(b"MM\0*")
            || head.starts_with(b"II+\0")
            || head.starts_with(b"MM\0+")
        {
            Some(Format::Tiff)
        } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Format::Png)
        } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Format::Jpeg)
        } else {
            None
        }
    }

    /// The media type served and stored.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Pdf => "application/pdf",
            Format::Tiff => "image/tiff",
            Format::Png => "image/png",
            Format::Jpeg => "image/jpeg",
        }
    }

    pub fn from_content_type(s: &str) -> Option<Format> {
        [Format::Pdf, Format::Tiff, Format::Png, Format::Jpeg]
            .into_iter()
            .find(|f| f.content_type() == s)
    }

    /// File name extension for downloads.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Tiff => "tif",
            Format::Png => "png",
            Format::Jpeg => "jpg",
        }
    }

    /// Raster images get a first-page PNG preview.
    pub fn is_raster(self) -> bool {
        !matches!(self, Format::Pdf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_decide() {
        assert_eq!(Format::sniff(b"%PDF-1.7\n"), Some(Format::Pdf));
        assert_eq!(Format::sniff(b"II*\0\x08\0\0\0"), Some(Format::Tiff));
        assert_eq!(Format::sniff(b"MM\0*\0\0\0\x08"), Some(Format::Tiff));
        assert_eq!(Format::sniff(b"\x89PNG\r\n\x1a\n\0\0"), Some(Format::Png));
        assert_eq!(Format::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(Format::Jpeg));
        assert_eq!(Format::sniff(b"GIF89a"), None);
        assert_eq!(Format::sniff(b"PK\x03\x04"), None);
        assert_eq!(Format::sniff(b""), None);
        assert_eq!(Format::from_content_type("image/tiff"), Some(Format::Tiff));
    }
}

//! Target on uploads: format sniffing and inspection (PDF and TIFF pages, raster previews).
use std::io::Write;

use crate::images::format::{Format, HEAD_LEN};
use crate::images::inspect::{PREVIEW_MAX_SIDE, inspect};

/// An uploaded file's bytes, spooled to a file and inspected as an upload is: what passes has
/// the sniffed format and at least a page; a preview is a PNG within the preview size.
pub fn image(data: &[u8]) {
    let head = &data[..data.len().min(HEAD_LEN)];
    let sniffed = Format::sniff(head);
    let Ok(mut file) = tempfile::NamedTempFile::new() else {
        return;
    };
    if file.write_all(data).and_then(|()| file.flush()).is_err() {
        return;
    }
    let Ok(found) = inspect(file.path(), data.len() as u64, head) else {
        return;
    };
    assert_eq!(Some(found.format), sniffed);
    assert!(found.pages >= 1);
    if let Some(png) = found.preview {
        assert_eq!(Format::sniff(&png), Some(Format::Png));
        let decoded = image::load_from_memory_with_format(&png, image::ImageFormat::Png);
        assert!(decoded.is_ok_and(|i| i.width().max(i.height()) <= PREVIEW_MAX_SIDE));
    }
}

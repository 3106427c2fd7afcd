//! Checks a spooled upload: its format by magic bytes, that it is whole (a truncated PDF or a
//! raster image that does not decode is refused), its page count, and for raster images a
//! first-page PNG preview. Blocking: run on the blocking pool.
use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use crate::error::{AppError, AppResult};
use crate::images::format::Format;

/// Longest side of a preview, in pixels: legible on screen, small to send.
pub const PREVIEW_MAX_SIDE: u32 = 1200;
/// Decoding limits against decompression bombs.
const MAX_SIDE: u32 = 30_000;
const MAX_ALLOC: u64 = 512 * 1024 * 1024;
/// A PDF's `%%EOF` must sit in its last bytes; a cut-off upload has none.
const PDF_TAIL: u64 = 2048;

/// What an upload turned out to be.
#[derive(Debug)]
pub struct Inspection {
    pub format: Format,
    pub pages: i32,
    /// First page as PNG, for raster images whose encoding the decoder supports.
    pub preview: Option<Vec<u8>>,
}

fn damaged(what: &str) -> AppError {
    AppError::invalid(
        "file",
        format!("the {what} is damaged or truncated; scan it again"),
    )
}

/// Inspects the file at `path` (`size` bytes, beginning with `head`).
pub fn inspect(path: &Path, size: u64, head: &[u8]) -> AppResult<Inspection> {
    if size == 0 {
        return Err(AppError::invalid("file", "the file is empty"));
    }
    let format = Format::sniff(head).ok_or_else(|| AppError::UnsupportedMediaType {
        message: "the file is not a PDF, TIFF, PNG or JPEG (judged by its content, not its name)"
            .to_owned(),
    })?;
    match format {
        Format::Pdf => Ok(Inspection {
            format,
            pages: pdf_pages(path, size)?,
            preview: None,
        }),
        Format::Tiff => {
            let pages = tiff_pages(path)?;
            Ok(Inspection {
                format,
                pages,
                preview: preview(path, format)?,
            })
        }
        Format::Png | Format::Jpeg => Ok(Inspection {
            format,
            pages: 1,
            preview: preview(path, format)?,
        }),
    }
}

fn pdf_pages(path: &Path, size: u64) -> AppResult<i32> {
    let mut f = File::open(path).map_err(AppError::internal)?;
    let start = size.saturating_sub(PDF_TAIL);
    f.seek(SeekFrom::Start(start)).map_err(AppError::internal)?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail).map_err(AppError::internal)?;
    if !tail.windows(5).any(|w| w == b"%%EOF") {
        return Err(damaged("PDF"));
    }
    let doc = lopdf::Document::load(path).map_err(|e| {
        tracing::info!(error = %e, "PDF refused");
        damaged("PDF")
    })?;
    let pages = doc.get_pages().len();
    if pages == 0 {
        return Err(AppError::invalid("file", "the PDF has no pages"));
    }
    i32::try_from(pages).map_err(|_| damaged("PDF"))
}

fn tiff_pages(path: &Path) -> AppResult<i32> {
    let f = File::open(path).map_err(AppError::internal)?;
    let mut decoder = tiff::decoder::Decoder::new(BufReader::new(f)).map_err(|e| {
        tracing::info!(error = %e, "TIFF refused");
        damaged("TIFF")
    })?;
    let mut pages: i32 = 1;
    while decoder.more_images() {
        decoder.next_image().map_err(|_| damaged("TIFF"))?;
        pages = pages.saturating_add(1);
    }
    Ok(pages)
}

/// Decodes the first page and renders a PNG no larger than `PREVIEW_MAX_SIDE`. A file that does
/// not decode is refused; an encoding the decoder lacks (some TIFF compressions) only means no
/// preview.
fn preview(path: &Path, format: Format) -> AppResult<Option<Vec<u8>>> {
    let f = File::open(path).map_err(AppError::internal)?;
    let image_format = match format {
        Format::Tiff => image::ImageFormat::Tiff,
        Format::Png => image::ImageFormat::Png,
        Format::Jpeg => image::ImageFormat::Jpeg,
        Format::Pdf => return Ok(None),
    };
    let mut reader = image::ImageReader::with_format(BufReader::new(f), image_format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let decoded = match reader.decode() {
        Ok(img) => img,
        Err(image::ImageError::Unsupported(e)) => {
            tracing::info!(error = %e, "no preview: encoding not supported");
            return Ok(None);
        }
        Err(image::ImageError::Limits(_)) => {
            return Err(AppError::invalid(
                "file",
                "the image is too large to display",
            ));
        }
        Err(e) => {
            tracing::info!(error = %e, "raster image refused");
            return Err(damaged(match format {
                Format::Tiff => "TIFF",
                Format::Png => "PNG",
                _ => "JPEG",
            }));
        }
    };
    let small = if decoded.width().max(decoded.height()) > PREVIEW_MAX_SIDE {
        decoded.thumbnail(PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE)
    } else {
        decoded
    };
    let mut out = Cursor::new(Vec::new());
    small
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(AppError::internal)?;
    Ok(Some(out.into_inner()))
}

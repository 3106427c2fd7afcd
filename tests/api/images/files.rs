//! Synthetic scans made in the test: tiny PDFs, multi-page TIFFs, PNGs and JPEGs.
use std::io::Cursor;

/// A valid PDF with `pages` blank pages; `tag` makes the content (and digest) unique.
pub fn pdf(pages: usize, tag: &str) -> Vec<u8> {
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 3 + i)).collect();
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} >>",
            kids.join(" ")
        ),
    ];
    for _ in 0..pages {
        objects.push("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>".to_owned());
    }
    let mut out = format!("%PDF-1.4\n% synthetic test scan {tag}\n").into_bytes();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A gray test pattern, `seed` varying the pixels.
fn pattern(w: u32, h: u32, seed: u8) -> Vec<u8> {
    (0..w * h)
        .map(|i| ((i % w) as u8).wrapping_mul(3).wrapping_add(seed))
        .collect()
}

/// A TIFF of `pages` pages, each `w`×`h` gray.
pub fn tiff(pages: usize, w: u32, h: u32, seed: u8) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    {
        let mut enc = tiff::encoder::TiffEncoder::new(&mut out).unwrap();
        for p in 0..pages {
            enc.write_image::<tiff::encoder::colortype::Gray8>(
                w,
                h,
                &pattern(w, h, seed.wrapping_add(p as u8)),
            )
            .unwrap();
        }
    }
    out.into_inner()
}

fn raster(w: u32, h: u32, seed: u8, format: image::ImageFormat) -> Vec<u8> {
    let img = image::GrayImage::from_raw(w, h, pattern(w, h, seed)).unwrap();
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageLuma8(img)
        .write_to(&mut out, format)
        .unwrap();
    out.into_inner()
}

pub fn png(w: u32, h: u32, seed: u8) -> Vec<u8> {
    raster(w, h, seed, image::ImageFormat::Png)
}

pub fn jpeg(w: u32, h: u32, seed: u8) -> Vec<u8> {
    raster(w, h, seed, image::ImageFormat::Jpeg)
}

pub fn sha256(bytes: &[u8]) -> String {
    ccpor::images::spool::sha256_hex(bytes)
}

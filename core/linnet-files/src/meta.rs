//! File metadata: media types and image dimensions.

use std::io::Read;
use std::path::Path;

/// How much of a file is read to find an image's dimensions. JPEG puts its frame header after
/// EXIF and other segments, which are at most 64 KiB each; a few of them fit here.
const IMAGE_HEADER_BYTES: u64 = 256 * 1024;

/// The media type guessed from a file name's extension; `application/octet-stream` when unknown.
pub fn media_type_for_name(name: &str) -> String {
    mime_guess::from_path(name)
        .first_or_octet_stream()
        .essence_str()
        .to_ascii_lowercase()
}

/// RFC 9110 token characters.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// The `type/subtype` of a Content-Type header value, lowercased, parameters dropped; `None`
/// when it is not two non-empty tokens.
pub fn clean_media_type(header: &str) -> Option<String> {
    let essence = header.split(';').next().unwrap_or("").trim();
    let (kind, sub) = essence.split_once('/')?;
    let valid = |s: &str| !s.is_empty() && s.len() <= 127 && s.bytes().all(is_tchar);
    if valid(kind) && valid(sub) {
        Some(format!("{kind}/{sub}").to_ascii_lowercase())
    } else {
        None
    }
}

/// The (width, height) of an image file, from its first bytes only. `None` for files whose
/// name does not say `image/*`, unreadable files and formats the header does not tell.
pub fn image_dimensions(path: &Path) -> Option<(u32, u32)> {
    let name = path.file_name()?.to_string_lossy();
    if !media_type_for_name(&name).starts_with("image/") {
        return None;
    }
    let file = std::fs::File::open(path).ok()?;
    let mut head = Vec::new();
    file.take(IMAGE_HEADER_BYTES).read_to_end(&mut head).ok()?;
    let size = imagesize::blob_size(&head).ok()?;
    let width = u32::try_from(size.width).ok()?;
    let height = u32::try_from(size.height).ok()?;
    if width == 0 || height == 0 {
        return None;
    }
    Some((width, height))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        assert_eq!(media_type_for_name("a.jpg"), "image/jpeg");
        assert_eq!(media_type_for_name("A.PNG"), "image/png");
        assert_eq!(media_type_for_name("x.pdf"), "application/pdf");
        assert_eq!(media_type_for_name("noext"), "application/octet-stream");
        assert_eq!(media_type_for_name(""), "application/octet-stream");
        assert_eq!(
            media_type_for_name("x.zzzunknown"),
            "application/octet-stream"
        );
    }

    #[test]
    fn clean_types() {
        assert_eq!(
            clean_media_type("Image/JPEG; charset=binary").as_deref(),
            Some("image/jpeg")
        );
        assert_eq!(
            clean_media_type(" text/plain ").as_deref(),
            Some("text/plain")
        );
        assert_eq!(
            clean_media_type("application/vnd.api+json").as_deref(),
            Some("application/vnd.api+json")
        );
        for bad in [
            "",
            "image",
            "image/",
            "/jpeg",
            "image/jp eg",
            "image/jpeg/x",
            "ima\"ge/jpeg",
            "image/jpeg\r\nX: y",
            "imäge/jpeg",
            "<script>/x",
        ] {
            assert_eq!(clean_media_type(bad), None, "{bad:?}");
        }
    }

    /// A minimal PNG header: signature and IHDR with the dimensions.
    fn png_header(w: u32, h: u32) -> Vec<u8> {
        let mut v = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
        v.extend_from_slice(&13u32.to_be_bytes());
        v.extend_from_slice(b"IHDR");
        v.extend_from_slice(&w.to_be_bytes());
        v.extend_from_slice(&h.to_be_bytes());
        v.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        v
    }

    #[test]
    fn png_dimensions() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let p = dir.path().join("x.png");
        let mut data = png_header(640, 480);
        data.resize(1024 * 1024, 0); // the rest is never read
        std::fs::write(&p, &data)?;
        assert_eq!(image_dimensions(&p), Some((640, 480)));

        // Not an image by name: not looked at.
        let q = dir.path().join("x.bin");
        std::fs::write(&q, &data)?;
        assert_eq!(image_dimensions(&q), None);

        // Garbage, truncated, empty, missing: None, no panic.
        let g = dir.path().join("g.jpg");
        std::fs::write(&g, b"\xff\xd8\xff\xe0garbage")?;
        assert_eq!(image_dimensions(&g), None);
        let t = dir.path().join("t.png");
        std::fs::write(&t, data.get(..12).unwrap_or_default())?;
        assert_eq!(image_dimensions(&t), None);
        let e = dir.path().join("e.gif");
        std::fs::write(&e, b"")?;
        assert_eq!(image_dimensions(&e), None);
        assert_eq!(image_dimensions(&dir.path().join("missing.png")), None);
        Ok(())
    }
}

//! File names: what is shown to the user (sanitised, never a path) and what is stored on disk
//! (generated; nothing from the network reaches a path but a checked extension).

use percent_encoding::percent_decode_str;

/// Longest display name, in characters.
const MAX_DISPLAY_CHARS: usize = 120;
/// Longest extension kept on a storage name, in ASCII characters.
const MAX_EXTENSION_CHARS: usize = 10;
const FALLBACK_NAME: &str = "file";

/// The display name for a file at `url`: the last path segment (query and fragment removed),
/// percent-decoded once (invalid UTF-8 replaced), then [`sanitise_display_name`].
pub fn display_name_from_url(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let path = url.get(..end).unwrap_or(url);
    // Only the path: "https://host" alone has no file name.
    let after_scheme = path.split_once("://").map_or(path, |(_, rest)| rest);
    let segment = match after_scheme.split_once('/') {
        Some((_authority, path)) => path.rsplit('/').next().unwrap_or(""),
        None => "",
    };
    let decoded = percent_decode_str(segment).decode_utf8_lossy();
    sanitise_display_name(&decoded)
}

/// Characters that must never appear in a display name: path separators, control characters
/// (NUL included), bidi embeddings/overrides/isolates and marks (they can make
/// `invoice\u{202E}gpj.exe` look like `invoiceexe.jpg`), zero-width and line separators.
fn is_forbidden(c: char) -> bool {
    matches!(c, '/' | '\\')
        || c.is_control()
        || matches!(c,
            '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200B}'..='\u{200F}'
            | '\u{061C}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{FEFF}')
}

/// A name for showing only, never for a path: removes path separators, control characters,
/// bidi controls, leading dots and spaces; collapses runs of whitespace to one space; at most
/// 120 characters keeping the extension; never "." or ".."; empty becomes "file".
pub fn sanitise_display_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len().min(4 * MAX_DISPLAY_CHARS));
    let mut pending_space = false;
    for c in name.chars().filter(|c| !is_forbidden(*c)) {
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if out.is_empty() && c == '.' {
            // Leading dots (hidden files, "..") go, as do leading spaces.
            pending_space = false;
            continue;
        }
        if pending_space && !out.is_empty() {
            out.push(' ');
        }
        pending_space = false;
        out.push(c);
    }
    let out = truncate_keeping_extension(out);
    if out.is_empty() || out == "." || out == ".." {
        FALLBACK_NAME.to_string()
    } else {
        out
    }
}

fn truncate_keeping_extension(name: String) -> String {
    let count = name.chars().count();
    if count <= MAX_DISPLAY_CHARS {
        return name;
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, ext)| ext)
        .filter(|ext| !ext.is_empty() && ext.chars().count() <= MAX_EXTENSION_CHARS * 2);
    match ext {
        Some(ext) => {
            let ext_chars = ext.chars().count();
            let keep = MAX_DISPLAY_CHARS.saturating_sub(ext_chars + 1);
            let stem: String = name.chars().take(keep).collect();
            let stem = stem.trim_end();
            format!("{stem}.{ext}")
        }
        None => {
            let cut: String = name.chars().take(MAX_DISPLAY_CHARS).collect();
            cut.trim_end().to_string()
        }
    }
}

/// The extension of `name` when it is 1-10 ASCII alphanumerics, lowercased.
pub(crate) fn safe_extension(name: &str) -> Option<String> {
    let (_, ext) = name.rsplit_once('.')?;
    if (1..=MAX_EXTENSION_CHARS).contains(&ext.len())
        && ext.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        Some(ext.to_ascii_lowercase())
    } else {
        None
    }
}

/// A file name for storing: a random UUID plus the display name's extension when it is 1-10
/// ASCII alphanumerics (lowercased), e.g. `3f2a…c1.jpg`. Nothing else of the name is used.
pub fn storage_file_name(display_name: &str) -> String {
    let id = uuid::Uuid::new_v4().simple();
    match safe_extension(display_name) {
        Some(ext) => format!("{id}.{ext}"),
        None => id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Component, Path};

    fn from_url(path: &str) -> String {
        display_name_from_url(&format!("https://upload.example.test/slot/abc/{path}"))
    }

    fn assert_safe(name: &str) {
        assert!(!name.is_empty());
        assert!(!name.contains('/') && !name.contains('\\') && !name.contains('\0'));
        assert!(!name.starts_with('.') && !name.starts_with(' '));
        assert!(name != "." && name != "..");
        assert!(name.chars().count() <= MAX_DISPLAY_CHARS);
        assert!(!name.chars().any(is_forbidden));
    }

    #[test]
    fn traversal_plain() {
        let n = sanitise_display_name("../../etc/passwd");
        assert_safe(&n);
        assert_eq!(n, "etcpasswd");
        assert_eq!(from_url("../../etc/passwd"), "passwd");
    }

    #[test]
    fn traversal_percent_encoded() {
        for enc in [
            "..%2F..%2Fetc%2Fpasswd",
            "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
            "%2E%2E%5C%2E%2E%5Cetc%5Cpasswd",
        ] {
            let n = from_url(enc);
            assert_safe(&n);
            assert_eq!(n, "etcpasswd", "{enc}");
        }
    }

    #[test]
    fn double_encoded_is_decoded_once() {
        let n = from_url("%252e%252e%252fetc%252fpasswd");
        assert_safe(&n);
        assert_eq!(n, "%2e%2e%2fetc%2fpasswd");
        // And a storage name never carries it.
        let s = storage_file_name(&n);
        assert!(!s.contains('%') && !s.contains('.'));
    }

    #[test]
    fn backslashes_and_drive_letters() {
        let n = sanitise_display_name("..\\..\\windows\\system32\\x.dll");
        assert_safe(&n);
        assert_eq!(n, "windowssystem32x.dll");
        let n = sanitise_display_name("C:\\x");
        assert_safe(&n);
        assert_eq!(n, "C:x");
        assert_eq!(from_url("C:%5Cx"), "C:x");
    }

    #[test]
    fn nul_and_controls() {
        let n = sanitise_display_name("evil\0.jpg\r\n.exe");
        assert_safe(&n);
        assert_eq!(n, "evil.jpg.exe");
        assert_eq!(from_url("a%00b.png"), "ab.png");
    }

    #[test]
    fn unicode_and_spaces_kept() {
        assert_eq!(
            sanitise_display_name("Grüße aus Köln.jpg"),
            "Grüße aus Köln.jpg"
        );
        assert_eq!(
            from_url("Gr%C3%BC%C3%9Fe%20aus%20K%C3%B6ln.jpg"),
            "Grüße aus Köln.jpg"
        );
        assert_eq!(sanitise_display_name("  a \t  b  .txt "), "a b .txt");
        assert_eq!(
            sanitise_display_name("日本語 ファイル.pdf"),
            "日本語 ファイル.pdf"
        );
    }

    #[test]
    fn bidi_trick() {
        let n = sanitise_display_name("invoice\u{202E}gpj.exe");
        assert_safe(&n);
        assert_eq!(n, "invoicegpj.exe");
        let n = sanitise_display_name("a\u{2066}b\u{2069}\u{202A}c\u{200F}.txt");
        assert_eq!(n, "abc.txt");
        assert_eq!(from_url("invoice%E2%80%AEgpj.exe"), "invoicegpj.exe");
    }

    #[test]
    fn empty_and_dots() {
        for s in [
            "", ".", "..", "...", " ", "/", "\\", "\0", "\u{202E}", ". . .",
        ] {
            assert_eq!(sanitise_display_name(s), "file", "{s:?}");
        }
        assert_eq!(display_name_from_url("https://example.test/"), "file");
        assert_eq!(display_name_from_url("https://example.test"), "file");
        assert_eq!(display_name_from_url("https://example.test/a/.."), "file");
        assert_eq!(display_name_from_url("https://example.test/%2e%2e"), "file");
        assert_eq!(display_name_from_url(""), "file");
        assert_eq!(display_name_from_url("not a url"), "file");
    }

    #[test]
    fn query_and_fragment_removed() {
        assert_eq!(
            display_name_from_url("https://h.test/up/photo.jpg?token=1#aesgcmkey"),
            "photo.jpg"
        );
        assert_eq!(
            display_name_from_url("https://h.test/up/x.png#a/b"),
            "x.png"
        );
    }

    #[test]
    fn hidden_file_loses_leading_dot() {
        assert_eq!(sanitise_display_name(".bashrc"), "bashrc");
        assert_eq!(sanitise_display_name(" . .htaccess"), "htaccess");
    }

    #[test]
    fn long_name_keeps_extension() {
        let long = format!("{}.jpg", "a".repeat(5000));
        let n = sanitise_display_name(&long);
        assert_safe(&n);
        assert_eq!(n.chars().count(), MAX_DISPLAY_CHARS);
        assert!(n.ends_with(".jpg"));
        let long = "ü".repeat(5000);
        let n = sanitise_display_name(&long);
        assert_eq!(n.chars().count(), MAX_DISPLAY_CHARS);
        let n = from_url(&"%41".repeat(5000));
        assert_eq!(n.chars().count(), MAX_DISPLAY_CHARS);
    }

    #[test]
    fn storage_names() {
        let a = storage_file_name("Grüße aus Köln.JPG");
        let b = storage_file_name("Grüße aus Köln.JPG");
        assert_ne!(a, b);
        assert!(a.ends_with(".jpg"));
        assert_eq!(a.len(), 32 + 4);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'.'));
        // No extension, or an unsafe one: the UUID alone.
        for name in [
            "README",
            "x.",
            "x.tar/../../etc",
            "x.j pg",
            "x.verylongextension",
            "x.jpg\0",
            "x.jp\u{202E}g",
            "x.ğ",
            "",
            "..",
        ] {
            let s = storage_file_name(name);
            assert_eq!(s.len(), 32, "{name:?} -> {s}");
            assert!(s.bytes().all(|c| c.is_ascii_hexdigit()));
        }
        assert!(storage_file_name("archive.tar.gz").ends_with(".gz"));
    }

    /// For many random byte strings, the storage name joined to a directory stays directly
    /// inside it.
    #[test]
    fn storage_name_never_escapes() {
        use rand::Rng;
        let dir = Path::new("/var/lib/linnet/files");
        let mut rng = rand::rng();
        let alphabet: &[u8] = b"./\\\0%2eEfF5cC:~ \r\nabc.jpg";
        for i in 0..5000 {
            let len = rng.random_range(0..64);
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    if i % 2 == 0 {
                        rng.random::<u8>()
                    } else {
                        let idx = rng.random_range(0..alphabet.len());
                        alphabet.get(idx).copied().unwrap_or(b'.')
                    }
                })
                .collect();
            let raw = String::from_utf8_lossy(&bytes).into_owned();
            for name in [
                raw.clone(),
                sanitise_display_name(&raw),
                from_url(&raw),
                display_name_from_url(&raw),
            ] {
                let stored = storage_file_name(&name);
                let joined = dir.join(&stored);
                assert_eq!(joined.parent(), Some(dir), "{raw:?} -> {stored}");
                let comps: Vec<_> = Path::new(&stored).components().collect();
                assert!(
                    matches!(comps.as_slice(), [Component::Normal(_)]),
                    "{stored}"
                );
                assert_safe(&sanitise_display_name(&name));
            }
        }
    }
}

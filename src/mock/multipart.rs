//! Just enough `multipart/form-data` to take one file out of an upload.
//!
//! Clients name the file part `file` or `file-upload-input`, so any part
//! name is accepted: the first part with a file name wins, else the first
//! part. The data is a slice of the request body, not a copy.

use std::fmt;

use bytes::Bytes;

/// The file found in an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FilePart {
    /// The `filename` of its `Content-Disposition`, if any.
    pub file_name: Option<String>,
    /// Its `Content-Type`, if any.
    pub content_type: Option<String>,
    /// Its bytes.
    pub data: Bytes,
}

/// Why an upload body is not usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MultipartError {
    /// The content type is not multipart or names no boundary.
    NoBoundary,
    /// No complete part in the body.
    NoPart,
}

impl fmt::Display for MultipartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MultipartError::NoBoundary => {
                "expected Content-Type multipart/form-data with a boundary parameter"
            }
            MultipartError::NoPart => "the multipart body holds no complete part",
        })
    }
}

/// Finds the file part of a `multipart/form-data` body.
pub(crate) fn file_part(content_type: &str, body: &Bytes) -> Result<FilePart, MultipartError> {
    let boundary = boundary(content_type).ok_or(MultipartError::NoBoundary)?;
    let delimiter = [b"--", boundary.as_bytes()].concat();

    let mut parts = Vec::new();
    let mut rest = find(body, &delimiter).ok_or(MultipartError::NoPart)? + delimiter.len();
    while let Some((part, next)) = next_part(body, rest, &delimiter) {
        parts.push(part);
        rest = next;
    }

    let chosen = parts
        .iter()
        .position(|p| p.file_name.is_some())
        .unwrap_or(0);
    parts.into_iter().nth(chosen).ok_or(MultipartError::NoPart)
}

/// Reads the part that starts right after a delimiter at `start`, and
/// returns it with the offset just past the next delimiter.
fn next_part(body: &Bytes, start: usize, delimiter: &[u8]) -> Option<(FilePart, usize)> {
    let after = body.get(start..)?;
    if after.starts_with(b"--") {
        return None;
    }
    let head_start = start + line_end(after)?;
    let head_len = find(&body[head_start..], b"\r\n\r\n")?;
    let data_start = head_start + head_len + 4;

    let closing = [b"\r\n", delimiter].concat();
    let data_end = data_start + find(&body[data_start..], &closing)?;
    let head = String::from_utf8_lossy(&body[head_start..head_start + head_len]);
    let part = FilePart {
        file_name: disposition_param(&head, "filename"),
        content_type: header(&head, "content-type").map(str::to_owned),
        data: body.slice(data_start..data_end),
    };
    Some((part, data_end + closing.len()))
}

/// Length of the rest of the delimiter line, its CRLF included.
fn line_end(after: &[u8]) -> Option<usize> {
    find(after, b"\r\n").map(|at| at + 2)
}

fn boundary(content_type: &str) -> Option<&str> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params
        .split(';')
        .filter_map(|p| p.split_once('='))
        .find(|(key, _)| key.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, value)| value.trim().trim_matches('"'))
        .filter(|b| !b.is_empty())
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(key, _)| key.trim().eq_ignore_ascii_case(name))
        .map(|(_, value)| value.trim())
}

fn disposition_param(head: &str, name: &str) -> Option<String> {
    header(head, "content-disposition")?
        .split(';')
        .filter_map(|p| p.split_once('='))
        .find(|(key, _)| key.trim().eq_ignore_ascii_case(name))
        .map(|(_, value)| value.trim().trim_matches('"').to_owned())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut at = 0;
    while at + needle.len() <= haystack.len() {
        let offset = haystack[at..].iter().position(|&b| b == first)?;
        at += offset;
        if haystack.get(at..at + needle.len()) == Some(needle) {
            return Some(at);
        }
        at += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPE: &str = "multipart/form-data; boundary=XyZ";

    fn body(parts: &[(&str, Option<&str>, &str)]) -> Bytes {
        let mut text = String::new();
        for (name, file, data) in parts {
            text.push_str("--XyZ\r\nContent-Disposition: form-data; name=\"");
            text.push_str(name);
            text.push('"');
            if let Some(file) = file {
                text.push_str(&format!("; filename=\"{file}\"\r\nContent-Type: image/png"));
            }
            text.push_str("\r\n\r\n");
            text.push_str(data);
            text.push_str("\r\n");
        }
        text.push_str("--XyZ--\r\n");
        Bytes::from(text)
    }

    #[test]
    fn takes_the_file_part_under_any_name() {
        let body = body(&[
            ("note", None, "hi"),
            ("file-upload-input", Some("a.png"), "PNG\r\nx"),
        ]);
        let part = file_part(TYPE, &body).unwrap();
        assert_eq!(part.file_name.as_deref(), Some("a.png"));
        assert_eq!(part.content_type.as_deref(), Some("image/png"));
        assert_eq!(&part.data[..], b"PNG\r\nx");
    }

    #[test]
    fn falls_back_to_the_first_part() {
        let part = file_part(TYPE, &body(&[("file", None, "data")])).unwrap();
        assert_eq!((part.file_name, &part.data[..]), (None, &b"data"[..]));
    }

    #[test]
    fn rejects_bodies_without_boundary_or_part() {
        assert_eq!(
            file_part("application/json", &Bytes::new()),
            Err(MultipartError::NoBoundary)
        );
        let cut = Bytes::from_static(b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nno end");
        assert_eq!(file_part(TYPE, &cut), Err(MultipartError::NoPart));
    }

    #[test]
    fn quoted_boundaries_are_read() {
        assert_eq!(
            boundary("multipart/form-data; boundary=\"a b\""),
            Some("a b")
        );
        assert_eq!(boundary("text/plain; boundary=a"), None);
    }
}

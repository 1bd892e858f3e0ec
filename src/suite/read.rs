//! Reading the files a suite is made of (the suite itself, event files) without trusting them:
//! only regular files are opened, so a FIFO or a device named `*.yaml` (or a symlink to one)
//! cannot block or flood the load, and no more than a documented number of bytes is read.

use std::fmt;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::node::Pos;

/// The most bytes a suite file may hold: far more than any hand-written suite, little enough
/// that a stray data file cannot exhaust memory.
pub const SUITE_LIMIT: u64 = 10 * 1024 * 1024;

/// Lambda's limit on a synchronous invocation's payload: larger events are refused by Lambda,
/// and RIE silently truncates them.
pub const EVENT_LIMIT: u64 = 6_291_456;

/// Why a file could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// Not a regular file (after following symlinks): `kind` says what it is.
    NotAFile {
        kind: &'static str,
    },
    /// Larger than allowed; `size` is what the file system says, when it says.
    TooLarge {
        size: Option<u64>,
        limit: u64,
    },
    Io(std::io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotAFile { kind } => write!(f, "is {kind}, not a regular file"),
            ReadError::TooLarge {
                size: Some(size),
                limit,
            } => write!(
                f,
                "is {} bytes, over the limit of {} bytes",
                thousands(*size),
                thousands(*limit)
            ),
            ReadError::TooLarge { size: None, limit } => {
                write!(f, "is over the limit of {} bytes", thousands(*limit))
            }
            ReadError::Io(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                write!(f, "is a symbolic link that leads back to itself (a loop)")
            }
            ReadError::Io(e) if e.kind() == std::io::ErrorKind::NotFound => {
                write!(f, "is a symbolic link to a file that does not exist")
            }
            ReadError::Io(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                write!(f, "cannot be read: permission denied")
            }
            ReadError::Io(e) => write!(f, "cannot be read: {e}"),
        }
    }
}

impl ReadError {
    /// What to do about a file that could not be opened or read, when it is clear.
    pub fn hint(&self) -> Option<String> {
        let ReadError::Io(e) = self else {
            return None;
        };
        if e.raw_os_error() == Some(libc::ELOOP) || e.kind() == std::io::ErrorKind::NotFound {
            Some("point the link at a regular file, or remove it".into())
        } else if e.kind() == std::io::ErrorKind::PermissionDenied {
            Some("let the user running lambda-ci read it (`chmod a+r`)".into())
        } else {
            None
        }
    }
}

/// `6291456` as `6,291,456`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What a file that is not a regular file is, in a user's words.
fn kind_of(file_type: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_fifo() {
        "a FIFO (named pipe)"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// The regular file `path` (symlinks followed), opened for reading, and its size.
fn open_regular(path: &Path) -> Result<(std::fs::File, u64), ReadError> {
    // The target's type is checked before opening: opening a FIFO blocks until a writer comes.
    let meta = std::fs::metadata(path).map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotAFile {
            kind: kind_of(meta.file_type()),
        });
    }
    // Non-blocking, in case the file was swapped for a FIFO since it was looked at.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(ReadError::Io)?;
    let opened = file.metadata().map_err(ReadError::Io)?;
    if !opened.is_file() {
        return Err(ReadError::NotAFile {
            kind: kind_of(opened.file_type()),
        });
    }
    Ok((file, opened.len()))
}

/// The bytes of the regular file `path` (symlinks followed), at most `limit` of them.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let (file, size) = open_regular(path)?;
    if size > limit {
        return Err(ReadError::TooLarge {
            size: Some(size),
            limit,
        });
    }
    let bytes = read_start(file, limit + 1)?;
    // One byte past the limit tells a file that grew since it was looked at.
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { size: None, limit });
    }
    Ok(bytes)
}

/// The first `max` bytes of the regular file `path`, or fewer if it is shorter.
pub fn read_head(path: &Path, max: u64) -> Result<Vec<u8>, ReadError> {
    let (file, _) = open_regular(path)?;
    read_start(file, max)
}

fn read_start(file: std::fs::File, max: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    file.take(max)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    Ok(bytes)
}

/// Text that is not UTF-8: where its first invalid byte is, and what to do.
pub fn utf8_problem(bytes: &[u8], valid_up_to: usize) -> (Pos, String, String) {
    let prefix = &bytes[..valid_up_to];
    let line = prefix.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = prefix
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let column = std::str::from_utf8(&prefix[line_start..]).map_or(1, |s| s.chars().count() + 1);
    let byte = bytes.get(valid_up_to).copied().unwrap_or_default();
    let message = format!("not valid UTF-8 text: byte 0x{byte:02X} is not UTF-8");
    let hint = if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        "the file is UTF-16; save it as UTF-8"
    } else {
        "save the file as UTF-8 (this byte is likely Latin-1 or Windows-1252 text)"
    };
    (Pos { line, column }, message, hint.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(6_291_456), "6,291,456");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
    }

    #[test]
    fn non_utf8_names_the_line_and_column_of_the_first_bad_byte() {
        let bytes: &[u8] = &[b"a: 1\nname: caf".as_slice(), &[0xE9, b'\n']].concat();
        let e = std::str::from_utf8(bytes).unwrap_err();
        let (pos, message, _) = utf8_problem(bytes, e.valid_up_to());
        assert_eq!(
            pos,
            Pos {
                line: 2,
                column: 10
            }
        );
        assert!(message.contains("0xE9"), "{message}");
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("s.yaml");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let e = read_limited(&fifo, SUITE_LIMIT).unwrap_err();
        assert_eq!(e.to_string(), "is a FIFO (named pipe), not a regular file");
        let link = dir.path().join("zero.yaml");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let e = read_limited(&link, SUITE_LIMIT).unwrap_err();
        assert_eq!(e.to_string(), "is a character device, not a regular file");
    }

    #[test]
    fn files_over_the_limit_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("big.json");
        std::fs::write(&file, vec![b' '; 11]).unwrap();
        let e = read_limited(&file, 10).unwrap_err();
        assert_eq!(e.to_string(), "is 11 bytes, over the limit of 10 bytes");
        assert_eq!(read_limited(&file, 11).unwrap().len(), 11);
    }
}

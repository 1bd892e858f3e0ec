//! Splits a container's output into lines as it arrives, holding at most [`READ_BYTES`] of any
//! one line, so that memory stays bounded however long a line is.

use super::LogStream;

/// How many bytes of one line are held and read: the rest is counted, not kept.
pub const READ_BYTES: usize = 1024 * 1024;
/// How many of the last bytes of a longer line are held too: enough for a framing line that was
/// written right after unterminated output to be found at its end.
const END_BYTES: usize = 512;

/// One line of output, without its newline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub stream: LogStream,
    /// Its first bytes, at most [`READ_BYTES`].
    pub bytes: Vec<u8>,
    /// How many bytes the whole line had.
    pub len: u64,
    /// Its last bytes (up to [`END_BYTES`]) when it was longer than `bytes`.
    pub end: Vec<u8>,
    /// The framing's mark proved it the platform's.
    pub platform: bool,
}

impl Line {
    pub fn new(stream: LogStream, bytes: &[u8]) -> Line {
        Line {
            stream,
            bytes: bytes.to_vec(),
            len: bytes.len() as u64,
            end: Vec::new(),
            platform: false,
        }
    }

    /// Leaves out the line's first `n` bytes (of those it holds).
    pub fn cut_start(&mut self, n: usize) {
        let n = n.min(self.bytes.len());
        self.bytes.drain(..n);
        self.len -= n as u64;
    }

    /// Whether more of the line was written than `bytes` holds.
    pub fn is_cut(&self) -> bool {
        self.len > self.bytes.len() as u64
    }

    /// The line split at byte `at` of what it holds at its end: the text before, and the text
    /// from there on as a line of its own.
    pub fn split_end(mut self, at: usize) -> (Line, Line) {
        if self.is_cut() {
            let rest = self.end.split_off(at.min(self.end.len()));
            self.len -= rest.len() as u64;
            if !self.is_cut() {
                self.end.clear();
            }
            let rest = Line::new(self.stream, &rest);
            (self, rest)
        } else {
            let rest = self.bytes.split_off(at.min(self.bytes.len()));
            self.len = self.bytes.len() as u64;
            let rest = Line::new(self.stream, &rest);
            (self, rest)
        }
    }

    /// The bytes a glued framing line would be found in: the whole line, or its end.
    pub fn tail(&self) -> &[u8] {
        if self.is_cut() {
            &self.end
        } else {
            &self.bytes
        }
    }
}

#[derive(Debug, Default)]
struct Partial {
    bytes: Vec<u8>,
    len: u64,
    end: Vec<u8>,
}

impl Partial {
    fn extend(&mut self, piece: &[u8]) {
        let room = READ_BYTES.saturating_sub(self.bytes.len()).min(piece.len());
        self.bytes.extend_from_slice(&piece[..room]);
        let over = &piece[room..];
        if !over.is_empty() {
            self.end.extend_from_slice(over);
            if self.end.len() > 2 * END_BYTES {
                self.end.drain(..self.end.len() - END_BYTES);
            }
        }
        self.len += piece.len() as u64;
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn take(&mut self, stream: LogStream) -> Line {
        let Partial {
            mut bytes,
            mut len,
            mut end,
        } = std::mem::take(self);
        if end.len() > END_BYTES {
            end.drain(..end.len() - END_BYTES);
        }
        let last = if end.is_empty() { &mut bytes } else { &mut end };
        if last.last() == Some(&b'\r') {
            last.pop();
            len -= 1;
        }
        if len == bytes.len() as u64 {
            end.clear();
        }
        Line {
            stream,
            bytes,
            len,
            end,
            platform: false,
        }
    }
}

/// The unfinished line of each stream.
#[derive(Debug, Default)]
pub struct Splitter {
    partial: [Partial; 2],
}

impl Splitter {
    /// Adds a chunk of `stream`'s output; each line it completes goes to `out`.
    pub fn push(&mut self, stream: LogStream, mut chunk: &[u8], out: &mut impl FnMut(Line)) {
        let partial = &mut self.partial[stream as usize];
        while let Some(at) = chunk.iter().position(|b| *b == b'\n') {
            partial.extend(&chunk[..at]);
            out(partial.take(stream));
            chunk = &chunk[at + 1..];
        }
        partial.extend(chunk);
    }

    /// Ends the unfinished line of each stream: the output ended, or its reader needs it now.
    pub fn flush(&mut self, out: &mut impl FnMut(Line)) {
        for stream in [LogStream::Stdout, LogStream::Stderr] {
            let partial = &mut self.partial[stream as usize];
            if !partial.is_empty() {
                out(partial.take(stream));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[(LogStream, &[u8])]) -> Vec<Line> {
        let mut s = Splitter::default();
        let mut lines = Vec::new();
        for (stream, chunk) in chunks {
            s.push(*stream, chunk, &mut |l| lines.push(l));
        }
        s.flush(&mut |l| lines.push(l));
        lines
    }

    #[test]
    fn lines_are_split_across_chunks_and_streams() {
        let lines = split(&[
            (LogStream::Stdout, b"START RequestId: 1\nhel"),
            (LogStream::Stderr, b"warn\n"),
            (LogStream::Stdout, b"lo\r\nEND RequestId: 1\n"),
            (LogStream::Stdout, b"\xff\xfe\n"),
            (LogStream::Stderr, b"panic: boom"),
        ]);
        let texts: Vec<_> = lines
            .iter()
            .map(|l| String::from_utf8_lossy(&l.bytes).into_owned())
            .collect();
        assert_eq!(
            texts,
            vec![
                "START RequestId: 1",
                "warn",
                "hello",
                "END RequestId: 1",
                "\u{fffd}\u{fffd}",
                "panic: boom"
            ]
        );
        assert_eq!(lines[1].stream, LogStream::Stderr);
        assert!(lines.iter().all(|l| !l.is_cut()));
    }

    // Regression: a 30 MB line was held whole (and printed as a 12 MB line); only its first
    // READ_BYTES and its end are held, and its length is counted exactly.
    #[test]
    fn a_long_line_is_held_up_to_its_cap_and_counted_whole() {
        let mut s = Splitter::default();
        let mut lines = Vec::new();
        let block = vec![b'y'; 64 * 1024];
        let blocks = 30 * 1024 * 1024 / block.len();
        for _ in 0..blocks {
            s.push(LogStream::Stdout, &block, &mut |l| lines.push(l));
            assert!(s.partial[0].bytes.len() <= READ_BYTES);
            assert!(s.partial[0].end.len() <= 2 * END_BYTES);
        }
        s.push(
            LogStream::Stdout,
            b"zEND RequestId: 7\r\nnext\n",
            &mut |l| lines.push(l),
        );
        assert_eq!(lines.len(), 2);
        let long = &lines[0];
        assert_eq!(
            long.len,
            30 * 1024 * 1024 + "zEND RequestId: 7".len() as u64
        );
        assert_eq!(long.bytes.len(), READ_BYTES);
        assert!(long.is_cut());
        assert!(long.end.ends_with(b"zEND RequestId: 7"));
        assert_eq!(long.end.len(), END_BYTES - 1, "its \\r is dropped");
        let at = long.tail().len() - "END RequestId: 7".len();
        let (text, end) = lines[0].clone().split_end(at);
        assert_eq!(end.bytes, b"END RequestId: 7");
        assert_eq!(text.len, 30 * 1024 * 1024 + 1);
        assert_eq!(lines[1].bytes, b"next");
    }

    #[test]
    fn a_short_line_splits_at_its_glued_end() {
        let line = Line::new(LogStream::Stdout, b"writing to stdoutEND RequestId: 1");
        let (text, end) = line.split_end(17);
        assert_eq!(text.bytes, b"writing to stdout");
        assert_eq!(text.len, 17);
        assert_eq!(end.bytes, b"END RequestId: 1");
    }
}

//! RFC 5734 framing: each EPP document goes over the stream after a four-byte big-endian length
//! that counts itself. [`FrameReader`] takes bytes as they arrive and hands out whole frames,
//! refusing any announced larger than its cap before a byte of it is buffered.
//!
//! ```
//! use backorder_core::epp::frame::{encode, FrameReader};
//! let bytes = encode(b"<epp/>");
//! assert_eq!(&bytes[..4], &[0, 0, 0, 10]);
//! let mut reader = FrameReader::new(1024);
//! reader.push(&bytes[..3]);
//! assert_eq!(reader.next_frame().unwrap(), None); // not whole yet
//! reader.push(&bytes[3..]);
//! assert_eq!(reader.next_frame().unwrap().as_deref(), Some(&b"<epp/>"[..]));
//! ```

use super::EppError;

/// The header's own length.
pub const HEADER: usize = 4;

/// `document` framed: its length (with the header's four bytes) then the document.
pub fn encode(document: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + document.len());
    write_header(&mut out, document.len());
    out.extend_from_slice(document);
    out
}

/// Appends the header for a document of `len` bytes.
pub fn write_header(out: &mut Vec<u8>, len: usize) {
    let total = u32::try_from(HEADER + len).unwrap_or(u32::MAX);
    out.extend_from_slice(&total.to_be_bytes());
}

/// Reassembles frames from a byte stream.
#[derive(Debug)]
pub struct FrameReader {
    buffer: Vec<u8>,
    max: usize,
}

impl FrameReader {
    /// A reader refusing documents over `max` bytes.
    pub fn new(max: usize) -> FrameReader {
        FrameReader {
            buffer: Vec::new(),
            max,
        }
    }

    /// Takes bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// How many bytes of the next frame are still missing (at least one when nothing is
    /// buffered): what to read next.
    pub fn wanted(&self) -> usize {
        match self.announced() {
            Some(total) => (total as usize).saturating_sub(self.buffer.len()).max(1),
            None => HEADER - self.buffer.len(),
        }
    }

    fn announced(&self) -> Option<u32> {
        let header: [u8; HEADER] = self.buffer.get(..HEADER)?.try_into().ok()?;
        Some(u32::from_be_bytes(header))
    }

    /// The next whole document, if one has arrived. A header announcing more than the cap (or
    /// fewer bytes than itself) is an error; the stream cannot be trusted after it.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, EppError> {
        let Some(total) = self.announced() else {
            return Ok(None);
        };
        let total_len = total as usize;
        if total_len < HEADER {
            return Err(EppError::BadLength(total));
        }
        if total_len - HEADER > self.max {
            return Err(EppError::FrameTooLarge {
                len: total_len - HEADER,
                max: self.max,
            });
        }
        if self.buffer.len() < total_len {
            return Ok(None);
        }
        let document = self.buffer[HEADER..total_len].to_vec();
        self.buffer.drain(..total_len);
        Ok(Some(document))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_oversized_or_impossible_header_is_refused() {
        let mut r = FrameReader::new(100);
        r.push(&(HEADER as u32 + 101).to_be_bytes());
        assert_eq!(
            r.next_frame(),
            Err(EppError::FrameTooLarge { len: 101, max: 100 })
        );
        let mut r = FrameReader::new(100);
        r.push(&3u32.to_be_bytes());
        assert_eq!(r.next_frame(), Err(EppError::BadLength(3)));
    }

    proptest! {
        #[test]
        fn frames_come_back_whatever_the_chunking(
            documents in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 1..6),
            chunk in 1usize..50,
        ) {
            let stream: Vec<u8> = documents.iter().flat_map(|d| encode(d)).collect();
            let mut reader = FrameReader::new(200);
            let mut out = Vec::new();
            for piece in stream.chunks(chunk) {
                reader.push(piece);
                while let Some(frame) = reader.next_frame().unwrap() {
                    out.push(frame);
                }
            }
            prop_assert_eq!(out, documents);
        }
    }
}

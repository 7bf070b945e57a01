//! [`BufWriter`]: a [`core::fmt::Write`] into a caller's fixed byte buffer.

use core::fmt;

/// The caller's buffer is too small for the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferTooSmall {
    /// Bytes the output needs.
    pub needed: usize,
    /// Bytes the buffer has.
    pub capacity: usize,
}

impl fmt::Display for BufferTooSmall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "buffer too small: {} bytes needed, {} available",
            self.needed, self.capacity
        )
    }
}

#[cfg(feature = "std")]
impl std::error::Error for BufferTooSmall {}

/// Writes UTF-8 text into a fixed byte buffer; never allocates, fails cleanly when full.
#[derive(Debug)]
pub struct BufWriter<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> BufWriter<'b> {
    /// A writer at the start of `buf`.
    pub fn new(buf: &'b mut [u8]) -> Self {
        BufWriter { buf, len: 0 }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The text written, borrowed for the buffer's lifetime.
    #[allow(unsafe_code)]
    pub fn into_str(self) -> &'b str {
        let written = self.buf.get(..self.len).unwrap_or(&[]);
        // SAFETY: `buf[..len]` only ever receives whole `&str`s, one after the other (see
        // `write_str`, the only code that writes to `buf` or moves `len`), and a concatenation
        // of UTF-8 strings is UTF-8. (Validating again here cost as much as building the URL.)
        unsafe { core::str::from_utf8_unchecked(written) }
    }
}

impl fmt::Write for BufWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        copy_short(dst, s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// `dst.copy_from_slice(src)` (same lengths). Most pieces of a URL are under 32 bytes: those
/// are copied as two fixed-size blocks, the first from the start and the second ending at the
/// end (they overlap when the text is shorter than both), instead of a call to memcpy, which
/// costs more than the copy itself.
#[cfg_attr(not(target_arch = "wasm32"), inline(always))] // speed natively, size in wasm
fn copy_short(dst: &mut [u8], src: &[u8]) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        /// The first and last `N` bytes; false when `src` is shorter than `N`.
        fn ends<const N: usize>(dst: &mut [u8], src: &[u8]) -> bool {
            let (Some(head), Some(tail)) = (src.first_chunk::<N>(), src.last_chunk::<N>()) else {
                return false;
            };
            if let Some(d) = dst.first_chunk_mut::<N>() {
                *d = *head;
            }
            if let Some(d) = dst.last_chunk_mut::<N>() {
                *d = *tail;
            }
            true
        }
        if dst.len() == src.len() {
            let done = match src.len() {
                16..=32 => ends::<16>(dst, src),
                8..=15 => ends::<8>(dst, src),
                4..=7 => ends::<4>(dst, src),
                0..=3 => {
                    for (d, b) in dst.iter_mut().zip(src) {
                        *d = *b;
                    }
                    true
                }
                _ => false,
            };
            if done {
                return;
            }
        }
    }
    dst.copy_from_slice(src);
}

/// Counts the bytes written to it.
#[derive(Debug, Default)]
pub(crate) struct LenCounter(pub usize);

impl fmt::Write for LenCounter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// Text that can write itself to any [`fmt::Write`] with plain `write_str` calls, so that using it
/// does not pull in `core::fmt`'s formatting machinery (which matters for wasm size).
pub trait WriteTo {
    /// Writes the text to `w`.
    fn write_to<W: fmt::Write + ?Sized>(&self, w: &mut W) -> fmt::Result;

    /// The length of the text, in bytes.
    fn encoded_len(&self) -> usize {
        let mut counter = LenCounter::default();
        let _ = self.write_to(&mut counter);
        counter.0
    }

    /// Writes the text into `buf` and returns it, or says how many bytes it needs.
    fn encode<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, BufferTooSmall> {
        let capacity = buf.len();
        let mut w = BufWriter::new(buf);
        if self.write_to(&mut w).is_ok() {
            return Ok(w.into_str());
        }
        Err(BufferTooSmall {
            needed: self.encoded_len(),
            capacity,
        })
    }
}

impl WriteTo for str {
    fn write_to<W: fmt::Write + ?Sized>(&self, w: &mut W) -> fmt::Result {
        w.write_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write;

    #[test]
    fn pieces_of_every_length_are_written_whole_and_in_order() {
        let text = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ";
        for len in 0..=text.len() {
            let mut buf = [b'#'; 128];
            let mut w = BufWriter::new(&mut buf);
            w.write_str("<").unwrap();
            w.write_str(&text[..len]).unwrap();
            w.write_str(">").unwrap();
            let expected = [1, len, 1].iter().sum::<usize>();
            assert_eq!(w.len(), expected);
            assert_eq!(
                w.into_str(),
                ["<", &text[..len], ">"].concat(),
                "length {len}"
            );
            assert!(
                buf[expected..].iter().all(|&b| b == b'#'),
                "wrote past {len}"
            );
        }
        let mut small = [0u8; 4];
        let mut w = BufWriter::new(&mut small);
        assert!(w.write_str("12345").is_err());
        assert!(w.is_empty());
    }
}

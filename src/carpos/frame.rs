//! Frames on the socket: one message or answer per line, UTF-8, ended by `\n`, at most
//! [`MAX_FRAME`] bytes before it (docs/wire/carpos.md#framing). The escaping of `wire` keeps
//! line breaks out of the text.
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The longest frame text, in bytes, without its `\n`.
pub const MAX_FRAME: usize = 8192;

/// Why no frame could be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("frame longer than {MAX_FRAME} bytes")]
    TooLong,
    #[error("connection closed in the middle of a frame")]
    Truncated,
    #[error("frame is not UTF-8")]
    NotUtf8,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Reads one frame's text; `None` at a clean end of the stream.
pub async fn read_frame<R: AsyncBufRead + Unpin>(
    reader: &mut R,
) -> Result<Option<String>, FrameError> {
    let mut buf = Vec::new();
    let limit = u64::try_from(MAX_FRAME + 1).unwrap_or(u64::MAX);
    let n = reader.take(limit).read_until(b'\n', &mut buf).await?;
    if n == 0 {
        return Ok(None);
    }
    if buf.pop() != Some(b'\n') {
        return Err(if n > MAX_FRAME {
            FrameError::TooLong
        } else {
            FrameError::Truncated
        });
    }
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| FrameError::NotUtf8)
}

/// Writes one frame (the text must come from `wire`, which has no line breaks).
pub async fn write_frame<W: AsyncWrite + Unpin>(writer: &mut W, text: &str) -> std::io::Result<()> {
    let mut bytes = Vec::with_capacity(text.len() + 1);
    bytes.extend_from_slice(text.as_bytes());
    bytes.push(b'\n');
    writer.write_all(&bytes).await?;
    writer.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read(bytes: &[u8]) -> Result<Option<String>, FrameError> {
        let mut r = tokio::io::BufReader::new(bytes);
        read_frame(&mut r).await
    }

    #[tokio::test]
    async fn frames_are_lines_of_bounded_length() {
        assert_eq!(
            read(b"EPO.X\nnext").await.unwrap().as_deref(),
            Some("EPO.X")
        );
        assert!(read(b"").await.unwrap().is_none());
        assert!(matches!(read(b"EPO.X").await, Err(FrameError::Truncated)));
        assert!(matches!(read(b"\xff\n").await, Err(FrameError::NotUtf8)));
        let mut long = vec![b'a'; MAX_FRAME];
        long.push(b'\n');
        assert!(read(&long).await.unwrap().is_some());
        long.insert(0, b'a');
        assert!(matches!(read(&long).await, Err(FrameError::TooLong)));
    }
}

//! One write per round of HTTP/2 responses.
//!
//! Owns: [`Coalesce`], an I/O wrapper that, on an HTTP/2 connection,
//! gathers what hyper's connection task writes and sends it with one
//! system call per round instead of one per finished stream. hyper runs
//! each HTTP/2 stream on its own task; every stream that completes wakes
//! the connection task, which — scheduled at once in the finishing
//! worker's LIFO slot — writes that one response and flushes (one
//! `writev`, and one TLS record, per response). Here a flush with bytes
//! waiting first yields once (wakes its own task and returns `Pending`),
//! so the stream tasks already queued on the worker run and queue their
//! responses; the connection task comes back, h2 encodes them into the
//! same buffer, and the second flush writes the lot. Only connections
//! that open with the HTTP/2 preface coalesce; HTTP/1.1 writes pass
//! straight through. Imports tokio only.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The start of the HTTP/2 connection preface (RFC 9113 §3.4); no
/// HTTP/1.1 request starts with it.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0";

/// Bytes held before a write waits for the socket (backpressure).
const HIGH_WATER: usize = 64 * 1024;

/// Buffer capacity an idle connection keeps once drained; a larger one
/// (a burst's) is freed, so idle connections hold little.
const KEEP: usize = 8 * 1024;

/// `io`, whose HTTP/2 writes are gathered until the flush after a yield.
pub(super) struct Coalesce<I> {
    io: I,
    /// What the connection is, from the first bytes read.
    protocol: Protocol,
    /// Bytes written by hyper and not yet sent.
    out: Vec<u8>,
    /// Whether this round's flush has already yielded once.
    yielded: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// Fewer bytes read than tell the two apart; `seen` matched so far.
    Unknown {
        seen: usize,
    },
    Http1,
    Http2,
}

// === impl Coalesce ===

impl<I> Coalesce<I> {
    pub(super) fn new(io: I) -> Self {
        Self {
            io,
            protocol: Protocol::Unknown { seen: 0 },
            out: Vec::new(),
            yielded: false,
        }
    }

    /// Notes the bytes read so far against the preface.
    fn sniff(&mut self, read: &[u8]) {
        let Protocol::Unknown { seen } = self.protocol else {
            return;
        };
        let rest = H2_PREFACE.get(seen..).unwrap_or_default();
        let n = read.len().min(rest.len());
        self.protocol = if read.get(..n) != rest.get(..n) {
            Protocol::Http1
        } else if seen + n == H2_PREFACE.len() {
            Protocol::Http2
        } else {
            Protocol::Unknown { seen: seen + n }
        };
    }
}

impl<I: AsyncWrite + Unpin> Coalesce<I> {
    /// Sends `out` until it is empty or the socket is full.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.out.is_empty() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.out))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            // Mostly all of it; a short write keeps the rest in order.
            self.out.drain(..n.min(self.out.len()));
        }
        Poll::Ready(Ok(()))
    }

    /// Whether writes are gathered: on HTTP/2 only.
    fn gathers(&self) -> bool {
        self.protocol == Protocol::Http2
    }

    /// Makes room under [`HIGH_WATER`], sending what is held.
    fn poll_room(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.out.len() >= HIGH_WATER {
            ready!(self.poll_drain(cx))?;
        }
        Poll::Ready(Ok(()))
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Coalesce<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
        if let Some(read) = buf.filled().get(before..) {
            this.sniff(read);
        }
        Poll::Ready(Ok(()))
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Coalesce<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if !this.gathers() {
            return Pin::new(&mut this.io).poll_write(cx, buf);
        }
        ready!(this.poll_room(cx))?;
        this.out.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if !this.gathers() {
            return Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        }
        ready!(this.poll_room(cx))?;
        let mut n = 0;
        for b in bufs {
            this.out.extend_from_slice(b);
            n += b.len();
        }
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        // Gathered writes copy each slice; before the preface is read
        // (when hyper asks) the socket's answer stands.
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if !this.out.is_empty() {
            if !this.yielded {
                // Let the streams already queued on this worker finish
                // first; their responses join this write.
                this.yielded = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            ready!(this.poll_drain(cx))?;
            if this.out.capacity() > KEEP {
                // A burst's buffer is not kept by an idle connection.
                this.out = Vec::new();
            }
        }
        this.yielded = false;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt as _;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    async fn sniffed(
        first: &[&[u8]],
    ) -> (Coalesce<tokio::io::DuplexStream>, tokio::io::DuplexStream) {
        let (mut client, server) = tokio::io::duplex(1024);
        let mut io = Coalesce::new(server);
        let mut buf = [0_u8; 64];
        for part in first {
            client.write_all(part).await.unwrap();
            let n = io.read(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], *part);
        }
        (io, client)
    }

    #[tokio::test]
    async fn http2_writes_wait_for_the_flush_and_leave_in_one_piece() {
        let (mut io, mut client) = sniffed(&[b"PRI * HT", b"TP/2.0\r\n\r\nSM\r\n\r\n"]).await;
        assert_eq!(io.protocol, Protocol::Http2);
        io.write_all(b"one ").await.unwrap();
        io.write_all(b"two").await.unwrap();
        let mut buf = [0_u8; 16];
        // Nothing has reached the peer before the flush.
        assert!(client.read(&mut buf).now_or_never().is_none());
        io.flush().await.unwrap();
        let n = client.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"one two");
        // A later round is gathered again.
        io.write_all(b"three").await.unwrap();
        io.flush().await.unwrap();
        let n = client.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"three");
    }

    #[tokio::test]
    async fn http1_writes_pass_straight_through() {
        let (mut io, mut client) = sniffed(&[b"GET / HTTP/1.1\r\n"]).await;
        assert_eq!(io.protocol, Protocol::Http1);
        io.write_all(b"HTTP/1.1 200 OK").await.unwrap();
        let mut buf = [0_u8; 32];
        let n = client.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"HTTP/1.1 200 OK");
    }

    #[tokio::test]
    async fn a_request_starting_like_the_preface_is_http1() {
        let (io, _client) = sniffed(&[b"PR", b"OPFIND / HTTP/1.1\r\n"]).await;
        assert_eq!(io.protocol, Protocol::Http1);
    }

    #[tokio::test]
    async fn shutdown_sends_what_is_held() {
        let (mut io, mut client) = sniffed(&[b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"]).await;
        io.write_all(b"last words").await.unwrap();
        io.shutdown().await.unwrap();
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"last words");
    }
}

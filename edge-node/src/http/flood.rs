//! HTTP/2 control-frame floods (the PING, SETTINGS, RST_STREAM, WINDOW_UPDATE, PRIORITY and
//! empty DATA frames of CVE-2019-9512/9515/9518): every one costs the server work and most
//! make it answer, while none asks for content. A viewer connection reads through a
//! `FloodGuard`, which watches the frames go by (without decoding them) and gives each
//! connection a bucket of such frames: `BURST` at once, refilled by `PER_SECOND` and by one for
//! every `BYTES_PER_FRAME` the node sends (a client downloading a large object acknowledges it
//! with WINDOW_UPDATE frames). A connection that empties its bucket gets GOAWAY with
//! ENHANCE_YOUR_CALM (RFC 9113 §5.4.1, §7) and is closed, as nginx and others close floods.
//! HTTP/1 connections are recognised by their first bytes and pass through untouched.
//!
//! To put GOAWAY between two whole frames, the guard follows where each frame the server
//! writes ends (nothing is copied); once flooded, the server may finish the frame under way,
//! then GOAWAY goes out and nothing after it.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// Control frames a connection may send at once.
pub const BURST: f64 = 1000.0;
/// Control frames a connection may send per second, sustained.
pub const PER_SECOND: f64 = 100.0;
/// One more control frame for every this many bytes sent to the viewer.
const BYTES_PER_FRAME: usize = 4096;
const ENHANCE_YOUR_CALM: u32 = 0xb;

enum Mode {
    /// How many bytes of the preface have matched so far.
    Sniff(usize),
    H2,
    /// Not HTTP/2 (or already ended): bytes pass through.
    Plain,
}

/// Where a stream of frames stands: `have` bytes of a 9-byte head, or `left` payload bytes.
#[derive(Default)]
struct Frames {
    head: [u8; 9],
    have: usize,
    left: usize,
}

impl Frames {
    /// Feeds `bytes`, calling `frame(type, flags, length, stream)` for each complete head.
    fn feed(&mut self, mut bytes: &[u8], mut frame: impl FnMut(u8, u8, usize, u32)) {
        while !bytes.is_empty() {
            if self.left > 0 {
                let n = self.left.min(bytes.len());
                self.left -= n;
                bytes = &bytes[n..];
                continue;
            }
            let n = (9 - self.have).min(bytes.len());
            self.head[self.have..self.have + n].copy_from_slice(&bytes[..n]);
            self.have += n;
            bytes = &bytes[n..];
            if self.have == 9 {
                let h = self.head;
                let len = (h[0] as usize) << 16 | (h[1] as usize) << 8 | h[2] as usize;
                let stream = u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff;
                frame(h[3], h[4], len, stream);
                self.have = 0;
                self.left = len;
            }
        }
    }

    /// Whether the stream is between two frames.
    fn at_boundary(&self) -> bool {
        self.have == 0 && self.left == 0
    }

    /// Bytes still to come of the current frame (head and payload), if it is under way.
    fn rest_of_frame(&self) -> usize {
        match self.have {
            0 => self.left,
            have => 9 - have + self.left_after_head(),
        }
    }

    fn left_after_head(&self) -> usize {
        if self.have < 3 {
            // The length is not known yet: the head's 9 bytes at least.
            0
        } else {
            (self.head[0] as usize) << 16 | (self.head[1] as usize) << 8 | self.head[2] as usize
        }
    }
}

pub struct FloodGuard<IO> {
    io: IO,
    peer: SocketAddr,
    mode: Mode,
    inbound: Frames,
    /// The server's frames as the socket took them.
    outbound: Frames,
    /// GOAWAY, while the socket has not taken all of it.
    out: Vec<u8>,
    tokens: f64,
    refilled: Instant,
    sent_unpaid: usize,
    last_stream: u32,
    control_frames: u64,
    /// Set when the bucket ran out: GOAWAY goes out after the frame the server is writing.
    flooded: bool,
    goaway_queued: bool,
    /// Reads answered Pending while waiting for the server to finish its frame.
    waits: u32,
}

impl<IO> FloodGuard<IO> {
    pub fn new(io: IO, peer: SocketAddr) -> FloodGuard<IO> {
        FloodGuard {
            io,
            peer,
            mode: Mode::Sniff(0),
            inbound: Frames::default(),
            outbound: Frames::default(),
            out: Vec::new(),
            tokens: BURST,
            refilled: Instant::now(),
            sent_unpaid: 0,
            last_stream: 0,
            control_frames: 0,
            flooded: false,
            goaway_queued: false,
            waits: 0,
        }
    }

    /// Watches bytes the viewer sent.
    fn inspect(&mut self, mut bytes: &[u8]) {
        if let Mode::Sniff(matched) = self.mode {
            let n = (PREFACE.len() - matched).min(bytes.len());
            if bytes[..n] != PREFACE[matched..matched + n] {
                self.mode = Mode::Plain;
                return;
            }
            bytes = &bytes[n..];
            self.mode = if matched + n == PREFACE.len() {
                Mode::H2
            } else {
                Mode::Sniff(matched + n)
            };
        }
        if !matches!(self.mode, Mode::H2) || self.flooded {
            return;
        }
        let mut cost = 0u64;
        let mut last = self.last_stream;
        self.inbound.feed(bytes, |kind, flags, len, stream| {
            const ACK: u8 = 0x1;
            const END_STREAM: u8 = 0x1;
            match kind {
                // DATA: an empty one that does not end its stream carries nothing.
                0x0 if len == 0 && flags & END_STREAM == 0 => cost += 1,
                0x1 => last = last.max(stream),
                // PRIORITY, RST_STREAM, WINDOW_UPDATE; SETTINGS and PING unless they answer ours.
                0x2 | 0x3 | 0x8 => cost += 1,
                0x4 | 0x6 if flags & ACK == 0 => cost += 1,
                _ => {}
            }
        });
        self.last_stream = last;
        if cost == 0 {
            return;
        }
        self.control_frames += cost;
        let now = Instant::now();
        let earned = now.duration_since(self.refilled).as_secs_f64() * PER_SECOND
            + (self.sent_unpaid / BYTES_PER_FRAME) as f64;
        self.sent_unpaid %= BYTES_PER_FRAME;
        self.refilled = now;
        self.tokens = (self.tokens + earned).min(BURST) - cost as f64;
        if self.tokens < 0.0 {
            self.flooded = true;
            tracing::warn!(
                peer = %self.peer,
                control_frames = self.control_frames,
                "HTTP/2 control-frame flood: GOAWAY ENHANCE_YOUR_CALM, closing the connection"
            );
            self.queue_goaway_if_between_frames();
        }
    }

    fn queue_goaway_if_between_frames(&mut self) {
        if self.goaway_queued || !self.outbound.at_boundary() {
            return;
        }
        let mut frame = [0u8; 17];
        frame[2] = 8; // length
        frame[3] = 0x7; // GOAWAY, stream 0
        frame[9..13].copy_from_slice(&self.last_stream.to_be_bytes());
        frame[13..17].copy_from_slice(&ENHANCE_YOUR_CALM.to_be_bytes());
        self.out.extend_from_slice(&frame);
        self.goaway_queued = true;
    }
}

impl<IO: AsyncWrite + Unpin> FloodGuard<IO> {
    /// Writes what the guard holds.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.out.is_empty() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.out))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.out.drain(..n);
        }
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for FloodGuard<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.flooded {
            if !this.goaway_queued {
                // The server is inside a frame: it finishes it through poll_write, then
                // GOAWAY follows. If it writes nothing more, the connection just ends.
                ready!(this.drain(cx))?;
                this.waits += 1;
                if this.waits > 64 {
                    return Poll::Ready(Err(io::ErrorKind::ConnectionAborted.into()));
                }
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            ready!(this.drain(cx))?;
            ready!(Pin::new(&mut this.io).poll_flush(cx))?;
            // What the viewer sends from here on is not read: the connection ends.
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
        if !matches!(this.mode, Mode::Plain) {
            this.inspect(&buf.filled()[before..]);
        }
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for FloodGuard<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if matches!(this.mode, Mode::Plain) && this.out.is_empty() {
            return Pin::new(&mut this.io).poll_write(cx, data);
        }
        if this.goaway_queued {
            // After GOAWAY nothing more goes out; the server is told it went.
            ready!(this.drain(cx))?;
            return Poll::Ready(Ok(data.len()));
        }
        ready!(this.drain(cx))?;
        // Once flooded, only the rest of the frame under way goes out, then GOAWAY.
        let limit = if this.flooded {
            this.outbound.rest_of_frame().clamp(1, data.len().max(1))
        } else {
            data.len()
        };
        let n = ready!(Pin::new(&mut this.io).poll_write(cx, &data[..limit.min(data.len())]))?;
        this.wrote(&data[..n]);
        if this.flooded {
            this.queue_goaway_if_between_frames();
            if let Poll::Ready(Err(e)) = this.drain(cx) {
                return Poll::Ready(Err(e));
            }
        }
        Poll::Ready(Ok(n))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.flooded || this.goaway_queued || !this.out.is_empty() {
            let first = bufs
                .iter()
                .find(|b| !b.is_empty())
                .map_or(&[][..], |b| &b[..]);
            return Pin::new(this).poll_write(cx, first);
        }
        let n = ready!(Pin::new(&mut this.io).poll_write_vectored(cx, bufs))?;
        if !matches!(this.mode, Mode::Plain) {
            let mut left = n;
            for b in bufs {
                let take = left.min(b.len());
                this.wrote(&b[..take]);
                left -= take;
                if left == 0 {
                    break;
                }
            }
        }
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready!(this.drain(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready!(this.drain(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

impl<IO> FloodGuard<IO> {
    /// Follows the frames the server wrote (`bytes`, as the socket took them).
    fn wrote(&mut self, bytes: &[u8]) {
        self.sent_unpaid += bytes.len();
        self.outbound.feed(bytes, |_, _, _, _| {});
    }
}

#[cfg(test)]
mod tests {
    use super::Frames;

    #[test]
    fn frames_are_found_across_any_split() {
        // SETTINGS (empty), PING (8 bytes), HEADERS on stream 1 (3 bytes).
        let mut bytes = vec![0, 0, 0, 4, 0, 0, 0, 0, 0];
        bytes.extend([0, 0, 8, 6, 0, 0, 0, 0, 0]);
        bytes.extend([1u8; 8]);
        bytes.extend([0, 0, 3, 1, 4, 0, 0, 0, 1, 7, 7, 7]);
        for split in 0..bytes.len() {
            let mut f = Frames::default();
            let mut seen = Vec::new();
            f.feed(&bytes[..split], |k, _, l, s| seen.push((k, l, s)));
            assert_eq!(f.at_boundary(), [0, 9, 26, 38].contains(&split), "{split}");
            f.feed(&bytes[split..], |k, _, l, s| seen.push((k, l, s)));
            assert_eq!(
                seen,
                vec![(4, 0, 0), (6, 8, 0), (1, 3, 1)],
                "split at {split}"
            );
            assert!(f.at_boundary());
        }
    }

    #[test]
    fn the_rest_of_a_frame_is_known_once_its_length_is() {
        let mut f = Frames::default();
        f.feed(&[0, 0, 8, 6, 0], |_, _, _, _| {});
        assert_eq!(f.rest_of_frame(), 4 + 8);
        f.feed(&[0, 0, 0, 0, 1, 2], |_, _, _, _| {});
        assert_eq!(f.rest_of_frame(), 6);
    }
}

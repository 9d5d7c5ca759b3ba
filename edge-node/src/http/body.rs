//! The response body type of the node: a whole buffer (every cached or generated answer) or,
//! for objects too large to cache, a buffered prefix followed by the rest of the origin's
//! stream with the origin read timeout between chunks. No boxing on the hit path.

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::time::Sleep;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub enum EdgeBody {
    Full(Option<Bytes>),
    Stream(Box<Streaming>),
}

pub struct Streaming {
    prefix: Option<Bytes>,
    rest: Incoming,
    timeout: Duration,
    sleep: Pin<Box<Sleep>>,
}

impl EdgeBody {
    pub fn full(bytes: Bytes) -> EdgeBody {
        if bytes.is_empty() {
            EdgeBody::Full(None)
        } else {
            EdgeBody::Full(Some(bytes))
        }
    }

    pub fn empty() -> EdgeBody {
        EdgeBody::Full(None)
    }

    pub fn streaming(prefix: Bytes, rest: Incoming, timeout: Duration) -> EdgeBody {
        EdgeBody::Stream(Box::new(Streaming {
            prefix: (!prefix.is_empty()).then_some(prefix),
            rest,
            timeout,
            sleep: Box::pin(tokio::time::sleep(timeout)),
        }))
    }
}

#[derive(Debug, thiserror::Error)]
#[error("origin stopped sending the body for {0:?}")]
pub struct BodyTimeout(Duration);

impl Body for EdgeBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            EdgeBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            EdgeBody::Stream(s) => {
                if let Some(p) = s.prefix.take() {
                    return Poll::Ready(Some(Ok(Frame::data(p))));
                }
                match Pin::new(&mut s.rest).poll_frame(cx) {
                    Poll::Ready(frame) => {
                        let deadline = tokio::time::Instant::now() + s.timeout;
                        s.sleep.as_mut().reset(deadline);
                        Poll::Ready(frame.map(|f| f.map_err(Into::into)))
                    }
                    Poll::Pending => {
                        ready!(s.sleep.as_mut().poll(cx));
                        Poll::Ready(Some(Err(Box::new(BodyTimeout(s.timeout)))))
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            EdgeBody::Full(b) => b.is_none(),
            EdgeBody::Stream(s) => s.prefix.is_none() && s.rest.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            EdgeBody::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            EdgeBody::Stream(s) => {
                let p = s.prefix.as_ref().map_or(0, |b| b.len() as u64);
                let r = s.rest.size_hint();
                let mut h = SizeHint::new();
                h.set_lower(p + r.lower());
                if let Some(u) = r.upper() {
                    h.set_upper(p + u);
                }
                h
            }
        }
    }
}

use std::future::Future;

//! Body streams: how request and response bodies travel between the proxy,
//! the origin and the isolate threads without being copied into V8 unless a
//! script actually reads them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use tokio::sync::{Notify, mpsc};

/// Chunks in flight per body before the producer waits (backpressure).
const BODY_CHANNEL_CHUNKS: usize = 8;

/// A failure while producing a body, carried to whoever consumes it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("body stream failed: {0}")]
pub struct BodyError(pub String);

/// A message body.
#[derive(Debug, Default)]
pub enum Body {
    /// No body at all (`null` in JS).
    #[default]
    Empty,
    /// A body known in full.
    Bytes(Bytes),
    /// A body that arrives chunk by chunk.
    Stream(BodyStream),
}

impl Body {
    /// The length, when it is known before the body is read.
    pub fn known_length(&self) -> Option<u64> {
        match self {
            Body::Empty => Some(0),
            Body::Bytes(b) => Some(b.len() as u64),
            Body::Stream(s) => s.content_length,
        }
    }
}

/// The reading end of a streamed body.
#[derive(Debug)]
pub struct BodyStream {
    rx: mpsc::Receiver<Result<Bytes, BodyError>>,
    /// The declared length, when the producer knows it (e.g. Content-Length).
    pub content_length: Option<u64>,
    /// Shared with the writer of a [`linked_body_channel`].
    link: Option<Arc<Link>>,
}

/// What the two ends of a [`linked_body_channel`] share.
#[derive(Debug, Default)]
struct Link {
    /// The stream has been read from (or handed to a consumer that reads).
    asked: AtomicBool,
    /// Wakes a writer waiting in [`BodyWriter::wanted`].
    wake: Notify,
}

impl BodyStream {
    /// The next chunk; `None` at the end of the body.
    pub async fn next(&mut self) -> Option<Result<Bytes, BodyError>> {
        if let Some(link) = &self.link
            && !link.asked.swap(true, Ordering::AcqRel)
        {
            link.wake.notify_one();
        }
        self.rx.recv().await
    }
}

/// The writing end of a streamed body.
#[derive(Debug, Clone)]
pub struct BodyWriter {
    tx: mpsc::Sender<Result<Bytes, BodyError>>,
    link: Option<Arc<Link>>,
}

impl BodyWriter {
    /// Whether `stream` is this writer's own stream, handed back unread
    /// or partly read (only for a [`linked_body_channel`]): its producer
    /// may then move the rest of the body natively.
    pub fn feeds(&self, stream: &BodyStream) -> bool {
        matches!((&self.link, &stream.link), (Some(a), Some(b)) if Arc::ptr_eq(a, b))
    }

    /// Waits until the stream is first read: a producer that reads its
    /// source only on demand (a [`linked_body_channel`]) calls this before
    /// its first chunk. At once for other channels.
    pub async fn wanted(&self) {
        let Some(link) = &self.link else { return };
        loop {
            let woken = link.wake.notified();
            if link.asked.load(Ordering::Acquire) {
                return;
            }
            woken.await;
        }
    }

    /// Resolves once the consumer has dropped its end.
    pub async fn closed(&self) {
        self.tx.closed().await
    }

    /// Sends a chunk, waiting while the consumer is behind. Errs when the
    /// consumer has gone away.
    pub async fn send(&self, chunk: Bytes) -> Result<(), BodyError> {
        self.tx
            .send(Ok(chunk))
            .await
            .map_err(|_| BodyError("body consumer went away".into()))
    }

    /// Ends the body with an error the consumer will see.
    pub async fn fail(&self, err: BodyError) {
        let _ = self.tx.send(Err(err)).await;
    }

    /// Waits for room for one chunk; the permit sends without waiting.
    pub async fn reserve(&self) -> Option<mpsc::Permit<'_, Result<Bytes, BodyError>>> {
        self.tx.reserve().await.ok()
    }

    /// True once the consumer has dropped its end.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// A new body pipe. Dropping the writer ends the body.
pub fn body_channel(content_length: Option<u64>) -> (BodyWriter, BodyStream) {
    let (tx, rx) = mpsc::channel(BODY_CHANNEL_CHUNKS);
    (
        BodyWriter { tx, link: None },
        BodyStream {
            rx,
            content_length,
            link: None,
        },
    )
}

/// A body pipe whose writer recognises its own stream when a script hands
/// it back ([`BodyWriter::feeds`]), so an untouched body can be moved
/// natively instead of through the channel, and which can tell its
/// writer when the body is first read ([`BodyWriter::wanted`]).
pub fn linked_body_channel(content_length: Option<u64>) -> (BodyWriter, BodyStream) {
    let (tx, rx) = mpsc::channel(BODY_CHANNEL_CHUNKS);
    let link = Arc::new(Link::default());
    (
        BodyWriter {
            tx,
            link: Some(link.clone()),
        },
        BodyStream {
            rx,
            content_length,
            link: Some(link),
        },
    )
}

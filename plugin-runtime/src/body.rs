//! Body streams: how request and response bodies travel between the proxy,
//! the origin and the isolate threads without being copied into V8 unless a
//! script actually reads them.

use bytes::Bytes;
use tokio::sync::mpsc;

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
}

impl BodyStream {
    /// The next chunk; `None` at the end of the body.
    pub async fn next(&mut self) -> Option<Result<Bytes, BodyError>> {
        self.rx.recv().await
    }
}

/// The writing end of a streamed body.
#[derive(Debug, Clone)]
pub struct BodyWriter {
    tx: mpsc::Sender<Result<Bytes, BodyError>>,
}

impl BodyWriter {
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
    (BodyWriter { tx }, BodyStream { rx, content_length })
}

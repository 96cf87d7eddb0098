//! Hand-made HTTP/2 frames for hostile-client tests (floods, protocol
//! abuse) over any byte stream: TLS with ALPN h2, or plain h2c.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The client connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

pub const END_STREAM: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;

/// One frame: `kind`, `flags`, `stream`, `payload`.
pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    f.push(kind);
    f.push(flags);
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// HPACK for `GET https://{host}{path}` (no Huffman, no indexing).
pub fn get_block_for(host: &str, path: &str) -> Vec<u8> {
    get_block_with_scheme(true, host, path)
}

/// HPACK for `GET {scheme}://{host}{path}` (`https` when `tls`).
pub fn get_block_with_scheme(tls: bool, host: &str, path: &str) -> Vec<u8> {
    // :method GET, :scheme https (0x87) or http (0x86)
    let mut b = vec![0x82, if tls { 0x87 } else { 0x86 }];
    b.push(0x04); // :path, literal without indexing (name index 4)
    b.push(path.len() as u8);
    b.extend_from_slice(path.as_bytes());
    b.push(0x01); // :authority (name index 1)
    b.push(host.len() as u8);
    b.extend_from_slice(host.as_bytes());
    b
}

/// Whether `bytes` (frames from the server) hold a GOAWAY.
pub fn has_goaway(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i + 9 <= bytes.len() {
        let len = u32::from_be_bytes([0, bytes[i], bytes[i + 1], bytes[i + 2]]) as usize;
        if bytes[i + 3] == 7 {
            return true;
        }
        i += 9 + len;
    }
    false
}

/// Writes `frames` until done or the server closes; returns how many bytes went out.
pub async fn write_until_closed<S: tokio::io::AsyncWrite + Unpin>(
    s: &mut S,
    frames: impl Iterator<Item = Vec<u8>>,
) -> usize {
    let mut sent = 0;
    for f in frames {
        if s.write_all(&f).await.is_err() {
            return sent;
        }
        sent += f.len();
    }
    let _ = s.flush().await;
    sent
}

/// Reads until the server closes (EOF or error); panics after a minute.
pub async fn closed_by_server<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> Vec<u8> {
    let mut got = Vec::new();
    let done = tokio::time::timeout(Duration::from_secs(60), async {
        let mut buf = [0u8; 16384];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(done.is_ok(), "the server never closed the connection");
    got
}

/// `n` streams, each opened with `block` (a GET) and at once reset
/// (RST_STREAM, CANCEL): the rapid-reset attack, one stream per item.
pub fn rapid_resets(block: &[u8], n: u32) -> impl Iterator<Item = Vec<u8>> + '_ {
    (0..n).map(move |i| {
        let id = 1 + 2 * i;
        let mut f = frame(1, END_STREAM | END_HEADERS, id, block);
        f.extend_from_slice(&frame(3, 0, id, &8u32.to_be_bytes()));
        f
    })
}

//! The codecs behind `CompressionStream` / `DecompressionStream`: zlib
//! (via `flate2`) driven one chunk at a time, so a stream's output flows as
//! its input arrives. Errors carry workerd's messages; JS throws them as
//! TypeErrors, which error the stream.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use crate::io::context::SharedState;
use crate::jsg::ops::{bytes_arg, state, str_arg, throw_type_error, u32_arg, uint8array};

/// A compression format of the Compression Streams spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Gzip,
    Deflate,
    DeflateRaw,
}

impl Format {
    /// The format named by a `CompressionFormat` string (case-sensitive, as in workerd).
    pub(crate) fn parse(name: &str) -> Option<Format> {
        match name {
            "gzip" => Some(Format::Gzip),
            "deflate" => Some(Format::Deflate),
            "deflate-raw" => Some(Format::DeflateRaw),
            _ => None,
        }
    }
}

/// Why a chunk could not be (de)compressed. The messages are workerd's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CodecError {
    #[error("Compression failed.")]
    Compress,
    #[error("Decompression failed.")]
    Corrupt,
    #[error("Trailing bytes after end of compressed data")]
    Trailing,
    #[error("Called close() on a decompression stream with incomplete data")]
    Incomplete,
    /// One chunk inflated past what is left of the isolate's memory limit
    /// (a "zip bomb", or output retained by the script): the isolate is
    /// over its limit and is ended like any other (503), as workerd ends it.
    /// The message is only seen if termination races with a catch.
    #[error("Decompression failed: the output exceeds the worker's memory limit.")]
    TooLarge,
}

enum Engine {
    Compress(Compress),
    Decompress(Decompress),
}

/// One stream's codec state.
pub(crate) struct Codec {
    engine: Engine,
    /// The most output one chunk may inflate to.
    max_output: usize,
    /// The compressed stream has ended (decompression) or been finished.
    ended: bool,
    /// Its zlib state, charged to the isolate's memory budget.
    charge: Option<crate::io::limits::Charge>,
}

/// What a codec's zlib state is charged (a deflate state at the default
/// level is about 268 KiB; an inflate state about 44 KiB).
const CODEC_STATE_BYTES: usize = 300 * 1024;

/// Output room added whenever the buffer runs low.
const GROW: usize = 32 * 1024;
const WINDOW_BITS: u8 = 15;

impl Codec {
    pub(crate) fn new(format: Format, decompress: bool, max_output: usize) -> Codec {
        let engine = if decompress {
            Engine::Decompress(match format {
                Format::Gzip => Decompress::new_gzip(WINDOW_BITS),
                Format::Deflate => Decompress::new(true),
                Format::DeflateRaw => Decompress::new(false),
            })
        } else {
            let level = Compression::default();
            Engine::Compress(match format {
                Format::Gzip => Compress::new_gzip(level, WINDOW_BITS),
                Format::Deflate => Compress::new(level, true),
                Format::DeflateRaw => Compress::new(level, false),
            })
        };
        Codec {
            engine,
            max_output,
            ended: false,
            charge: None,
        }
    }

    /// Feeds `input`; returns the output that is ready now (maybe none).
    pub(crate) fn push(&mut self, input: &[u8]) -> Result<Vec<u8>, CodecError> {
        match &mut self.engine {
            Engine::Compress(c) => {
                if self.ended {
                    return Err(CodecError::Compress);
                }
                compress(c, input, FlushCompress::None)
            }
            Engine::Decompress(d) => {
                if self.ended {
                    return if input.is_empty() {
                        Ok(Vec::new())
                    } else {
                        Err(CodecError::Trailing)
                    };
                }
                let (out, ended) = decompress(d, input, self.max_output)?;
                self.ended = ended;
                Ok(out)
            }
        }
    }

    /// Ends the input; returns the rest of the output. Decompression fails
    /// if the compressed stream did not end.
    pub(crate) fn finish(&mut self) -> Result<Vec<u8>, CodecError> {
        match &mut self.engine {
            Engine::Compress(c) => {
                if self.ended {
                    return Ok(Vec::new());
                }
                self.ended = true;
                compress(c, &[], FlushCompress::Finish)
            }
            Engine::Decompress(_) if self.ended => Ok(Vec::new()),
            Engine::Decompress(_) => Err(CodecError::Incomplete),
        }
    }
}

fn compress(c: &mut Compress, input: &[u8], flush: FlushCompress) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity((input.len() / 2).saturating_add(GROW));
    let mut pos = 0;
    loop {
        if out.capacity() - out.len() < GROW / 2 {
            out.reserve(GROW);
        }
        let before = c.total_in();
        let status = c
            .compress_vec(&input[pos..], &mut out, flush)
            .map_err(|_| CodecError::Compress)?;
        pos += (c.total_in() - before) as usize;
        let room_left = out.len() < out.capacity();
        match status {
            Status::StreamEnd => return Ok(out),
            Status::Ok | Status::BufError => {
                let finishing = matches!(flush, FlushCompress::Finish);
                if !finishing && pos == input.len() && room_left {
                    return Ok(out);
                }
                if matches!(status, Status::BufError) && room_left {
                    // No progress possible (zlib wants more input).
                    return Ok(out);
                }
            }
        }
    }
}

/// Inflates `input`; the flag says whether the compressed stream ended.
fn decompress(d: &mut Decompress, input: &[u8], max_output: usize) -> Result<(Vec<u8>, bool), CodecError> {
    // Room for typical ratios, but never more up front than one chunk may
    // inflate to (a hostile chunk is small and claims nothing).
    let mut out = Vec::with_capacity(input.len().saturating_mul(2).min(max_output).saturating_add(GROW));
    let mut pos = 0;
    loop {
        if out.len() > max_output {
            return Err(CodecError::TooLarge);
        }
        if out.capacity() - out.len() < GROW / 2 {
            out.reserve(GROW);
        }
        let before_in = d.total_in();
        let before_out = out.len();
        let status = d
            .decompress_vec(&input[pos..], &mut out, FlushDecompress::None)
            .map_err(|_| CodecError::Corrupt)?;
        pos += (d.total_in() - before_in) as usize;
        match status {
            Status::StreamEnd => {
                if pos < input.len() {
                    return Err(CodecError::Trailing);
                }
                return Ok((out, true));
            }
            Status::Ok | Status::BufError => {
                let room_left = out.len() < out.capacity();
                if pos == input.len() && room_left {
                    return Ok((out, false));
                }
                if d.total_in() == before_in && out.len() == before_out && room_left {
                    return Ok((out, false));
                }
            }
        }
    }
}

// ---- ops ----------------------------------------------------------------

/// `compressionNew(format, decompress)` -> id; a TypeError for an unknown format.
pub(crate) fn op_compression_new(
    scope: &mut v8::PinScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let name = str_arg(scope, args.get(0), "format", 32).unwrap_or_default();
    let Some(format) = Format::parse(&name) else {
        return throw_type_error(
            scope,
            "The compression format must be either 'deflate', 'deflate-raw' or 'gzip'.",
        );
    };
    let decompress = args.get(1).boolean_value(scope);
    let st = state(scope);
    let id = {
        let mut s = st.borrow_mut();
        let max_output = s
            .code
            .upgrade()
            .map_or(128, |c| c.spec.memory_mb.max(16))
            .saturating_mul(1 << 20);
        let Some(charge) = s.memory.charge(CODEC_STATE_BYTES) else {
            drop(s);
            return throw_type_error(scope, "Array buffer allocation failed");
        };
        let id = s.next_id();
        let mut codec = Codec::new(format, decompress, max_output);
        codec.charge = Some(charge);
        s.codecs.insert(id, codec);
        id
    };
    rv.set(v8::Integer::new_from_unsigned(scope, id).into());
}

/// `compressionPush(id, bytes)` -> the output ready now (a Uint8Array, maybe
/// empty). On failure the codec is dropped and a TypeError thrown.
pub(crate) fn op_compression_push(
    scope: &mut v8::PinScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let st = state(scope);
    let id = u32_arg(scope, args.get(0));
    let Some(input) = bytes_arg(args.get(1)) else {
        return throw_type_error(scope, "This WritableStream only supports writing byte types.");
    };
    let result = {
        let mut s = st.borrow_mut();
        // Inflated output may not outgrow what is left of the memory budget.
        let room = s.memory.remaining();
        match s.codecs.get_mut(&id) {
            None => Err(None),
            Some(codec) => {
                codec.max_output = codec.max_output.min(room);
                codec.push(&input).map_err(Some)
            }
        }
    };
    if matches!(result, Err(Some(CodecError::TooLarge))) {
        // Not a stream error the script could catch and retry: the
        // memory limit, which terminates the script and discards the
        // isolate (the request gets the memory-limit 503).
        st.borrow().memory.refuse();
    }
    finish_op(scope, &st, id, result, &mut rv, false);
}

/// `compressionFinish(id)` -> the rest of the output; the codec is dropped.
pub(crate) fn op_compression_finish(
    scope: &mut v8::PinScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let st = state(scope);
    let id = u32_arg(scope, args.get(0));
    let result = {
        let mut s = st.borrow_mut();
        match s.codecs.get_mut(&id) {
            None => Err(None),
            Some(codec) => codec.finish().map_err(Some),
        }
    };
    finish_op(scope, &st, id, result, &mut rv, true);
}

/// `compressionFree(id)`: the stream was cancelled or aborted.
pub(crate) fn op_compression_free(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let st = state(scope);
    let id = u32_arg(scope, args.get(0));
    st.borrow_mut().codecs.remove(&id);
}

fn finish_op(
    scope: &mut v8::PinScope,
    st: &SharedState,
    id: u32,
    result: Result<Vec<u8>, Option<CodecError>>,
    rv: &mut v8::ReturnValue,
    last: bool,
) {
    if last || result.is_err() {
        st.borrow_mut().codecs.remove(&id);
    }
    match result {
        Ok(out) => rv.set(uint8array(scope, out).into()),
        Err(Some(e)) => throw_type_error(scope, &e.to_string()),
        Err(None) => throw_type_error(scope, "The compression stream has already finished."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(format: Format, data: &[u8], chunk: usize) -> Vec<u8> {
        let mut c = Codec::new(format, false, 1 << 30);
        let mut packed = Vec::new();
        for piece in data.chunks(chunk.max(1)) {
            packed.extend(c.push(piece).unwrap());
        }
        packed.extend(c.finish().unwrap());
        let mut d = Codec::new(format, true, 1 << 30);
        let mut out = Vec::new();
        for piece in packed.chunks(7) {
            out.extend(d.push(piece).unwrap());
        }
        out.extend(d.finish().unwrap());
        out
    }

    #[test]
    fn round_trips_every_format() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for f in [Format::Gzip, Format::Deflate, Format::DeflateRaw] {
            assert_eq!(round_trip(f, &data, 1000), data);
            assert_eq!(round_trip(f, b"", 1), b"");
        }
    }

    #[test]
    fn decompression_errors() {
        let mut c = Codec::new(Format::Gzip, false, 1 << 30);
        let mut packed = c.push(b"hello hello hello").unwrap();
        packed.extend(c.finish().unwrap());

        let mut d = Codec::new(Format::Gzip, true, 1 << 30);
        let mut extra = packed.clone();
        extra.push(0);
        assert_eq!(d.push(&extra), Err(CodecError::Trailing));

        let mut d = Codec::new(Format::Gzip, true, 1 << 30);
        d.push(&packed[..packed.len() - 3]).unwrap();
        assert_eq!(d.finish(), Err(CodecError::Incomplete));

        let mut d = Codec::new(Format::Deflate, true, 1 << 30);
        assert_eq!(d.push(b"not zlib data at all"), Err(CodecError::Corrupt));

        let mut d = Codec::new(Format::Gzip, true, 1 << 30);
        d.push(&packed).unwrap();
        assert_eq!(d.push(b"x"), Err(CodecError::Trailing));
        assert_eq!(d.finish(), Ok(Vec::new()));
    }

    #[test]
    fn inflating_past_the_limit_fails() {
        let zeros = vec![0u8; 4 << 20];
        let mut c = Codec::new(Format::Deflate, false, 1 << 30);
        let mut packed = c.push(&zeros).unwrap();
        packed.extend(c.finish().unwrap());
        assert!(packed.len() < 64 << 10);
        let mut d = Codec::new(Format::Deflate, true, 1 << 20);
        assert_eq!(d.push(&packed), Err(CodecError::TooLarge));
    }
}

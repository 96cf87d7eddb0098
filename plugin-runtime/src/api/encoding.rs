//! `TextEncoder` / `TextDecoder`'s native halves (encoding_rs).

use crate::error::OpError;
use crate::jsg::ops::{bytes_arg, js_value, state, str_arg, string_arg, throw, throw_type_error, u32_arg, uint8array};
use crate::jsg::wire;

pub(crate) fn op_encode_utf8(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let s = match string_arg(scope, args.get(0), "input") {
        Ok(s) => s,
        Err(e) => return throw(scope, e),
    };
    rv.set(uint8array(scope, s.into_bytes()).into());
}

/// `encodeUtf8Into(string, u8)` -> `[read, written]` (read in UTF-16 units).
pub(crate) fn op_encode_utf8_into(
    scope: &mut v8::PinScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let s = match string_arg(scope, args.get(0), "source") {
        Ok(s) => s,
        Err(e) => return throw(scope, e),
    };
    let Ok(view) = v8::Local::<v8::Uint8Array>::try_from(args.get(1)) else {
        return throw_type_error(
            scope,
            "Failed to execute 'encodeInto' on 'TextEncoder': parameter 2 is not of type 'Uint8Array'.",
        );
    };
    let cap = view.byte_length();
    let mut out = Vec::with_capacity(cap.min(s.len()));
    let mut read = 0u32;
    for c in s.chars() {
        if out.len() + c.len_utf8() > cap {
            break;
        }
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        read = read.saturating_add(c.len_utf16() as u32);
    }
    // A detached buffer has no data (and a zero length): nothing to write.
    if !out.is_empty() && !view.data().is_null() {
        // SAFETY: the view covers `cap` writable bytes of a live ArrayBuffer (the
        // handle keeps it alive) and `out.len() <= cap`; no JS runs while we write.
        unsafe { std::ptr::copy_nonoverlapping(out.as_ptr(), view.data() as *mut u8, out.len()) };
    }
    let r = v8::Integer::new_from_unsigned(scope, read).into();
    let w = v8::Integer::new_from_unsigned(scope, u32::try_from(out.len()).unwrap_or(u32::MAX)).into();
    rv.set(v8::Array::new_with_elements(scope, &[r, w]).into());
}

fn encoding_name(e: &'static encoding_rs::Encoding) -> String {
    e.name().to_ascii_lowercase()
}

pub(crate) fn op_encoding_for_label(
    scope: &mut v8::PinScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let Ok(label) = str_arg(scope, args.get(0), "label", 256) else {
        return rv.set_null();
    };
    // The Encoding standard trims ASCII whitespace only (`str::trim` would
    // also take U+000B, U+00A0, U+2028...).
    let label = label.trim_matches(['\t', '\n', '\x0c', '\r', ' ']);
    match encoding_rs::Encoding::for_label_no_replacement(label.as_bytes()) {
        Some(e) => match js_value(scope, &encoding_name(e)) {
            Ok(v) => rv.set(v),
            Err(e) => throw(scope, e),
        },
        None => rv.set_null(),
    }
}

fn new_decoder(encoding: &'static encoding_rs::Encoding, ignore_bom: bool) -> encoding_rs::Decoder {
    if ignore_bom {
        encoding.new_decoder_without_bom_handling()
    } else {
        encoding.new_decoder_with_bom_removal()
    }
}

/// `decoderNew(name, fatal, ignoreBOM)` -> id.
pub(crate) fn op_decoder_new(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let name = match string_arg(scope, args.get(0), "encoding") {
        Ok(s) => s,
        Err(e) => return throw(scope, e),
    };
    let Some(encoding) = encoding_rs::Encoding::for_label_no_replacement(name.as_bytes()) else {
        let msg = format!("The \"{}\" encoding is not supported.", wire::excerpt(&name));
        return throw(scope, OpError::range_error(msg));
    };
    let fatal = args.get(1).boolean_value(scope);
    let ignore_bom = args.get(2).boolean_value(scope);
    let st = state(scope);
    let id = {
        let mut s = st.borrow_mut();
        let id = s.next_id();
        let decoder = new_decoder(encoding, ignore_bom);
        s.decoders.insert(
            id,
            DecoderState {
                encoding,
                fatal,
                ignore_bom,
                decoder,
            },
        );
        id
    };
    rv.set(v8::Integer::new_from_unsigned(scope, id).into());
}

/// `decoderDecode(id, bytes, stream)` -> string.
pub(crate) fn op_decoder_decode(
    scope: &mut v8::PinScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let st = state(scope);
    let id = u32_arg(scope, args.get(0));
    let input = if args.get(1).is_undefined() {
        Vec::new()
    } else {
        bytes_arg(args.get(1)).unwrap_or_default()
    };
    let stream = args.get(2).boolean_value(scope);
    let result = {
        let mut s = st.borrow_mut();
        let Some(d) = s.decoders.get_mut(&id) else {
            drop(s);
            return throw_type_error(scope, "invalid TextDecoder");
        };
        let last = !stream;
        let cap = d
            .decoder
            .max_utf8_buffer_length(input.len())
            .unwrap_or_else(|| input.len().saturating_mul(3).saturating_add(16));
        let mut out = String::with_capacity(cap);
        let ok = if d.fatal {
            let (res, _read) = d.decoder.decode_to_string_without_replacement(&input, &mut out, last);
            !matches!(res, encoding_rs::DecoderResult::Malformed(_, _))
        } else {
            let (_res, _read, _had_errors) = d.decoder.decode_to_string(&input, &mut out, last);
            true
        };
        if last || !ok {
            d.decoder = new_decoder(d.encoding, d.ignore_bom);
        }
        ok.then_some(out)
    };
    match result {
        // Decoded text can outgrow V8's longest string: a RangeError.
        Some(out) => match js_value(scope, &out) {
            Ok(v) => rv.set(v),
            Err(e) => throw(scope, e),
        },
        None => throw_type_error(scope, "Failed to decode input."),
    }
}

pub(crate) fn op_decoder_free(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, _rv: v8::ReturnValue) {
    let st = state(scope);
    let id = u32_arg(scope, args.get(0));
    st.borrow_mut().decoders.remove(&id);
}

/// A `TextDecoder`'s native half.
pub(crate) struct DecoderState {
    pub encoding: &'static encoding_rs::Encoding,
    pub fatal: bool,
    pub ignore_bom: bool,
    pub decoder: encoding_rs::Decoder,
}

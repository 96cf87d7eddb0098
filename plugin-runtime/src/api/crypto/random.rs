//! `crypto.getRandomValues`' native half: bytes from the OS CSPRNG.

use crate::jsg::ops::{len_arg, throw, throw_type_error, uint8array};

/// The most bytes one `randomBytes` call makes (`getRandomValues` itself
/// allows 65536; generated keys need less).
const MAX_RANDOM_BYTES: usize = 1 << 20;

/// `randomBytes(n)` -> a Uint8Array of `n` bytes from the OS CSPRNG
/// (`crypto.getRandomValues` copies them into the caller's view).
pub(crate) fn op_random_bytes(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let n = match len_arg(scope, args.get(0), MAX_RANDOM_BYTES, "the byte count") {
        Ok(n) => n,
        Err(e) => return throw(scope, e),
    };
    let mut buf = vec![0u8; n];
    if let Err(e) = getrandom::fill(&mut buf) {
        return throw_type_error(scope, &format!("no randomness available: {e}"));
    }
    rv.set(uint8array(scope, buf).into());
}

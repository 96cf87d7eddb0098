//! RSA for `crypto.subtle`, over AWS-LC (`aws-lc-sys`, the library rustls
//! already links through `aws-lc-rs`).
//!
//! Why not RustCrypto's `rsa` crate: its private-key operations are not
//! constant time (RUSTSEC-2023-0071, the Marvin attack). AWS-LC's are
//! (blinding plus constant-time modular exponentiation, constant-time OAEP
//! decoding). Why not `aws-lc-rs`'s safe API: it only signs with SHA-256 and
//! up, takes PSS salt lengths and key sizes as `'static` constants, and only
//! generates 2048-8192-bit keys with e = 65537, while WebCrypto allows SHA-1,
//! any salt length, 1024-bit keys and e = 3. So this module wraps the few EVP
//! calls it needs itself: every pointer lives in an owning type freed on
//! drop, every call's result is checked, and nothing here can panic.
//!
//! Sizes are bounded before any work: the DER or JWK input length, then the
//! modulus (at most [`MAX_MODULUS_BITS`]) and public exponent (at most 33
//! bits, AWS-LC's own limit) of every parsed key, and the modulus of a
//! generated key ([`GENERATE_BITS`]), because each of these calls runs
//! uninterruptibly on an isolate thread.

use std::ffi::{c_int, c_void};
use std::mem::MaybeUninit;
use std::ptr;

use aws_lc_sys as lc;

use super::{CryptoError, Hash, Result};

/// The largest modulus accepted for import and use (AWS-LC's and workerd's
/// limit). A private operation with it takes about half a second.
pub(crate) const MAX_MODULUS_BITS: u32 = 16384;
/// The smallest modulus accepted for import (workerd's limit).
pub(crate) const MIN_MODULUS_BITS: u32 = 256;
/// Modulus lengths `generateKey` accepts: key generation is one
/// uninterruptible call whose cost grows with the fourth power of the
/// length (4096 bits: about 1 s on the dev VM; workerd's 16384 would take minutes).
pub(crate) const GENERATE_BITS: std::ops::RangeInclusive<u32> = 1024..=4096;
/// Public exponents above 33 bits are refused (AWS-LC's DoS limit).
const MAX_EXPONENT_BITS: u32 = 33;
/// DER longer than this cannot hold a key within the limits (a 16384-bit
/// PKCS#8 key is about 9.3 KiB, its SPKI about 2.1 KiB).
const MAX_PRIVATE_DER: usize = 12 * 1024;
const MAX_PUBLIC_DER: usize = 4 * 1024;

/// Drops whatever AWS-LC queued on this thread's error queue (it would
/// otherwise grow with every failed call).
fn clear_errors() {
    // SAFETY: ERR_clear_error only touches this thread's error queue.
    unsafe { lc::ERR_clear_error() };
}

fn failed(e: CryptoError) -> CryptoError {
    clear_errors();
    e
}

fn data(msg: impl Into<String>) -> CryptoError {
    failed(CryptoError::Data(msg.into()))
}

fn operation(msg: impl Into<String>) -> CryptoError {
    failed(CryptoError::Operation(msg.into()))
}

/// An owned BIGNUM (never null). Cleared on free: some hold private values.
struct Bn(*mut lc::BIGNUM);

impl Bn {
    fn from_be(bytes: &[u8]) -> Result<Bn> {
        // SAFETY: `bytes` is a valid slice for its length; a null `ret`
        // makes BN_bin2bn allocate a new BIGNUM, which we own.
        let p = unsafe { lc::BN_bin2bn(bytes.as_ptr(), bytes.len(), ptr::null_mut()) };
        if p.is_null() {
            return Err(operation("Out of memory."));
        }
        Ok(Bn(p))
    }

    fn word(w: u64) -> Result<Bn> {
        // SAFETY: BN_new returns an owned BIGNUM or null.
        let p = unsafe { lc::BN_new() };
        if p.is_null() {
            return Err(operation("Out of memory."));
        }
        let bn = Bn(p);
        // SAFETY: `bn.0` is a valid BIGNUM we own.
        if unsafe { lc::BN_set_word(bn.0, w) } != 1 {
            return Err(operation("Out of memory."));
        }
        Ok(bn)
    }
}

impl Drop for Bn {
    fn drop(&mut self) {
        // SAFETY: `self.0` was allocated by AWS-LC, is owned here and is
        // freed exactly once.
        unsafe { lc::BN_clear_free(self.0) }
    }
}

/// The big-endian bytes of `bn`, or `None` if it is null.
fn bn_bytes(bn: *const lc::BIGNUM) -> Option<Vec<u8>> {
    if bn.is_null() {
        return None;
    }
    // SAFETY: `bn` is a non-null BIGNUM owned by a key that outlives this call.
    let len = unsafe { lc::BN_num_bytes(bn) } as usize;
    let mut out = vec![0u8; len];
    // SAFETY: `out` has exactly BN_num_bytes(bn) bytes, what BN_bn2bin writes.
    let written = unsafe { lc::BN_bn2bin(bn, out.as_mut_ptr()) };
    out.truncate(written);
    Some(out)
}

fn bn_bits(bn: *const lc::BIGNUM) -> u32 {
    if bn.is_null() {
        return 0;
    }
    // SAFETY: `bn` is a non-null BIGNUM owned by a live key.
    unsafe { lc::BN_num_bits(bn) }
}

/// An owned EVP_PKEY holding an RSA key (never null; checked at creation).
struct Pkey(*mut lc::EVP_PKEY);

impl Drop for Pkey {
    fn drop(&mut self) {
        // SAFETY: owned pointer, freed exactly once.
        unsafe { lc::EVP_PKEY_free(self.0) }
    }
}

/// An owned EVP_PKEY_CTX for one operation.
struct Ctx(*mut lc::EVP_PKEY_CTX);

impl Drop for Ctx {
    fn drop(&mut self) {
        // SAFETY: owned pointer, freed exactly once.
        unsafe { lc::EVP_PKEY_CTX_free(self.0) }
    }
}

/// Fails with `err` unless an AWS-LC call returned 1.
fn ok(ret: c_int, err: impl FnOnce() -> CryptoError) -> Result<()> {
    if ret == 1 { Ok(()) } else { Err(err()) }
}

fn md(hash: Hash) -> Result<*const lc::EVP_MD> {
    // SAFETY: these return pointers to static digest tables.
    Ok(unsafe {
        match hash {
            Hash::Sha1 => lc::EVP_sha1(),
            Hash::Sha256 => lc::EVP_sha256(),
            Hash::Sha384 => lc::EVP_sha384(),
            Hash::Sha512 => lc::EVP_sha512(),
            Hash::Md5 => {
                return Err(CryptoError::NotSupported(
                    "MD5 is only supported by crypto.subtle.digest().".into(),
                ));
            }
        }
    })
}

/// RSA signature padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Padding {
    Pkcs1,
    /// RSA-PSS with this salt length in bytes (MGF1 with the same hash).
    Pss {
        salt: usize,
    },
}

/// An RSA public or private key.
pub(crate) struct RsaKey(Pkey);

/// The members of a JWK's RSA key, big-endian: `n, e` and, for private keys,
/// `d, p, q, dp, dq, qi`.
pub(crate) struct Parts {
    pub n: Vec<u8>,
    pub e: Vec<u8>,
    pub private: Option<[Vec<u8>; 6]>,
}

impl RsaKey {
    /// Wraps an `RSA*` we own into an EVP_PKEY (taking it over) and checks
    /// its sizes.
    fn adopt(rsa: *mut lc::RSA) -> Result<RsaKey> {
        if rsa.is_null() {
            return Err(data("Invalid RSA key."));
        }
        // SAFETY: EVP_PKEY_new returns an owned key or null.
        let pkey = unsafe { lc::EVP_PKEY_new() };
        if pkey.is_null() {
            // SAFETY: `rsa` is ours and not yet handed over.
            unsafe { lc::RSA_free(rsa) };
            return Err(operation("Out of memory."));
        }
        let pkey = Pkey(pkey);
        // SAFETY: both pointers are valid; on success the EVP_PKEY takes
        // ownership of `rsa`, on failure it stays ours and is freed here.
        if unsafe { lc::EVP_PKEY_assign_RSA(pkey.0, rsa) } != 1 {
            // SAFETY: see above: still ours.
            unsafe { lc::RSA_free(rsa) };
            return Err(operation("Out of memory."));
        }
        let key = RsaKey(pkey);
        key.check_sizes()?;
        Ok(key)
    }

    /// Parses DER with `parse` (an EVP_parse_* function) and requires an
    /// RSA key and no trailing bytes.
    fn parse(der: &[u8], parse: unsafe extern "C" fn(*mut lc::CBS) -> *mut lc::EVP_PKEY) -> Result<RsaKey> {
        let mut cbs = MaybeUninit::<lc::CBS>::uninit();
        // SAFETY: CBS_init fully initialises the CBS to borrow `der`, which
        // outlives every use of `cbs` below.
        let cbs = unsafe {
            lc::CBS_init(cbs.as_mut_ptr(), der.as_ptr(), der.len());
            cbs.assume_init_mut()
        };
        // SAFETY: `cbs` is an initialised CBS over live memory; the result
        // is an owned key or null.
        let p = unsafe { parse(cbs) };
        if p.is_null() {
            return Err(data("Invalid key data."));
        }
        let pkey = Pkey(p);
        // SAFETY: `cbs` is initialised; `pkey.0` is a valid key.
        let (rest, id) = unsafe { (lc::CBS_len(cbs), lc::EVP_PKEY_id(pkey.0)) };
        if rest != 0 {
            return Err(data("Invalid key data: trailing bytes after the key."));
        }
        if id != lc::EVP_PKEY_RSA {
            return Err(data("Invalid key data: the key is for a different algorithm."));
        }
        let key = RsaKey(pkey);
        key.check_sizes()?;
        Ok(key)
    }

    /// A PKCS#8 `PrivateKeyInfo`.
    pub(crate) fn from_pkcs8(der: &[u8]) -> Result<RsaKey> {
        if der.len() > MAX_PRIVATE_DER {
            return Err(data(format!(
                "Invalid key data: a PKCS#8 RSA key of {} bytes is larger than any key of at most {MAX_MODULUS_BITS} bits.",
                der.len()
            )));
        }
        let key = Self::parse(der, lc::EVP_parse_private_key)?;
        if !key.is_private() {
            return Err(data("Invalid key data: not a private key."));
        }
        Ok(key)
    }

    /// An X.509 `SubjectPublicKeyInfo`.
    pub(crate) fn from_spki(der: &[u8]) -> Result<RsaKey> {
        if der.len() > MAX_PUBLIC_DER {
            return Err(data(format!(
                "Invalid key data: an RSA public key of {} bytes is larger than any key of at most {MAX_MODULUS_BITS} bits.",
                der.len()
            )));
        }
        Self::parse(der, lc::EVP_parse_public_key)
    }

    /// A public key from its modulus and exponent.
    pub(crate) fn from_public_parts(n: &[u8], e: &[u8]) -> Result<RsaKey> {
        check_part_sizes(n, e)?;
        let (n, e) = (Bn::from_be(n)?, Bn::from_be(e)?);
        // SAFETY: both BIGNUMs are valid; RSA_new_public_key copies them and
        // returns an owned RSA or null.
        Self::adopt(unsafe { lc::RSA_new_public_key(n.0, e.0) })
    }

    /// A private key from all its members; AWS-LC checks their consistency.
    pub(crate) fn from_private_parts(n: &[u8], e: &[u8], private: [&[u8]; 6]) -> Result<RsaKey> {
        check_part_sizes(n, e)?;
        if private.iter().any(|x| x.len() > n.len()) {
            return Err(data("Invalid RSA key: a private member is longer than the modulus."));
        }
        let (n, e) = (Bn::from_be(n)?, Bn::from_be(e)?);
        let [d, p, q, dp, dq, qi] = private;
        let [d, p, q, dp, dq, qi] = [
            Bn::from_be(d)?,
            Bn::from_be(p)?,
            Bn::from_be(q)?,
            Bn::from_be(dp)?,
            Bn::from_be(dq)?,
            Bn::from_be(qi)?,
        ];
        // SAFETY: every BIGNUM is valid; RSA_new_private_key copies them,
        // runs RSA_check_key and returns an owned RSA or null.
        let rsa = unsafe { lc::RSA_new_private_key(n.0, e.0, d.0, p.0, q.0, dp.0, dq.0, qi.0) };
        if rsa.is_null() {
            return Err(data("Invalid RSA key: the members are not consistent."));
        }
        Self::adopt(rsa)
    }

    /// Generates a key of `bits` (within [`GENERATE_BITS`], a multiple of
    /// 128 since AWS-LC rounds down to one) with public exponent `e`.
    pub(crate) fn generate(bits: u32, e: u32) -> Result<RsaKey> {
        if !GENERATE_BITS.contains(&bits) || !bits.is_multiple_of(128) {
            return Err(CryptoError::Operation(format!(
                "The modulus length must be a multiple of 128 between {} and {} (requested {bits}).",
                GENERATE_BITS.start(),
                GENERATE_BITS.end()
            )));
        }
        if e != 3 && e != 65537 {
            return Err(CryptoError::Operation(format!(
                "The \"publicExponent\" must be either 3 or 65537, but got {e}."
            )));
        }
        let exponent = Bn::word(u64::from(e))?;
        // SAFETY: RSA_new returns an owned RSA or null.
        let rsa = unsafe { lc::RSA_new() };
        if rsa.is_null() {
            return Err(operation("Out of memory."));
        }
        // SAFETY: `rsa` and `exponent` are valid; `bits` is at most 4096 so
        // the cast is lossless; a null callback is allowed.
        if unsafe { lc::RSA_generate_key_ex(rsa, bits as c_int, exponent.0, ptr::null_mut()) } != 1 {
            // SAFETY: `rsa` is still ours.
            unsafe { lc::RSA_free(rsa) };
            return Err(operation("RSA key generation failed."));
        }
        let key = Self::adopt(rsa)?;
        if key.modulus_bits() != bits {
            return Err(operation("RSA key generation failed."));
        }
        Ok(key)
    }

    fn rsa(&self) -> *const lc::RSA {
        // SAFETY: every RsaKey holds an EVP_PKEY of type RSA, so this is
        // non-null and lives as long as `self`.
        unsafe { lc::EVP_PKEY_get0_RSA(self.0.0) }
    }

    /// (n, e, d) as borrowed pointers (d null for public keys).
    fn key_members(&self) -> [*const lc::BIGNUM; 3] {
        let mut m = [ptr::null(); 3];
        let [n, e, d] = &mut m;
        // SAFETY: `self.rsa()` is a valid RSA; the out-pointers are valid
        // and receive borrowed pointers that live as long as `self`.
        unsafe { lc::RSA_get0_key(self.rsa(), n, e, d) };
        m
    }

    fn check_sizes(&self) -> Result<()> {
        let [n, e, _] = self.key_members();
        let (bits, e_bits) = (bn_bits(n), bn_bits(e));
        if !(MIN_MODULUS_BITS..=MAX_MODULUS_BITS).contains(&bits) {
            return Err(data(format!(
                "RSA keys must have a modulus of {MIN_MODULUS_BITS} to {MAX_MODULUS_BITS} bits (this one has {bits})."
            )));
        }
        if e_bits == 0 || e_bits > MAX_EXPONENT_BITS {
            return Err(data(format!(
                "RSA public exponents of more than {MAX_EXPONENT_BITS} bits are not supported."
            )));
        }
        Ok(())
    }

    pub(crate) fn is_private(&self) -> bool {
        !self.key_members()[2].is_null()
    }

    pub(crate) fn modulus_bits(&self) -> u32 {
        bn_bits(self.key_members()[0])
    }

    pub(crate) fn public_exponent(&self) -> Vec<u8> {
        bn_bytes(self.key_members()[1]).unwrap_or_default()
    }

    /// The key's members, as a JWK holds them.
    pub(crate) fn parts(&self) -> Result<Parts> {
        let [n, e, d] = self.key_members();
        let (n, e) = (bn_bytes(n).unwrap_or_default(), bn_bytes(e).unwrap_or_default());
        if d.is_null() {
            return Ok(Parts { n, e, private: None });
        }
        let (mut p, mut q, mut dp, mut dq, mut qi) = (ptr::null(), ptr::null(), ptr::null(), ptr::null(), ptr::null());
        // SAFETY: valid RSA; out-pointers receive borrowed pointers.
        unsafe {
            lc::RSA_get0_factors(self.rsa(), &mut p, &mut q);
            lc::RSA_get0_crt_params(self.rsa(), &mut dp, &mut dq, &mut qi);
        }
        let get = |b| bn_bytes(b).ok_or_else(|| CryptoError::NotSupported("This RSA key has no CRT members.".into()));
        Ok(Parts {
            n,
            e,
            private: Some([get(d)?, get(p)?, get(q)?, get(dp)?, get(dq)?, get(qi)?]),
        })
    }

    fn marshal(&self, f: unsafe extern "C" fn(*mut lc::CBB, *const lc::EVP_PKEY) -> c_int) -> Result<Vec<u8>> {
        let mut cbb = MaybeUninit::<lc::CBB>::uninit();
        // SAFETY: CBB_init initialises the CBB (it stays in place: we only
        // use it through this pointer).
        if unsafe { lc::CBB_init(cbb.as_mut_ptr(), 0) } != 1 {
            return Err(operation("Out of memory."));
        }
        let cbb = cbb.as_mut_ptr();
        let mut out: *mut u8 = ptr::null_mut();
        let mut len = 0usize;
        // SAFETY: `cbb` is initialised and `self.0.0` a valid key.
        // CBB_finish hands us an OPENSSL_malloc'd buffer on success; on any
        // failure CBB_cleanup releases what the CBB holds.
        unsafe {
            if f(cbb, self.0.0) != 1 || lc::CBB_finish(cbb, &mut out, &mut len) != 1 {
                lc::CBB_cleanup(cbb);
                return Err(operation("Could not encode the RSA key."));
            }
        }
        // SAFETY: `out` points to `len` initialised bytes that we own.
        let der = unsafe { std::slice::from_raw_parts(out, len) }.to_vec();
        // SAFETY: `out` came from CBB_finish and is freed once.
        unsafe { lc::OPENSSL_free(out.cast::<c_void>()) };
        Ok(der)
    }

    pub(crate) fn to_pkcs8(&self) -> Result<Vec<u8>> {
        self.marshal(lc::EVP_marshal_private_key)
    }

    pub(crate) fn to_spki(&self) -> Result<Vec<u8>> {
        self.marshal(lc::EVP_marshal_public_key)
    }

    fn ctx(&self) -> Result<Ctx> {
        // SAFETY: valid key; the context takes its own reference to it and
        // is owned by the returned Ctx.
        let p = unsafe { lc::EVP_PKEY_CTX_new(self.0.0, ptr::null_mut()) };
        if p.is_null() {
            return Err(operation("Out of memory."));
        }
        Ok(Ctx(p))
    }

    /// Sets the signature padding and digest on a sign/verify context.
    fn signature_params(ctx: &Ctx, padding: Padding, hash: Hash) -> Result<()> {
        let md = md(hash)?;
        let err = || operation("RSA signature parameters were rejected.");
        // SAFETY: `ctx.0` is a valid context initialised for sign/verify;
        // `md` is a static digest.
        unsafe {
            match padding {
                Padding::Pkcs1 => ok(lc::EVP_PKEY_CTX_set_rsa_padding(ctx.0, lc::RSA_PKCS1_PADDING), err)?,
                Padding::Pss { salt } => {
                    let salt = c_int::try_from(salt).map_err(|_| operation("The RSA-PSS salt length is too long."))?;
                    ok(lc::EVP_PKEY_CTX_set_rsa_padding(ctx.0, lc::RSA_PKCS1_PSS_PADDING), err)?;
                    ok(lc::EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.0, salt), err)?;
                }
            }
            ok(lc::EVP_PKEY_CTX_set_signature_md(ctx.0, md), err)
        }
    }

    /// Signs `digest` (the `hash` of the message) with this private key.
    pub(crate) fn sign(&self, padding: Padding, hash: Hash, digest: &[u8]) -> Result<Vec<u8>> {
        let ctx = self.ctx()?;
        // SAFETY: valid context.
        ok(unsafe { lc::EVP_PKEY_sign_init(ctx.0) }, || {
            operation("RSA signing failed.")
        })?;
        Self::signature_params(&ctx, padding, hash)?;
        let mut len = 0usize;
        // SAFETY: a null output asks for the maximum signature length.
        ok(
            unsafe { lc::EVP_PKEY_sign(ctx.0, ptr::null_mut(), &mut len, digest.as_ptr(), digest.len()) },
            || operation("RSA signing failed."),
        )?;
        let mut sig = vec![0u8; len];
        // SAFETY: `sig` has the `len` bytes EVP_PKEY_sign asked for; it
        // writes the actual length back.
        let ret = unsafe { lc::EVP_PKEY_sign(ctx.0, sig.as_mut_ptr(), &mut len, digest.as_ptr(), digest.len()) };
        ok(ret, || match padding {
            Padding::Pss { .. } => operation("RSA-PSS signing failed: the salt length is too long for this key."),
            Padding::Pkcs1 => operation("RSA signing failed: the key is too small for this hash."),
        })?;
        sig.truncate(len);
        Ok(sig)
    }

    /// Whether `sig` is a valid signature of `digest` under this public key.
    pub(crate) fn verify(&self, padding: Padding, hash: Hash, digest: &[u8], sig: &[u8]) -> Result<bool> {
        let ctx = self.ctx()?;
        // SAFETY: valid context.
        ok(unsafe { lc::EVP_PKEY_verify_init(ctx.0) }, || {
            operation("RSA verification failed.")
        })?;
        if Self::signature_params(&ctx, padding, hash).is_err() {
            // An impossible salt length verifies nothing.
            return Ok(false);
        }
        // SAFETY: both slices are valid for their lengths.
        let ret = unsafe { lc::EVP_PKEY_verify(ctx.0, sig.as_ptr(), sig.len(), digest.as_ptr(), digest.len()) };
        if ret != 1 {
            clear_errors();
        }
        Ok(ret == 1)
    }

    /// RSA-OAEP with `hash` for both the label hash and MGF1.
    pub(crate) fn oaep(&self, encrypt: bool, hash: Hash, label: &[u8], input: &[u8]) -> Result<Vec<u8>> {
        let md = md(hash)?;
        let ctx = self.ctx()?;
        let fail = || {
            if encrypt {
                operation("RSA-OAEP encryption failed: the message is too long for this key.")
            } else {
                operation(super::DECRYPT_FAILED)
            }
        };
        let setup = || operation("RSA-OAEP parameters were rejected.");
        // SAFETY: valid context and static digest.
        unsafe {
            let init = if encrypt {
                lc::EVP_PKEY_encrypt_init(ctx.0)
            } else {
                lc::EVP_PKEY_decrypt_init(ctx.0)
            };
            ok(init, setup)?;
            ok(
                lc::EVP_PKEY_CTX_set_rsa_padding(ctx.0, lc::RSA_PKCS1_OAEP_PADDING),
                setup,
            )?;
            ok(lc::EVP_PKEY_CTX_set_rsa_oaep_md(ctx.0, md), setup)?;
            ok(lc::EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.0, md), setup)?;
        }
        if !label.is_empty() {
            // SAFETY: OPENSSL_malloc returns `label.len()` writable bytes or
            // null.
            let copy = unsafe { lc::OPENSSL_malloc(label.len()) }.cast::<u8>();
            if copy.is_null() {
                return Err(operation("Out of memory."));
            }
            // SAFETY: `copy` has room for the label; the regions are
            // distinct. On success the context owns `copy`; on failure it is
            // still ours and freed here.
            unsafe {
                ptr::copy_nonoverlapping(label.as_ptr(), copy, label.len());
                if lc::EVP_PKEY_CTX_set0_rsa_oaep_label(ctx.0, copy, label.len()) != 1 {
                    lc::OPENSSL_free(copy.cast::<c_void>());
                    return Err(setup());
                }
            }
        }
        let run = |out: *mut u8, len: &mut usize| {
            // SAFETY: `out` is null (length query) or has `*len` bytes;
            // `input` is valid for its length.
            unsafe {
                if encrypt {
                    lc::EVP_PKEY_encrypt(ctx.0, out, len, input.as_ptr(), input.len())
                } else {
                    lc::EVP_PKEY_decrypt(ctx.0, out, len, input.as_ptr(), input.len())
                }
            }
        };
        let mut len = 0usize;
        ok(run(ptr::null_mut(), &mut len), fail)?;
        let mut out = vec![0u8; len];
        ok(run(out.as_mut_ptr(), &mut len), fail)?;
        out.truncate(len);
        Ok(out)
    }
}

/// Bounds a JWK's `n` and `e` before they become numbers.
fn check_part_sizes(n: &[u8], e: &[u8]) -> Result<()> {
    let significant = |b: &[u8]| b.iter().position(|&x| x != 0).map_or(0, |i| b.len() - i);
    if significant(n) * 8 > MAX_MODULUS_BITS as usize || n.len() > MAX_MODULUS_BITS as usize / 8 + 1 {
        return Err(data(format!(
            "RSA keys must have a modulus of {MIN_MODULUS_BITS} to {MAX_MODULUS_BITS} bits."
        )));
    }
    if significant(e) * 8 > 40 || e.len() > 8 {
        return Err(data(format!(
            "RSA public exponents of more than {MAX_EXPONENT_BITS} bits are not supported."
        )));
    }
    Ok(())
}

/// The CRT members `[p, q, dp, dq, qi]` of a private key given only as
/// `n, e, d` (a JWK may leave them out). The primes come from NIST SP
/// 800-56B rev. 2, appendix C.2: a few multiplications, one gcd and one
/// square root, so the cost is bounded by the (already checked) sizes. The
/// key is the script's own, so these variable-time steps leak nothing it
/// does not know; every later private operation runs in AWS-LC.
pub(crate) fn recover_crt(n: &[u8], e: &[u8], d: &[u8]) -> Result<[Vec<u8>; 5]> {
    use num_bigint::BigUint;
    use num_integer::Integer;
    check_part_sizes(n, e)?;
    if d.len() > n.len() {
        return Err(data("Invalid RSA key: \"d\" is longer than the modulus."));
    }
    let bad = || data("Invalid JWK: the RSA primes cannot be recovered from \"n\", \"e\" and \"d\".");
    let (n, e, d) = (
        BigUint::from_bytes_be(n),
        BigUint::from_bytes_be(e),
        BigUint::from_bytes_be(d),
    );
    let one = BigUint::from(1u32);
    // The method needs 2^16 < e < 2^256.
    if e <= BigUint::from(1u32 << 16) || n.bits() < 2 || d.bits() == 0 {
        return Err(bad());
    }
    let de1 = &d * &e - &one;
    let a = &de1 * (&n - &one).gcd(&de1);
    let (m, r) = a.div_rem(&n);
    let m1 = &m + &one;
    let (b, rem) = (&n - &r).div_rem(&m1);
    if rem.bits() != 0 {
        return Err(bad());
    }
    let b = b + &one;
    let four_n = &n * BigUint::from(4u32);
    let b2 = &b * &b;
    if b2 <= four_n {
        return Err(bad());
    }
    let disc = b2 - four_n;
    let y = disc.sqrt();
    if &y * &y != disc || y > b {
        return Err(bad());
    }
    let p: BigUint = (&b + &y) >> 1;
    let q: BigUint = (&b - &y) >> 1;
    if q <= one || &p * &q != n {
        return Err(bad());
    }
    let dp = &d % (&p - &one);
    let dq = &d % (&q - &one);
    let qi = q.modinv(&p).ok_or_else(bad)?;
    Ok([p, q, dp, dq, qi].map(|x| x.to_bytes_be()))
}

/// The CRT exponents and coefficient `[dp, dq, qi]` for known primes.
pub(crate) fn crt_params(n: &[u8], d: &[u8], p: &[u8], q: &[u8]) -> Result<[Vec<u8>; 3]> {
    use num_bigint::BigUint;
    if [d, p, q].iter().any(|x| x.len() > n.len()) || n.len() > MAX_MODULUS_BITS as usize / 8 + 1 {
        return Err(data("Invalid RSA key: a private member is longer than the modulus."));
    }
    let bad = || data("Invalid RSA key: the members are not consistent.");
    let (d, p, q) = (
        BigUint::from_bytes_be(d),
        BigUint::from_bytes_be(p),
        BigUint::from_bytes_be(q),
    );
    let one = BigUint::from(1u32);
    if p <= one || q <= one {
        return Err(bad());
    }
    let dp = &d % (&p - &one);
    let dq = &d % (&q - &one);
    let qi = q.modinv(&p).ok_or_else(bad)?;
    Ok([dp, dq, qi].map(|x| x.to_bytes_be()))
}

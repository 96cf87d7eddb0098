//! The native half of `crypto.subtle`: stateless operations over key bytes.
//!
//! 41_subtle.js keeps each CryptoKey's material in a private slot (raw
//! bytes for secret keys, PKCS#8 DER for private keys, SPKI DER for public
//! keys), normalises the algorithm dictionaries and checks usages; these
//! functions only compute. RSA runs in AWS-LC (`crypto/rsa.rs`, constant
//! time); every other primitive comes from a RustCrypto crate.
//! Failures are [`CryptoError`]s, which the ops throw as errors named after
//! the DOMException the JS side turns them into.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyInit, KeyIvInit, StreamCipher};
use aes_gcm::aead::consts::{U12, U13, U14, U15, U16};
use aes_gcm::aead::{Aead, Payload};
use ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use elliptic_curve::sec1::ToEncodedPoint;
use pkcs8::der::asn1::{BitStringRef, OctetStringRef};
use pkcs8::der::{Decode, Encode};
use pkcs8::{DecodePrivateKey, EncodePrivateKey, ObjectIdentifier, PrivateKeyInfo};
use rand_core::OsRng;
use sha2::Digest;
use spki::{AlgorithmIdentifierRef, DecodePublicKey, EncodePublicKey, SubjectPublicKeyInfoRef};

use crate::jsg::ops::{bytes_arg, uint8array};

pub(crate) mod random;
mod rsa;
use rsa::{Padding, RsaKey};

/// The most PBKDF2 iterations one call may ask for (workerd's limit, with
/// its message): the derivation is one uninterruptible native call.
pub(crate) const MAX_PBKDF2_ITERATIONS: u64 = 100_000;

/// Why an operation failed; the variant names the DOMException JS throws.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CryptoError {
    /// The algorithm or one of its parameters is not implemented.
    #[error("{0}")]
    NotSupported(String),
    /// Key material or input data is malformed.
    #[error("{0}")]
    Data(String),
    /// The operation itself failed (bad ciphertext, length out of range...).
    #[error("{0}")]
    Operation(String),
}

impl CryptoError {
    fn dom_name(&self) -> &'static str {
        match self {
            CryptoError::NotSupported(_) => "NotSupportedError",
            CryptoError::Data(_) => "DataError",
            CryptoError::Operation(_) => "OperationError",
        }
    }
}

type Result<T> = std::result::Result<T, CryptoError>;

fn data_err(what: impl std::fmt::Display) -> CryptoError {
    CryptoError::Data(what.to_string())
}

const DECRYPT_FAILED: &str = "Decryption failed. This could be due to a ciphertext authentication failure, bad \
                              padding, incorrect CryptoKey, or another algorithm-specific reason.";

/// A digest algorithm as WebCrypto names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
    Md5,
}

impl Hash {
    pub(crate) fn parse(name: &str) -> Result<Hash> {
        Ok(match name {
            "SHA-1" => Hash::Sha1,
            "SHA-256" => Hash::Sha256,
            "SHA-384" => Hash::Sha384,
            "SHA-512" => Hash::Sha512,
            "MD5" => Hash::Md5,
            _ => {
                return Err(CryptoError::NotSupported(format!(
                    "Unrecognized hash algorithm \"{name}\"."
                )));
            }
        })
    }
}

/// Runs `$body` with `$D` bound to the SHA digest type `$h` names (MD5 is
/// only for `digest`).
macro_rules! with_sha {
    ($h:expr, $D:ident => $body:expr) => {
        match $h {
            Hash::Sha1 => {
                type $D = sha1::Sha1;
                $body
            }
            Hash::Sha256 => {
                type $D = sha2::Sha256;
                $body
            }
            Hash::Sha384 => {
                type $D = sha2::Sha384;
                $body
            }
            Hash::Sha512 => {
                type $D = sha2::Sha512;
                $body
            }
            Hash::Md5 => {
                return Err(CryptoError::NotSupported(
                    "MD5 is only supported by crypto.subtle.digest().".into(),
                ))
            }
        }
    };
}

pub(crate) fn digest(hash: Hash, data: &[u8]) -> Result<Vec<u8>> {
    if hash == Hash::Md5 {
        return Ok(md5::Md5::digest(data).to_vec());
    }
    with_sha!(hash, D => Ok(D::digest(data).to_vec()))
}

/// A running hash for `crypto.DigestStream`.
pub(crate) fn hasher(hash: Hash) -> Box<dyn sha2::digest::DynDigest> {
    match hash {
        Hash::Sha1 => Box::new(sha1::Sha1::new()),
        Hash::Sha256 => Box::new(sha2::Sha256::new()),
        Hash::Sha384 => Box::new(sha2::Sha384::new()),
        Hash::Sha512 => Box::new(sha2::Sha512::new()),
        Hash::Md5 => Box::new(md5::Md5::new()),
    }
}

pub(crate) fn hmac(hash: Hash, key: &[u8], data: &[u8]) -> Result<Vec<u8>> {
    use hmac::Mac;
    with_sha!(hash, D => {
        let mut mac = <hmac::Hmac<D> as Mac>::new_from_slice(key).map_err(data_err)?;
        mac.update(data);
        Ok(mac.finalize().into_bytes().to_vec())
    })
}

pub(crate) fn hkdf(hash: Hash, ikm: &[u8], salt: &[u8], info: &[u8], len: usize) -> Result<Vec<u8>> {
    with_sha!(hash, D => {
        if len > 255 * <D as Digest>::output_size() {
            return Err(CryptoError::Operation("HKDF derivation failed: the requested length is too long.".into()));
        }
        let mut out = vec![0; len];
        hkdf::Hkdf::<D>::new(Some(salt), ikm)
            .expand(info, &mut out)
            .map_err(|_| CryptoError::Operation("HKDF derivation failed: the requested length is too long.".into()))?;
        Ok(out)
    })
}

/// PBKDF2-HMAC; the output is capped like HKDF's (255 hash blocks) because
/// it runs in one uninterruptible call.
pub(crate) fn pbkdf2(hash: Hash, password: &[u8], salt: &[u8], iterations: u64, len: usize) -> Result<Vec<u8>> {
    if iterations == 0 {
        return Err(CryptoError::Operation(
            "PBKDF2 requires a positive iteration count (requested 0).".into(),
        ));
    }
    if iterations > MAX_PBKDF2_ITERATIONS {
        return Err(CryptoError::NotSupported(format!(
            "Pbkdf2 failed: iteration counts above {MAX_PBKDF2_ITERATIONS} are not supported (requested {iterations})."
        )));
    }
    // In range: at most 100000.
    let iterations = iterations as u32;
    with_sha!(hash, D => {
        if len > 255 * <D as Digest>::output_size() {
            return Err(CryptoError::Operation("PBKDF2 derivation failed: the requested length is too long.".into()));
        }
        let mut out = vec![0; len];
        pbkdf2::pbkdf2_hmac::<D>(password, salt, iterations, &mut out);
        Ok(out)
    })
}

/// Runs `$body` with `$A` bound to the AES block cipher for a key of `$len`
/// bytes.
macro_rules! with_aes {
    ($len:expr, $A:ident => $body:expr) => {
        match $len {
            16 => {
                type $A = aes::Aes128;
                $body
            }
            24 => {
                type $A = aes::Aes192;
                $body
            }
            32 => {
                type $A = aes::Aes256;
                $body
            }
            n => return Err(data_err(format!("Invalid AES key length {} bits.", n * 8))),
        }
    };
}

fn gcm<A, N, T>(encrypt: bool, key: &[u8], iv: &[u8], data: &[u8], aad: &[u8]) -> Result<Vec<u8>>
where
    A: aes::cipher::BlockCipher + aes::cipher::BlockSizeUser<BlockSize = aes::cipher::consts::U16>,
    A: aes::cipher::BlockEncrypt + KeyInit,
    N: aes::cipher::ArrayLength<u8>,
    T: aes_gcm::TagSize,
{
    let cipher = aes_gcm::AesGcm::<A, N, T>::new_from_slice(key).map_err(data_err)?;
    let nonce = aes_gcm::Nonce::<N>::from_slice(iv);
    let payload = Payload { msg: data, aad };
    if encrypt {
        cipher
            .encrypt(nonce, payload)
            .map_err(|_| CryptoError::Operation("AES-GCM encryption failed.".into()))
    } else {
        cipher
            .decrypt(nonce, payload)
            .map_err(|_| CryptoError::Operation(DECRYPT_FAILED.into()))
    }
}

/// AES-CTR over `data` with a `length`-bit counter in the low bits of the
/// 16-byte `counter` block, which wraps to zero as WebCrypto specifies.
fn aes_ctr<A>(key: &[u8], counter: &[u8], length: u32, data: &[u8]) -> Result<Vec<u8>>
where
    A: aes::cipher::BlockCipher + aes::cipher::BlockSizeUser<BlockSize = aes::cipher::consts::U16>,
    A: aes::cipher::BlockEncrypt + KeyInit + Clone,
{
    let block: [u8; 16] = counter
        .try_into()
        .map_err(|_| CryptoError::Operation("AES-CTR counter must be 16 bytes.".into()))?;
    if !(1..=128).contains(&length) {
        return Err(CryptoError::Operation(
            "AES-CTR length must be between 1 and 128.".into(),
        ));
    }
    let start = u128::from_be_bytes(block);
    let blocks = data.len().div_ceil(16) as u128;
    let mut out = data.to_vec();
    if length == 128 {
        let mut c = ctr::Ctr128BE::<A>::new_from_slices(key, &block).map_err(data_err)?;
        c.apply_keystream(&mut out);
        return Ok(out);
    }
    let mask = (1u128 << length) - 1;
    if blocks > mask + 1 {
        return Err(CryptoError::Operation(
            "The AES-CTR counter would repeat for this much data.".into(),
        ));
    }
    // Blocks left before the counter bits wrap; after that they restart at 0.
    let before_wrap = (mask - (start & mask) + 1).min(blocks) as usize;
    let (head, tail) = out.split_at_mut((before_wrap * 16).min(data.len()));
    let mut c = ctr::Ctr128BE::<A>::new_from_slices(key, &block).map_err(data_err)?;
    c.apply_keystream(head);
    if !tail.is_empty() {
        let wrapped = (start & !mask).to_be_bytes();
        let mut c = ctr::Ctr128BE::<A>::new_from_slices(key, &wrapped).map_err(data_err)?;
        c.apply_keystream(tail);
    }
    Ok(out)
}

/// AES in `mode` ("AES-GCM", "AES-CBC", "AES-CTR", "AES-KW"). `iv` is the
/// IV or counter; `n` the GCM tag length or the CTR counter length, in bits.
pub(crate) fn aes(
    mode: &str,
    encrypt: bool,
    key: &[u8],
    data: &[u8],
    iv: &[u8],
    n: u32,
    aad: &[u8],
) -> Result<Vec<u8>> {
    match mode {
        "AES-GCM" => {
            macro_rules! gcm_tags {
                ($A:ty, $N:ty) => {
                    match n {
                        96 => gcm::<$A, $N, U12>(encrypt, key, iv, data, aad),
                        104 => gcm::<$A, $N, U13>(encrypt, key, iv, data, aad),
                        112 => gcm::<$A, $N, U14>(encrypt, key, iv, data, aad),
                        120 => gcm::<$A, $N, U15>(encrypt, key, iv, data, aad),
                        128 => gcm::<$A, $N, U16>(encrypt, key, iv, data, aad),
                        32 | 64 => Err(CryptoError::NotSupported(format!(
                            "AES-GCM tag length {n} is not supported."
                        ))),
                        _ => Err(CryptoError::Operation(format!(
                            "Invalid AES-GCM tag length {n}."
                        ))),
                    }
                };
            }
            with_aes!(key.len(), A => match iv.len() {
                12 => gcm_tags!(A, U12),
                16 => gcm_tags!(A, U16),
                len => Err(CryptoError::NotSupported(format!(
                    "AES-GCM IVs of {len} bytes are not supported; use 12 (or 16) bytes."
                ))),
            })
        }
        "AES-CBC" => {
            if iv.len() != 16 {
                return Err(CryptoError::Operation(format!(
                    "AES-CBC IV must be 16 bytes long (provided {}).",
                    iv.len()
                )));
            }
            with_aes!(key.len(), A => {
                if encrypt {
                    let c = cbc::Encryptor::<A>::new_from_slices(key, iv).map_err(data_err)?;
                    Ok(c.encrypt_padded_vec_mut::<Pkcs7>(data))
                } else {
                    let c = cbc::Decryptor::<A>::new_from_slices(key, iv).map_err(data_err)?;
                    c.decrypt_padded_vec_mut::<Pkcs7>(data)
                        .map_err(|_| CryptoError::Operation(DECRYPT_FAILED.into()))
                }
            })
        }
        "AES-CTR" => with_aes!(key.len(), A => aes_ctr::<A>(key, iv, n, data)),
        "AES-KW" => {
            let bad = |_| {
                CryptoError::Operation(if encrypt {
                    "AES-KW can only wrap data whose length is a multiple of 8 bytes, at least 16.".into()
                } else {
                    DECRYPT_FAILED.into()
                })
            };
            with_aes!(key.len(), A => {
                let kek = aes_kw::Kek::<A>::new(key.into());
                if encrypt {
                    kek.wrap_vec(data)
                } else {
                    kek.unwrap_vec(data)
                }
                .map_err(bad)
            })
        }
        _ => Err(CryptoError::NotSupported(format!(
            "Unrecognized algorithm name \"{mode}\"."
        ))),
    }
}

// ---- asymmetric keys ---------------------------------------------------------

/// A key pair as `(PKCS#8 DER, SPKI DER)`.
pub(crate) type KeyPair = (Vec<u8>, Vec<u8>);

/// An imported asymmetric key, re-encoded canonically.
pub(crate) struct Imported {
    /// Whether `der` is PKCS#8 (a private key) rather than SPKI.
    pub private: bool,
    pub der: Vec<u8>,
    /// RSA: the modulus length in bits and the public exponent.
    pub rsa: Option<(u32, Vec<u8>)>,
}

/// Runs `$body` with `$m` bound to the crate of the named NIST curve and
/// `$C` to its curve type.
macro_rules! with_curve {
    ($curve:expr, $m:ident, $C:ident => $body:expr) => {
        match $curve {
            "P-256" => {
                use p256 as $m;
                #[allow(dead_code)]
                type $C = p256::NistP256;
                $body
            }
            "P-384" => {
                use p384 as $m;
                #[allow(dead_code)]
                type $C = p384::NistP384;
                $body
            }
            "P-521" => {
                use p521 as $m;
                #[allow(dead_code)]
                type $C = p521::NistP521;
                $body
            }
            other => {
                return Err(CryptoError::NotSupported(format!(
                    "Unrecognized or unimplemented EC curve \"{other}\" requested."
                )))
            }
        }
    };
}

fn der_err(e: impl std::fmt::Display) -> CryptoError {
    CryptoError::Data(format!("Invalid key data: {e}"))
}

fn pkcs8_bytes(doc: pkcs8::SecretDocument) -> Vec<u8> {
    doc.as_bytes().to_vec()
}

fn spki_bytes(doc: spki::Document) -> Vec<u8> {
    doc.as_bytes().to_vec()
}

const ED25519_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const X25519_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.110");

fn okp_oid(curve: &str) -> Result<ObjectIdentifier> {
    match curve {
        "Ed25519" => Ok(ED25519_OID),
        "X25519" => Ok(X25519_OID),
        _ => Err(CryptoError::NotSupported(format!("Unrecognized curve \"{curve}\"."))),
    }
}

/// PKCS#8 (RFC 8410) for an Ed25519/X25519 private key.
fn okp_pkcs8(oid: ObjectIdentifier, seed: &[u8; 32]) -> Result<Vec<u8>> {
    let inner = OctetStringRef::new(seed).and_then(|o| o.to_der()).map_err(der_err)?;
    let info = PrivateKeyInfo {
        algorithm: AlgorithmIdentifierRef { oid, parameters: None },
        private_key: &inner,
        public_key: None,
    };
    info.to_der().map_err(der_err)
}

fn okp_from_pkcs8(oid: ObjectIdentifier, der: &[u8]) -> Result<[u8; 32]> {
    let info = PrivateKeyInfo::from_der(der).map_err(der_err)?;
    if info.algorithm.oid != oid {
        return Err(data_err("Invalid key data: the key is for a different algorithm."));
    }
    let inner = OctetStringRef::from_der(info.private_key).map_err(der_err)?;
    inner
        .as_bytes()
        .try_into()
        .map_err(|_| data_err("Invalid key data: the private key must be 32 bytes."))
}

fn okp_spki(oid: ObjectIdentifier, public: &[u8; 32]) -> Result<Vec<u8>> {
    let info = SubjectPublicKeyInfoRef {
        algorithm: AlgorithmIdentifierRef { oid, parameters: None },
        subject_public_key: BitStringRef::from_bytes(public).map_err(der_err)?,
    };
    info.to_der().map_err(der_err)
}

fn okp_from_spki(oid: ObjectIdentifier, der: &[u8]) -> Result<[u8; 32]> {
    let info = SubjectPublicKeyInfoRef::from_der(der).map_err(der_err)?;
    if info.algorithm.oid != oid {
        return Err(data_err("Invalid key data: the key is for a different algorithm."));
    }
    info.subject_public_key
        .as_bytes()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| data_err("Invalid key data: the public key must be 32 bytes."))
}

/// The public key of an Ed25519/X25519 seed.
fn okp_public(curve: &str, seed: &[u8; 32]) -> Result<[u8; 32]> {
    Ok(match curve {
        "Ed25519" => ed25519_dalek::SigningKey::from_bytes(seed).verifying_key().to_bytes(),
        "X25519" => x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(*seed)).to_bytes(),
        _ => return Err(CryptoError::NotSupported(format!("Unrecognized curve \"{curve}\"."))),
    })
}

fn okp_check_public(curve: &str, public: &[u8; 32]) -> Result<()> {
    if curve == "Ed25519" {
        ed25519_dalek::VerifyingKey::from_bytes(public).map_err(|_| data_err("Invalid Ed25519 public key."))?;
    }
    Ok(())
}

/// Generates a key pair: `kind` "EC" (`param` the curve), "OKP" (`param`
/// "Ed25519" or "X25519") or "RSA" (`bits`, `exponent` big-endian).
pub(crate) fn generate_key_pair(kind: &str, param: &str, bits: u32, exponent: &[u8]) -> Result<KeyPair> {
    match kind {
        "EC" => with_curve!(param, m, C => {
            let secret = m::SecretKey::random(&mut OsRng);
            let private = secret.to_pkcs8_der().map_err(der_err)?;
            let public = secret.public_key().to_public_key_der().map_err(der_err)?;
            Ok((pkcs8_bytes(private), spki_bytes(public)))
        }),
        "OKP" => {
            let oid = okp_oid(param)?;
            let mut seed = [0u8; 32];
            rand_core::RngCore::fill_bytes(&mut OsRng, &mut seed);
            let public = okp_public(param, &seed)?;
            Ok((okp_pkcs8(oid, &seed)?, okp_spki(oid, &public)?))
        }
        "RSA" => {
            // Leading zero bytes are allowed; anything above 32 bits is not 3 or 65537.
            let start = exponent.iter().position(|&b| b != 0).unwrap_or(exponent.len());
            let e = match &exponent[start..] {
                b if b.len() <= 4 => b.iter().fold(0u32, |acc, &x| (acc << 8) | u32::from(x)),
                _ => {
                    return Err(CryptoError::Operation(
                        "The \"publicExponent\" must be either 3 or 65537, but got a number larger than 2^32.".into(),
                    ));
                }
            };
            let key = RsaKey::generate(bits, e)?;
            Ok((key.to_pkcs8()?, key.to_spki()?))
        }
        _ => Err(CryptoError::NotSupported(format!("Unrecognized key type \"{kind}\"."))),
    }
}

fn part(parts: &[Option<Vec<u8>>], i: usize, name: &str) -> Result<Vec<u8>> {
    parts
        .get(i)
        .cloned()
        .flatten()
        .ok_or_else(|| data_err(format!("Invalid JWK: missing \"{name}\".")))
}

/// Imports an asymmetric key. `data` is the DER or raw bytes; for "jwk",
/// `parts` holds the decoded members: EC `[x, y, d]`, OKP `[x, d]`, RSA
/// `[n, e, d, p, q, dp, dq, qi]` (absent ones `None`).
pub(crate) fn import_key(
    kind: &str,
    curve: &str,
    format: &str,
    data: &[u8],
    parts: &[Option<Vec<u8>>],
) -> Result<Imported> {
    let public = |der: Vec<u8>| Imported {
        private: false,
        der,
        rsa: None,
    };
    let private = |der: Vec<u8>| Imported {
        private: true,
        der,
        rsa: None,
    };
    match kind {
        "EC" => with_curve!(curve, m, C => {
            let from_public = |pk: m::PublicKey| -> Result<Imported> {
                Ok(public(spki_bytes(pk.to_public_key_der().map_err(der_err)?)))
            };
            let from_secret = |sk: m::SecretKey| -> Result<Imported> {
                Ok(private(pkcs8_bytes(sk.to_pkcs8_der().map_err(der_err)?)))
            };
            match format {
                "raw" => from_public(m::PublicKey::from_sec1_bytes(data).map_err(|_| data_err("Invalid EC public key."))?),
                "spki" => from_public(m::PublicKey::from_public_key_der(data).map_err(der_err)?),
                "pkcs8" => from_secret(m::SecretKey::from_pkcs8_der(data).map_err(der_err)?),
                "jwk" => {
                    let (x, y) = (part(parts, 0, "x")?, part(parts, 1, "y")?);
                    let size = <m::FieldBytes>::default().len();
                    if x.len() != size || y.len() != size {
                        return Err(data_err("Invalid JWK: \"x\" and \"y\" have the wrong length for the curve."));
                    }
                    let mut point = vec![4u8];
                    point.extend_from_slice(&x);
                    point.extend_from_slice(&y);
                    let pk = m::PublicKey::from_sec1_bytes(&point).map_err(|_| data_err("Invalid JWK: the point is not on the curve."))?;
                    match parts.get(2).cloned().flatten() {
                        None => from_public(pk),
                        Some(d) => {
                            let sk = m::SecretKey::from_slice(&d).map_err(|_| data_err("Invalid JWK: bad \"d\"."))?;
                            if sk.public_key() != pk {
                                return Err(data_err("Invalid JWK: \"d\" does not match \"x\" and \"y\"."));
                            }
                            from_secret(sk)
                        }
                    }
                }
                _ => Err(CryptoError::NotSupported(format!("Unrecognized key import format \"{format}\"."))),
            }
        }),
        "OKP" => {
            let oid = okp_oid(curve)?;
            match format {
                "raw" => {
                    let pk: [u8; 32] = data.try_into().map_err(|_| {
                        data_err(format!(
                            "{curve} raw keys must be exactly 32-bytes (provided {}).",
                            data.len()
                        ))
                    })?;
                    okp_check_public(curve, &pk)?;
                    Ok(public(okp_spki(oid, &pk)?))
                }
                "spki" => {
                    let pk = okp_from_spki(oid, data)?;
                    okp_check_public(curve, &pk)?;
                    Ok(public(okp_spki(oid, &pk)?))
                }
                "pkcs8" => Ok(private(okp_pkcs8(oid, &okp_from_pkcs8(oid, data)?)?)),
                "jwk" => {
                    let x: [u8; 32] = part(parts, 0, "x")?
                        .try_into()
                        .map_err(|_| data_err("Invalid JWK: \"x\" must be 32 bytes."))?;
                    okp_check_public(curve, &x)?;
                    match parts.get(1).cloned().flatten() {
                        None => Ok(public(okp_spki(oid, &x)?)),
                        Some(d) => {
                            let d: [u8; 32] = d
                                .try_into()
                                .map_err(|_| data_err("Invalid JWK: \"d\" must be 32 bytes."))?;
                            if okp_public(curve, &d)? != x {
                                return Err(data_err("Invalid JWK: \"d\" does not match \"x\"."));
                            }
                            Ok(private(okp_pkcs8(oid, &d)?))
                        }
                    }
                }
                _ => Err(CryptoError::NotSupported(format!(
                    "Unrecognized key import format \"{format}\"."
                ))),
            }
        }
        "RSA" => {
            let key = match format {
                "spki" => RsaKey::from_spki(data)?,
                "pkcs8" => RsaKey::from_pkcs8(data)?,
                "jwk" => rsa_from_jwk(parts)?,
                _ => {
                    return Err(CryptoError::NotSupported(format!(
                        "Unrecognized key import format \"{format}\"."
                    )));
                }
            };
            let private = key.is_private();
            Ok(Imported {
                private,
                der: if private { key.to_pkcs8()? } else { key.to_spki()? },
                rsa: Some((key.modulus_bits(), key.public_exponent())),
            })
        }
        _ => Err(CryptoError::NotSupported(format!("Unrecognized key type \"{kind}\"."))),
    }
}

/// An RSA key from a JWK's members `[n, e, d, p, q, dp, dq, qi]`. JWA lets
/// a private key leave out the CRT members: they are recovered from `d`.
fn rsa_from_jwk(parts: &[Option<Vec<u8>>]) -> Result<RsaKey> {
    let (n, e) = (part(parts, 0, "n")?, part(parts, 1, "e")?);
    let get = |i: usize| parts.get(i).cloned().flatten();
    let Some(d) = get(2) else {
        return RsaKey::from_public_parts(&n, &e);
    };
    let [p, q, dp, dq, qi] = match (get(3), get(4)) {
        (Some(p), Some(q)) => match (get(5), get(6), get(7)) {
            (Some(dp), Some(dq), Some(qi)) => [p, q, dp, dq, qi],
            _ => {
                let [dp, dq, qi] = rsa::crt_params(&n, &d, &p, &q)?;
                [p, q, dp, dq, qi]
            }
        },
        (None, None) => rsa::recover_crt(&n, &e, &d)?,
        _ => {
            return Err(data_err("Invalid JWK: \"p\" and \"q\" must both be present or absent."));
        }
    };
    RsaKey::from_private_parts(&n, &e, [&d, &p, &q, &dp, &dq, &qi])
}

/// Exports a stored key as "raw" bytes (a single-element list) or as the
/// JWK members `import_key` takes (`None` for absent private members).
pub(crate) fn export_key(
    kind: &str,
    curve: &str,
    format: &str,
    private: bool,
    der: &[u8],
) -> Result<Vec<Option<Vec<u8>>>> {
    match (kind, format) {
        ("EC", "raw") if !private => with_curve!(curve, m, C => {
            let pk = m::PublicKey::from_public_key_der(der).map_err(der_err)?;
            Ok(vec![Some(pk.to_encoded_point(false).as_bytes().to_vec())])
        }),
        ("EC", "jwk") => with_curve!(curve, m, C => {
            let (pk, d) = if private {
                let sk = m::SecretKey::from_pkcs8_der(der).map_err(der_err)?;
                (sk.public_key(), Some(sk.to_bytes().to_vec()))
            } else {
                (m::PublicKey::from_public_key_der(der).map_err(der_err)?, None)
            };
            let point = pk.to_encoded_point(false);
            let x = point.x().map(|x| x.to_vec());
            let y = point.y().map(|y| y.to_vec());
            Ok(vec![x, y, d])
        }),
        ("OKP", "raw") if !private => Ok(vec![Some(okp_from_spki(okp_oid(curve)?, der)?.to_vec())]),
        ("OKP", "jwk") => {
            let oid = okp_oid(curve)?;
            if private {
                let seed = okp_from_pkcs8(oid, der)?;
                Ok(vec![Some(okp_public(curve, &seed)?.to_vec()), Some(seed.to_vec())])
            } else {
                Ok(vec![Some(okp_from_spki(oid, der)?.to_vec()), None])
            }
        }
        ("RSA", "jwk") => {
            let key = if private {
                RsaKey::from_pkcs8(der)?
            } else {
                RsaKey::from_spki(der)?
            };
            let parts = key.parts()?;
            let mut out = vec![Some(parts.n), Some(parts.e)];
            if let Some(private) = parts.private {
                out.extend(private.into_iter().map(Some));
            }
            Ok(out)
        }
        _ => Err(CryptoError::NotSupported(format!(
            "Unsupported export format \"{format}\" for this key."
        ))),
    }
}

/// The digest ECDSA signs, left-padded to the curve's field size: any hash
/// goes with any curve in WebCrypto, but the `ecdsa` crate refuses digests
/// shorter than half the field (SHA-256 on P-521). Padding keeps the same
/// integer, so signatures are as FIPS 186 defines them.
fn ecdsa_prehash(curve: &str, hash: Hash, data: &[u8]) -> Result<Vec<u8>> {
    let size = match curve {
        "P-256" => 32,
        "P-384" => 48,
        _ => 66,
    };
    let h = digest(hash, data)?;
    if h.len() >= size {
        return Ok(h);
    }
    let mut padded = vec![0; size - h.len()];
    padded.extend_from_slice(&h);
    Ok(padded)
}

/// Signs `data`: `alg` is "ECDSA", "Ed25519", "RSASSA-PKCS1-v1_5" or
/// "RSA-PSS"; `der` the PKCS#8 key; `salt` the PSS salt length.
pub(crate) fn sign(
    alg: &str,
    curve: &str,
    hash: Option<Hash>,
    salt: usize,
    der: &[u8],
    data: &[u8],
) -> Result<Vec<u8>> {
    let need_hash = || hash.ok_or_else(|| CryptoError::NotSupported("A hash algorithm is required.".into()));
    match alg {
        "ECDSA" => {
            let prehash = ecdsa_prehash(curve, need_hash()?, data)?;
            // P-521's signer is a newtype (its curve has no default digest).
            macro_rules! ecdsa_sign {
                ($m:ident) => {{
                    let sk = $m::SecretKey::from_pkcs8_der(der).map_err(der_err)?;
                    let signer = $m::ecdsa::SigningKey::from(ecdsa::SigningKey::from(sk));
                    let sig: $m::ecdsa::Signature = signer
                        .sign_prehash(&prehash)
                        .map_err(|e| CryptoError::Operation(format!("ECDSA signing failed: {e}")))?;
                    Ok(sig.to_bytes().to_vec())
                }};
            }
            match curve {
                "P-256" => ecdsa_sign!(p256),
                "P-384" => ecdsa_sign!(p384),
                "P-521" => ecdsa_sign!(p521),
                other => Err(CryptoError::NotSupported(format!(
                    "Unrecognized or unimplemented EC curve \"{other}\" requested."
                ))),
            }
        }
        "Ed25519" => {
            use ed25519_dalek::Signer;
            let seed = okp_from_pkcs8(ED25519_OID, der)?;
            Ok(ed25519_dalek::SigningKey::from_bytes(&seed)
                .sign(data)
                .to_bytes()
                .to_vec())
        }
        "RSASSA-PKCS1-v1_5" | "RSA-PSS" => {
            let h = need_hash()?;
            let hashed = digest(h, data)?;
            RsaKey::from_pkcs8(der)?.sign(rsa_padding(alg, salt), h, &hashed)
        }
        _ => Err(CryptoError::NotSupported(format!(
            "Unrecognized algorithm name \"{alg}\"."
        ))),
    }
}

/// Verifies `sig` over `data` with the SPKI key `der`; a malformed
/// signature is simply not valid.
pub(crate) fn verify(
    alg: &str,
    curve: &str,
    hash: Option<Hash>,
    salt: usize,
    der: &[u8],
    sig: &[u8],
    data: &[u8],
) -> Result<bool> {
    let need_hash = || hash.ok_or_else(|| CryptoError::NotSupported("A hash algorithm is required.".into()));
    match alg {
        "ECDSA" => {
            let prehash = ecdsa_prehash(curve, need_hash()?, data)?;
            with_curve!(curve, m, C => {
                let pk = m::PublicKey::from_public_key_der(der).map_err(der_err)?;
                let verifier = ecdsa::VerifyingKey::<C>::from(pk);
                let Ok(sig) = ecdsa::Signature::<C>::from_slice(sig) else {
                    return Ok(false);
                };
                Ok(verifier.verify_prehash(&prehash, &sig).is_ok())
            })
        }
        "Ed25519" => {
            let public = okp_from_spki(ED25519_OID, der)?;
            let vk = ed25519_dalek::VerifyingKey::from_bytes(&public)
                .map_err(|_| data_err("Invalid Ed25519 public key."))?;
            let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
                return Ok(false);
            };
            Ok(vk.verify_strict(data, &sig).is_ok())
        }
        "RSASSA-PKCS1-v1_5" | "RSA-PSS" => {
            let h = need_hash()?;
            let hashed = digest(h, data)?;
            RsaKey::from_spki(der)?.verify(rsa_padding(alg, salt), h, &hashed, sig)
        }
        _ => Err(CryptoError::NotSupported(format!(
            "Unrecognized algorithm name \"{alg}\"."
        ))),
    }
}

fn rsa_padding(alg: &str, salt: usize) -> Padding {
    if alg == "RSA-PSS" {
        Padding::Pss { salt }
    } else {
        Padding::Pkcs1
    }
}

/// RSA-OAEP with `hash` for both OAEP digests; `der` is SPKI to encrypt,
/// PKCS#8 to decrypt. Any label bytes are allowed.
pub(crate) fn rsa_oaep(encrypt: bool, hash: Hash, label: &[u8], der: &[u8], data: &[u8]) -> Result<Vec<u8>> {
    let key = if encrypt {
        RsaKey::from_spki(der)?
    } else {
        RsaKey::from_pkcs8(der)?
    };
    key.oaep(encrypt, hash, label, data)
}

/// ECDH / X25519: the shared secret of PKCS#8 `private` and SPKI `public`.
pub(crate) fn ecdh(kind: &str, curve: &str, private: &[u8], public: &[u8]) -> Result<Vec<u8>> {
    match kind {
        "EC" => with_curve!(curve, m, C => {
            let sk = m::SecretKey::from_pkcs8_der(private).map_err(der_err)?;
            let pk = m::PublicKey::from_public_key_der(public).map_err(der_err)?;
            let shared = elliptic_curve::ecdh::diffie_hellman(sk.to_nonzero_scalar(), pk.as_affine());
            Ok(shared.raw_secret_bytes().to_vec())
        }),
        "OKP" => {
            let seed = okp_from_pkcs8(X25519_OID, private)?;
            let pk = okp_from_spki(X25519_OID, public)?;
            let shared = x25519_dalek::StaticSecret::from(seed).diffie_hellman(&x25519_dalek::PublicKey::from(pk));
            if !shared.was_contributory() {
                return Err(CryptoError::Operation("The X25519 shared secret is all zeros.".into()));
            }
            Ok(shared.to_bytes().to_vec())
        }
        _ => Err(CryptoError::NotSupported(format!("Unrecognized key type \"{kind}\"."))),
    }
}

// ---- ops -----------------------------------------------------------------------

/// Throws `e` as an Error whose `name` is the DOMException name; 41_subtle.js
/// rethrows it as that DOMException.
fn throw(scope: &mut v8::PinScope<'_, '_>, e: CryptoError) {
    let msg = v8::String::new(scope, &e.to_string()).unwrap_or_else(|| v8::String::empty(scope));
    let exc = v8::Exception::error(scope, msg);
    if let Ok(obj) = v8::Local::<v8::Object>::try_from(exc)
        && let (Some(k), Some(v)) = (v8::String::new(scope, "name"), v8::String::new(scope, e.dom_name()))
    {
        obj.set(scope, k.into(), v.into());
    }
    scope.throw_exception(exc);
}

fn str_arg(scope: &mut v8::PinScope<'_, '_>, v: v8::Local<v8::Value>) -> String {
    v.to_rust_string_lossy(scope)
}

fn num_arg(scope: &mut v8::PinScope<'_, '_>, v: v8::Local<v8::Value>) -> u32 {
    v.uint32_value(scope).unwrap_or(0)
}

/// A count or length argument, taken exactly: `None` for anything but a
/// non-negative integral Number up to 2^53 (no wrapping, no rounding, no
/// user code run), so bounds checked on the result hold for what the
/// script asked.
fn count_arg(scope: &mut v8::PinScope<'_, '_>, v: v8::Local<v8::Value>) -> Option<u64> {
    if !v.is_number() {
        return None;
    }
    let f = v.number_value(scope)?;
    (f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f <= 9_007_199_254_740_992.0).then_some(f as u64)
}

/// A count that must fit in `u32`; out of range becomes `u32::MAX`, which
/// every caller refuses.
fn u32_count_arg(scope: &mut v8::PinScope<'_, '_>, v: v8::Local<v8::Value>) -> u32 {
    count_arg(scope, v)
        .and_then(|x| u32::try_from(x).ok())
        .unwrap_or(u32::MAX)
}

/// A byte length; out of range becomes `usize::MAX`, which every caller
/// refuses.
fn len_arg(scope: &mut v8::PinScope<'_, '_>, v: v8::Local<v8::Value>) -> usize {
    count_arg(scope, v)
        .and_then(|x| usize::try_from(x).ok())
        .unwrap_or(usize::MAX)
}

/// Bytes from an ArrayBuffer(View); anything else (undefined) is empty.
fn buf_arg(v: v8::Local<v8::Value>) -> Vec<u8> {
    bytes_arg(v).unwrap_or_default()
}

fn hash_arg(scope: &mut v8::PinScope<'_, '_>, v: v8::Local<v8::Value>) -> Result<Option<Hash>> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    Hash::parse(&str_arg(scope, v)).map(Some)
}

fn reply_bytes(scope: &mut v8::PinScope<'_, '_>, rv: &mut v8::ReturnValue, r: Result<Vec<u8>>) {
    match r {
        Ok(b) => rv.set(uint8array(scope, b).into()),
        Err(e) => throw(scope, e),
    }
}

fn required_hash(scope: &mut v8::PinScope<'_, '_>, v: v8::Local<v8::Value>) -> Result<Hash> {
    hash_arg(scope, v)?.ok_or_else(|| CryptoError::NotSupported("A hash algorithm is required.".into()))
}

/// `cryptoDigest(hash, data)` -> Uint8Array.
pub(crate) fn op_crypto_digest(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let r = required_hash(scope, args.get(0)).and_then(|h| digest(h, &buf_arg(args.get(1))));
    reply_bytes(scope, &mut rv, r);
}

fn isolate_state(scope: &v8::PinScope<'_, '_>) -> crate::io::context::SharedState {
    scope
        .get_slot::<crate::io::context::SharedState>()
        .expect("isolate state slot")
        .clone()
}

/// `cryptoDigestNew(hash)` -> the id of a running hash (a DigestStream's).
pub(crate) fn op_crypto_digest_new(
    scope: &mut v8::PinScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let hash = match required_hash(scope, args.get(0)) {
        Ok(h) => h,
        Err(e) => return throw(scope, e),
    };
    let st = isolate_state(scope);
    let id = {
        let mut s = st.borrow_mut();
        let id = s.next_id();
        s.digests.insert(id, hasher(hash));
        id
    };
    rv.set(v8::Integer::new_from_unsigned(scope, id).into());
}

/// `cryptoDigestUpdate(id, data)`.
pub(crate) fn op_crypto_digest_update(
    scope: &mut v8::PinScope,
    args: v8::FunctionCallbackArguments,
    _rv: v8::ReturnValue,
) {
    let id = num_arg(scope, args.get(0));
    let data = buf_arg(args.get(1));
    if let Some(h) = isolate_state(scope).borrow_mut().digests.get_mut(&id) {
        h.update(&data);
    }
}

/// `cryptoDigestFinish(id)` -> Uint8Array (the digest); frees the hash.
pub(crate) fn op_crypto_digest_finish(
    scope: &mut v8::PinScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let id = num_arg(scope, args.get(0));
    let h = isolate_state(scope).borrow_mut().digests.remove(&id);
    match h {
        Some(h) => rv.set(uint8array(scope, h.finalize().to_vec()).into()),
        None => throw(
            scope,
            CryptoError::Operation("The digest stream has already finished.".into()),
        ),
    }
}

/// `cryptoDigestFree(id)`: drops an unfinished hash.
pub(crate) fn op_crypto_digest_free(
    scope: &mut v8::PinScope,
    args: v8::FunctionCallbackArguments,
    _rv: v8::ReturnValue,
) {
    let id = num_arg(scope, args.get(0));
    isolate_state(scope).borrow_mut().digests.remove(&id);
}

/// `cryptoHmac(hash, key, data)` -> Uint8Array (the MAC).
pub(crate) fn op_crypto_hmac(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let r = required_hash(scope, args.get(0)).and_then(|h| hmac(h, &buf_arg(args.get(1)), &buf_arg(args.get(2))));
    reply_bytes(scope, &mut rv, r);
}

/// `cryptoAes(mode, encrypt, key, data, iv, bits, aad)` -> Uint8Array.
pub(crate) fn op_crypto_aes(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let mode = str_arg(scope, args.get(0));
    let encrypt = args.get(1).boolean_value(scope);
    let n = u32_count_arg(scope, args.get(5));
    let r = aes(
        &mode,
        encrypt,
        &buf_arg(args.get(2)),
        &buf_arg(args.get(3)),
        &buf_arg(args.get(4)),
        n,
        &buf_arg(args.get(6)),
    );
    reply_bytes(scope, &mut rv, r);
}

/// `cryptoHkdf(hash, ikm, salt, info, bytes)` -> Uint8Array.
pub(crate) fn op_crypto_hkdf(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let len = len_arg(scope, args.get(4));
    let r = required_hash(scope, args.get(0)).and_then(|h| {
        hkdf(
            h,
            &buf_arg(args.get(1)),
            &buf_arg(args.get(2)),
            &buf_arg(args.get(3)),
            len,
        )
    });
    reply_bytes(scope, &mut rv, r);
}

/// `cryptoPbkdf2(hash, password, salt, iterations, bytes)` -> Uint8Array.
pub(crate) fn op_crypto_pbkdf2(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let iterations = count_arg(scope, args.get(3));
    let len = len_arg(scope, args.get(4));
    let r = match iterations {
        None => Err(CryptoError::Operation(
            "PBKDF2 requires a positive integral iteration count.".into(),
        )),
        Some(iterations) => required_hash(scope, args.get(0))
            .and_then(|h| pbkdf2(h, &buf_arg(args.get(1)), &buf_arg(args.get(2)), iterations, len)),
    };
    reply_bytes(scope, &mut rv, r);
}

/// `cryptoGenerateKeyPair(kind, param, bits, exponent)` -> `[pkcs8, spki]`.
pub(crate) fn op_crypto_generate_key_pair(
    scope: &mut v8::PinScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let kind = str_arg(scope, args.get(0));
    let param = str_arg(scope, args.get(1));
    let bits = u32_count_arg(scope, args.get(2));
    match generate_key_pair(&kind, &param, bits, &buf_arg(args.get(3))) {
        Ok((private, public)) => {
            let a = uint8array(scope, private).into();
            let b = uint8array(scope, public).into();
            rv.set(v8::Array::new_with_elements(scope, &[a, b]).into());
        }
        Err(e) => throw(scope, e),
    }
}

/// `cryptoImportKey(kind, curve, format, data, parts)` -> `[private, der,
/// modulusBits, exponent]` (the last two only for RSA).
pub(crate) fn op_crypto_import_key(
    scope: &mut v8::PinScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let kind = str_arg(scope, args.get(0));
    let curve = str_arg(scope, args.get(1));
    let format = str_arg(scope, args.get(2));
    let data = buf_arg(args.get(3));
    let mut parts = Vec::new();
    if let Ok(arr) = v8::Local::<v8::Array>::try_from(args.get(4)) {
        // At most the 8 members of an RSA JWK are ever read.
        for i in 0..arr.length().min(8) {
            parts.push(arr.get_index(scope, i).and_then(bytes_arg));
        }
    }
    match import_key(&kind, &curve, &format, &data, &parts) {
        Ok(k) => {
            let mut elems = vec![
                v8::Boolean::new(scope, k.private).into(),
                uint8array(scope, k.der).into(),
            ];
            if let Some((bits, exp)) = k.rsa {
                elems.push(v8::Integer::new_from_unsigned(scope, bits).into());
                elems.push(uint8array(scope, exp).into());
            }
            rv.set(v8::Array::new_with_elements(scope, &elems).into());
        }
        Err(e) => throw(scope, e),
    }
}

/// `cryptoExportKey(kind, curve, format, private, der)` -> array of
/// Uint8Array or undefined (see [`export_key`]).
pub(crate) fn op_crypto_export_key(
    scope: &mut v8::PinScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let kind = str_arg(scope, args.get(0));
    let curve = str_arg(scope, args.get(1));
    let format = str_arg(scope, args.get(2));
    let private = args.get(3).boolean_value(scope);
    match export_key(&kind, &curve, &format, private, &buf_arg(args.get(4))) {
        Ok(parts) => {
            let elems: Vec<v8::Local<v8::Value>> = parts
                .into_iter()
                .map(|p| match p {
                    Some(b) => uint8array(scope, b).into(),
                    None => v8::undefined(scope).into(),
                })
                .collect();
            rv.set(v8::Array::new_with_elements(scope, &elems).into());
        }
        Err(e) => throw(scope, e),
    }
}

/// `cryptoSign(alg, curve, hash, saltLength, pkcs8, data)` -> Uint8Array.
pub(crate) fn op_crypto_sign(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let alg = str_arg(scope, args.get(0));
    let curve = str_arg(scope, args.get(1));
    let salt = len_arg(scope, args.get(3));
    let r = hash_arg(scope, args.get(2))
        .and_then(|h| sign(&alg, &curve, h, salt, &buf_arg(args.get(4)), &buf_arg(args.get(5))));
    reply_bytes(scope, &mut rv, r);
}

/// `cryptoVerify(alg, curve, hash, saltLength, spki, signature, data)` -> bool.
pub(crate) fn op_crypto_verify(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let alg = str_arg(scope, args.get(0));
    let curve = str_arg(scope, args.get(1));
    let salt = len_arg(scope, args.get(3));
    let r = hash_arg(scope, args.get(2)).and_then(|h| {
        verify(
            &alg,
            &curve,
            h,
            salt,
            &buf_arg(args.get(4)),
            &buf_arg(args.get(5)),
            &buf_arg(args.get(6)),
        )
    });
    match r {
        Ok(ok) => rv.set_bool(ok),
        Err(e) => throw(scope, e),
    }
}

/// `cryptoRsaOaep(encrypt, hash, label, der, data)` -> Uint8Array.
pub(crate) fn op_crypto_rsa_oaep(
    scope: &mut v8::PinScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let encrypt = args.get(0).boolean_value(scope);
    let r = required_hash(scope, args.get(1)).and_then(|h| {
        rsa_oaep(
            encrypt,
            h,
            &buf_arg(args.get(2)),
            &buf_arg(args.get(3)),
            &buf_arg(args.get(4)),
        )
    });
    reply_bytes(scope, &mut rv, r);
}

/// `cryptoEcdh(kind, curve, pkcs8, spki)` -> Uint8Array (the shared secret).
pub(crate) fn op_crypto_ecdh(scope: &mut v8::PinScope, args: v8::FunctionCallbackArguments, mut rv: v8::ReturnValue) {
    let kind = str_arg(scope, args.get(0));
    let curve = str_arg(scope, args.get(1));
    let r = ecdh(&kind, &curve, &buf_arg(args.get(2)), &buf_arg(args.get(3)));
    reply_bytes(scope, &mut rv, r);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn digests_and_hmac_match_known_answers() {
        assert_eq!(
            hex(&digest(Hash::Sha1, b"abc").unwrap()),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&digest(Hash::Md5, b"abc").unwrap()),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            hex(&hmac(Hash::Sha256, b"Jefe", b"what do ya want for nothing?").unwrap()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(matches!(hmac(Hash::Md5, b"k", b"d"), Err(CryptoError::NotSupported(_))));
        assert!(matches!(Hash::parse("SHA-3"), Err(CryptoError::NotSupported(_))));
    }

    #[test]
    fn aes_ctr_counter_wraps_within_its_bits() {
        let key = [1u8; 16];
        let mut counter = [0u8; 16];
        counter[15] = 0xff;
        let data = [0u8; 32];
        let out = aes("AES-CTR", true, &key, &data, &counter, 8, &[]).unwrap();
        let mut zero = counter;
        zero[15] = 0;
        let second = aes("AES-CTR", true, &key, &data[..16], &zero, 8, &[]).unwrap();
        assert_eq!(&out[16..], &second[..]);
        // A 1-bit counter allows two blocks only.
        assert!(aes("AES-CTR", true, &key, &[0u8; 48], &counter, 1, &[]).is_err());
        assert!(matches!(
            aes("AES-GCM", true, &[0u8; 15], b"", &[0u8; 12], 128, &[]),
            Err(CryptoError::Data(_))
        ));
    }

    #[test]
    fn okp_keys_round_trip_through_der() {
        let seed = [7u8; 32];
        let der = okp_pkcs8(ED25519_OID, &seed).unwrap();
        assert_eq!(okp_from_pkcs8(ED25519_OID, &der).unwrap(), seed);
        assert!(okp_from_pkcs8(X25519_OID, &der).is_err());
        let public = okp_public("Ed25519", &seed).unwrap();
        let spki = okp_spki(ED25519_OID, &public).unwrap();
        assert_eq!(okp_from_spki(ED25519_OID, &spki).unwrap(), public);
        assert!(import_key("OKP", "Ed25519", "pkcs8", b"junk", &[]).is_err());
    }

    const SHAS: [Hash; 4] = [Hash::Sha1, Hash::Sha256, Hash::Sha384, Hash::Sha512];

    fn hash_len(h: Hash) -> usize {
        digest(h, b"").unwrap().len()
    }

    /// AWS-LC's signatures verify under the `rsa` crate and the other way
    /// round, for every hash and several PSS salt lengths; PKCS#1 v1.5 is
    /// deterministic, so both must produce the very same bytes.
    #[test]
    fn rsa_signatures_interoperate_with_the_rsa_crate() -> Result<()> {
        use ::rsa::{Pkcs1v15Sign, Pss, RsaPrivateKey, RsaPublicKey};
        let (pkcs8, spki) = generate_key_pair("RSA", "", 1024, &[1, 0, 1])?;
        let old_priv = RsaPrivateKey::from_pkcs8_der(&pkcs8).unwrap();
        let old_pub = RsaPublicKey::from_public_key_der(&spki).unwrap();
        let msg = b"known answer";
        for h in SHAS {
            let hashed = digest(h, msg)?;
            let new_sig = sign("RSASSA-PKCS1-v1_5", "", Some(h), 0, &pkcs8, msg)?;
            let old_sig = with_sha!(h, D => old_priv.sign(Pkcs1v15Sign::new::<D>(), &hashed).unwrap());
            assert_eq!(hex(&new_sig), hex(&old_sig), "{h:?}");
            assert!(verify("RSASSA-PKCS1-v1_5", "", Some(h), 0, &spki, &old_sig, msg)?);
            assert!(!verify("RSASSA-PKCS1-v1_5", "", Some(h), 0, &spki, &old_sig, b"other")?);
            // The longest salt a 1024-bit key allows: emLen - hLen - 2.
            let max = 128 - hash_len(h) - 2;
            for salt in [0, 20, hash_len(h).min(max), max] {
                let new_sig = sign("RSA-PSS", "", Some(h), salt, &pkcs8, msg)
                    .unwrap_or_else(|e| panic!("{h:?} salt {salt}: {e}"));
                with_sha!(h, D => old_pub.verify(Pss::new_with_salt::<D>(salt), &hashed, &new_sig))
                    .unwrap_or_else(|e| panic!("{h:?} salt {salt}: {e}"));
                let old_sig = with_sha!(h, D => old_priv
                    .sign_with_rng(&mut OsRng, Pss::new_with_salt::<D>(salt), &hashed)
                    .unwrap());
                assert!(
                    verify("RSA-PSS", "", Some(h), salt, &spki, &old_sig, msg)?,
                    "{h:?} salt {salt}"
                );
                assert!(!verify("RSA-PSS", "", Some(h), salt + 1, &spki, &old_sig, msg)?);
            }
            assert!(matches!(
                sign("RSA-PSS", "", Some(h), max + 1, &pkcs8, msg),
                Err(CryptoError::Operation(_))
            ));
            assert!(!verify("RSA-PSS", "", Some(h), usize::MAX, &spki, &new_sig, msg)?);
        }
        // A key the rsa crate made signs and imports here too.
        let theirs = RsaPrivateKey::new(&mut OsRng, 1024).unwrap();
        let der = theirs.to_pkcs8_der().unwrap();
        let imported = import_key("RSA", "", "pkcs8", der.as_bytes(), &[])?;
        assert!(imported.private);
        assert_eq!(imported.rsa.as_ref().map(|r| r.0), Some(1024));
        let hashed = digest(Hash::Sha256, msg)?;
        let sig = sign("RSASSA-PKCS1-v1_5", "", Some(Hash::Sha256), 0, &imported.der, msg)?;
        theirs
            .to_public_key()
            .verify(Pkcs1v15Sign::new::<sha2::Sha256>(), &hashed, &sig)
            .unwrap();
        Ok(())
    }

    /// OAEP ciphertexts decrypt across the two implementations, with and
    /// without a label, for every hash; labels need not be UTF-8 here.
    #[test]
    fn rsa_oaep_round_trips_and_interoperates() -> Result<()> {
        use ::rsa::{Oaep, RsaPrivateKey, RsaPublicKey};
        let (pkcs8, spki) = generate_key_pair("RSA", "", 2048, &[1, 0, 1])?;
        let old_priv = RsaPrivateKey::from_pkcs8_der(&pkcs8).unwrap();
        let old_pub = RsaPublicKey::from_public_key_der(&spki).unwrap();
        let msg = b"a secret of some length";
        for h in SHAS {
            for label in ["", "label"] {
                let padding = || {
                    macro_rules! oaep {
                        ($D:ty) => {
                            if label.is_empty() {
                                Oaep::new::<$D>()
                            } else {
                                Oaep::new_with_label::<$D, _>(label)
                            }
                        };
                    }
                    match h {
                        Hash::Sha1 => oaep!(sha1::Sha1),
                        Hash::Sha256 => oaep!(sha2::Sha256),
                        Hash::Sha384 => oaep!(sha2::Sha384),
                        _ => oaep!(sha2::Sha512),
                    }
                };
                let ct = rsa_oaep(true, h, label.as_bytes(), &spki, msg)?;
                assert_eq!(ct.len(), 256);
                assert_eq!(old_priv.decrypt(padding(), &ct).unwrap(), msg);
                assert_eq!(rsa_oaep(false, h, label.as_bytes(), &pkcs8, &ct)?, msg);
                let theirs = old_pub.encrypt(&mut OsRng, padding(), msg).unwrap();
                assert_eq!(rsa_oaep(false, h, label.as_bytes(), &pkcs8, &theirs)?, msg);
                // Wrong label, or a flipped bit: the one opaque decryption error.
                let err = rsa_oaep(false, h, b"other", &pkcs8, &theirs).unwrap_err();
                assert_eq!(err.to_string(), DECRYPT_FAILED);
                let mut flipped = theirs.clone();
                flipped[100] ^= 1;
                assert!(matches!(
                    rsa_oaep(false, h, label.as_bytes(), &pkcs8, &flipped),
                    Err(CryptoError::Operation(_))
                ));
            }
        }
        let binary = [0xff, 0x00, 0xfe];
        let ct = rsa_oaep(true, Hash::Sha256, &binary, &spki, msg)?;
        assert_eq!(rsa_oaep(false, Hash::Sha256, &binary, &pkcs8, &ct)?, msg);
        // Longest message for SHA-512 with 2048 bits: 256 - 2 * 64 - 2.
        assert!(rsa_oaep(true, Hash::Sha512, b"", &spki, &[7u8; 126]).is_ok());
        assert!(matches!(
            rsa_oaep(true, Hash::Sha512, b"", &spki, &[7u8; 127]),
            Err(CryptoError::Operation(_))
        ));
        Ok(())
    }

    #[test]
    fn rsa_jwk_round_trips_with_and_without_crt_members() -> Result<()> {
        let (pkcs8, spki) = generate_key_pair("RSA", "", 1024, &[1, 0, 1])?;
        let parts = export_key("RSA", "", "jwk", true, &pkcs8)?;
        assert_eq!(parts.len(), 8);
        let full = import_key("RSA", "", "jwk", &[], &parts)?;
        assert_eq!(full.der, pkcs8);
        let bare: Vec<_> = parts.iter().take(3).cloned().collect();
        assert_eq!(
            import_key("RSA", "", "jwk", &[], &bare)?.der,
            pkcs8,
            "primes recovered from d"
        );
        let mut no_crt = parts.clone();
        no_crt.truncate(5);
        assert_eq!(
            import_key("RSA", "", "jwk", &[], &no_crt)?.der,
            pkcs8,
            "dp, dq, qi derived"
        );
        let public = import_key("RSA", "", "jwk", &[], &parts[..2])?;
        assert!(!public.private);
        assert_eq!(public.der, spki);
        // Inconsistent members are a DataError, never a panic.
        let mut wrong = parts.clone();
        wrong[2] = Some(vec![3; 100]);
        assert!(matches!(
            import_key("RSA", "", "jwk", &[], &wrong),
            Err(CryptoError::Data(_))
        ));
        wrong.truncate(3);
        assert!(matches!(
            import_key("RSA", "", "jwk", &[], &wrong),
            Err(CryptoError::Data(_))
        ));
        let mut only_p = parts.clone();
        only_p[4] = None;
        assert!(matches!(
            import_key("RSA", "", "jwk", &[], &only_p),
            Err(CryptoError::Data(_))
        ));
        Ok(())
    }

    /// Sizes and counts are refused before any work, with workerd's messages
    /// where it has one.
    #[test]
    fn sizes_and_counts_are_bounded_before_work() {
        let e = pbkdf2(Hash::Sha256, b"p", b"s", 100_001, 32).unwrap_err();
        assert!(matches!(e, CryptoError::NotSupported(_)));
        assert_eq!(
            e.to_string(),
            "Pbkdf2 failed: iteration counts above 100000 are not supported (requested 100001)."
        );
        assert!(pbkdf2(Hash::Sha256, b"p", b"s", u64::MAX, 32).is_err());
        assert!(matches!(
            pbkdf2(Hash::Sha256, b"p", b"s", 0, 32),
            Err(CryptoError::Operation(_))
        ));
        assert_eq!(pbkdf2(Hash::Sha256, b"p", b"s", 1, 32).unwrap().len(), 32);
        assert!(pbkdf2(Hash::Sha256, b"p", b"s", 1, usize::MAX).is_err());
        assert!(hkdf(Hash::Sha256, b"k", b"", b"", usize::MAX).is_err());

        let started = std::time::Instant::now();
        for bits in [0, 512, 1032, 4224, 16384, u32::MAX] {
            assert!(
                matches!(
                    generate_key_pair("RSA", "", bits, &[1, 0, 1]),
                    Err(CryptoError::Operation(_))
                ),
                "{bits}"
            );
        }
        for exponent in [&[][..], &[7], &[1, 0, 0, 0, 1], &[0xff; 64]] {
            assert!(generate_key_pair("RSA", "", 1024, exponent).is_err(), "{exponent:?}");
        }
        // Oversized keys are refused by their length, before parsing.
        let huge = vec![0x30u8; 64 * 1024];
        assert!(import_key("RSA", "", "pkcs8", &huge, &[]).is_err());
        assert!(import_key("RSA", "", "spki", &huge, &[]).is_err());
        let big_n = vec![0xffu8; 4096];
        let jwk = [Some(big_n.clone()), Some(vec![1, 0, 1]), Some(big_n)];
        assert!(matches!(
            import_key("RSA", "", "jwk", &[], &jwk),
            Err(CryptoError::Data(_))
        ));
        let big_e = [Some(vec![0xffu8; 256]), Some(vec![0xff; 9])];
        assert!(matches!(
            import_key("RSA", "", "jwk", &[], &big_e),
            Err(CryptoError::Data(_))
        ));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }

    /// Random and truncated key bytes in every format: errors, no panic.
    #[test]
    fn malformed_keys_are_errors_not_panics() -> Result<()> {
        let (pkcs8, spki) = generate_key_pair("RSA", "", 1024, &[1, 0, 1])?;
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..300 {
            let base = if round % 2 == 0 { &pkcs8 } else { &spki };
            let mut bytes = base[..(next() as usize % (base.len() + 1))].to_vec();
            if round % 3 == 0 && !bytes.is_empty() {
                let i = next() as usize % bytes.len();
                bytes[i] ^= next() as u8 | 1;
            }
            for (kind, curve) in [("RSA", ""), ("EC", "P-256"), ("OKP", "Ed25519"), ("OKP", "X25519")] {
                for format in ["pkcs8", "spki", "raw"] {
                    let _ = import_key(kind, curve, format, &bytes, &[]);
                }
                let parts: Vec<_> = (0..8)
                    .map(|i| (next() % 3 != 0).then(|| bytes[..bytes.len().min(i * 16)].to_vec()))
                    .collect();
                let _ = import_key(kind, curve, "jwk", &[], &parts);
                let _ = export_key(kind, curve, "jwk", round % 2 == 0, &bytes);
            }
            let _ = sign("RSA-PSS", "", Some(Hash::Sha256), 32, &bytes, b"m");
            let _ = verify("RSASSA-PKCS1-v1_5", "", Some(Hash::Sha1), 0, &bytes, &bytes, b"m");
            let _ = rsa_oaep(false, Hash::Sha1, &bytes, &bytes, &bytes);
        }
        Ok(())
    }

    #[test]
    fn ec_keys_sign_and_verify_on_every_curve() {
        for curve in ["P-256", "P-384", "P-521"] {
            let (private, public) = generate_key_pair("EC", curve, 0, &[]).unwrap();
            let sig = sign("ECDSA", curve, Some(Hash::Sha256), 0, &private, b"m").unwrap();
            assert!(verify("ECDSA", curve, Some(Hash::Sha256), 0, &public, &sig, b"m").unwrap());
            assert!(!verify("ECDSA", curve, Some(Hash::Sha256), 0, &public, &sig, b"n").unwrap());
        }
    }
}

//! Where the CA's private keys come from: the committed pool, or keys derived from an ecosystem's secret.

use std::fmt;
use std::str::FromStr;

use chacha20::ChaCha20Rng;
use chacha20::rand_core::SeedableRng;
use rcgen::KeyPair;
use rsa::PrivateKey;
use rsa::pkcs8::EncodePrivateKey;
use rustls_pki_types::PrivatePkcs8KeyDer;

use crate::{CaError, key_pool};

/// The size of every key the CA makes, as the e-seikyu CA's: RSA 2048.
const RSA_BITS: usize = 2048;

/// Which key a certificate takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeySlot {
    /// The CA root.
    Root,
    /// The relay's server certificate.
    Relay,
    /// The e-billing portal's server certificate.
    Portal,
    /// The usage-application site's server certificate.
    UsageSite,
    /// The `n`-th office certificate issued (from 0).
    Office(usize),
}

impl KeySlot {
    /// The label the slot's key is derived under: fixed forever, or derived keys would change.
    fn label(self) -> String {
        match self {
            KeySlot::Root => "root".to_owned(),
            KeySlot::Relay => "relay".to_owned(),
            KeySlot::Portal => "portal".to_owned(),
            KeySlot::UsageSite => "usage-site".to_owned(),
            KeySlot::Office(n) => format!("office-{n}"),
        }
    }
}

/// A secret from which an ecosystem's keys are derived: 32 bytes, written as 64 hex digits.
#[derive(Clone, PartialEq, Eq)]
pub struct KeySecret([u8; 32]);

impl KeySecret {
    /// The secret of these bytes (drawn from the operating system's random source by whoever makes one).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl fmt::Debug for KeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeySecret(..)")
    }
}

impl fmt::Display for KeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// A key secret that is not 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a key secret is 64 hexadecimal digits")]
pub struct KeySecretError;

impl FromStr for KeySecret {
    type Err = KeySecretError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.as_bytes();
        if s.len() != 64 {
            return Err(KeySecretError);
        }
        let digit = |c: u8| (c as char).to_digit(16).ok_or(KeySecretError);
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(s.chunks_exact(2)) {
            // Each digit is below 16, so the pair fits a byte.
            *byte = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).map_err(|_| KeySecretError)?;
        }
        Ok(Self(bytes))
    }
}

/// Where the CA's private keys come from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum KeySource {
    /// The committed pool of test keys (`certs/pool/`): every run yields byte-identical certificates, and
    /// anyone holding the repository can sign as the CA. For scenarios, where nothing listens beyond the run.
    #[default]
    CommittedPool,
    /// RSA 2048 keys derived from a secret, one per certificate: the CA root, each server and each office
    /// certificate get their own. Derivation is deterministic (ChaCha20 seeded with SHA-256 of the secret
    /// and the slot), so an ecosystem replayed from its journal has the same keys, and no key is ever
    /// written anywhere but where its owner gets it.
    Derived(KeySecret),
}

impl KeySource {
    /// The key for `slot`, the same on every call.
    pub(crate) fn key(&self, slot: KeySlot) -> Result<KeyPair, CaError> {
        match self {
            KeySource::CommittedPool => key_pool::key(match slot {
                KeySlot::Root => key_pool::CA_KEY,
                KeySlot::Relay => key_pool::RELAY_KEY,
                KeySlot::Portal => key_pool::PORTAL_KEY,
                KeySlot::UsageSite => key_pool::USAGE_SITE_KEY,
                KeySlot::Office(n) => key_pool::office_key(n),
            }),
            KeySource::Derived(secret) => derive(secret, slot),
        }
    }
}

fn derive(secret: &KeySecret, slot: KeySlot) -> Result<KeyPair, CaError> {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    context.update(b"careplan-sim CA key\0");
    context.update(&secret.0);
    context.update(slot.label().as_bytes());
    let mut seed = [0u8; 32];
    seed.copy_from_slice(context.finish().as_ref());
    let mut rng = ChaCha20Rng::from_seed(seed);
    let key = PrivateKey::new(&mut rng, RSA_BITS).map_err(|e| CaError::Generation(e.to_string()))?;
    let der = key
        .to_pkcs8_der()
        .map_err(|e| CaError::Generation(e.to_string()))?;
    Ok(KeyPair::from_pkcs8_der_and_sign_algo(
        &PrivatePkcs8KeyDer::from(der.as_bytes()),
        &rcgen::PKCS_RSA_SHA256,
    )?)
}

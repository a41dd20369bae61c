//! The committed pool of test keys (`certs/pool/`), embedded so that runs need no files and are
//! reproducible. Never production keys.

use rcgen::KeyPair;

use crate::CaError;

/// Number of keys in the pool.
pub const POOL_SIZE: usize = POOL.len();

/// Index of the CA root's key.
pub(crate) const CA_KEY: usize = 0;
/// Index of the relay server certificate's key.
pub(crate) const RELAY_KEY: usize = 1;
/// Index of the e-billing portal's server certificate key.
pub(crate) const PORTAL_KEY: usize = 2;
/// The first key handed to offices; offices take keys up to [`OFFICE_KEYS_END`] in issuance order,
/// wrapping around.
const FIRST_OFFICE_KEY: usize = 3;
/// One past the last office key. Keys added to the pool later serve new parties, so that the keys (and
/// fingerprints) of office certificates never move.
const OFFICE_KEYS_END: usize = 16;
/// Index of the usage-application site's server certificate key.
pub(crate) const USAGE_SITE_KEY: usize = 16;

const POOL: [&str; 17] = [
    include_str!("../../../certs/pool/key-00.pem"),
    include_str!("../../../certs/pool/key-01.pem"),
    include_str!("../../../certs/pool/key-02.pem"),
    include_str!("../../../certs/pool/key-03.pem"),
    include_str!("../../../certs/pool/key-04.pem"),
    include_str!("../../../certs/pool/key-05.pem"),
    include_str!("../../../certs/pool/key-06.pem"),
    include_str!("../../../certs/pool/key-07.pem"),
    include_str!("../../../certs/pool/key-08.pem"),
    include_str!("../../../certs/pool/key-09.pem"),
    include_str!("../../../certs/pool/key-10.pem"),
    include_str!("../../../certs/pool/key-11.pem"),
    include_str!("../../../certs/pool/key-12.pem"),
    include_str!("../../../certs/pool/key-13.pem"),
    include_str!("../../../certs/pool/key-14.pem"),
    include_str!("../../../certs/pool/key-15.pem"),
    include_str!("../../../certs/pool/key-16.pem"),
];

/// The key for the `n`-th office certificate issued.
pub(crate) fn office_key(n: usize) -> usize {
    FIRST_OFFICE_KEY + n % (OFFICE_KEYS_END - FIRST_OFFICE_KEY)
}

/// Loads key `index` of the pool (RSA 2048, PKCS#8).
pub(crate) fn key(index: usize) -> Result<KeyPair, CaError> {
    Ok(KeyPair::from_pem(POOL[index % POOL_SIZE])?)
}

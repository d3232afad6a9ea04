//! API keys: random keys, their stored hashes and constant-time comparison. (Webhook
//! signatures are `kiln_jobs::webhook::sign`.)

use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Prefix of tenant API keys (tells them apart from other secrets in logs and configs).
pub const TENANT_KEY_PREFIX: &str = "kiln_";
/// Prefix of generated admin keys.
pub const ADMIN_KEY_PREFIX: &str = "kiln_admin_";

/// A fresh random secret: `prefix` followed by 32 random bytes in hex.
pub fn new_secret(prefix: &str) -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    format!("{prefix}{}", hex::encode(b))
}

/// sha256 hex of a key: what the store keeps instead of the key.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_and_hashes_stable() {
        let a = new_secret(TENANT_KEY_PREFIX);
        let b = new_secret(TENANT_KEY_PREFIX);
        assert_ne!(a, b);
        assert!(a.starts_with("kiln_") && a.len() == 5 + 64);
        assert_eq!(hash_key(&a), hash_key(&a));
        assert!(constant_time_eq(&a, &a.clone()));
        assert!(!constant_time_eq(&a, &b));
        assert!(!constant_time_eq("ab", "abc"));
    }
}

//! An image's content key: the sha256 of its bytes. Held as its 32 bytes (a sweep keeps one
//! per image) and written as 64 lowercase hex digits wherever it names something (cache
//! entries, remembered keys), so both orders agree; shards choose by its first 8 bytes, the
//! number its first 16 hex digits spell.

use std::fmt;

use sha2::{Digest, Sha256};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContentKey([u8; 32]);

impl ContentKey {
    pub fn of(bytes: &[u8]) -> Self {
        ContentKey(Sha256::digest(bytes).into())
    }

    /// The key from its 64 hex digits; `None` for anything else.
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(ContentKey(bytes))
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        ContentKey(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The first 8 bytes as a number: what shards are chosen by.
    pub fn prefix(&self) -> u64 {
        u64::from_be_bytes(self.0[..8].try_into().expect("32 bytes"))
    }

    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for ContentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl fmt::Debug for ContentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentKey({})", self.hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_orders_as_the_bytes_do() {
        let (a, b) = (ContentKey::of(b"daisy"), ContentKey::of(b"dandelion"));
        assert_eq!(a.hex(), super::super::cache::content_key(b"daisy"));
        assert_eq!(ContentKey::from_hex(&a.hex()), Some(a));
        assert_eq!(a.cmp(&b), a.hex().cmp(&b.hex()));
        assert_eq!(a.prefix(), u64::from_str_radix(&a.hex()[..16], 16).unwrap());
        assert_eq!(ContentKey::from_hex("abc"), None);
        assert_eq!(ContentKey::from_hex(&"g".repeat(64)), None);
    }
}

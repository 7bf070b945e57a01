//! Visitor keys without cookies, Plausible-style: a hash of the day's secret salt, the client
//! IP, the User-Agent and the pixel id. The salt is random, stored only in the server's
//! database and replaced every UTC day (the old one is deleted), so keys cannot be linked
//! across days and cannot be reversed to an IP address without the salt.

use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use dtpixel::PixelId;
use sha2::{Digest, Sha256};

/// A day's secret salt.
#[derive(Clone)]
pub struct Salt {
    /// The UTC day it belongs to, `YYYY-MM-DD`.
    pub day: String,
    /// The same day as a day number (days since 1970-01-01).
    pub days: i64,
    bytes: [u8; 32],
}

impl std::fmt::Debug for Salt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("Salt")
            .field("day", &self.day)
            .finish_non_exhaustive()
    }
}

impl Salt {
    /// The salt of `day` (`YYYY-MM-DD`).
    pub fn new(day: String, bytes: [u8; 32]) -> Self {
        let days = crate::dates::parse_day(&day).unwrap_or(i64::MIN);
        Salt { day, days, bytes }
    }

    /// The visitor key of a hit: the first 16 bytes of
    /// SHA-256(salt ‖ len ‖ ip ‖ len ‖ user agent ‖ pixel id). Lengths are 4-byte big-endian,
    /// so no two different inputs share a hash input.
    pub fn visitor_key(&self, ip: IpAddr, user_agent: &str, pixel_id: PixelId) -> [u8; 16] {
        let mut buf = [0u8; 16];
        let ip: &[u8] = match ip {
            IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
                buf = v6.octets();
                &buf
            }
            IpAddr::V6(v6) => {
                buf[..4].copy_from_slice(&v6.octets()[12..]);
                &buf[..4]
            }
            IpAddr::V4(v4) => {
                buf[..4].copy_from_slice(&v4.octets());
                &buf[..4]
            }
        };
        let mut hasher = Sha256::new();
        hasher.update(self.bytes);
        for part in [ip, user_agent.as_bytes()] {
            hasher.update((part.len() as u32).to_be_bytes());
            hasher.update(part);
        }
        hasher.update(pixel_id.as_bytes());
        let digest = hasher.finalize();
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest[..16]);
        key
    }
}

/// The current salt, shared by the writer (which stores and rotates it) and the request
/// handlers (which compute visitor keys with it, in parallel, before queueing a hit).
#[derive(Debug, Clone)]
pub struct SharedSalt(Arc<Mutex<Arc<Salt>>>);

impl SharedSalt {
    /// Shares `salt`.
    pub fn new(salt: Salt) -> Self {
        SharedSalt(Arc::new(Mutex::new(Arc::new(salt))))
    }

    /// The current salt.
    pub fn get(&self) -> Arc<Salt> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the salt (a new day).
    pub fn set(&self, salt: Salt) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Arc::new(salt);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: PixelId = PixelId::from_bytes([7; 16]);

    #[test]
    fn keys_depend_on_every_input() {
        let salt = Salt::new("2024-01-01".into(), [1; 32]);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let key = salt.visitor_key(ip, "UA", ID);
        assert_eq!(key, salt.visitor_key(ip, "UA", ID));
        assert_ne!(
            key,
            salt.visitor_key("192.0.2.2".parse().unwrap(), "UA", ID)
        );
        assert_ne!(key, salt.visitor_key(ip, "UA2", ID));
        assert_ne!(
            key,
            salt.visitor_key(ip, "UA", PixelId::from_bytes([8; 16]))
        );
        let next_day = Salt::new("2024-01-02".into(), [2; 32]);
        assert_ne!(key, next_day.visitor_key(ip, "UA", ID));
        // An IPv4-mapped IPv6 address is the same client as its IPv4 form.
        assert_eq!(
            key,
            salt.visitor_key("::ffff:192.0.2.1".parse().unwrap(), "UA", ID)
        );
    }
}

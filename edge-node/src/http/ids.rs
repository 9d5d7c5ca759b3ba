//! Request ids in the shape of `X-Amz-Cf-Id` (56 characters of URL-safe base64 ending in `==`,
//! like `4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==`), from a per-thread generator
//! seeded by the OS: unique per request without locking.

use base64::Engine;
use std::cell::RefCell;

thread_local! {
    static RNG: RefCell<fastrand::Rng> = RefCell::new(fastrand::Rng::new());
}

/// A new request id, shared by the `X-Amz-Cf-Id` header, logs and the event's `config.requestId`.
pub fn request_id() -> String {
    let mut raw = [0u8; 40];
    RNG.with(|r| r.borrow_mut().fill(&mut raw));
    base64::engine::general_purpose::URL_SAFE.encode(raw)
}

/// A node's 32-hex-digit identity for its `Via` header (`1.1 <id>.cloudfront.net (CloudFront)`).
pub fn node_hex() -> String {
    let mut raw = [0u8; 16];
    RNG.with(|r| r.borrow_mut().fill(&mut raw));
    raw.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_look_like_cloudfront_and_differ() {
        let a = super::request_id();
        let b = super::request_id();
        assert_eq!(a.len(), 56);
        assert!(a.ends_with("=="));
        assert_ne!(a, b);
        assert_eq!(super::node_hex().len(), 32);
    }
}

//! Signed, expiring URLs: `?exp=<unix seconds>&sig=<base64url HMAC-SHA256>` over what
//! the URL grants (one variant of one file, or one part of one upload). The key is
//! derived from the vault key, so every replica that shares the vault key accepts the
//! URLs any of them signed.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{Error, Result};

type HmacSha256 = Hmac<Sha256>;

/// Expiry times are rounded up to this step, so one reader gets the same URL (and a
/// browser-cache hit) for a while instead of a new URL on every page view.
const STEP_SECS: i64 = 600;

pub struct UrlSigner {
    key: [u8; 32],
    ttl_secs: i64,
}

/// What a URL grants.
pub enum Grant<'a> {
    Media { id: &'a str, variant: &'a str },
    Part { media_id: &'a str, number: u32 },
}

impl Grant<'_> {
    fn message(&self, expires: i64) -> String {
        match self {
            Grant::Media { id, variant } => format!("media\n{id}\n{variant}\n{expires}"),
            Grant::Part { media_id, number } => format!("part\n{media_id}\n{number}\n{expires}"),
        }
    }
}

impl UrlSigner {
    pub fn new(key: [u8; 32], ttl_secs: u64) -> UrlSigner {
        UrlSigner { key, ttl_secs: i64::try_from(ttl_secs).unwrap_or(i64::MAX / 4) }
    }

    fn mac(&self, grant: &Grant, expires: i64) -> HmacSha256 {
        // HMAC takes keys of any length; this cannot fail.
        #[allow(clippy::expect_used)]
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC accepts any key length");
        mac.update(grant.message(expires).as_bytes());
        mac
    }

    /// The expiry (unix seconds) a URL signed now gets: at least `ttl` away.
    pub fn expiry(&self, now_secs: i64) -> i64 {
        (now_secs + self.ttl_secs).div_euclid(STEP_SECS) * STEP_SECS + STEP_SECS
    }

    /// The query string (`exp=…&sig=…`) granting `grant` until `expires`.
    pub fn query(&self, grant: &Grant, expires: i64) -> String {
        let sig = BASE64URL.encode(self.mac(grant, expires).finalize().into_bytes());
        format!("exp={expires}&sig={sig}")
    }

    /// Checks a presented signature: refused when expired, malformed or not ours.
    pub fn verify(&self, grant: &Grant, expires: i64, sig: &str, now_secs: i64) -> Result<()> {
        let refused = |why: &str| Error::forbidden(types::ErrorCode::LinkRefused, format!("This link {why}."));
        if expires < now_secs {
            return Err(refused("has expired; reload the page for a fresh one"));
        }
        let sig = BASE64URL.decode(sig).map_err(|_| refused("is not valid"))?;
        // verify_slice compares in constant time.
        self.mac(grant, expires).verify_slice(&sig).map_err(|_| refused("is not valid"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig_of(query: &str) -> String {
        query.split("sig=").nth(1).unwrap().to_string()
    }

    #[test]
    fn a_signature_grants_only_what_it_names_until_it_expires() {
        let signer = UrlSigner::new([3; 32], 3600);
        let now = 1_800_000_000;
        let exp = signer.expiry(now);
        assert!(exp >= now + 3600 && exp % STEP_SECS == 0);
        let grant = Grant::Media { id: "m1", variant: "thumb-320" };
        let sig = sig_of(&signer.query(&grant, exp));
        assert!(signer.verify(&grant, exp, &sig, now).is_ok());
        assert!(signer.verify(&grant, exp, &sig, exp + 1).is_err(), "expired");
        assert!(signer.verify(&grant, exp + 600, &sig, now).is_err(), "expiry moved");
        assert!(signer.verify(&Grant::Media { id: "m2", variant: "thumb-320" }, exp, &sig, now).is_err());
        assert!(signer.verify(&Grant::Media { id: "m1", variant: "original" }, exp, &sig, now).is_err());
        assert!(signer.verify(&Grant::Part { media_id: "m1", number: 1 }, exp, &sig, now).is_err());
        let mut tampered = sig.clone();
        tampered.replace_range(0..1, if sig.starts_with('A') { "B" } else { "A" });
        assert!(signer.verify(&grant, exp, &tampered, now).is_err());
        assert!(signer.verify(&grant, exp, "not base64!", now).is_err());
        assert!(UrlSigner::new([4; 32], 3600).verify(&grant, exp, &sig, now).is_err(), "another key");
    }
}

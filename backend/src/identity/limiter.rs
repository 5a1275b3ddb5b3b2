//! Limits password sign-in attempts per account and per client address, so guessing
//! is slow whether an attacker targets one account or sprays many.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::error::{Error, Result};

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

pub struct LoginLimiter {
    per_account: Keyed<String>,
    per_ip: Keyed<IpAddr>,
}

impl LoginLimiter {
    pub fn new(per_account_per_minute: u32, per_ip_per_minute: u32) -> LoginLimiter {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        LoginLimiter {
            per_account: RateLimiter::keyed(quota(per_account_per_minute)),
            per_ip: RateLimiter::keyed(quota(per_ip_per_minute)),
        }
    }

    /// Counts one attempt; refuses with the seconds to wait when either budget is spent.
    pub fn check(&self, account: &str, ip: IpAddr) -> Result<()> {
        let clock = DefaultClock::default();
        let wait = [
            self.per_ip.check_key(&ip).err().map(|until| until.wait_time_from(clock.now())),
            self.per_account.check_key(&account.to_string()).err().map(|until| until.wait_time_from(clock.now())),
        ]
        .into_iter()
        .flatten()
        .max();
        if self.per_account.len() > 100_000 {
            self.per_account.retain_recent();
            self.per_ip.retain_recent();
        }
        match wait {
            Some(wait) => Err(Error::RateLimited { retry_after_secs: wait.as_secs() + 1 }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_limited_whatever_the_address() {
        let limiter = LoginLimiter::new(3, 100);
        for i in 0..3 {
            limiter.check("ana@example.org", IpAddr::from([10, 0, 0, i])).unwrap();
        }
        let err = limiter.check("ana@example.org", IpAddr::from([10, 0, 0, 9])).unwrap_err();
        assert!(matches!(err, Error::RateLimited { retry_after_secs } if (1..=21).contains(&retry_after_secs)));
        limiter.check("bo@example.org", IpAddr::from([10, 0, 0, 9])).unwrap();
    }

    #[test]
    fn an_address_is_limited_whatever_the_account() {
        let limiter = LoginLimiter::new(100, 2);
        let ip = IpAddr::from([192, 0, 2, 1]);
        limiter.check("a@example.org", ip).unwrap();
        limiter.check("b@example.org", ip).unwrap();
        assert!(limiter.check("c@example.org", ip).is_err());
        limiter.check("c@example.org", IpAddr::from([192, 0, 2, 2])).unwrap();
    }
}

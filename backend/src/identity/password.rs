//! Password rules and argon2id hashing. Hashing is CPU-heavy, so callers run it on the
//! blocking pool; verification of an unknown account still hashes once so a wrong
//! email and a wrong password take the same time.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::error::{Context, Error, Result};

pub const MIN_CHARS: usize = 8;
/// Long passphrases are welcome; beyond this it is a mistake or an attack on the hasher.
pub const MAX_BYTES: usize = 1024;

/// Checks a password someone is choosing; the message says exactly what to change.
pub fn check_new(password: &str, email: &str) -> std::result::Result<(), String> {
    if password.len() > MAX_BYTES {
        return Err(format!("must be at most {MAX_BYTES} bytes"));
    }
    if password.chars().count() < MIN_CHARS {
        return Err(format!("must be at least {MIN_CHARS} characters"));
    }
    if password.trim().is_empty() {
        return Err("must not be only spaces".into());
    }
    if password.eq_ignore_ascii_case(email.trim()) {
        return Err("must not be your email address".into());
    }
    Ok(())
}

pub fn hash(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| Error::internal("hashing a password", err.to_string()))
}

/// True when `password` matches the stored PHC string. Passwords longer than
/// [`MAX_BYTES`] never match and are not hashed.
pub fn verify(password: &str, phc: &str) -> bool {
    if password.len() > MAX_BYTES {
        return false;
    }
    PasswordHash::new(phc).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Spends the same work as a real verification, for accounts that do not exist or
/// have no password.
pub fn verify_nothing(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    // Default Argon2 parameters and a short constant: hashing it cannot fail.
    #[allow(clippy::expect_used)]
    let phc = DUMMY.get_or_init(|| hash("an unguessable placeholder").expect("hashing a constant"));
    let _ = verify(password, phc);
}

/// Runs password work on the blocking pool so it never stalls the async workers.
pub async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work).await.context("running password work")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_only_its_password() {
        let phc = hash("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(verify("correct horse battery", &phc));
        assert!(!verify("correct horse batterY", &phc));
        assert!(!verify("correct horse battery", "not a hash"));
        assert_ne!(hash("correct horse battery").unwrap(), phc, "salted");
    }

    #[test]
    fn new_passwords_are_checked_with_specific_messages() {
        assert!(check_new("short", "a@b.org").unwrap_err().contains("at least 8"));
        assert!(check_new(&"x".repeat(10 * 1024), "a@b.org").unwrap_err().contains("at most 1024"));
        assert!(check_new("        ", "a@b.org").unwrap_err().contains("spaces"));
        assert!(check_new("Ana@Example.org", "ana@example.org").unwrap_err().contains("email"));
        assert!(check_new("a fine passphrase", "a@b.org").is_ok());
    }

    #[test]
    fn oversized_passwords_never_match() {
        let long = "y".repeat(MAX_BYTES + 1);
        let phc = hash(&long).unwrap();
        assert!(!verify(&long, &phc));
    }
}

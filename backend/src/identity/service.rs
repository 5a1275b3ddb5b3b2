//! The rules of identity: who may sign up, how a sign-in is checked, what a session is
//! worth, and how it ends. Handlers and server functions call these and nothing else.
//! Sessions are `user_sessions` rows named by id; the browser's cookie session that
//! carries the id is the server's (`server::http::session`), so no HTTP type reaches here.

use std::sync::Arc;

use types::{ErrorCode, FieldError, SessionId, SessionView};

use crate::config::{Config, SignupPolicy};
use crate::db::Db;
use crate::email::Mailer;
use crate::error::{Error, Result};
use crate::identity::limiter::LoginLimiter;
use crate::identity::model::{normalize_email, Authenticated, ClientInfo, NewUser, Role, SessionRow, User};
use crate::identity::oidc::{OidcProviders, PendingLogin};
use crate::identity::{password, repo};
use crate::time::{new_id, now_millis};

/// How long a password-reset link works.
pub const PASSWORD_RESET_MINUTES: i64 = 60;

/// How long an email-verification link works.
pub const VERIFY_EMAIL_DAYS: i64 = 7;

/// `last_seen_at` is written at most this often per session.
const TOUCH_EVERY_MS: i64 = 60_000;

/// What a session id presented by a browser is worth.
#[derive(Debug, Clone)]
pub enum SessionCheck {
    /// Signed in. `touched` when this request counted as activity (`last_seen_at` was
    /// written): the browser's cookie should be renewed for another idle period.
    Valid { auth: Authenticated, touched: bool },
    /// Revoked, idle or too old, or its user is gone or disabled: the browser's session
    /// should be forgotten.
    Ended,
}

/// A single-use link and the token in it (shown once; only its hash is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteLink {
    pub token: String,
    pub url: String,
}

/// What a person types into the sign-up form.
#[derive(Debug, Clone, Default)]
pub struct SignUp {
    pub email: String,
    pub display_name: String,
    pub password: String,
    pub invite: Option<String>,
}

pub struct Identity {
    db: Db,
    config: Arc<Config>,
    limiter: LoginLimiter,
    pub oidc: OidcProviders,
    /// Sends the verification link of a new account's address, when email is set up.
    mailer: Option<Arc<Mailer>>,
}

impl Identity {
    pub fn new(db: Db, config: Arc<Config>) -> Identity {
        let limiter = LoginLimiter::new(config.login_attempts_per_account, config.login_attempts_per_ip);
        let oidc = OidcProviders::new(&config.oidc_providers, &config.public_url);
        Identity { db, config, limiter, oidc, mailer: None }
    }

    /// New accounts are sent a link to verify their address through `mailer`.
    pub fn with_mailer(self, mailer: Arc<Mailer>) -> Identity {
        Identity { mailer: Some(mailer), ..self }
    }

    pub fn signup_policy(&self) -> SignupPolicy {
        self.config.signup
    }

    /// Creates a password account. The first account on an instance is an admin and
    /// needs no invitation; after that the configured policy applies.
    pub async fn sign_up(&self, input: SignUp) -> Result<User> {
        let mut problems = match NewUser::new(&input.email, &input.display_name, Role::Member) {
            Ok(_) => Vec::new(),
            Err(Error::Invalid(fields)) => fields,
            Err(other) => return Err(other),
        };
        if let Err(message) = password::check_new(&input.password, &input.email) {
            problems.push(FieldError::new("password", message));
        }
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        let first = repo::count(&self.db).await? == 0;
        let invite = input.invite.as_deref().map(str::trim).filter(|t| !t.is_empty());
        if !first {
            match (self.config.signup, invite) {
                (SignupPolicy::Closed, _) => {
                    return Err(Error::forbidden(
                        ErrorCode::SignupClosed,
                        "Sign-up is closed on this Heirloom. Ask its administrator for an account.",
                    ))
                }
                (SignupPolicy::InviteOnly, None) => {
                    return Err(Error::invalid("invite", "sign-up needs an invitation link on this Heirloom"))
                }
                _ => {}
            }
        }
        let pw = input.password.clone();
        let hash = password::blocking(move || password::hash(&pw)).await??;

        let mut tx = self.db.begin().await?;
        // Decided inside the transaction so two simultaneous first sign-ups cannot both be admin.
        let role = if repo::count(&mut tx).await? == 0 { Role::Admin } else { Role::Member };
        let new = NewUser::new(&input.email, &input.display_name, role)?;
        let user = repo::insert_tx(&mut tx, &new).await?;
        if role != Role::Admin && self.config.signup == SignupPolicy::InviteOnly {
            let token = invite.unwrap_or_default();
            if !repo::consume_invite_tx(&mut tx, &hash_token(token), &user.id).await? {
                return Err(Error::invalid("invite", "this invitation link is invalid, already used or expired"));
            }
        }
        repo::set_password_tx(&mut tx, &user.id, &hash).await?;
        // The verification email exists exactly when the account does.
        self.queue_verification(&mut tx, &user).await?;
        tx.commit().await?;
        tracing::info!(user_id = %user.id, role = role.as_str(), "account created");
        Ok(user)
    }

    /// Whether the user's address was shown to be theirs (emails about the family go
    /// only to such addresses).
    pub async fn email_verified(&self, user: &User) -> Result<bool> {
        repo::is_verified(&self.db, &user.id, &user.email).await
    }

    /// Sends the link that verifies the user's address again; at most one a minute, and
    /// nothing when it is verified already.
    pub async fn send_verification(&self, user: &User) -> Result<()> {
        if !self.mailer.as_ref().is_some_and(|m| m.enabled()) {
            return Err(Mailer::not_configured());
        }
        if self.email_verified(user).await? {
            return Err(Error::conflict(ErrorCode::AlreadyExists, "Your email address is verified already."));
        }
        if repo::email_verifications_since(&self.db, &user.id, now_millis() - 60_000).await? > 0 {
            return Err(Error::RateLimited { retry_after_secs: 60 });
        }
        let mut tx = self.db.begin().await?;
        self.queue_verification(&mut tx, user).await?;
        tx.commit().await
    }

    /// Queues the verification email of `user`'s address in `tx` (nothing without email).
    async fn queue_verification(&self, tx: &mut crate::db::Tx, user: &User) -> Result<()> {
        let Some(mailer) = self.mailer.as_ref().filter(|m| m.enabled()) else { return Ok(()) };
        let token = random_token();
        let link = self.config.public_link(&format!("{}?token={token}", types::routes::VERIFY_EMAIL.path));
        let mail = crate::email::compose::verify_email(&user.display_name, &link, VERIFY_EMAIL_DAYS);
        let expires = now_millis() + VERIFY_EMAIL_DAYS * 86_400_000;
        repo::insert_email_verification(tx, &hash_token(&token), &user.id, &user.email, expires).await?;
        mailer.queue(tx, &user.email, "verify_email", &mail).await?;
        Ok(())
    }

    /// Verifies the address a link was sent to; the account it belongs to. The link works
    /// once, for a week, and only while the account still has that address.
    pub async fn verify_email(&self, token: &str) -> Result<User> {
        let expired = || {
            Error::invalid(
                "token",
                "This link has expired or was already used. Ask for a new one on your account page.",
            )
        };
        let now = now_millis();
        let mut tx = self.db.begin().await?;
        let (user_id, email) =
            repo::use_email_verification_tx(&mut tx, &hash_token(token.trim()), now).await?.ok_or_else(expired)?;
        let user = repo::find_by_id(&self.db, &user_id).await?.filter(|u| u.email == email).ok_or_else(expired)?;
        repo::mark_verified_tx(&mut tx, &user.id, &user.email, now).await?;
        tx.commit().await?;
        tracing::info!(user_id = %user.id, "email address verified");
        Ok(user)
    }

    /// Checks an email and password. Every failure looks and takes the same: unknown
    /// email, no password set, disabled account and wrong password.
    pub async fn sign_in_password(&self, email: &str, password_input: &str, client: &ClientInfo) -> Result<User> {
        let email = normalize_email(email);
        let mut problems = Vec::new();
        if email.is_empty() {
            problems.push(FieldError::new("email", "is required"));
        }
        if password_input.is_empty() {
            problems.push(FieldError::new("password", "is required"));
        }
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        self.limiter.check(&email, client.ip)?;
        let user = repo::find_by_email(&self.db, &email).await?;
        let hash = match &user {
            Some(user) => repo::password_hash(&self.db, &user.id).await?,
            None => None,
        };
        let attempt = password_input.to_string();
        let matches = password::blocking(move || match hash {
            Some(hash) => password::verify(&attempt, &hash),
            None => {
                password::verify_nothing(&attempt);
                false
            }
        })
        .await?;
        match user {
            Some(user) if matches && !user.disabled => Ok(user),
            _ => Err(Error::SignInFailed),
        }
    }

    /// Sets a new password (checking the current one if there is one) and signs out
    /// every other session, as someone changing a password usually wants.
    pub async fn change_password(&self, auth: &Authenticated, current: &str, new: &str) -> Result<()> {
        if let Err(message) = password::check_new(new, &auth.user.email) {
            return Err(Error::invalid("new_password", &message));
        }
        if let Some(hash) = repo::password_hash(&self.db, &auth.user.id).await? {
            let current = current.to_string();
            if !password::blocking(move || password::verify(&current, &hash)).await? {
                return Err(Error::invalid("current_password", "is not your current password"));
            }
        }
        let pw = new.to_string();
        let hash = password::blocking(move || password::hash(&pw)).await??;
        let mut tx = self.db.begin().await?;
        repo::set_password_tx(&mut tx, &auth.user.id, &hash).await?;
        tx.commit().await?;
        repo::delete_sessions_except(&self.db, &auth.user.id, &auth.session_id).await?;
        Ok(())
    }

    /// Emails a single-use link to choose a new password (valid for
    /// [`PASSWORD_RESET_MINUTES`]) when an enabled account has this address, and does
    /// nothing otherwise: the answer never tells whether an address has an account.
    /// Refused on an instance that cannot send email.
    pub async fn request_password_reset(&self, mailer: &Mailer, email: &str) -> Result<()> {
        if !mailer.enabled() {
            return Err(Mailer::not_configured());
        }
        let email = normalize_email(email);
        if email.parse::<lettre::Address>().is_err() {
            return Err(Error::invalid("email", "must be an email address such as ann@example.org"));
        }
        let Some(user) = repo::find_by_email(&self.db, &email).await?.filter(|u| !u.disabled) else {
            tracing::info!("password reset asked for an address without an account");
            return Ok(());
        };
        // One email a minute per account at most, so the form cannot flood an inbox.
        if repo::password_resets_since(&self.db, &user.id, now_millis() - 60_000).await? > 0 {
            tracing::info!(user_id = %user.id, "password reset asked again within a minute: no new email");
            return Ok(());
        }
        let token = random_token();
        let link = self.config.public_link(&format!("{}?token={token}", types::routes::RESET_PASSWORD.path));
        let mail = crate::email::compose::password_reset(&user.display_name, &link, PASSWORD_RESET_MINUTES);
        let mut tx = self.db.begin().await?;
        let expires = now_millis() + PASSWORD_RESET_MINUTES * 60_000;
        repo::insert_password_reset(&mut tx, &hash_token(&token), &user.id, expires).await?;
        mailer.queue(&mut tx, &user.email, "password_reset", &mail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a new password with the token of a reset email. The token is spent (with any
    /// other of the account's) and every session of the account ends. A bad new password
    /// is refused before anything changes, so the link still works for a second try.
    pub async fn reset_password(&self, token: &str, new: &str) -> Result<User> {
        let expired = || Error::invalid("token", "This link has expired or was already used. Ask for a new one.");
        let hash = hash_token(token.trim());
        let user_id = repo::password_reset_user(&self.db, &hash, now_millis()).await?.ok_or_else(expired)?;
        let user = repo::find_by_id(&self.db, &user_id).await?.filter(|u| !u.disabled).ok_or_else(expired)?;
        if let Err(message) = password::check_new(new, &user.email) {
            return Err(Error::invalid("new_password", &message));
        }
        let pw = new.to_string();
        let password_hash = password::blocking(move || password::hash(&pw)).await??;
        let mut tx = self.db.begin().await?;
        if !repo::use_password_reset_tx(&mut tx, &hash, &user.id, now_millis()).await? {
            return Err(expired());
        }
        repo::set_password_tx(&mut tx, &user.id, &password_hash).await?;
        // The link came to this address: it is the account's.
        repo::mark_verified_tx(&mut tx, &user.id, &user.email, now_millis()).await?;
        let ended = repo::delete_sessions_tx(&mut tx, &user.id).await?;
        tx.commit().await?;
        tracing::info!(user_id = %user.id, sessions_ended = ended, "password reset");
        Ok(user)
    }

    pub async fn has_password(&self, user: &User) -> Result<bool> {
        Ok(repo::password_hash(&self.db, &user.id).await?.is_some())
    }

    /// Starts a signed-in session for `user` (a new `user_sessions` row) and returns its
    /// id, for the browser's cookie session to carry. The caller gives the browser a new
    /// cookie id first, so an id fixed before sign-in is worthless.
    pub async fn start_session(
        &self,
        user: &User,
        method: &str,
        id_token: Option<String>,
        client: &ClientInfo,
    ) -> Result<SessionId> {
        let now = now_millis();
        let row = SessionRow {
            id: SessionId::new(new_id()),
            user_id: user.id.clone(),
            method: method.to_string(),
            user_agent: client.user_agent.chars().take(300).collect(),
            ip: client.ip.to_string(),
            id_token,
            created_at: now,
            last_seen_at: now,
        };
        repo::insert_session(&self.db, &row).await?;
        Ok(row.id)
    }

    /// Who session `session_id` is signed in as, if it is still valid: not revoked, not
    /// idle too long, not older than the absolute limit, user not disabled.
    pub async fn authenticate(&self, session_id: &SessionId) -> Result<SessionCheck> {
        let Some(row) = repo::find_session(&self.db, session_id).await? else { return Ok(SessionCheck::Ended) };
        let now = now_millis();
        let idle_ms = self.config.session_idle_minutes as i64 * 60_000;
        let absolute_ms = self.config.session_absolute_days as i64 * 86_400_000;
        if now - row.last_seen_at > idle_ms || now - row.created_at > absolute_ms {
            repo::delete_session(&self.db, &row.user_id, &row.id).await?;
            return Ok(SessionCheck::Ended);
        }
        let user = match repo::find_by_id(&self.db, &row.user_id).await? {
            Some(user) if !user.disabled => user,
            _ => return Ok(SessionCheck::Ended),
        };
        let touched = now - row.last_seen_at > TOUCH_EVERY_MS;
        if touched {
            repo::touch_session(&self.db, &row.id, now).await?;
        }
        Ok(SessionCheck::Valid { auth: Authenticated { user, session_id: row.id }, touched })
    }

    /// Ends the signed-in session, if any. Returns the provider's logout URL when the
    /// session came from an OpenID provider that supports RP-initiated logout.
    pub async fn sign_out(&self, auth: Option<&Authenticated>) -> Result<Option<url::Url>> {
        let mut logout = None;
        if let Some(auth) = auth {
            if let Some(row) = repo::find_session(&self.db, &auth.session_id).await? {
                if let Some(provider) = row.method.strip_prefix("oidc:") {
                    let after = self.config.public_link("/signin?signed_out=1");
                    logout = self.oidc.logout_url(provider, row.id_token.as_deref(), &after).await;
                }
            }
            repo::delete_session(&self.db, &auth.user.id, &auth.session_id).await?;
        }
        Ok(logout)
    }

    pub async fn sessions(&self, auth: &Authenticated) -> Result<Vec<SessionView>> {
        let rows = repo::list_sessions(&self.db, &auth.user.id).await?;
        Ok(rows
            .into_iter()
            .map(|row| SessionView {
                current: row.id == auth.session_id,
                method: self.method_label(&row.method),
                id: row.id,
                user_agent: row.user_agent,
                ip: row.ip,
                created_at: row.created_at,
                last_seen_at: row.last_seen_at,
            })
            .collect())
    }

    fn method_label(&self, method: &str) -> String {
        match method.strip_prefix("oidc:") {
            Some(provider) => self.oidc.name(provider).unwrap_or(provider).to_string(),
            None => "password".into(),
        }
    }

    /// Names of the providers linked to the user, with the email each reported.
    pub async fn linked_providers(&self, user: &User) -> Result<Vec<(String, Option<String>)>> {
        let links = repo::oidc_links(&self.db, &user.id).await?;
        Ok(links.into_iter().map(|(provider, email)| (self.method_label(&format!("oidc:{provider}")), email)).collect())
    }

    pub async fn revoke_session(&self, auth: &Authenticated, session_id: &SessionId) -> Result<()> {
        if repo::delete_session(&self.db, &auth.user.id, session_id).await? {
            Ok(())
        } else {
            Err(Error::NotFound { what: "session" })
        }
    }

    /// "Sign out everywhere else"; returns how many sessions ended.
    pub async fn revoke_other_sessions(&self, auth: &Authenticated) -> Result<u64> {
        repo::delete_sessions_except(&self.db, &auth.user.id, &auth.session_id).await
    }

    /// A single-use sign-up link, valid for `days`. Only admins (or the CLI, `by = None`)
    /// may create one.
    pub async fn create_invite(&self, by: Option<&User>, days: u32) -> Result<InviteLink> {
        if let Some(user) = by {
            if user.role() != Role::Admin {
                return Err(Error::forbidden(
                    ErrorCode::AdminRequired,
                    "Only administrators can create sign-up invitations.",
                ));
            }
        }
        if !(1..=90).contains(&days) {
            return Err(Error::invalid("expires_in_days", "must be between 1 and 90"));
        }
        let token = random_token();
        let expires = now_millis() + i64::from(days) * 86_400_000;
        repo::insert_invite(&self.db, &hash_token(&token), by.map(|u| &u.id), expires).await?;
        let url = self.config.public_link(&format!("{}?invite={token}", types::routes::SIGN_UP.path));
        Ok(InviteLink { token, url })
    }

    /// Starts an OpenID sign-in: the URL to send the browser to, and the attempt its
    /// session must remember until it comes back.
    pub async fn oidc_begin(&self, provider: &str, next: &str) -> Result<(url::Url, PendingLogin)> {
        self.oidc.begin(provider, &safe_next(next)).await
    }

    /// Completes an OpenID sign-in with the attempt the browser's session remembered
    /// (the caller takes it out of the session first, so a replayed callback finds
    /// nothing). Returns the user, the ID token and where to go next.
    pub async fn oidc_finish(
        &self,
        pending: Option<PendingLogin>,
        provider: &str,
        code: &str,
        state: &str,
    ) -> Result<(User, String, String)> {
        let Some(pending) = pending else {
            return Err(Error::invalid(
                "state",
                "this sign-in attempt has expired or was already used; please start again",
            ));
        };
        let next = pending.next.clone();
        let identity = self.oidc.finish(pending, provider, code, state).await?;
        if let Some(user_id) = repo::oidc_user(&self.db, provider, &identity.subject).await? {
            let user = repo::find_by_id(&self.db, &user_id).await?.ok_or(Error::NotFound { what: "user" })?;
            if user.disabled {
                return Err(Error::forbidden(ErrorCode::AccountDisabled, "This account is disabled."));
            }
            return Ok((user, identity.id_token, next));
        }
        let email = identity.email.clone().ok_or_else(|| {
            Error::Forbidden(
                "The provider did not share an email address, which Heirloom needs for a new account.".into(),
            )
        })?;
        let mut tx = self.db.begin().await?;
        let user = match repo::find_by_email(&self.db, &email).await? {
            Some(existing) if identity.email_verified => existing,
            Some(_) => {
                return Err(Error::conflict(
                    ErrorCode::EmailTaken,
                    format!(
                        "An account with {email} already exists, and the provider has not verified that this email \
                         is yours. Sign in with your password instead."
                    ),
                ))
            }
            None => {
                let role = if repo::count(&mut tx).await? == 0 { Role::Admin } else { Role::Member };
                let name = identity.name.clone().unwrap_or_else(|| email.split('@').next().unwrap_or("").to_string());
                repo::insert_tx(&mut tx, &NewUser::new(&email, &name, role)?).await?
            }
        };
        repo::link_oidc_tx(&mut tx, provider, &identity.subject, &user.id, Some(&email)).await?;
        if identity.email_verified && user.email == normalize_email(&email) {
            // The provider vouches for the address.
            repo::mark_verified_tx(&mut tx, &user.id, &user.email, now_millis()).await?;
        }
        tx.commit().await?;
        Ok((user, identity.id_token, next))
    }
}

/// Where to send a browser after sign-in: `next` when it is a path on this site, else `/`.
/// Browsers drop tabs and line breaks from a URL and read `\` as `/`, so `/<TAB>/evil.example`
/// and `/\evil.example` both mean `//evil.example`, another site; and a control character
/// cannot be put in a `Location` header at all (that was a 500 after a successful sign-in).
/// `next` also crosses a page once (the sign-in page's query string is decoded into its
/// form), so the checks apply to the text as given and once percent-decoded:
/// `/%09/evil.example` is refused too.
pub fn safe_next(next: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(next).decode_utf8();
    match decoded {
        Ok(decoded) if is_same_site_path(next) && is_same_site_path(&decoded) => next.to_string(),
        _ => "/".into(),
    }
}

/// One `/`, not `//` or `/\`; no backslash, whitespace or control character anywhere.
fn is_same_site_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.chars().any(|c| c == '\\' || c.is_whitespace() || c.is_control())
}

pub fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Tokens are stored hashed so a database leak does not leak usable links.
pub fn hash_token(token: &str) -> String {
    use blake2::{Blake2b512, Digest};
    Blake2b512::digest(token.as_bytes()).iter().take(32).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_paths_stay_on_this_site() {
        assert_eq!(safe_next("/account?tab=1"), "/account?tab=1");
        assert_eq!(safe_next("https://evil.example/"), "/");
        assert_eq!(safe_next("//evil.example/"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next(""), "/");
        assert_eq!(safe_next("/stories/0190b8a4?tab=history#top"), "/stories/0190b8a4?tab=history#top");
        assert_eq!(safe_next("/search?q=caf%C3%A9"), "/search?q=caf%C3%A9");
        // Read by a browser as another host, raw or once decoded; or not a header value.
        for hostile in [
            "/\t/evil.example/",
            "/%09/evil.example/",
            "/%0A/evil.example",
            "/%0d%0aSet-Cookie:%20x=1",
            "/\r\nLocation: https://evil.example",
            "/%00",
            "/\u{0}",
            "/%7F",
            "/\u{7f}",
            "/%5Cevil.example",
            "/%5C%5Cevil.example",
            "/%2F/evil.example",
            "/%2f%2fevil.example",
            "/a\\b",
            " /account",
            "/account ",
            "/%20/evil.example",
            "/\u{85}evil.example",
            "/\u{2028}evil.example",
            "/%FF",
            "\\/evil.example",
            "https:/evil.example",
            "javascript:alert(1)",
        ] {
            assert_eq!(safe_next(hostile), "/", "{hostile:?}");
        }
    }

    #[test]
    fn tokens_are_random_and_hashed_stably() {
        let a = random_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_token());
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_ne!(hash_token(&a), a);
    }
}

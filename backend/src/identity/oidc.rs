//! OpenID Connect sign-in: authorization code flow with PKCE, state and nonce, ID
//! tokens verified against the issuer's keys found by discovery. Each configured
//! provider is discovered on first use and remembered.

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreUserInfoClaims};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl,
    LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl,
    ProviderMetadataWithLogout, RedirectUrl, Scope, SubjectIdentifier, TokenResponse,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;
use tracing::Instrument;
use types::ProviderView;

use crate::config::OidcProviderConfig;
use crate::error::{Context, Error, Result};

type Client =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// What the browser's session remembers between leaving for the provider and coming back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    pub provider: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// Where to go after signing in (a path on this site).
    pub next: String,
}

/// Who the provider says signed in.
#[derive(Debug, Clone)]
pub struct ProviderIdentity {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    /// Kept for RP-initiated logout (`id_token_hint`).
    pub id_token: String,
}

struct Provider {
    config: OidcProviderConfig,
    metadata: OnceCell<ProviderMetadataWithLogout>,
}

pub struct OidcProviders {
    providers: Vec<Provider>,
    http: reqwest::Client,
    public_url: url::Url,
}

impl OidcProviders {
    pub fn new(configs: &[OidcProviderConfig], public_url: &url::Url) -> OidcProviders {
        // Static settings and rustls with its built-in roots: build() has nothing that can fail.
        #[allow(clippy::expect_used)]
        let http = reqwest::Client::builder()
            // Following redirects here would let a provider point the token request elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .expect("HTTP client with static settings");
        OidcProviders {
            providers: configs
                .iter()
                .map(|config| Provider { config: config.clone(), metadata: OnceCell::new() })
                .collect(),
            http,
            public_url: public_url.clone(),
        }
    }

    pub fn list(&self) -> Vec<ProviderView> {
        self.providers.iter().map(|p| ProviderView { id: p.config.id.clone(), name: p.config.name.clone() }).collect()
    }

    pub fn name(&self, id: &str) -> Option<&str> {
        self.providers.iter().find(|p| p.config.id == id).map(|p| p.config.name.as_str())
    }

    fn provider(&self, id: &str) -> Result<&Provider> {
        self.providers
            .iter()
            .find(|p| p.config.id == id)
            .ok_or_else(|| Error::invalid("provider", &format!("there is no sign-in provider called `{id}`")))
    }

    async fn client<'a>(&'a self, provider: &'a Provider) -> Result<(Client, &'a ProviderMetadataWithLogout)> {
        let metadata = provider
            .metadata
            .get_or_try_init(|| async {
                let issuer = IssuerUrl::new(provider.config.issuer.to_string().trim_end_matches('/').to_string())
                    .context("reading the provider's issuer URL")?;
                ProviderMetadataWithLogout::discover_async(issuer, &self.http).await.map_err(|err| {
                    tracing::warn!(provider = %provider.config.id, error = %err, "OpenID discovery failed");
                    Error::Unavailable(format!("{} cannot be reached right now", provider.config.name))
                })
            })
            .await?;
        let redirect =
            RedirectUrl::new(self.callback_url(&provider.config.id)).context("making the sign-in callback URL")?;
        let client = CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(provider.config.client_id.clone()),
            Some(ClientSecret::new(provider.config.client_secret.expose_secret().to_string())),
        )
        .set_redirect_uri(redirect);
        Ok((client, metadata))
    }

    /// The address the provider sends the browser back to; register it at the provider.
    pub fn callback_url(&self, id: &str) -> String {
        format!("{}/auth/oidc/{id}/callback", self.public_url.as_str().trim_end_matches('/'))
    }

    /// The provider's authorization URL, and what to remember until the browser returns.
    pub async fn begin(&self, id: &str, next: &str) -> Result<(url::Url, PendingLogin)> {
        let provider = self.provider(id)?;
        let (client, _) = self.client(provider).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let pending = PendingLogin {
            provider: id.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            next: next.to_string(),
        };
        Ok((url, pending))
    }

    /// Checks the returning browser against what was remembered, redeems the code and
    /// verifies the ID token (issuer, audience, signature, expiry, nonce).
    pub async fn finish(&self, pending: PendingLogin, id: &str, code: &str, state: &str) -> Result<ProviderIdentity> {
        let expired =
            || Error::invalid("state", "this sign-in attempt has expired or was already used; please start again");
        if pending.provider != id || pending.state != state {
            return Err(expired());
        }
        if code.is_empty() {
            return Err(Error::invalid("code", "the provider did not send an authorization code"));
        }
        let provider = self.provider(id)?;
        let (client, _) = self.client(provider).await?;
        let refused = |what: &str, err: &dyn std::fmt::Display| {
            tracing::warn!(provider = %id, error = %err, "OpenID sign-in refused: {what}");
            Error::Forbidden(
                format!("{} did not confirm who you are ({what}). Please try again.", provider.config.name).into(),
            )
        };
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|err| refused("no token endpoint", &err))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier))
            .request_async(&self.http)
            .instrument(tracing::info_span!("auth.exchange", provider = %id))
            .await
            .map_err(|err| refused("code exchange failed", &err))?;
        let id_token = tokens.id_token().ok_or_else(|| refused("no ID token", &"missing id_token"))?;
        let mut identity = verify_id_token(&client, id_token, &Nonce::new(pending.nonce))
            .map_err(|err| refused("invalid ID token", &err))?;
        if identity.email.is_none() {
            // Many providers put email only in userinfo.
            if let Ok(request) =
                client.user_info(tokens.access_token().clone(), Some(SubjectIdentifier::new(identity.subject.clone())))
            {
                let info: CoreUserInfoClaims =
                    request.request_async(&self.http).await.map_err(|err| refused("userinfo failed", &err))?;
                identity.email = info.email().map(|e| e.as_str().to_lowercase());
                identity.email_verified = info.email_verified().unwrap_or(false);
                if identity.name.is_none() {
                    identity.name = info.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_string());
                }
            }
        }
        Ok(identity)
    }

    /// Verifies a serialized ID token as provider `id` would accept it at sign-in.
    pub async fn verify(&self, id: &str, id_token: &str, nonce: &str) -> Result<ProviderIdentity> {
        let provider = self.provider(id)?;
        let (client, _) = self.client(provider).await?;
        let token: CoreIdToken = id_token.parse().map_err(|_| Error::invalid("id_token", "is not a JWT"))?;
        verify_id_token(&client, &token, &Nonce::new(nonce.to_string()))
            .map_err(|message| Error::Forbidden(message.into()))
    }

    /// The provider's end-session URL when it supports RP-initiated logout.
    pub async fn logout_url(&self, id: &str, id_token: Option<&str>, after: &str) -> Option<url::Url> {
        let provider = self.provider(id).ok()?;
        let (_, metadata) = self.client(provider).await.ok()?;
        let endpoint = metadata.additional_metadata().end_session_endpoint.clone()?;
        let mut request = LogoutRequest::from(endpoint)
            .set_client_id(ClientId::new(provider.config.client_id.clone()))
            .set_post_logout_redirect_uri(PostLogoutRedirectUrl::new(after.to_string()).ok()?);
        if let Some(token) = id_token.and_then(|t| t.parse::<CoreIdToken>().ok()) {
            request = request.set_id_token_hint(&token);
        }
        Some(request.http_get_url())
    }
}

/// Verifies an ID token for this client (signature by the issuer's keys, issuer,
/// audience, expiry, nonce) and returns who it names.
fn verify_id_token(client: &Client, token: &CoreIdToken, nonce: &Nonce) -> Result<ProviderIdentity, String> {
    let claims = token.claims(&client.id_token_verifier(), nonce).map_err(|err| err.to_string())?;
    Ok(ProviderIdentity {
        subject: claims.subject().to_string(),
        email: claims.email().map(|e| e.as_str().to_lowercase()),
        email_verified: claims.email_verified().unwrap_or(false),
        name: claims.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_string()),
        id_token: token.to_string(),
    })
}

//! Typed configuration: built-in defaults, then an optional `heirloom.toml`, then
//! `HEIRLOOM_*` environment variables (and the conventional `DATABASE_URL`), each layer
//! overriding the one before. Secrets are wrapped so `Debug` and logs never show them.

use std::fmt;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The type of `trusted_proxies` entries, for the code that reads them.
pub use ipnet::IpNet;

/// The file read when no other is named.
pub const DEFAULT_CONFIG_FILE: &str = "heirloom.toml";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Folder for the SQLite database, uploaded media and the search index.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; unset means a SQLite file in `data_dir`.
    pub database_url: Option<SecretString>,
    /// The address people use to reach this instance, used in links and cookies.
    pub public_url: url::Url,
    pub log_format: LogFormat,
    /// A `tracing` filter such as `info` or `heirloom=debug,sqlx=warn`.
    pub log_level: String,
    pub request_timeout_secs: u64,
    pub db_max_connections: u32,
    /// When a SQLite commit reaches the disk: `full` (each commit fsynced before it is
    /// acknowledged) or `normal` (at checkpoints: a power cut loses the last commits).
    pub sqlite_synchronous: crate::db::Synchronous,
    /// Who may create a password account once the first (admin) account exists.
    pub signup: SignupPolicy,
    /// A session unused for this long is signed out.
    pub session_idle_minutes: u64,
    /// A session older than this is signed out however active it is.
    pub session_absolute_days: u64,
    /// Password sign-in attempts allowed per account per minute.
    pub login_attempts_per_account: u32,
    /// Password sign-in attempts allowed per client IP per minute.
    pub login_attempts_per_ip: u32,
    /// OpenID Connect providers offered on the sign-in page.
    pub oidc_providers: Vec<OidcProviderConfig>,
    /// Take the client address from `X-Forwarded-For` (only behind a reverse proxy).
    pub trust_proxy_headers: bool,
    /// Proxies (CIDR ranges) whose entries in `X-Forwarded-For` are skipped when it is read
    /// from the right: the client is the right-most address not in these ranges.
    pub trusted_proxies: Vec<IpNet>,
    /// State-changing requests (POST, PUT, PATCH, DELETE) allowed per client address per minute.
    pub writes_per_minute_per_ip: u32,
    /// Searches (results page, search API, typeahead) allowed per client address per minute.
    pub searches_per_minute_per_ip: u32,
    /// The most relationship steps "how are we related" walks before it stops and says so.
    pub people_max_depth: u32,
    /// The most people "how are we related" visits before it stops and says so.
    pub people_max_visited: u32,
    /// NATS server with JetStream (`nats://host:4222`); unset means the in-process dispatcher.
    pub nats_url: Option<String>,
    /// The JetStream stream (and subject prefix) the outbox is published to.
    pub nats_stream: String,
    /// This replica's id on the event bus (its own consumers are named after it); unset
    /// means one generated on first start and kept in `data_dir/replica-id`. Two live
    /// replicas with one id are refused (`backend::replica`).
    pub replica_id: Option<String>,
    /// Outbound calls may reach loopback, private and link-local addresses (tests, intranet webhooks).
    pub calls_allow_private_networks: bool,
    /// Outbound call timeout.
    pub calls_timeout_secs: u64,
    /// Largest request body an outbound call may carry.
    pub calls_max_body_bytes: u64,
    /// Attempts before an outbound call that keeps getting 5xx or timeouts is marked failed.
    pub calls_max_attempts: u32,
    /// Base64 of 32 random bytes sealing stored credentials; unset means a key file in `data_dir`
    /// (set it when several replicas share one database).
    pub vault_key: Option<SecretString>,
    /// Earlier vault keys (base64), still accepted for opening what they sealed while a key
    /// is rotated: set the new `vault_key`, list the old one here, run
    /// `heirloom rotate-vault-key`, then remove it.
    pub vault_previous_keys: Vec<SecretString>,
    /// The tip recommender: `thompson` (learns from done and skip) or `random`.
    pub tips_policy: String,
    /// Connected apps' tasks older than this are fetched again when a tip is asked for.
    pub tips_sync_interval_secs: u64,
    /// Fetches from one connected app per user per minute (on top of the sync interval).
    pub connector_fetches_per_minute: u32,
    /// The Todoist app's client id (developer.todoist.com); unset disables the connector.
    pub todoist_client_id: Option<String>,
    pub todoist_client_secret: Option<SecretString>,
    /// Todoist's OAuth base: `/oauth/authorize` and `/oauth/access_token` under it.
    pub todoist_auth_url: url::Url,
    /// Todoist's REST API base: `/tasks` under it.
    pub todoist_api_url: url::Url,
    /// S3-compatible endpoint for media (`https://s3.example.org`); unset means AWS's.
    pub s3_endpoint: Option<url::Url>,
    pub s3_region: String,
    /// Media go to this bucket when set; otherwise to `data_dir/media`.
    pub s3_bucket: Option<String>,
    /// Address buckets as `endpoint/bucket` (MinIO, Garage, most self-hosted stores).
    pub s3_force_path_style: bool,
    pub s3_access_key_id: Option<String>,
    pub s3_secret_access_key: Option<SecretString>,
    /// Largest file one upload may be, in bytes.
    pub media_max_bytes: u64,
    /// Content types accepted, by declared type and by sniffed content.
    pub media_allowed_types: Vec<String>,
    /// Bytes of media one person may keep (uploads in progress count).
    pub media_user_quota_bytes: u64,
    /// Bytes of media the whole instance may keep; unset means no limit.
    pub media_instance_quota_bytes: Option<u64>,
    /// Size of each upload part; an interrupted upload resumes from the last whole part.
    pub media_part_size_bytes: u64,
    /// How long signed media and upload URLs stay valid.
    pub media_url_ttl_secs: u64,
    /// An upload not completed within this many hours is abandoned and its bytes freed.
    pub media_upload_expiry_hours: u64,
    /// Remove location (GPS) data from served copies of photos.
    pub media_strip_gps: bool,
    /// Space on the data folder's disk that media and the search index leave to the
    /// database: uploads and index writes are refused (507) once only this much is free.
    pub disk_reserve_mib: u64,
    /// clamd to scan uploads with: `tcp://host:3310` or `unix:/run/clamav/clamd.ctl`;
    /// unset means files are marked "not scanned".
    pub clamd_address: Option<String>,
    /// The ffmpeg (and, beside it, ffprobe) program for posters, transcodes and audio
    /// normalisation; `off` disables them and originals are served as uploaded.
    pub ffmpeg: String,
    /// The mail server: `smtps://user:password@host:465` (TLS),
    /// `smtp://user:password@host:587?tls=required` (STARTTLS) or `smtp://host:25`
    /// (unencrypted, for a relay on the same host); unset means no email is sent.
    pub smtp_url: Option<SecretString>,
    /// The sender of Heirloom's email: `Heirloom <heirloom@example.org>`.
    pub email_from: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignupPolicy {
    Open,
    InviteOnly,
    Closed,
}

/// One OpenID Connect provider (Google, Keycloak, Authentik, Cognito…), found by
/// discovery at `issuer`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcProviderConfig {
    /// Short name used in URLs: `/auth/oidc/{id}/start`.
    pub id: String,
    /// Shown on the button: "Sign in with {name}".
    pub name: String,
    pub issuer: url::Url,
    pub client_id: String,
    pub client_secret: SecretString,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Pretty,
}

const MIB: u64 = 1024 * 1024;
/// The media types accepted unless `media_allowed_types` says otherwise.
pub use crate::media::pipeline::sniff::DEFAULT_MEDIA_TYPES;

/// The built-in defaults, the first layer of every configuration: one value per key that
/// has one (keys without a default, such as the secrets, are left out).
fn defaults() -> serde_json::Value {
    serde_json::json!({
        "data_dir": "./data",
        "public_url": "http://127.0.0.1:3000",
        "log_format": LogFormat::Json,
        "log_level": "info",
        "request_timeout_secs": 30,
        "db_max_connections": 10,
        "sqlite_synchronous": crate::db::Synchronous::Full,
        "signup": SignupPolicy::Open,
        "session_idle_minutes": 7 * 24 * 60,
        "session_absolute_days": 30,
        "login_attempts_per_account": 5,
        "login_attempts_per_ip": 30,
        "oidc_providers": [],
        "trust_proxy_headers": false,
        // A second proxy on the same machine (nginx in front of Caddy) appends loopback.
        "trusted_proxies": ["127.0.0.1/32", "::1/128"],
        "writes_per_minute_per_ip": 600,
        // Far more than a person typing into the search box asks for (one request per
        // pause), far less than what would keep the index busy for everyone else.
        "searches_per_minute_per_ip": 300,
        "people_max_depth": 24,
        "people_max_visited": 200000,
        "nats_stream": "HEIRLOOM_EVENTS",
        "calls_allow_private_networks": false,
        "calls_timeout_secs": 10,
        "calls_max_body_bytes": 256 * 1024,
        "calls_max_attempts": 5,
        "vault_previous_keys": [],
        "tips_policy": "thompson",
        "tips_sync_interval_secs": 300,
        "connector_fetches_per_minute": 10,
        "todoist_auth_url": "https://todoist.com",
        "todoist_api_url": "https://api.todoist.com/rest/v2",
        "s3_region": "us-east-1",
        "s3_force_path_style": false,
        "media_max_bytes": 4 * 1024 * MIB,
        "media_allowed_types": DEFAULT_MEDIA_TYPES.to_vec(),
        "media_user_quota_bytes": 50 * 1024 * MIB,
        "media_part_size_bytes": 8 * MIB,
        "media_url_ttl_secs": 3600,
        "media_upload_expiry_hours": 24,
        "media_strip_gps": true,
        "disk_reserve_mib": 256,
        "ffmpeg": "ffmpeg",
        "email_from": "Heirloom <heirloom@localhost>",
    })
}

impl fmt::Debug for OidcProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcProvider")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("issuer", &self.issuer.as_str())
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .finish()
    }
}

/// The built-in defaults, the first layer of every configuration.
pub fn defaults_figment() -> Figment {
    Figment::from(Serialized::defaults(defaults()))
}

/// Where the configuration file comes from.
#[derive(Debug, Clone)]
pub enum ConfigFile {
    /// `heirloom.toml` in the working directory, read only if present.
    Default,
    /// A file the operator named; it must exist.
    Named(PathBuf),
}

impl Config {
    /// Loads the configuration from the process environment.
    pub fn load(file: ConfigFile) -> Result<Config> {
        Self::from_figment(Self::figment(file)?)
    }

    fn figment(file: ConfigFile) -> Result<Figment> {
        let mut figment = defaults_figment();
        match file {
            ConfigFile::Default => {
                if Path::new(DEFAULT_CONFIG_FILE).exists() {
                    figment = figment.merge(Toml::file_exact(DEFAULT_CONFIG_FILE));
                }
            }
            ConfigFile::Named(path) => {
                if !path.is_file() {
                    return Err(Error::Config {
                        key: "config".into(),
                        message: format!("configuration file {} does not exist", path.display()),
                    });
                }
                figment = figment.merge(Toml::file_exact(path));
            }
        }
        Ok(figment
            .merge(Env::raw().only(&["DATABASE_URL", "NATS_URL"]))
            // HEIRLOOM_CONFIG names the file itself; it is not a setting.
            .merge(Env::prefixed("HEIRLOOM_").ignore(&["CONFIG"])))
    }

    /// Extracts and validates; the error names the first offending key and its source.
    pub fn from_figment(figment: Figment) -> Result<Config> {
        let config: Config = figment.extract().map_err(describe_figment_error)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<()> {
        let invalid = |key: &str, message: &str| Err(Error::Config { key: key.into(), message: message.into() });
        if !matches!(self.public_url.scheme(), "http" | "https") {
            return invalid("public_url", "must start with http:// or https://");
        }
        if self.request_timeout_secs == 0 {
            return invalid("request_timeout_secs", "must be at least 1");
        }
        if self.db_max_connections == 0 {
            return invalid("db_max_connections", "must be at least 1");
        }
        for (key, value) in [
            ("session_idle_minutes", self.session_idle_minutes),
            ("session_absolute_days", self.session_absolute_days),
            ("login_attempts_per_account", self.login_attempts_per_account.into()),
            ("login_attempts_per_ip", self.login_attempts_per_ip.into()),
            ("writes_per_minute_per_ip", self.writes_per_minute_per_ip.into()),
            ("searches_per_minute_per_ip", self.searches_per_minute_per_ip.into()),
            ("people_max_depth", self.people_max_depth.into()),
            ("people_max_visited", self.people_max_visited.into()),
            ("calls_timeout_secs", self.calls_timeout_secs),
            ("calls_max_body_bytes", self.calls_max_body_bytes),
            ("calls_max_attempts", self.calls_max_attempts.into()),
            ("tips_sync_interval_secs", self.tips_sync_interval_secs),
            ("connector_fetches_per_minute", self.connector_fetches_per_minute.into()),
            ("media_max_bytes", self.media_max_bytes),
            ("media_user_quota_bytes", self.media_user_quota_bytes),
            ("media_url_ttl_secs", self.media_url_ttl_secs),
            ("media_upload_expiry_hours", self.media_upload_expiry_hours),
        ] {
            if value == 0 {
                return invalid(key, "must be at least 1");
            }
        }
        let mut seen = std::collections::HashSet::new();
        for provider in &self.oidc_providers {
            let valid_id = !provider.id.is_empty()
                && provider.id.len() <= 32
                && provider.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !valid_id {
                return invalid("oidc_providers.id", &format!("`{}` must be 1-32 of a-z, 0-9 and -", provider.id));
            }
            if !seen.insert(provider.id.as_str()) {
                return invalid("oidc_providers.id", &format!("`{}` is used twice", provider.id));
            }
            if provider.name.trim().is_empty() || provider.client_id.is_empty() {
                return invalid("oidc_providers", &format!("provider `{}` needs a name and a client_id", provider.id));
            }
        }
        if let Some(url) = &self.database_url {
            let url = url.expose_secret();
            if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return invalid("database_url", "must start with sqlite:, postgres:// or postgresql://");
            }
        }
        if let Some(url) = &self.nats_url {
            if !(url.starts_with("nats://") || url.starts_with("tls://")) {
                return invalid("nats_url", "must start with nats:// or tls://");
            }
        }
        let valid_stream = !self.nats_stream.is_empty()
            && self.nats_stream.len() <= 64
            && self.nats_stream.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid_stream {
            return invalid("nats_stream", "must be 1-64 of A-Z, a-z, 0-9, _ and -");
        }
        if self.replica_id.as_deref().is_some_and(|id| !crate::replica::is_valid_id(id)) {
            return invalid("replica_id", "must be 1-64 of A-Z, a-z, 0-9, _ and -");
        }
        if let Some(key) = &self.vault_key {
            if crate::vault::decode_key(key.expose_secret()).is_none() {
                return invalid("vault_key", "must be the base64 of exactly 32 bytes (e.g. `openssl rand -base64 32`)");
            }
        }
        if self.vault_previous_keys.iter().any(|key| crate::vault::decode_key(key.expose_secret()).is_none()) {
            return invalid("vault_previous_keys", "each must be the base64 of exactly 32 bytes");
        }
        self.validate_tips()?;
        self.validate_media()?;
        self.validate_email()?;
        if let Err(err) = tracing_subscriber::EnvFilter::try_new(&self.log_level) {
            return invalid(
                "log_level",
                &format!("`{}` is not a log filter such as `info` or `heirloom=debug`: {err}", self.log_level),
            );
        }
        Ok(())
    }

    fn validate_tips(&self) -> Result<()> {
        let invalid = |key: &str, message: String| Err(Error::Config { key: key.into(), message });
        if crate::tips::PolicyFactory::get(&self.tips_policy).is_none() {
            let names = crate::tips::PolicyFactory::NAMES.join(", ");
            return invalid("tips_policy", format!("`{}` is not a tips policy; use one of {names}", self.tips_policy));
        }
        for (key, url) in [("todoist_auth_url", &self.todoist_auth_url), ("todoist_api_url", &self.todoist_api_url)] {
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return invalid(key, "must be an http:// or https:// URL".into());
            }
        }
        let has_id = self.todoist_client_id.as_deref().is_some_and(|id| !id.trim().is_empty());
        if has_id != self.todoist_client_secret.is_some() {
            return invalid("todoist_client_id", "and todoist_client_secret must be set together".into());
        }
        Ok(())
    }

    fn validate_email(&self) -> Result<()> {
        let invalid = |key: &str, message: &str| Err(Error::Config { key: key.into(), message: message.into() });
        if let Some(smtp) = &self.smtp_url {
            let url = url::Url::parse(smtp.expose_secret()).ok();
            if !url.is_some_and(|u| matches!(u.scheme(), "smtp" | "smtps") && u.host_str().is_some()) {
                return invalid("smtp_url", "must be an smtp:// or smtps:// URL with a host");
            }
        }
        if self.email_from.parse::<lettre::message::Mailbox>().is_err() {
            return invalid("email_from", "must be an address such as `Heirloom <heirloom@example.org>`");
        }
        Ok(())
    }

    fn validate_media(&self) -> Result<()> {
        let invalid = |key: &str, message: String| Err(Error::Config { key: key.into(), message });
        // S3 refuses parts under 5 MiB (but the last); Heirloom's own endpoint takes smaller.
        let min_part = if self.s3_bucket.is_some() { 5 * MIB } else { 64 * 1024 };
        if self.media_part_size_bytes < min_part || self.media_part_size_bytes > 512 * MIB {
            return invalid("media_part_size_bytes", format!("must be between {min_part} and {} bytes", 512 * MIB));
        }
        if self.media_allowed_types.is_empty() {
            return invalid("media_allowed_types", "must name at least one type, e.g. image/jpeg".into());
        }
        for t in &self.media_allowed_types {
            let valid = matches!(t.split_once('/'), Some((top, sub)) if matches!(top, "image" | "audio" | "video") && !sub.is_empty());
            if !valid {
                return invalid("media_allowed_types", format!("`{t}` is not an image/, audio/ or video/ type"));
            }
        }
        if self.media_instance_quota_bytes == Some(0) {
            return invalid("media_instance_quota_bytes", "must be at least 1 (leave it unset for no limit)".into());
        }
        if let Some(bucket) = &self.s3_bucket {
            let valid = (3..=63).contains(&bucket.len())
                && bucket.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
            if !valid {
                return invalid(
                    "s3_bucket",
                    format!("`{bucket}` is not an S3 bucket name (3-63 of a-z, 0-9, - and .)"),
                );
            }
            if self.s3_access_key_id.is_some() != self.s3_secret_access_key.is_some() {
                return invalid("s3_access_key_id", "and s3_secret_access_key must be set together".into());
            }
        }
        if let Some(address) = &self.clamd_address {
            if !(address.starts_with("tcp://") || address.starts_with("unix:")) {
                return invalid("clamd_address", format!("`{address}` must start with tcp:// or unix:"));
            }
        }
        if self.ffmpeg.trim().is_empty() {
            return invalid("ffmpeg", "must name the ffmpeg program, or be `off`".into());
        }
        Ok(())
    }

    /// The settings as `heirloom.toml` lines, secrets left out (for backups): the data
    /// folder, database URL, OIDC providers, vault and S3 keys are not written.
    pub fn public_toml(&self) -> String {
        use serde_json::json;
        let values = [
            ("public_url", json!(self.public_url.as_str())),
            ("log_format", json!(format!("{:?}", self.log_format).to_lowercase())),
            ("log_level", json!(self.log_level)),
            ("request_timeout_secs", json!(self.request_timeout_secs)),
            ("db_max_connections", json!(self.db_max_connections)),
            ("sqlite_synchronous", json!(self.sqlite_synchronous)),
            ("signup", json!(self.signup)),
            ("session_idle_minutes", json!(self.session_idle_minutes)),
            ("session_absolute_days", json!(self.session_absolute_days)),
            ("login_attempts_per_account", json!(self.login_attempts_per_account)),
            ("login_attempts_per_ip", json!(self.login_attempts_per_ip)),
            ("trust_proxy_headers", json!(self.trust_proxy_headers)),
            ("trusted_proxies", json!(self.trusted_proxies.iter().map(ToString::to_string).collect::<Vec<_>>())),
            ("writes_per_minute_per_ip", json!(self.writes_per_minute_per_ip)),
            ("searches_per_minute_per_ip", json!(self.searches_per_minute_per_ip)),
            ("people_max_depth", json!(self.people_max_depth)),
            ("people_max_visited", json!(self.people_max_visited)),
            ("nats_stream", json!(self.nats_stream)),
            ("calls_allow_private_networks", json!(self.calls_allow_private_networks)),
            ("calls_timeout_secs", json!(self.calls_timeout_secs)),
            ("calls_max_body_bytes", json!(self.calls_max_body_bytes)),
            ("calls_max_attempts", json!(self.calls_max_attempts)),
            ("s3_region", json!(self.s3_region)),
            ("s3_force_path_style", json!(self.s3_force_path_style)),
            ("media_max_bytes", json!(self.media_max_bytes)),
            ("media_allowed_types", json!(self.media_allowed_types)),
            ("media_user_quota_bytes", json!(self.media_user_quota_bytes)),
            ("media_part_size_bytes", json!(self.media_part_size_bytes)),
            ("media_url_ttl_secs", json!(self.media_url_ttl_secs)),
            ("media_upload_expiry_hours", json!(self.media_upload_expiry_hours)),
            ("media_strip_gps", json!(self.media_strip_gps)),
            ("disk_reserve_mib", json!(self.disk_reserve_mib)),
            ("ffmpeg", json!(self.ffmpeg)),
            ("tips_policy", json!(self.tips_policy)),
            ("tips_sync_interval_secs", json!(self.tips_sync_interval_secs)),
            ("connector_fetches_per_minute", json!(self.connector_fetches_per_minute)),
            ("todoist_auth_url", json!(self.todoist_auth_url.as_str())),
            ("todoist_api_url", json!(self.todoist_api_url.as_str())),
        ];
        let mut out =
            String::from("# Heirloom settings at backup time, without secrets or addresses of other services.\n");
        for (key, value) in values {
            // JSON strings, numbers, booleans and arrays of strings are valid TOML values.
            out.push_str(&format!("{key} = {value}\n"));
        }
        for (key, value) in [
            ("media_instance_quota_bytes", self.media_instance_quota_bytes.map(|v| json!(v))),
            ("s3_bucket", self.s3_bucket.as_ref().map(|v| json!(v))),
        ] {
            if let Some(value) = value {
                out.push_str(&format!("{key} = {value}\n"));
            }
        }
        out
    }

    /// The database to use: the configured URL, or a SQLite file in the data folder.
    pub fn database_url(&self) -> SecretString {
        match &self.database_url {
            Some(url) => url.clone(),
            None => SecretString::from(format!("sqlite://{}", self.data_dir.join("heirloom.db").display())),
        }
    }

    /// Whether cookies must be marked `Secure`.
    pub fn served_over_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// The absolute URL of `path` (which starts with `/`) on this instance, for links
    /// that leave the site: invitations, sign-up invites, provider redirects.
    pub fn public_link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url.as_str().trim_end_matches('/'))
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_ref().map(|url| redact_url(url.expose_secret())))
            .field("public_url", &self.public_url.as_str())
            .field("log_format", &self.log_format)
            .field("log_level", &self.log_level)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("db_max_connections", &self.db_max_connections)
            .field("sqlite_synchronous", &self.sqlite_synchronous)
            .field("signup", &self.signup)
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("session_absolute_days", &self.session_absolute_days)
            .field("login_attempts_per_account", &self.login_attempts_per_account)
            .field("login_attempts_per_ip", &self.login_attempts_per_ip)
            .field("oidc_providers", &self.oidc_providers)
            .field("trust_proxy_headers", &self.trust_proxy_headers)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("writes_per_minute_per_ip", &self.writes_per_minute_per_ip)
            .field("searches_per_minute_per_ip", &self.searches_per_minute_per_ip)
            .field("people_max_depth", &self.people_max_depth)
            .field("people_max_visited", &self.people_max_visited)
            .field("nats_url", &self.nats_url.as_deref().map(redact_url))
            .field("nats_stream", &self.nats_stream)
            .field("replica_id", &self.replica_id)
            .field("calls_allow_private_networks", &self.calls_allow_private_networks)
            .field("calls_timeout_secs", &self.calls_timeout_secs)
            .field("calls_max_body_bytes", &self.calls_max_body_bytes)
            .field("calls_max_attempts", &self.calls_max_attempts)
            .field("vault_key", &self.vault_key.as_ref().map(|_| "[REDACTED]"))
            .field("vault_previous_keys", &self.vault_previous_keys.iter().map(|_| "[REDACTED]").collect::<Vec<_>>())
            .field("tips_policy", &self.tips_policy)
            .field("tips_sync_interval_secs", &self.tips_sync_interval_secs)
            .field("connector_fetches_per_minute", &self.connector_fetches_per_minute)
            .field("todoist_client_id", &self.todoist_client_id)
            .field("todoist_client_secret", &self.todoist_client_secret.as_ref().map(|_| "[REDACTED]"))
            .field("todoist_auth_url", &self.todoist_auth_url.as_str())
            .field("todoist_api_url", &self.todoist_api_url.as_str())
            .field("s3_endpoint", &self.s3_endpoint.as_ref().map(|u| redact_url(u.as_str())))
            .field("s3_region", &self.s3_region)
            .field("s3_bucket", &self.s3_bucket)
            .field("s3_force_path_style", &self.s3_force_path_style)
            .field("s3_access_key_id", &self.s3_access_key_id)
            .field("s3_secret_access_key", &self.s3_secret_access_key.as_ref().map(|_| "[REDACTED]"))
            .field("media_max_bytes", &self.media_max_bytes)
            .field("media_allowed_types", &self.media_allowed_types)
            .field("media_user_quota_bytes", &self.media_user_quota_bytes)
            .field("media_instance_quota_bytes", &self.media_instance_quota_bytes)
            .field("media_part_size_bytes", &self.media_part_size_bytes)
            .field("media_url_ttl_secs", &self.media_url_ttl_secs)
            .field("media_upload_expiry_hours", &self.media_upload_expiry_hours)
            .field("media_strip_gps", &self.media_strip_gps)
            .field("disk_reserve_mib", &self.disk_reserve_mib)
            .field("clamd_address", &self.clamd_address)
            .field("ffmpeg", &self.ffmpeg)
            .field("smtp_url", &self.smtp_url.as_ref().map(|u| redact_url(u.expose_secret())))
            .field("email_from", &self.email_from)
            .finish()
    }
}

/// Shows which database is used without its password.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("REDACTED"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "[unparseable database url]".into(),
    }
}

fn describe_figment_error(err: figment::Error) -> Error {
    let key = if err.path.is_empty() {
        match &err.kind {
            figment::error::Kind::UnknownField(field, _) => field.clone(),
            figment::error::Kind::MissingField(field) => field.to_string(),
            _ => "config".into(),
        }
    } else {
        err.path.join(".")
    };
    let source = err.metadata.as_ref().map(|meta| {
        let path: Vec<&str> = err.path.iter().map(String::as_str).collect();
        match &meta.source {
            Some(figment::Source::File(file)) => format!("in {}", file.display()),
            _ if meta.name.contains("environment") => {
                let name = meta.interpolate(&err.profile.clone().unwrap_or_default(), &path);
                let prefix = if meta.name.contains("HEIRLOOM_") { "HEIRLOOM_" } else { "" };
                format!("from environment variable {prefix}{name}")
            }
            _ => format!("from {}", meta.name),
        }
    });
    // serde quotes a list of expected values inside figment's own quotes: ``a` or `b``.
    let kind = err.kind.to_string().replace("``", "`").replace("`one of ", "one of ");
    let message = match source {
        Some(source) => format!("{kind} ({source})"),
        None => kind,
    };
    Error::Config { key, message }
}

/// Creates the data folder if missing and proves it is writable, so a bad mount is
/// reported at start with its path rather than on the first upload.
pub fn prepare_data_dir(dir: &Path) -> Result<()> {
    let fail =
        |what: &str, err: std::io::Error| Error::DataDir { path: dir.to_path_buf(), message: format!("{what}: {err}") };
    let created = !dir.exists();
    std::fs::create_dir_all(dir).map_err(|e| fail("cannot be created", e))?;
    if created {
        // The new folder's name reaches the disk with an fsync of the folder above it.
        let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if let Err(err) = std::fs::File::open(parent).and_then(|f| f.sync_all()) {
            tracing::warn!(folder = %parent.display(), "could not sync the data folder's parent: {err}");
        }
    }
    let probe = dir.join(".heirloom-write-check");
    std::fs::write(&probe, b"ok").map_err(|e| fail("is not writable", e))?;
    std::fs::remove_file(&probe).map_err(|e| fail("is not writable", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(toml: &str, env: &[(&str, &str)]) -> Result<Config> {
        let mut figment = defaults_figment().merge(Toml::string(toml));
        for (key, value) in env {
            figment = figment.merge(Serialized::default(key, value));
        }
        Config::from_figment(figment)
    }

    #[test]
    fn defaults_are_valid_and_use_sqlite_in_the_data_folder() {
        let config = load("", &[]).unwrap();
        assert_eq!(config.data_dir, PathBuf::from("./data"));
        assert_eq!(config.database_url().expose_secret(), "sqlite://./data/heirloom.db");
        assert!(!config.served_over_https());
    }

    #[test]
    fn a_wrong_type_names_the_key() {
        let err = load("request_timeout_secs = \"soon\"", &[]).unwrap_err();
        match err {
            Error::Config { key, message } => {
                assert_eq!(key, "request_timeout_secs");
                assert!(message.contains("soon"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn an_unknown_key_is_refused_by_name() {
        let err = load("data_folder = \"/x\"", &[]).unwrap_err();
        assert!(matches!(err, Error::Config { ref key, .. } if key == "data_folder"), "{err:?}");
    }

    #[test]
    fn semantic_checks_name_the_key() {
        for (toml, bad_key) in [
            ("public_url = \"ftp://example.org\"", "public_url"),
            ("request_timeout_secs = 0", "request_timeout_secs"),
            ("database_url = \"mysql://x\"", "database_url"),
            ("log_level = \"heirloom=loud\"", "log_level"),
            ("log_format = \"xml\"", "log_format"),
            ("replica_id = \"web.1\"", "replica_id"),
        ] {
            let err = load(toml, &[]).unwrap_err();
            assert!(matches!(err, Error::Config { ref key, .. } if key == bad_key), "{toml}: {err:?}");
        }
    }

    #[test]
    fn trusted_proxies_are_cidr_ranges_with_loopback_by_default() {
        let config = load("", &[]).unwrap();
        let defaults: Vec<String> = config.trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(defaults, ["127.0.0.1/32", "::1/128"]);
        let config = load("trusted_proxies = [\"10.0.0.0/8\", \"2001:db8::/32\"]", &[]).unwrap();
        assert!(config.trusted_proxies[0].contains(&"10.1.2.3".parse::<std::net::IpAddr>().unwrap()));
        let again = load(&config.public_toml(), &[]).unwrap();
        assert_eq!(again.trusted_proxies, config.trusted_proxies);
        // An address without its prefix length, or no address at all, names the key.
        for bad in ["trusted_proxies = [\"10.0.0.1\"]", "trusted_proxies = [\"proxy.local/32\"]"] {
            let err = load(bad, &[]).unwrap_err();
            assert!(
                matches!(err, Error::Config { ref key, .. } if key.starts_with("trusted_proxies")),
                "{bad}: {err:?}"
            );
        }
        let from_env: figment::value::Value = r#"["192.168.0.0/16"]"#.parse().unwrap();
        let config =
            Config::from_figment(defaults_figment().merge(Serialized::default("trusted_proxies", from_env))).unwrap();
        assert_eq!(config.trusted_proxies[0].to_string(), "192.168.0.0/16");
    }

    #[test]
    fn debug_never_shows_the_database_password() {
        let config = load("database_url = \"postgres://heirloom:hunter2@db/heirloom\"", &[]).unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("REDACTED"), "{shown}");
    }

    #[test]
    fn oidc_providers_come_from_one_environment_value() {
        let env = r#"[{ id = "kc", name = "Keycloak", issuer = "https://id.example/realms/x", client_id = "heirloom", client_secret = "shh" }]"#;
        let config = load("", &[("oidc_providers", env)]);
        // Serialized::default stores the raw string; figment's Env parses it as TOML, as the CLI test shows.
        assert!(config.is_err());
        let config = load(&format!("oidc_providers = {env}"), &[]).unwrap();
        assert_eq!(config.oidc_providers[0].name, "Keycloak");
        assert!(!format!("{config:?}").contains("shh"));
        let twice = format!("oidc_providers = [{0}, {0}]", &env[1..env.len() - 1]);
        assert!(matches!(load(&twice, &[]), Err(Error::Config { ref key, .. }) if key == "oidc_providers.id"));
    }

    #[test]
    fn media_settings_are_checked_and_lists_come_from_one_environment_value() {
        // The chart renders lists as JSON arrays; figment's environment parser reads them.
        let from_env: figment::value::Value = r#"["image/jpeg","video/mp4"]"#.parse().unwrap();
        let config =
            Config::from_figment(defaults_figment().merge(Serialized::default("media_allowed_types", from_env)))
                .unwrap();
        assert_eq!(config.media_allowed_types, ["image/jpeg", "video/mp4"]);
        assert!(config.s3_bucket.is_none(), "media stay in the data folder by default");
        for (toml, bad_key) in [
            ("media_allowed_types = [\"text/html\"]", "media_allowed_types"),
            ("media_allowed_types = []", "media_allowed_types"),
            ("media_part_size_bytes = 1024", "media_part_size_bytes"),
            ("s3_bucket = \"heirloom\"\nmedia_part_size_bytes = 1048576", "media_part_size_bytes"),
            ("s3_bucket = \"Not_A_Bucket\"", "s3_bucket"),
            ("s3_bucket = \"heirloom\"\ns3_access_key_id = \"AK\"", "s3_access_key_id"),
            ("clamd_address = \"localhost:3310\"", "clamd_address"),
            ("media_instance_quota_bytes = 0", "media_instance_quota_bytes"),
            ("ffmpeg = \" \"", "ffmpeg"),
        ] {
            let err = load(toml, &[]).unwrap_err();
            assert!(matches!(err, Error::Config { ref key, .. } if key == bad_key), "{toml}: {err:?}");
        }
        let s3 = load("s3_bucket = \"heirloom\"\ns3_access_key_id = \"AK\"\ns3_secret_access_key = \"hunter2\"", &[])
            .unwrap();
        assert!(!format!("{s3:?}").contains("hunter2"));
    }

    #[test]
    fn public_settings_read_back_and_hold_no_secret() {
        let config = load("database_url = \"postgres://h:hunter2@db/h\"\nvault_key = \"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\"\nsignup = \"closed\"", &[]).unwrap();
        let text = config.public_toml();
        assert!(!text.contains("hunter2") && !text.contains("MDEy"), "{text}");
        let again = load(&text, &[]).unwrap();
        assert_eq!(again.signup, SignupPolicy::Closed);
        assert_eq!(again.media_allowed_types, config.media_allowed_types);
    }

    #[test]
    fn tips_and_vault_rotation_settings_are_checked_and_secrets_redacted() {
        let config = load("", &[]).unwrap();
        assert_eq!(config.tips_policy, "thompson");
        assert!(config.todoist_client_id.is_none() && config.vault_previous_keys.is_empty());
        for (toml, bad_key) in [
            ("tips_policy = \"linucb\"", "tips_policy"),
            ("tips_sync_interval_secs = 0", "tips_sync_interval_secs"),
            ("connector_fetches_per_minute = 0", "connector_fetches_per_minute"),
            ("todoist_client_id = \"abc\"", "todoist_client_id"),
            ("todoist_api_url = \"ftp://api.example\"", "todoist_api_url"),
            ("vault_previous_keys = [\"short\"]", "vault_previous_keys"),
        ] {
            let err = load(toml, &[]).unwrap_err();
            assert!(matches!(err, Error::Config { ref key, .. } if key == bad_key), "{toml}: {err:?}");
        }
        let old = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
        let config = load(
            &format!(
                "tips_policy = \"random\"\ntodoist_client_id = \"app\"\ntodoist_client_secret = \"hunter2\"\n\
                 vault_previous_keys = [\"{old}\"]"
            ),
            &[],
        )
        .unwrap();
        assert_eq!(config.vault_previous_keys.len(), 1);
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2") && !shown.contains(old), "{shown}");
        // The chart and .env files give lists as one JSON value.
        let from_env: figment::value::Value = format!("[\"{old}\"]").parse().unwrap();
        let config =
            Config::from_figment(defaults_figment().merge(Serialized::default("vault_previous_keys", from_env)))
                .unwrap();
        assert_eq!(config.vault_previous_keys.len(), 1);
    }

    #[test]
    fn log_filters_with_targets_are_accepted() {
        assert!(load("log_level = \"info,heirloom=debug,sqlx=warn\"", &[]).is_ok());
    }

    #[test]
    fn the_data_folder_is_created_when_missing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b/data");
        prepare_data_dir(&dir).unwrap();
        assert!(dir.is_dir());
    }

    #[test]
    fn a_data_folder_that_is_a_file_is_a_clear_error() {
        let tmp = tempfile::NamedTempFile::new().unwrap();
        let err = prepare_data_dir(tmp.path()).unwrap_err();
        assert!(err.to_string().contains(&tmp.path().display().to_string()), "{err}");
    }
}

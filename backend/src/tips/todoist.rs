//! Todoist: OAuth2 authorization code flow (the `oauth2` crate), open tasks from its
//! REST API, completion by `POST /tasks/{id}/close` through the calls executor. Base
//! URLs come from configuration so tests (and proxies) can point them elsewhere.

use std::time::Duration;

use async_trait::async_trait;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, RequestTokenError, Scope, TokenResponse,
    TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use types::CallInput;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::tips::connector::{Connector, ConnectorItem, Credential, FetchError};

/// Largest task list read (Todoist's own limit is far below it).
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Tasks kept per sync; the rest would never be suggested anyway.
const MAX_TASKS: usize = 500;
/// Attempts for a fetch that meets a 5xx, a 429 or a dropped connection.
const FETCH_ATTEMPTS: u32 = 3;
const SCOPE: &str = "data:read_write";

#[derive(Clone)]
pub struct TodoistSettings {
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    /// `https://todoist.com`: `/oauth/authorize` and `/oauth/access_token` under it.
    pub auth_url: url::Url,
    /// `https://api.todoist.com/rest/v2`: `/tasks` under it.
    pub api_url: url::Url,
    pub allow_private_networks: bool,
    pub timeout: Duration,
    pub first_backoff: Duration,
}

impl TodoistSettings {
    pub fn from_config(config: &Config) -> TodoistSettings {
        TodoistSettings {
            client_id: config.todoist_client_id.clone().filter(|id| !id.trim().is_empty()),
            client_secret: config.todoist_client_secret.clone(),
            auth_url: config.todoist_auth_url.clone(),
            api_url: config.todoist_api_url.clone(),
            allow_private_networks: config.calls_allow_private_networks,
            timeout: Duration::from_secs(config.calls_timeout_secs),
            first_backoff: Duration::from_millis(300),
        }
    }
}

pub struct Todoist {
    settings: TodoistSettings,
    http: reqwest::Client,
}

/// One task as `GET /rest/v2/tasks` returns it (fields Heirloom uses; others ignored).
#[derive(Debug, Deserialize)]
struct Task {
    id: serde_json::Value,
    #[serde(default)]
    content: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    due: Option<Due>,
    #[serde(default)]
    priority: i64,
}

#[derive(Debug, Deserialize)]
struct Due {
    #[serde(default)]
    date: String,
    #[serde(default)]
    string: String,
}

fn under(base: &url::Url, segments: &[&str]) -> url::Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty();
        for segment in segments {
            path.push(segment);
        }
    }
    url
}

impl Todoist {
    pub fn new(settings: TodoistSettings) -> Todoist {
        // The calls executor's client: the SSRF guard, no redirects (a redirect must not
        // carry a token or a code elsewhere), the calls timeout.
        let http = crate::calls::guard::client(settings.allow_private_networks, settings.timeout);
        Todoist { settings, http }
    }

    fn oauth_client(
        &self,
    ) -> Result<
        BasicClient<
            oauth2::EndpointSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointSet,
        >,
    > {
        let (Some(id), Some(secret)) = (&self.settings.client_id, &self.settings.client_secret) else {
            return Err(Error::conflict(
                types::ErrorCode::ConnectorNotConfigured,
                "Todoist is not set up on this instance: an administrator must set todoist_client_id and \
                 todoist_client_secret.",
            ));
        };
        Ok(BasicClient::new(ClientId::new(id.clone()))
            .set_client_secret(ClientSecret::new(secret.expose_secret().to_string()))
            .set_auth_uri(AuthUrl::from_url(under(&self.settings.auth_url, &["oauth", "authorize"])))
            .set_token_uri(TokenUrl::from_url(under(&self.settings.auth_url, &["oauth", "access_token"])))
            // Todoist takes client_id and client_secret as form fields, not HTTP Basic.
            .set_auth_type(AuthType::RequestBody))
    }

    pub fn tasks_url(&self) -> url::Url {
        under(&self.settings.api_url, &["tasks"])
    }

    async fn fetch_once(&self, credential: &Credential) -> std::result::Result<Vec<ConnectorItem>, (FetchError, bool)> {
        let response = self
            .http
            .get(self.tasks_url())
            .header(reqwest::header::AUTHORIZATION, credential.authorization())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|err| {
                let retry = err.is_timeout() || err.is_connect() || err.is_request();
                (FetchError::Failed(format!("Todoist could not be reached ({})", short_reason(&err))), retry)
            })?;
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err((
                FetchError::Unauthorized(
                    "Todoist no longer accepts Heirloom's access (it was revoked or has expired). Connect again \
                     to see your tasks."
                        .into(),
                ),
                false,
            ));
        }
        if !status.is_success() {
            let retry = status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS;
            return Err((FetchError::Failed(format!("Todoist answered HTTP {}", status.as_u16())), retry));
        }
        let bytes = response.bytes().await.map_err(|err| {
            (FetchError::Failed(format!("Todoist's answer broke off ({})", short_reason(&err))), true)
        })?;
        if bytes.len() > MAX_BODY_BYTES {
            return Err((FetchError::Failed("Todoist's task list is too large to read".into()), false));
        }
        let tasks: Vec<Task> = serde_json::from_slice(&bytes)
            .map_err(|err| (FetchError::Failed(format!("Todoist's task list was not understood: {err}")), false))?;
        Ok(tasks.into_iter().take(MAX_TASKS).filter_map(item).collect())
    }
}

fn short_reason(err: &reqwest::Error) -> &'static str {
    if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else {
        "transfer failed"
    }
}

fn item(task: Task) -> Option<ConnectorItem> {
    let external_id = match task.id {
        serde_json::Value::String(id) => id,
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    if external_id.is_empty() || external_id.len() > 100 {
        return None;
    }
    let (due, revision) = match task.due {
        Some(due) => (if due.string.is_empty() { due.date.clone() } else { due.string }, due.date),
        None => (String::new(), String::new()),
    };
    Some(ConnectorItem {
        title: task.content.chars().take(500).collect(),
        body: task.description.chars().take(2000).collect(),
        url: if task.url.starts_with("https://") || task.url.starts_with("http://") { task.url } else { String::new() },
        due,
        priority: task.priority.clamp(1, 4),
        revision,
        external_id,
    })
}

#[async_trait]
impl Connector for Todoist {
    fn name(&self) -> &'static str {
        "todoist"
    }

    fn display_name(&self) -> &'static str {
        "Todoist"
    }

    fn enabled(&self) -> bool {
        self.settings.client_id.is_some() && self.settings.client_secret.is_some()
    }

    fn begin_oauth(&self, state: &str) -> Result<url::Url> {
        let client = self.oauth_client()?;
        let state = state.to_string();
        let (url, _) = client.authorize_url(move || CsrfToken::new(state)).add_scope(Scope::new(SCOPE.into())).url();
        Ok(url)
    }

    async fn finish_oauth(&self, code: &str) -> Result<Credential> {
        let client = self.oauth_client()?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let answer = client.exchange_code(AuthorizationCode::new(code.to_string())).request_async(&self.http).await;
            match answer {
                Ok(token) => {
                    return Ok(Credential {
                        access_token: SecretString::from(token.access_token().secret().to_string()),
                        token_type: "Bearer".into(),
                        refresh_token: token.refresh_token().map(|t| SecretString::from(t.secret().to_string())),
                        expires_at: token.expires_in().map(|d| {
                            crate::time::now_millis().saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
                        }),
                        scope: SCOPE.into(),
                    })
                }
                // The request never reached Todoist: the code is unused, trying again is safe.
                Err(RequestTokenError::Request(oauth2::HttpClientError::Reqwest(err)))
                    if err.is_connect() && attempt < FETCH_ATTEMPTS =>
                {
                    tokio::time::sleep(self.settings.first_backoff * attempt).await;
                }
                // Never the raw body: an odd answer could carry a token.
                Err(RequestTokenError::ServerResponse(response)) => {
                    tracing::warn!(error = %response.error(), "Todoist refused the authorization code");
                    return Err(Error::Forbidden(
                        format!(
                            "Todoist refused the connection ({}). Start again from the connect page.",
                            response.error()
                        )
                        .into(),
                    ));
                }
                Err(RequestTokenError::Request(_)) => {
                    return Err(Error::Unavailable("Todoist could not be reached to finish connecting".into()))
                }
                Err(RequestTokenError::Parse(_, _) | RequestTokenError::Other(_)) => {
                    // Asking again cannot help: the authorization code is single-use.
                    return Err(Error::internal("reading Todoist's token answer", "an answer that was not understood"));
                }
            }
        }
    }

    async fn fetch_signals(
        &self,
        credential: &Credential,
        _since: Option<i64>,
    ) -> std::result::Result<Vec<ConnectorItem>, FetchError> {
        // REST v2 has no "changed since": the open tasks are few, fetch them all.
        let mut backoff = self.settings.first_backoff;
        let mut attempt = 1;
        loop {
            match self.fetch_once(credential).await {
                Ok(items) => return Ok(items),
                Err((err, retry)) if retry && attempt < FETCH_ATTEMPTS => {
                    tracing::info!(attempt, error = %err, "Todoist fetch failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                    attempt += 1;
                }
                Err((err, _)) => return Err(err),
            }
        }
    }

    fn complete(&self, credential: &Credential, item: &ConnectorItem) -> CallInput {
        let mut headers = std::collections::BTreeMap::new();
        headers.insert("authorization".to_string(), credential.authorization());
        CallInput {
            method: "POST".into(),
            url: under(&self.settings.api_url, &["tasks", &item.external_id, "close"]).to_string(),
            headers,
            body: String::new(),
            due_at: None,
            idempotency_key: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn todoist(client_id: Option<&str>) -> Todoist {
        Todoist::new(TodoistSettings {
            client_id: client_id.map(str::to_string),
            client_secret: Some(SecretString::from("shh".to_string())),
            auth_url: "https://todoist.com".parse().unwrap(),
            api_url: "https://api.todoist.com/rest/v2/".parse().unwrap(),
            allow_private_networks: false,
            timeout: Duration::from_secs(5),
            first_backoff: Duration::from_millis(1),
        })
    }

    #[test]
    fn the_authorize_url_carries_client_scope_and_state_but_no_secret() {
        let url = todoist(Some("client-1")).begin_oauth("state-xyz").unwrap();
        assert_eq!(url.origin().ascii_serialization(), "https://todoist.com");
        assert_eq!(url.path(), "/oauth/authorize");
        let query: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(query["client_id"], "client-1");
        assert_eq!(query["scope"], "data:read_write");
        assert_eq!(query["state"], "state-xyz");
        assert!(!url.as_str().contains("shh"));
        assert!(!todoist(None).enabled());
        assert!(matches!(todoist(None).begin_oauth("s"), Err(Error::Conflict(_))));
    }

    #[test]
    fn tasks_parse_from_the_recorded_response_shape() {
        // As GET https://api.todoist.com/rest/v2/tasks answers (Todoist's documentation).
        let body = r#"[{"id":"2995104339","project_id":"2203306141","section_id":null,"content":"Buy Milk",
            "description":"Whole milk","is_completed":false,"labels":["errand"],"parent_id":null,"order":1,
            "priority":4,"due":{"date":"2016-09-01","is_recurring":false,"datetime":"2016-09-01T12:00:00.000000Z",
            "string":"tomorrow at 12","timezone":"Europe/Moscow"},"url":"https://todoist.com/showTask?id=2995104339",
            "comment_count":0,"created_at":"2019-12-11T22:36:50.000000Z","creator_id":"2671355",
            "assignee_id":null,"assigner_id":null,"duration":null},
            {"id":7,"content":"No due date","priority":1,"due":null,"url":"javascript:alert(1)"}]"#;
        let tasks: Vec<Task> = serde_json::from_str(body).unwrap();
        let items: Vec<ConnectorItem> = tasks.into_iter().filter_map(item).collect();
        assert_eq!(items[0].external_id, "2995104339");
        assert_eq!(items[0].title, "Buy Milk");
        assert_eq!(items[0].due, "tomorrow at 12");
        assert_eq!(items[0].revision, "2016-09-01");
        assert_eq!(items[0].priority, 4);
        assert_eq!(items[1].external_id, "7");
        assert_eq!(items[1].url, "", "only web links are kept");
        let call = todoist(Some("c")).complete(&Credential::bearer("tok"), &items[0]);
        assert_eq!(call.url, "https://api.todoist.com/rest/v2/tasks/2995104339/close");
        assert_eq!(call.headers["authorization"], "Bearer tok");
    }
}

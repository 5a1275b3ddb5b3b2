//! The route table: every path Heirloom serves by name (pages, the forms they post, the
//! REST API, the browser's redirect and file URLs) and which pages need a signed-in
//! reader. The server's router and its sign-in redirect, the app's router and links, and
//! the OpenAPI document (`#[utoipa::path(path = ...)]`) all read these constants, so a
//! path is spelled once. Templates write a parameter as `{name}`, as axum and OpenAPI
//! do; the app turns them into Leptos route segments (`app::routing`).

/// A page of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub path: &'static str,
    /// A signed-out browser asking for it is sent to sign in and brought back. (The
    /// admin pages are not: they say they are for administrators.)
    pub needs_sign_in: bool,
}

impl Page {
    /// This page's URL for `args`, one per parameter, in order.
    pub fn to(&self, args: &[&str]) -> String {
        fill(self.path, args)
    }
}

const fn open(path: &'static str) -> Page {
    Page { path, needs_sign_in: false }
}

const fn signed_in(path: &'static str) -> Page {
    Page { path, needs_sign_in: true }
}

pub const HOME: Page = open("/");
pub const SIGN_IN: Page = open("/signin");
pub const SIGN_UP: Page = open("/signup");
pub const ACCOUNT: Page = signed_in("/account");
pub const LEGACIES: Page = signed_in("/legacies");
pub const LEGACY: Page = open("/legacies/{id}");
pub const NEW_STORY: Page = signed_in("/legacies/{id}/new");
pub const MEMBERS: Page = signed_in("/legacies/{id}/members");
pub const LEGACY_MEDIA: Page = open("/legacies/{id}/media");
pub const STORY: Page = open("/stories/{id}");
pub const EDIT_STORY: Page = signed_in("/stories/{id}/edit");
pub const HISTORY: Page = open("/stories/{id}/history");
pub const INVITATION: Page = signed_in("/invitations/{token}");
pub const MODERATION: Page = signed_in("/moderation");
pub const SEARCH: Page = open("/search");
pub const TIPS: Page = signed_in("/tips");
pub const CONNECT: Page = signed_in("/connect");
pub const DELIVERIES: Page = open("/admin/deliveries");
pub const DELIVERY: Page = open("/admin/deliveries/{id}");
pub const WEBHOOKS: Page = open("/admin/webhooks");
pub const DEAD_LETTERS: Page = open("/admin/dead-letters");

/// Every page, in the order the app's router lists them.
pub const PAGES: &[Page] = &[
    HOME,
    SIGN_IN,
    SIGN_UP,
    ACCOUNT,
    LEGACIES,
    LEGACY,
    NEW_STORY,
    MEMBERS,
    LEGACY_MEDIA,
    STORY,
    EDIT_STORY,
    HISTORY,
    INVITATION,
    MODERATION,
    SEARCH,
    TIPS,
    CONNECT,
    DELIVERIES,
    DELIVERY,
    WEBHOOKS,
    DEAD_LETTERS,
];

/// Whether `path` (a request path, no query) is a page a signed-out browser must sign in for.
pub fn needs_sign_in(path: &str) -> bool {
    PAGES.iter().any(|page| page.needs_sign_in && matches(page.path, path))
}

/// Whether `path` has the shape of `template`: the same segments, a parameter matching
/// any one non-empty segment.
pub fn matches(template: &str, path: &str) -> bool {
    let mut wanted = template.split('/');
    let mut given = path.split('/');
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return true,
            (Some(w), Some(g)) if is_param(w) && !g.is_empty() => {}
            (Some(w), Some(g)) if w == g => {}
            _ => return false,
        }
    }
}

/// `template` with `args` in place of its parameters, in order (a missing one is left empty).
pub fn fill(template: &str, args: &[&str]) -> String {
    let mut args = args.iter();
    template
        .split('/')
        .map(|segment| if is_param(segment) { args.next().copied().unwrap_or_default() } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}

/// The parameter name of a `{name}` segment.
pub fn param_name(segment: &str) -> Option<&str> {
    segment.strip_prefix('{').and_then(|rest| rest.strip_suffix('}'))
}

fn is_param(segment: &str) -> bool {
    param_name(segment).is_some()
}

/// The forms pages post (urlencoded, answered with a redirect and a flash message).
pub mod form {
    pub const SIGN_UP: &str = "/auth/signup";
    pub const SIGN_IN: &str = "/auth/signin";
    pub const SIGN_OUT: &str = "/auth/signout";
    pub const PASSWORD: &str = "/auth/password";
    pub const REVOKE_SESSION: &str = "/auth/sessions/revoke";
    pub const REVOKE_OTHER_SESSIONS: &str = "/auth/sessions/revoke-others";
    pub const THEME: &str = "/theme";
    pub const CREATE_LEGACY: &str = "/legacies";
    pub const CREATE_STORY: &str = "/legacies/{id}/stories";
    pub const INVITE: &str = "/legacies/{id}/invitations";
    pub const SET_MEMBER: &str = "/legacies/{id}/members/{user_id}";
    pub const UPDATE_STORY: &str = "/stories/{id}";
    pub const DELETE_STORY: &str = "/stories/{id}/delete";
    pub const RESTORE: &str = "/stories/{id}/restore";
    pub const FLAG: &str = "/stories/{id}/flag";
    pub const ACCEPT_INVITATION: &str = "/invitations/{token}/accept";
    pub const RESOLVE_FLAG: &str = "/moderation/{id}";
    pub const CREATE_WEBHOOK: &str = "/admin/webhooks";
    pub const DELETE_WEBHOOK: &str = "/admin/webhooks/{id}/delete";
    pub const RETRY_DEAD_LETTER: &str = "/admin/dead-letters/{consumer}/{message_id}/retry";
    pub const DISCARD_DEAD_LETTER: &str = "/admin/dead-letters/{consumer}/{message_id}/discard";
    pub const SYNC_CONNECTOR: &str = "/connectors/{name}/sync";
    pub const DISCONNECT: &str = "/connectors/{name}/disconnect";

    /// Every form path, for checks that must cover them all.
    pub const ALL: &[&str] = &[
        SIGN_UP,
        SIGN_IN,
        SIGN_OUT,
        PASSWORD,
        REVOKE_SESSION,
        REVOKE_OTHER_SESSIONS,
        THEME,
        CREATE_LEGACY,
        CREATE_STORY,
        INVITE,
        SET_MEMBER,
        UPDATE_STORY,
        DELETE_STORY,
        RESTORE,
        FLAG,
        ACCEPT_INVITATION,
        RESOLVE_FLAG,
        CREATE_WEBHOOK,
        DELETE_WEBHOOK,
        RETRY_DEAD_LETTER,
        DISCARD_DEAD_LETTER,
        SYNC_CONNECTOR,
        DISCONNECT,
    ];
}

/// URLs a browser is sent to rather than shown: sign-in and connector redirects, media
/// files and upload parts.
pub mod browser {
    pub const OIDC_START: &str = "/auth/oidc/{provider}/start";
    pub const OIDC_CALLBACK: &str = "/auth/oidc/{provider}/callback";
    pub const CONNECTOR_CONNECT: &str = "/connectors/{name}/connect";
    pub const CONNECTOR_CALLBACK: &str = "/connectors/{name}/callback";
    pub const MEDIA_ITEM: &str = "/media/{id}";
    pub const MEDIA_FILE: &str = "/media/{id}/{variant}";
    pub const UPLOAD_PART: &str = "/uploads/{id}/parts/{number}";

    pub const ALL: &[&str] =
        &[OIDC_START, OIDC_CALLBACK, CONNECTOR_CONNECT, CONNECTOR_CALLBACK, MEDIA_ITEM, MEDIA_FILE, UPLOAD_PART];
}

/// The REST API (`/api/v1`), as the OpenAPI document names it.
pub mod api {
    pub const OPENAPI: &str = "/api/v1/openapi.json";
    pub const SIGN_UP: &str = "/api/v1/auth/signup";
    pub const SIGN_IN: &str = "/api/v1/auth/signin";
    pub const SIGN_OUT: &str = "/api/v1/auth/signout";
    pub const PASSWORD: &str = "/api/v1/auth/password";
    pub const ME: &str = "/api/v1/me";
    pub const MY_SESSIONS: &str = "/api/v1/me/sessions";
    pub const REVOKE_SESSION: &str = "/api/v1/me/sessions/revoke";
    pub const REVOKE_OTHER_SESSIONS: &str = "/api/v1/me/sessions/revoke-others";
    pub const SIGNUP_INVITES: &str = "/api/v1/signup-invites";
    pub const LEGACIES: &str = "/api/v1/legacies";
    pub const LEGACY: &str = "/api/v1/legacies/{id}";
    pub const MEMBERS: &str = "/api/v1/legacies/{id}/members";
    pub const MEMBER: &str = "/api/v1/legacies/{id}/members/{user_id}";
    pub const INVITATIONS: &str = "/api/v1/legacies/{id}/invitations";
    pub const ACCEPT_INVITATION: &str = "/api/v1/invitations/{token}/accept";
    pub const STORIES: &str = "/api/v1/stories";
    pub const STORY: &str = "/api/v1/stories/{id}";
    pub const REVISIONS: &str = "/api/v1/stories/{id}/revisions";
    pub const REVISION: &str = "/api/v1/stories/{id}/revisions/{version}";
    pub const RESTORE: &str = "/api/v1/stories/{id}/revisions/{version}/restore";
    pub const FLAGS: &str = "/api/v1/stories/{id}/flags";
    pub const MODERATION_FLAGS: &str = "/api/v1/moderation/flags";
    pub const MODERATION_FLAG: &str = "/api/v1/moderation/flags/{id}";
    pub const CALLS: &str = "/api/v1/calls";
    pub const CALL: &str = "/api/v1/calls/{id}";
    pub const WEBHOOKS: &str = "/api/v1/webhooks";
    pub const WEBHOOK: &str = "/api/v1/webhooks/{id}";
    pub const DEAD_LETTERS: &str = "/api/v1/dead-letters";
    pub const DEAD_LETTER: &str = "/api/v1/dead-letters/{consumer}/{message_id}";
    pub const RETRY_DEAD_LETTER: &str = "/api/v1/dead-letters/{consumer}/{message_id}/retry";
    pub const SEARCH: &str = "/api/v1/search";
    pub const SUGGEST: &str = "/api/v1/search/suggest";
    pub const REINDEX: &str = "/api/v1/search/reindex";
    pub const UPLOADS: &str = "/api/v1/uploads";
    pub const UPLOAD: &str = "/api/v1/uploads/{id}";
    pub const COMPLETE_UPLOAD: &str = "/api/v1/uploads/{id}/complete";
    pub const MEDIA: &str = "/api/v1/media/{id}";
    pub const RETRY_MEDIA: &str = "/api/v1/media/{id}/retry";
    pub const LEGACY_MEDIA: &str = "/api/v1/legacies/{id}/media";
    pub const STORY_MEDIA: &str = "/api/v1/stories/{id}/media";
    pub const RECOMMEND: &str = "/api/v1/recommend";
    pub const TIP_FEEDBACK: &str = "/api/v1/tips/{id}/feedback";
    pub const CONNECTORS: &str = "/api/v1/connectors";
    pub const CONNECTOR: &str = "/api/v1/connectors/{name}";
    pub const SYNC_CONNECTOR: &str = "/api/v1/connectors/{name}/sync";

    pub const ALL: &[&str] = &[
        OPENAPI,
        SIGN_UP,
        SIGN_IN,
        SIGN_OUT,
        PASSWORD,
        ME,
        MY_SESSIONS,
        REVOKE_SESSION,
        REVOKE_OTHER_SESSIONS,
        SIGNUP_INVITES,
        LEGACIES,
        LEGACY,
        MEMBERS,
        MEMBER,
        INVITATIONS,
        ACCEPT_INVITATION,
        STORIES,
        STORY,
        REVISIONS,
        REVISION,
        RESTORE,
        FLAGS,
        MODERATION_FLAGS,
        MODERATION_FLAG,
        CALLS,
        CALL,
        WEBHOOKS,
        WEBHOOK,
        DEAD_LETTERS,
        DEAD_LETTER,
        RETRY_DEAD_LETTER,
        SEARCH,
        SUGGEST,
        REINDEX,
        UPLOADS,
        UPLOAD,
        COMPLETE_UPLOAD,
        MEDIA,
        RETRY_MEDIA,
        LEGACY_MEDIA,
        STORY_MEDIA,
        RECOMMEND,
        TIP_FEEDBACK,
        CONNECTORS,
        CONNECTOR,
        SYNC_CONNECTOR,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pages_that_needed_sign_in_still_do() {
        for path in [
            "/account",
            "/legacies",
            "/moderation",
            "/tips",
            "/connect",
            "/invitations/abc",
            "/legacies/abc/new",
            "/legacies/abc/members",
            "/stories/abc/edit",
        ] {
            assert!(needs_sign_in(path), "{path}");
        }
        for path in [
            "/",
            "/signin",
            "/search",
            "/legacies/abc",
            "/legacies/abc/media",
            "/stories/abc",
            "/stories/abc/history",
            "/admin/deliveries",
            "/account/",
        ] {
            assert!(!needs_sign_in(path), "{path}");
        }
    }

    #[test]
    fn templates_fill_in_order() {
        assert_eq!(MEMBERS.to(&["l1"]), "/legacies/l1/members");
        assert_eq!(fill(form::SET_MEMBER, &["l1", "u2"]), "/legacies/l1/members/u2");
        assert_eq!(HOME.to(&[]), "/");
        assert!(matches(form::SET_MEMBER, "/legacies/l1/members/u2"));
        assert!(!matches(form::SET_MEMBER, "/legacies/l1/members"));
    }
}

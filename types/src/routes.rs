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

/// Page constants and `PAGES`, every page in the order the app's router lists them.
macro_rules! pages {
    ($($name:ident = $access:ident($path:literal),)*) => {
        $(pub const $name: Page = $access($path);)*
        pub const PAGES: &[Page] = &[$($name),*];
    };
}

pages! {
    HOME = open("/"),
    SIGN_IN = open("/signin"),
    SIGN_UP = open("/signup"),
    FORGOT_PASSWORD = open("/forgot-password"),
    RESET_PASSWORD = open("/reset-password"),
    VERIFY_EMAIL = open("/verify-email"),
    ACCOUNT = signed_in("/account"),
    LEGACIES = signed_in("/legacies"),
    LEGACY = open("/legacies/{id}"),
    EDIT_LEGACY = signed_in("/legacies/{id}/edit"),
    NEW_STORY = signed_in("/legacies/{id}/new"),
    MEMBERS = signed_in("/legacies/{id}/members"),
    LEGACY_MEDIA = open("/legacies/{id}/media"),
    MEDIA_PAGE = open("/legacies/{id}/media/{media_id}"),
    PEOPLE = signed_in("/legacies/{id}/people"),
    PERSON = signed_in("/people/{id}"),
    EDIT_PERSON = signed_in("/people/{id}/edit"),
    PERSON_TREE = signed_in("/people/{id}/tree"),
    GEDCOM_IMPORT = signed_in("/gedcom-imports/{id}"),
    STORY = open("/stories/{id}"),
    EDIT_STORY = signed_in("/stories/{id}/edit"),
    HISTORY = open("/stories/{id}/history"),
    INVITATION = signed_in("/invitations/{token}"),
    MODERATION = signed_in("/moderation"),
    NOTIFICATIONS = signed_in("/notifications"),
    NOTIFICATION_SETTINGS = signed_in("/account/notifications"),
    UNSUBSCRIBE = open("/unsubscribe"),
    SEARCH = open("/search"),
    TIPS = signed_in("/tips"),
    CONNECT = signed_in("/connect"),
    DELIVERIES = open("/admin/deliveries"),
    DELIVERY = open("/admin/deliveries/{id}"),
    WEBHOOKS = open("/admin/webhooks"),
    DEAD_LETTERS = open("/admin/dead-letters"),
}

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

/// Path constants and `ALL`, the list of them (for checks that must cover every path).
macro_rules! paths {
    ($($name:ident = $path:literal,)*) => {
        $(pub const $name: &str = $path;)*
        pub const ALL: &[&str] = &[$($name),*];
    };
}

/// The forms pages post (urlencoded, answered with a redirect and a flash message).
pub mod form {
    paths! {
        SIGN_UP = "/auth/signup",
        SIGN_IN = "/auth/signin",
        SIGN_OUT = "/auth/signout",
        PASSWORD = "/auth/password",
        FORGOT_PASSWORD = "/auth/password/forgot",
        RESET_PASSWORD = "/auth/password/reset",
        VERIFY_EMAIL = "/auth/email/verify",
        SEND_VERIFICATION = "/auth/email/verification",
        REVOKE_SESSION = "/auth/sessions/revoke",
        REVOKE_OTHER_SESSIONS = "/auth/sessions/revoke-others",
        THEME = "/theme",
        CREATE_LEGACY = "/legacies",
        UPDATE_LEGACY = "/legacies/{id}",
        CREATE_STORY = "/legacies/{id}/stories",
        CREATE_PERSON = "/legacies/{id}/people",
        IMPORT_GEDCOM = "/legacies/{id}/gedcom/import",
        UPDATE_PERSON = "/people/{id}",
        DELETE_PERSON = "/people/{id}/delete",
        CLAIM_PERSON = "/people/{id}/me",
        TAG_PERSON = "/media/{id}/people",
        UNTAG_PERSON = "/media/{id}/people/{person_id}/delete",
        UNCLAIM_PERSON = "/people/{id}/me/delete",
        SET_PORTRAIT = "/people/{id}/portrait",
        RELATE = "/people/{id}/relationships",
        UNRELATE = "/relationships/{id}/delete",
        INVITE = "/legacies/{id}/invitations",
        SET_MEMBER = "/legacies/{id}/members/{user_id}",
        UPDATE_STORY = "/stories/{id}",
        DELETE_STORY = "/stories/{id}/delete",
        RESTORE = "/stories/{id}/restore",
        FLAG = "/stories/{id}/flag",
        COMMENT_ON_STORY = "/stories/{id}/comments",
        REACT_TO_STORY = "/stories/{id}/reactions",
        COMMENT_ON_MEDIA = "/media/{id}/comments",
        REACT_TO_MEDIA = "/media/{id}/reactions",
        FLAG_MEDIA = "/media/{id}/flag",
        EDIT_COMMENT = "/comments/{id}",
        DELETE_COMMENT = "/comments/{id}/delete",
        REACT_TO_COMMENT = "/comments/{id}/reactions",
        FLAG_COMMENT = "/comments/{id}/flag",
        ACCEPT_INVITATION = "/invitations/{token}/accept",
        RESOLVE_FLAG = "/moderation/{id}",
        READ_NOTIFICATION = "/notifications/{id}/read",
        READ_ALL_NOTIFICATIONS = "/notifications/read-all",
        NOTIFICATION_SETTINGS = "/account/notifications",
        UNSUBSCRIBE = "/unsubscribe",
        FOLLOW_LEGACY = "/legacies/{id}/follow",
        UNFOLLOW_LEGACY = "/legacies/{id}/follow/delete",
        CREATE_WEBHOOK = "/admin/webhooks",
        DELETE_WEBHOOK = "/admin/webhooks/{id}/delete",
        RETRY_DEAD_LETTER = "/admin/dead-letters/{consumer}/{message_id}/retry",
        DISCARD_DEAD_LETTER = "/admin/dead-letters/{consumer}/{message_id}/discard",
        SYNC_CONNECTOR = "/connectors/{name}/sync",
        DISCONNECT = "/connectors/{name}/disconnect",
    }
}

/// URLs a browser is sent to rather than shown: sign-in and connector redirects, media
/// files and upload parts.
pub mod browser {
    paths! {
        OIDC_START = "/auth/oidc/{provider}/start",
        OIDC_CALLBACK = "/auth/oidc/{provider}/callback",
        CONNECTOR_CONNECT = "/connectors/{name}/connect",
        CONNECTOR_CALLBACK = "/connectors/{name}/callback",
        MEDIA_ITEM = "/media/{id}",
        MEDIA_FILE = "/media/{id}/{variant}",
        UPLOAD_PART = "/uploads/{id}/parts/{number}",
    }
}

/// The REST API (`/api/v1`), as the OpenAPI document names it.
pub mod api {
    paths! {
        OPENAPI = "/api/v1/openapi.json",
        SIGN_UP = "/api/v1/auth/signup",
        SIGN_IN = "/api/v1/auth/signin",
        SIGN_OUT = "/api/v1/auth/signout",
        PASSWORD = "/api/v1/auth/password",
        FORGOT_PASSWORD = "/api/v1/auth/password/forgot",
        RESET_PASSWORD = "/api/v1/auth/password/reset",
        VERIFY_EMAIL = "/api/v1/auth/email/verify",
        SEND_VERIFICATION = "/api/v1/me/email-verification",
        ME = "/api/v1/me",
        MY_SESSIONS = "/api/v1/me/sessions",
        REVOKE_SESSION = "/api/v1/me/sessions/revoke",
        REVOKE_OTHER_SESSIONS = "/api/v1/me/sessions/revoke-others",
        SIGNUP_INVITES = "/api/v1/signup-invites",
        LEGACIES = "/api/v1/legacies",
        LEGACY = "/api/v1/legacies/{id}",
        MEMBERS = "/api/v1/legacies/{id}/members",
        FOLLOW = "/api/v1/legacies/{id}/follow",
        MEMBER = "/api/v1/legacies/{id}/members/{user_id}",
        INVITATIONS = "/api/v1/legacies/{id}/invitations",
        ACCEPT_INVITATION = "/api/v1/invitations/{token}/accept",
        STORIES = "/api/v1/stories",
        STORY = "/api/v1/stories/{id}",
        REVISIONS = "/api/v1/stories/{id}/revisions",
        REVISION = "/api/v1/stories/{id}/revisions/{version}",
        RESTORE = "/api/v1/stories/{id}/revisions/{version}/restore",
        FLAGS = "/api/v1/stories/{id}/flags",
        STORY_COMMENTS = "/api/v1/stories/{id}/comments",
        STORY_REACTIONS = "/api/v1/stories/{id}/reactions",
        MEDIA_COMMENTS = "/api/v1/media/{id}/comments",
        MEDIA_REACTIONS = "/api/v1/media/{id}/reactions",
        MEDIA_FLAGS = "/api/v1/media/{id}/flags",
        COMMENT = "/api/v1/comments/{id}",
        COMMENT_REACTIONS = "/api/v1/comments/{id}/reactions",
        COMMENT_FLAGS = "/api/v1/comments/{id}/flags",
        MODERATION_FLAGS = "/api/v1/moderation/flags",
        MODERATION_FLAG = "/api/v1/moderation/flags/{id}",
        CALLS = "/api/v1/calls",
        CALL = "/api/v1/calls/{id}",
        WEBHOOKS = "/api/v1/webhooks",
        WEBHOOK = "/api/v1/webhooks/{id}",
        DEAD_LETTERS = "/api/v1/dead-letters",
        DEAD_LETTER = "/api/v1/dead-letters/{consumer}/{message_id}",
        RETRY_DEAD_LETTER = "/api/v1/dead-letters/{consumer}/{message_id}/retry",
        SEARCH = "/api/v1/search",
        SUGGEST = "/api/v1/search/suggest",
        REINDEX = "/api/v1/search/reindex",
        UPLOADS = "/api/v1/uploads",
        UPLOAD = "/api/v1/uploads/{id}",
        COMPLETE_UPLOAD = "/api/v1/uploads/{id}/complete",
        MEDIA = "/api/v1/media/{id}",
        RETRY_MEDIA = "/api/v1/media/{id}/retry",
        LEGACY_MEDIA = "/api/v1/legacies/{id}/media",
        STORY_MEDIA = "/api/v1/stories/{id}/media",
        PEOPLE = "/api/v1/legacies/{id}/people",
        GEDCOM = "/api/v1/legacies/{id}/gedcom",
        PERSON = "/api/v1/people/{id}",
        FAMILY = "/api/v1/people/{id}/family",
        RELATIONSHIPS = "/api/v1/people/{id}/relationships",
        RELATIONSHIP = "/api/v1/relationships/{id}",
        KINSHIP = "/api/v1/people/{id}/relationship/{other}",
        TREE = "/api/v1/people/{id}/tree",
        RELATIVES = "/api/v1/people/{id}/relatives",
        PERSON_ME = "/api/v1/people/{id}/me",
        PERSON_MEDIA = "/api/v1/people/{id}/media",
        PORTRAIT = "/api/v1/people/{id}/portrait",
        MEDIA_PERSON = "/api/v1/media/{id}/people/{person_id}",
        GEDCOM_IMPORT = "/api/v1/gedcom-imports/{id}",
        FEED = "/api/v1/feed",
        NOTIFICATIONS = "/api/v1/notifications",
        READ_NOTIFICATION = "/api/v1/notifications/{id}/read",
        READ_ALL_NOTIFICATIONS = "/api/v1/notifications/read-all",
        NOTIFICATION_PREFERENCES = "/api/v1/me/notification-preferences",
        UNSUBSCRIBE = "/api/v1/unsubscribe",
        STREAM = "/api/v1/stream",
        RECOMMEND = "/api/v1/recommend",
        TIP_FEEDBACK = "/api/v1/tips/{id}/feedback",
        CONNECTORS = "/api/v1/connectors",
        CONNECTOR = "/api/v1/connectors/{name}",
        SYNC_CONNECTOR = "/api/v1/connectors/{name}/sync",
    }
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
            "/legacies/abc/people",
            "/people/abc",
            "/people/abc/edit",
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

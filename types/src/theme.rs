//! The colour theme a reader picked. Absent means "follow the system setting".

use serde::{Deserialize, Serialize};

/// Name of the cookie that remembers the choice, read by the server when rendering
/// so the first paint already has the right colours.
pub const THEME_COOKIE: &str = "heirloom_theme";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    Light,
    Dark,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    pub fn parse(value: &str) -> Option<Theme> {
        match value {
            "light" => Some(Theme::Light),
            "dark" => Some(Theme::Dark),
            _ => None,
        }
    }

    pub fn opposite(self) -> Theme {
        match self {
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::Light,
        }
    }

    /// Finds the theme in a `Cookie` header value; anything unrecognised is ignored.
    pub fn from_cookie_header(header: &str) -> Option<Theme> {
        header
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == THEME_COOKIE)
            .and_then(|(_, value)| Theme::parse(value.trim()))
    }

    /// The `Set-Cookie`/`document.cookie` value that remembers this theme for a year.
    pub fn cookie(self) -> String {
        format!("{THEME_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_theme_among_other_cookies() {
        assert_eq!(Theme::from_cookie_header("a=1; heirloom_theme=dark; b=2"), Some(Theme::Dark));
        assert_eq!(Theme::from_cookie_header("heirloom_theme=light"), Some(Theme::Light));
        assert_eq!(Theme::from_cookie_header("heirloom_theme=purple"), None);
        assert_eq!(Theme::from_cookie_header("other_theme=dark"), None);
    }

    #[test]
    fn cookie_round_trips() {
        let cookie = Theme::Dark.cookie();
        let pair = cookie.split(';').next().unwrap();
        assert_eq!(Theme::from_cookie_header(pair), Some(Theme::Dark));
    }
}

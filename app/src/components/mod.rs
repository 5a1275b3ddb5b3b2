//! Pieces shared by pages: the layout, form parts, page loading and the islands.

pub mod conversation;
pub mod editor_js;
pub mod family_chart;
pub mod feed_more;
pub mod form;
pub mod import_progress;
pub mod layout;
pub mod live;
pub mod media;
pub mod notification_bell;
pub mod page;
pub mod raw_text;
pub mod search_box;
pub mod story_editor;
pub mod theme_toggle;
pub mod tip_deck;
pub mod upload;
pub mod uploader;

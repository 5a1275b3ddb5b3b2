//! Pieces shared by pages: the layout and the islands.

pub mod layout;
pub mod theme_toggle;

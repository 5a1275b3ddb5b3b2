//! Pieces shared by pages: the layout, form parts and the islands.

pub mod form;
pub mod layout;
pub mod theme_toggle;

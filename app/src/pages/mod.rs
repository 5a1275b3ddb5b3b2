//! One module per page.

pub mod account;
pub mod admin;
pub mod connect;
pub mod editor;
pub mod history;
pub mod home;
pub mod invitation;
pub mod legacies;
pub mod legacy;
pub mod media;
pub mod members;
pub mod moderation;
pub mod not_found;
pub mod notifications;
pub mod password_reset;
pub mod people;
pub mod search;
pub mod signin;
pub mod signup;
pub mod story;
pub mod tips;

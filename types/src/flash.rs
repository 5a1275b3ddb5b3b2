//! A message carried across a redirect: a form handler stores it in the session, the
//! next page shows it once. Used so forms work without JavaScript.

use serde::{Deserialize, Serialize};

use crate::FieldError;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    /// `error` or `notice`.
    pub level: String,
    pub message: String,
    /// Per-field problems, shown beside the fields.
    pub fields: Vec<FieldError>,
    /// Values to put back into the form (never passwords).
    pub values: Vec<(String, String)>,
}

impl Flash {
    pub fn notice(message: impl Into<String>) -> Flash {
        Flash { level: "notice".into(), message: message.into(), ..Flash::default() }
    }

    pub fn error(message: impl Into<String>) -> Flash {
        Flash { level: "error".into(), message: message.into(), ..Flash::default() }
    }

    pub fn is_error(&self) -> bool {
        self.level == "error"
    }

    pub fn value(&self, name: &str) -> Option<&str> {
        self.values.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn field_error(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|f| f.field == name).map(|f| f.message.as_str())
    }
}

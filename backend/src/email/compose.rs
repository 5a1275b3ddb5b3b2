//! The words of Heirloom's emails, each as plain text and as simple HTML with every
//! value escaped. A message is a greeting, a few paragraphs and at most one link to act
//! on; both bodies say the same.

use serde::{Deserialize, Serialize};

use crate::text::escape_html_into;

/// One email's subject and bodies, as queued (sealed) and sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Composed {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What asks for a password reset: the link in it works once, for an hour.
pub fn password_reset(name: &str, link: &str, minutes: i64) -> Composed {
    message(
        "Reset your Heirloom password",
        name,
        &[
            "Someone (we hope you) asked to reset the password of your Heirloom account.".into(),
            format!(
                "The link below lets you choose a new one. It works once, for {minutes} minutes, and signs \
                 you out everywhere else."
            ),
        ],
        Some(("Choose a new password", link)),
        "If you did not ask for this, ignore this email: your password stays as it is.",
    )
}

/// An invitation to join a legacy as `role`, from `inviter`.
pub fn invitation(inviter: &str, legacy: &str, role: &str, link: &str, days: u32) -> Composed {
    message(
        &format!("{inviter} invites you to {legacy} on Heirloom"),
        "",
        &[
            format!("{inviter} invites you to join {legacy} on Heirloom as {}.", with_article(role)),
            format!("The link below works once, for {days} days. You sign in or create an account, then join."),
        ],
        Some(("Join the legacy", link)),
        "If you do not know who this is, ignore this email.",
    )
}

fn with_article(role: &str) -> String {
    match role.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {role}"),
        _ => format!("a {role}"),
    }
}

/// Lays out a message in both forms; `name` (may be empty) greets the reader.
fn message(subject: &str, name: &str, paragraphs: &[String], action: Option<(&str, &str)>, closing: &str) -> Composed {
    let greeting = if name.trim().is_empty() { "Hello,".to_string() } else { format!("Hello {},", name.trim()) };
    let mut text = format!("{greeting}\n\n");
    let mut html = String::from("<!doctype html><html><body style=\"font-family: sans-serif; line-height: 1.5\">");
    paragraph(&mut html, &greeting);
    for p in paragraphs {
        text.push_str(p);
        text.push_str("\n\n");
        paragraph(&mut html, p);
    }
    if let Some((label, link)) = action {
        text.push_str(&format!("{label}: {link}\n\n"));
        html.push_str("<p><a href=\"");
        escape_html_into(&mut html, link);
        html.push_str("\">");
        escape_html_into(&mut html, label);
        html.push_str("</a></p>");
    }
    text.push_str(closing);
    text.push_str("\n\n— Heirloom\n");
    paragraph(&mut html, closing);
    paragraph(&mut html, "— Heirloom");
    html.push_str("</body></html>");
    Composed { subject: subject.to_string(), text, html }
}

fn paragraph(html: &mut String, text: &str) {
    html.push_str("<p>");
    escape_html_into(html, text);
    html.push_str("</p>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_in_html_and_kept_in_text() {
        let mail = invitation("Ann <b>", "Rose & \"Tom\"", "editor", "https://h.example/i/a?b=1&c=2", 7);
        assert!(mail.html.contains("Ann &lt;b&gt;") && !mail.html.contains("<b>"), "{}", mail.html);
        assert!(mail.html.contains("Rose &amp; &quot;Tom&quot;"), "{}", mail.html);
        assert!(mail.html.contains("href=\"https://h.example/i/a?b=1&amp;c=2\""), "{}", mail.html);
        assert!(mail.text.contains("Join the legacy: https://h.example/i/a?b=1&c=2"), "{}", mail.text);
        assert!(mail.text.contains("as an editor"), "{}", mail.text);
        assert_eq!(mail.subject, "Ann <b> invites you to Rose & \"Tom\" on Heirloom");
    }
}

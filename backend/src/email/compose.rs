//! The words of Heirloom's emails, each as plain text and as simple HTML with every
//! value escaped. A message is a greeting, a few paragraphs and links to act on; both
//! bodies say the same. A notification or digest also carries its signed unsubscribe
//! link (shown at its end and sent as `List-Unsubscribe`).

use serde::{Deserialize, Serialize};

use crate::text::escape_html_into;

/// One email's subject and bodies, as queued (sealed) and sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Composed {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The one-click unsubscribe URL (`List-Unsubscribe`, RFC 8058), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe: Option<String>,
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

/// The link that shows a new account's address is its owner's.
pub fn verify_email(name: &str, link: &str, days: i64) -> Composed {
    message(
        "Verify your email address for Heirloom",
        name,
        &[
            "Welcome to Heirloom. Please confirm that this address is yours.".into(),
            format!(
                "Until you do, Heirloom keeps news of your family under the bell and sends none here. \
                 The link works once, for {days} days."
            ),
        ],
        Some(("Verify my email address", link)),
        "If you did not create an account, ignore this email: nothing more will be sent.",
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

/// A notification emailed at once: what happened (`text`), the comment's words when
/// there are some, the link that opens it, and where to change or stop these emails.
pub fn notification(name: &str, text: &str, excerpt: Option<&str>, link: &str, unsubscribe: &Unsubscribe) -> Composed {
    let mut paragraphs = vec![format!("{text}.")];
    if let Some(excerpt) = excerpt.map(str::trim).filter(|e| !e.is_empty()) {
        paragraphs.push(format!("“{excerpt}”"));
    }
    let mut mail = message(text, name, &paragraphs, Some(("Open it on Heirloom", link)), &unsubscribe.closing());
    mail.unsubscribe = Some(unsubscribe.one_click.clone());
    mail
}

/// A digest: what happened since the last one, each thing with its link.
pub fn digest(name: &str, cadence: &str, items: &[(String, String)], unsubscribe: &Unsubscribe) -> Composed {
    let count = items.len();
    let subject = if count == 1 {
        format!("Your {cadence} Heirloom digest: 1 new thing")
    } else {
        format!("Your {cadence} Heirloom digest: {count} new things")
    };
    let mut text = String::new();
    let mut html = String::from("<ul>");
    for (what, link) in items {
        text.push_str(&format!("- {what}: {link}\n"));
        html.push_str("<li><a href=\"");
        escape_html_into(&mut html, link);
        html.push_str("\">");
        escape_html_into(&mut html, what);
        html.push_str("</a></li>");
    }
    html.push_str("</ul>");
    let intro = format!("Here is what happened in your family's legacies since your last {cadence} digest:");
    let mut mail = message(&subject, name, &[intro], None, &unsubscribe.closing());
    // The list goes after the introduction, before the closing words.
    let at = mail.text.find(&unsubscribe.closing()).unwrap_or(mail.text.len());
    mail.text.insert_str(at, &format!("{text}\n"));
    let closing_html = format!("<p>{}", escape_html(&unsubscribe.closing()));
    let at = mail.html.find(&closing_html).unwrap_or(mail.html.len());
    mail.html.insert_str(at, &html);
    mail.unsubscribe = Some(unsubscribe.one_click.clone());
    mail
}

/// Where a notification email's reader changes or stops them.
#[derive(Debug, Clone)]
pub struct Unsubscribe {
    /// What is stopped ("comments on what you wrote", "digests").
    pub what: String,
    /// The page that asks before it stops them (a link in the text).
    pub page: String,
    /// The URL a mail client posts to (`List-Unsubscribe`).
    pub one_click: String,
    /// The notification settings page.
    pub settings: String,
}

impl Unsubscribe {
    fn closing(&self) -> String {
        format!(
            "You get these emails for {}. Change how you hear of things at {}, or stop these emails: {}",
            self.what, self.settings, self.page
        )
    }
}

fn escape_html(text: &str) -> String {
    let mut out = String::new();
    escape_html_into(&mut out, text);
    out
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
    Composed { subject: subject.to_string(), text, html, unsubscribe: None }
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

//! Permissions inside the index. Each document carries the *grants* that let someone
//! see it; a reader holds grants too; a search only ever matches documents sharing at
//! least one grant with the reader. So hidden documents are never scored, returned or
//! counted in totals or facets, and membership changes need no reindexing (the
//! reader's grants are computed per query).
//!
//! This is `stories::permissions::can_read` written as terms (tested against it below):
//! - `author:<user>` — the author always reads their story;
//! - `public` — published public stories, and legacies with at least one;
//! - `members:<legacy>` — published members-only stories, and the legacy itself, for
//!   any member (as `Stories::legacy` allows);
//! - `editors:<legacy>` — drafts that are not private, for owners and editors;
//! - people: `members:<legacy>`, or `editors:<legacy>` for the living;
//! - `admin` — legacies, which instance admins may open (`Stories::legacy`); stories
//!   get no such grant because the policy gives admins no extra read rights on them.

use types::{LegacyRole, StoryStatus, Visibility};

use crate::search::model::Reader;

pub const PUBLIC: &str = "public";
pub const ADMIN: &str = "admin";

pub fn story_grants(author_id: &str, legacy_id: &str, visibility: Visibility, status: StoryStatus) -> Vec<String> {
    let mut grants = vec![format!("author:{author_id}")];
    match (visibility, status) {
        (Visibility::Private, _) => {}
        (_, StoryStatus::Draft) => grants.push(format!("editors:{legacy_id}")),
        (Visibility::Members, StoryStatus::Published) => grants.push(format!("members:{legacy_id}")),
        (Visibility::Public, StoryStatus::Published) => grants.push(PUBLIC.to_string()),
    }
    grants
}

/// The story a media item is attached to, as far as who may find it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaStory<'a> {
    /// None: the item is the legacy's own.
    None,
    /// This story: its author, visibility and status.
    Story(&'a str, Visibility, StoryStatus),
    /// A story that no longer exists.
    Gone,
}

/// A media item follows its story (its readers see it; so does its uploader); one
/// without a story is for the legacy's members; one whose story is gone only for its
/// uploader and the legacy's owners and editors, never widened to every member
/// (`media::Media` permissions).
pub fn media_grants(uploader_id: &str, legacy_id: &str, story: MediaStory) -> Vec<String> {
    let mut grants = match story {
        MediaStory::Story(author_id, visibility, status) => story_grants(author_id, legacy_id, visibility, status),
        MediaStory::None => vec![format!("members:{legacy_id}")],
        MediaStory::Gone => vec![format!("editors:{legacy_id}")],
    };
    let uploader = format!("author:{uploader_id}");
    if !grants.contains(&uploader) {
        grants.push(uploader);
    }
    grants
}

/// A person is for the legacy's members; a living one only for its owners and editors
/// (living people are private, as `people::People` shows them).
pub fn person_grants(legacy_id: &str, living: bool) -> Vec<String> {
    if living {
        vec![format!("editors:{legacy_id}")]
    } else {
        vec![format!("members:{legacy_id}")]
    }
}

pub fn legacy_grants(legacy_id: &str, has_public_story: bool) -> Vec<String> {
    let mut grants = vec![format!("members:{legacy_id}"), ADMIN.to_string()];
    if has_public_story {
        grants.push(PUBLIC.to_string());
    }
    grants
}

pub fn reader_grants(reader: &Reader) -> Vec<String> {
    let mut grants = vec![PUBLIC.to_string()];
    if let Some(user_id) = &reader.user_id {
        grants.push(format!("author:{user_id}"));
    }
    if reader.is_admin {
        grants.push(ADMIN.to_string());
    }
    for (legacy_id, role) in &reader.memberships {
        grants.push(format!("members:{legacy_id}"));
        if matches!(role, LegacyRole::Owner | LegacyRole::Editor) {
            grants.push(format!("editors:{legacy_id}"));
        }
    }
    grants
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::stories::permissions::{self, StoryFacts};

    fn sees(reader: &Reader, grants: &[String]) -> bool {
        let mine = reader_grants(reader);
        grants.iter().any(|g| mine.contains(g))
    }

    /// Every reader shape against every story shape, in this legacy and another one.
    #[test]
    fn story_grants_equal_the_read_policy() {
        let roles = [
            None,
            Some(LegacyRole::Viewer),
            Some(LegacyRole::Contributor),
            Some(LegacyRole::Editor),
            Some(LegacyRole::Owner),
        ];
        for role in roles {
            for user in [None, Some("author"), Some("someone")] {
                for is_admin in [false, true] {
                    let memberships: HashMap<String, LegacyRole> =
                        role.map(|r| HashMap::from([("L".to_string(), r)])).unwrap_or_default();
                    let reader = Reader { user_id: user.map(types::UserId::from), is_admin, memberships };
                    let policy_reader = permissions::Reader { user_id: user, is_admin, role };
                    for &visibility in Visibility::ALL {
                        for &status in StoryStatus::ALL {
                            let facts = StoryFacts { author_id: "author", visibility, status };
                            let grants = story_grants("author", "L", visibility, status);
                            let case = format!("{role:?} {user:?} admin={is_admin} {visibility} {status}");
                            assert_eq!(sees(&reader, &grants), permissions::can_read(policy_reader, facts), "{case}");
                            // Membership elsewhere grants nothing here.
                            let elsewhere = story_grants("author", "OTHER", visibility, status);
                            let outsider = permissions::Reader { user_id: user, is_admin, role: None };
                            assert_eq!(
                                sees(&reader, &elsewhere),
                                permissions::can_read(outsider, facts),
                                "other: {case}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn media_of_a_story_that_is_gone_are_not_widened_to_the_members() {
        let member = |role| Reader {
            user_id: Some("m".into()),
            memberships: HashMap::from([("L".into(), role)]),
            ..Default::default()
        };
        let uploader = Reader { user_id: Some("up".into()), ..Default::default() };
        let gone = media_grants("up", "L", MediaStory::Gone);
        assert!(sees(&uploader, &gone) && sees(&member(LegacyRole::Owner), &gone));
        assert!(sees(&member(LegacyRole::Editor), &gone));
        assert!(!sees(&member(LegacyRole::Viewer), &gone) && !sees(&member(LegacyRole::Contributor), &gone));
        assert!(!sees(&Reader::anonymous(), &gone));
        // The legacy's own media are every member's.
        assert!(sees(&member(LegacyRole::Viewer), &media_grants("up", "L", MediaStory::None)));
    }

    #[test]
    fn legacies_are_seen_by_members_admins_and_anyone_when_they_have_a_public_story() {
        let member = Reader {
            user_id: Some("m".into()),
            memberships: HashMap::from([("L".into(), LegacyRole::Viewer)]),
            ..Default::default()
        };
        let admin = Reader { user_id: Some("a".into()), is_admin: true, ..Default::default() };
        let stranger = Reader { user_id: Some("s".into()), ..Default::default() };
        for has_public in [false, true] {
            let grants = legacy_grants("L", has_public);
            assert!(sees(&member, &grants) && sees(&admin, &grants));
            assert_eq!(sees(&stranger, &grants), has_public);
            assert_eq!(sees(&Reader::anonymous(), &grants), has_public);
        }
    }
}

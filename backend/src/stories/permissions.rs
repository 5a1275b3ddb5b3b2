//! Who may do what with a story or legacy. Every read and write path calls these,
//! and the SQL filter in `repo::list_stories` is tested against them.

use types::{LegacyRole, StoryStatus, Visibility};

/// The reader as seen from one legacy: who they are and their role there.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    pub user_id: Option<&'a str>,
    pub is_admin: bool,
    pub role: Option<LegacyRole>,
}

/// The facts about a story that permissions depend on.
#[derive(Debug, Clone, Copy)]
pub struct StoryFacts<'a> {
    pub author_id: &'a str,
    pub visibility: Visibility,
    pub status: StoryStatus,
}

fn is_author(reader: Reader, story: StoryFacts) -> bool {
    reader.user_id == Some(story.author_id)
}

fn manages_content(role: Option<LegacyRole>) -> bool {
    matches!(role, Some(LegacyRole::Owner | LegacyRole::Editor))
}

/// Private: the author only. Drafts: the author, editors and owners. Published
/// members-only: any member. Published public: anyone, signed in or not.
pub fn can_read(reader: Reader, story: StoryFacts) -> bool {
    if is_author(reader, story) {
        return true;
    }
    match (story.visibility, story.status) {
        (Visibility::Private, _) => false,
        (_, StoryStatus::Draft) => manages_content(reader.role),
        (Visibility::Members, StoryStatus::Published) => reader.role.is_some(),
        (Visibility::Public, StoryStatus::Published) => true,
    }
}

/// Owners and editors edit any story they can read; contributors their own; viewers none.
pub fn can_edit(reader: Reader, story: StoryFacts) -> bool {
    can_read(reader, story)
        && match reader.role {
            Some(LegacyRole::Owner | LegacyRole::Editor) => true,
            Some(LegacyRole::Contributor) => is_author(reader, story),
            Some(LegacyRole::Viewer) | None => false,
        }
}

pub fn can_delete(reader: Reader, story: StoryFacts) -> bool {
    can_edit(reader, story)
}

pub fn can_create_story(role: Option<LegacyRole>) -> bool {
    matches!(role, Some(LegacyRole::Owner | LegacyRole::Editor | LegacyRole::Contributor))
}

pub fn can_manage_members(reader: Reader) -> bool {
    can_manage_legacy(reader)
}

/// Renaming a legacy and changing its dates and summary: its owners, and administrators.
pub fn can_manage_legacy(reader: Reader) -> bool {
    reader.role == Some(LegacyRole::Owner) || reader.is_admin
}

pub fn can_flag(reader: Reader, story: StoryFacts) -> bool {
    reader.role.is_some() && can_read(reader, story)
}

pub fn can_moderate(reader: Reader) -> bool {
    can_manage_legacy(reader)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(role: Option<LegacyRole>, author: bool) -> Reader<'static> {
        Reader { user_id: Some(if author { "author" } else { "someone" }), is_admin: false, role }
    }

    fn story(visibility: Visibility, status: StoryStatus) -> StoryFacts<'static> {
        StoryFacts { author_id: "author", visibility, status }
    }

    /// The whole matrix, written out as the expected table rather than re-derived.
    #[test]
    fn role_by_action_by_visibility() {
        use LegacyRole::*;
        use StoryStatus::*;
        use Visibility::*;
        // (role, is author, visibility, status) => (read, edit)
        // (role, is author, visibility, status, may read, may edit)
        type Row = (Option<LegacyRole>, bool, Visibility, StoryStatus, bool, bool);
        let table: &[Row] = &[
            (None, false, Public, Published, true, false),
            (None, false, Members, Published, false, false),
            (None, false, Private, Published, false, false),
            (None, false, Public, Draft, false, false),
            (Some(Viewer), false, Public, Published, true, false),
            (Some(Viewer), false, Members, Published, true, false),
            (Some(Viewer), false, Private, Published, false, false),
            (Some(Viewer), false, Members, Draft, false, false),
            (Some(Contributor), false, Members, Published, true, false),
            (Some(Contributor), false, Members, Draft, false, false),
            (Some(Contributor), true, Members, Draft, true, true),
            (Some(Contributor), true, Private, Draft, true, true),
            (Some(Contributor), false, Private, Published, false, false),
            (Some(Editor), false, Members, Published, true, true),
            (Some(Editor), false, Public, Draft, true, true),
            (Some(Editor), false, Private, Published, false, false),
            (Some(Owner), false, Members, Draft, true, true),
            (Some(Owner), false, Public, Published, true, true),
            (Some(Owner), false, Private, Draft, false, false),
            (Some(Viewer), true, Members, Published, true, false),
            (None, true, Members, Published, true, false),
        ];
        for &(role, author, visibility, status, read, edit) in table {
            let (r, s) = (reader(role, author), story(visibility, status));
            assert_eq!(can_read(r, s), read, "read {role:?} author={author} {visibility} {status}");
            assert_eq!(can_edit(r, s), edit, "edit {role:?} author={author} {visibility} {status}");
            assert_eq!(can_delete(r, s), edit, "delete {role:?} author={author} {visibility} {status}");
        }
        assert!(!reader_signed_out_can_read_drafts());
    }

    fn reader_signed_out_can_read_drafts() -> bool {
        let signed_out = Reader { user_id: None, is_admin: false, role: None };
        can_read(signed_out, story(Visibility::Public, StoryStatus::Draft))
    }

    #[test]
    fn who_creates_and_manages() {
        use LegacyRole::*;
        assert!(can_create_story(Some(Owner)) && can_create_story(Some(Editor)) && can_create_story(Some(Contributor)));
        assert!(!can_create_story(Some(Viewer)) && !can_create_story(None));
        assert!(can_manage_members(reader(Some(Owner), false)));
        assert!(!can_manage_members(reader(Some(Editor), false)));
        assert!(can_manage_members(Reader { user_id: Some("x"), is_admin: true, role: None }));
    }
}

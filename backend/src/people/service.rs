//! The rules for people and relationships: who may read and edit them (the legacy's
//! roles; a living person's details only for its owners and editors), checked fields,
//! one transaction per write with its revision and outbox event, and the guard rails of
//! the family graph (no self-relation, nobody their own ancestor, at most two birth
//! parents, a child born before a parent only when confirmed).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use types::events::{
    EventPayload, PersonCreated, PersonDeleted, PersonUpdated, RelationshipAdded, RelationshipFacts,
    RelationshipRemoved,
};
use types::{
    ErrorCode, FamilyTree, FamilyView, Kinship, KinshipStep, LegacyId, LegacyRole, MediaId, MediaKind, MediaState,
    MediaView, MyPerson, ParentKind, PartnerKind, PeoplePage, PersonId, PersonInput, PersonPage, PersonSummary,
    PersonView, PortraitInput, RelationshipId, RelationshipInput, RelationshipView, Relative, Sex, TreePerson, UserId,
    TREE_GENERATIONS_DEFAULT, TREE_GENERATIONS_MAX,
};

use crate::db::{Db, Tx};
use crate::error::{Error, Result};
use crate::events::{self, Event};
use crate::identity::User;
use crate::media::Media;
use crate::people::graph::{self, Graphs, Limits, PathSearch};
use crate::people::imports::Progress;
use crate::people::kinship::{self, Step};
use crate::people::model::{self, Bond, PersonFields, PersonRow, RelationshipRow};
use crate::people::{repo, tags, timeline};
use crate::stories::render;
use crate::stories::service::ListRequest;
use crate::stories::Stories;
use crate::time::{new_id, now_millis};
use crate::validate::{self, Problems};

const PAGE_MAX: i64 = 200;
/// The most people an `@` mention offers.
const SUGGEST_MAX: i64 = 8;
/// The stories mentioning a person that their page lists.
const MENTIONS_SHOWN: i64 = 50;
/// The most people one family tree shows.
const TREE_PEOPLE_MAX: usize = 2000;
/// The most people the person page offers to relate someone to, or to ask about.
const OTHERS_MAX: i64 = 500;

pub struct People {
    pub(crate) db: Db,
    stories: Arc<Stories>,
    pub(crate) limits: Limits,
    pub(crate) progress: Progress,
    /// The family graphs the relationship finder, trees and relatives listings walk.
    pub(crate) graphs: Graphs,
}

/// What a reader may do with the people of one legacy.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Access<'u> {
    role: Option<LegacyRole>,
    user: Option<&'u UserId>,
}

impl Access<'_> {
    pub(crate) fn can_read(self) -> bool {
        self.role.is_some()
    }

    /// Owners and editors edit people and see the living.
    pub(crate) fn can_edit(self) -> bool {
        matches!(self.role, Some(LegacyRole::Owner | LegacyRole::Editor))
    }

    /// Whether `person`'s details are withheld from this reader (never their own).
    pub(crate) fn hides(self, person: &PersonRow) -> bool {
        person.fields.living && !self.can_edit() && !self.is(person)
    }

    /// Whether `person` is the reader ("This is me").
    pub(crate) fn is(self, person: &PersonRow) -> bool {
        self.user.is_some() && person.user_id.as_ref() == self.user
    }
}

/// The refusal for a reader who may read a legacy's people but not change them.
fn edit_refused() -> Error {
    Error::forbidden(ErrorCode::Forbidden, "Only the legacy's owners and editors can change its people.")
}

fn not_found() -> Error {
    Error::NotFound { what: "person" }
}

impl People {
    pub fn new(db: Db, stories: Arc<Stories>, limits: Limits) -> People {
        People { db, stories, limits, progress: Progress::default(), graphs: Graphs::default() }
    }

    pub(crate) async fn access<'u>(&self, user: Option<&'u User>, legacy_id: &LegacyId) -> Result<Access<'u>> {
        let role = match user {
            Some(user) => self.stories.role_in(legacy_id, user).await?,
            None => None,
        };
        Ok(Access { role, user: user.map(|u| &u.id) })
    }

    /// The person and the reader's access, or "not found" for a reader who may not
    /// read them (never revealing they exist).
    pub(crate) async fn readable<'u>(&self, user: Option<&'u User>, id: &PersonId) -> Result<(PersonRow, Access<'u>)> {
        let row = repo::find(&self.db, id).await?.ok_or_else(not_found)?;
        let access = self.access(user, &row.legacy_id).await?;
        if !access.can_read() {
            return Err(not_found());
        }
        Ok((row, access))
    }

    async fn editable(&self, user: &User, id: &PersonId) -> Result<PersonRow> {
        let (row, access) = self.readable(Some(user), id).await?;
        if !access.can_edit() {
            return Err(edit_refused());
        }
        Ok(row)
    }

    pub async fn create(&self, user: &User, input: &PersonInput) -> Result<PersonView> {
        let mut problems = Problems::default();
        let fields = model::fields(&mut problems, input);
        let legacy_id = LegacyId::new(input.legacy_id.trim());
        if legacy_id.is_empty() {
            problems.add("legacy_id", "is required");
        } else if !self.access(Some(user), &legacy_id).await?.can_edit() {
            problems.add("legacy_id", "is not a legacy whose people you can edit");
        }
        problems.into_result()?;

        let id = PersonId::new(new_id());
        let now = now_millis();
        let mut tx = self.db.begin().await?;
        let person = repo::NewPerson {
            id: &id,
            legacy_id: &legacy_id,
            fields: &fields,
            is_subject: false,
            gedcom_xref: None,
            by: &user.id,
            now,
        };
        repo::insert_tx(&mut tx, &person).await?;
        repo::insert_revision_tx(&mut tx, &id, 1, &fields, &user.id, now).await?;
        let created = PersonCreated { person_id: id.clone(), legacy_id, version: 1, living: fields.living };
        append(&mut tx, &id, user, created).await?;
        tx.commit().await?;
        self.person(Some(user), &id).await
    }

    /// A person the reader may read; a living one as "Living person" to readers who may
    /// not edit the legacy.
    pub async fn person(&self, user: Option<&User>, id: &PersonId) -> Result<PersonView> {
        let (row, access) = self.readable(user, id).await?;
        Ok(view(&row, access))
    }

    pub async fn update(&self, user: &User, id: &PersonId, input: &PersonInput) -> Result<PersonView> {
        let current = self.editable(user, id).await?;
        let mut problems = Problems::default();
        let mut fields = model::fields(&mut problems, input);
        if input.version.is_none() {
            problems.add("version", "is required: the version you started from");
        }
        problems.into_result()?;
        let version = input.version.unwrap_or_default();
        fields.portrait_id = current.fields.portrait_id.clone();
        self.save_fields(user, &current, version, &fields).await?;
        self.person(Some(user), id).await
    }

    /// Writes `fields` over `current` if it is still at `version`, with its revision and
    /// a `PersonUpdated` event; a conflict (with the version it is at now) otherwise.
    async fn save_fields(&self, user: &User, current: &PersonRow, version: i64, fields: &PersonFields) -> Result<()> {
        let id = &current.id;
        let now = now_millis();
        let mut tx = self.db.begin().await?;
        if !repo::update_tx(&mut tx, id, version, fields, &user.id, now).await? {
            drop(tx);
            let now_at = repo::find(&self.db, id).await?.ok_or_else(not_found)?.version;
            return Err(Error::conflict(
                ErrorCode::Conflict,
                format!(
                    "This person was changed since you started (now version {now_at}; you started from version \
                     {version}). Reload, then apply your change again."
                ),
            ));
        }
        repo::insert_revision_tx(&mut tx, id, version + 1, fields, &user.id, now).await?;
        let updated = PersonUpdated {
            person_id: id.clone(),
            legacy_id: current.legacy_id.clone(),
            version: version + 1,
            living: fields.living,
        };
        append(&mut tx, id, user, updated).await?;
        tx.commit().await
    }

    /// Deletes a person and their relationships; returns their legacy (where a page goes
    /// next). The person a legacy remembers stays.
    pub async fn delete(&self, user: &User, id: &PersonId) -> Result<LegacyId> {
        let current = self.editable(user, id).await?;
        if current.is_subject {
            return Err(Error::conflict(
                ErrorCode::Conflict,
                "This is the person the legacy remembers; they cannot be deleted.",
            ));
        }
        let mut tx = self.db.begin().await?;
        tags::untag_everywhere_tx(&mut tx, user, &current).await?;
        for edge in repo::relationships_of(&mut tx, &[id]).await? {
            append(&mut tx, id, user, RelationshipRemoved { relationship: facts(&edge) }).await?;
        }
        repo::delete_tx(&mut tx, &current.legacy_id, id).await?;
        append(&mut tx, id, user, PersonDeleted { person_id: id.clone(), legacy_id: current.legacy_id.clone() })
            .await?;
        tx.commit().await?;
        Ok(current.legacy_id)
    }

    /// A legacy's people by surname, a page at a time (`cursor`: the id of the last
    /// person of the previous page).
    pub async fn in_legacy(
        &self,
        user: Option<&User>,
        legacy_id: &LegacyId,
        cursor: Option<&str>,
        limit: Option<i64>,
    ) -> Result<PeoplePage> {
        let access = self.access(user, legacy_id).await?;
        if !access.can_read() {
            return Err(Error::NotFound { what: "legacy" });
        }
        let mut problems = Problems::default();
        let limit = validate::limit(&mut problems, limit, 50, PAGE_MAX);
        let after = match cursor.map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(cursor) => {
                let found = repo::find(&self.db, &PersonId::new(cursor)).await?;
                match found.filter(|p| &p.legacy_id == legacy_id) {
                    Some(person) => Some(person),
                    None => {
                        problems.add("cursor", "is not a cursor from a previous page");
                        None
                    }
                }
            }
        };
        problems.into_result()?;
        let after = after.as_ref().map(|p| (p.fields.surname.as_str(), p.fields.given_names.as_str(), p.id.as_str()));
        let mut rows = repo::in_legacy(&self.db, legacy_id, after, limit + 1).await?;
        let next_cursor = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|p| p.id.to_string())
        } else {
            None
        };
        let items = rows.iter().map(|p| p.summary(access.hides(p))).collect();
        Ok(PeoplePage { items, next_cursor })
    }

    /// People of a legacy whose names contain `text` (any case), for an `@` mention: at
    /// most [`SUGGEST_MAX`], none the reader may not see.
    pub async fn suggest(&self, user: &User, legacy_id: &LegacyId, text: &str) -> Result<Vec<PersonSummary>> {
        let access = self.access(Some(user), legacy_id).await?;
        if !access.can_read() {
            return Err(Error::NotFound { what: "legacy" });
        }
        let text = crate::text::normalize(text.trim()).to_lowercase();
        if text.chars().count() > model::NAME_MAX_CHARS {
            return Err(Error::invalid("text", &format!("must be at most {} characters", model::NAME_MAX_CHARS)));
        }
        let rows = repo::matching(&self.db, legacy_id, &text, SUGGEST_MAX * 4).await?;
        Ok(rows.iter().filter(|p| !access.hides(p)).take(SUGGEST_MAX as usize).map(|p| p.summary(false)).collect())
    }

    /// The person page: the person, their immediate family and the people of the legacy
    /// they may be related to.
    pub async fn page(&self, media: &Media, user: Option<&User>, id: &PersonId) -> Result<PersonPage> {
        let (row, access) = self.readable(user, id).await?;
        let (family, kin) = self.family_of(&row, access).await?;
        let rows = repo::in_legacy(&self.db, &row.legacy_id, None, OTHERS_MAX).await?;
        let others = rows.iter().filter(|p| p.id != row.id).map(|p| p.summary(access.hides(p))).collect();
        let me = match user {
            Some(user) => repo::of_user(&self.db, &row.legacy_id, &user.id).await?,
            None => None,
        };
        let related_to_me = match &me {
            Some(me) if me.id != row.id => Some(self.kinship(user, &row.id, &me.id).await?),
            _ => None,
        };
        let me = me.map(|me| me.summary(access.hides(&me)));
        // Hidden from this reader, a living person's mentions would say who they are.
        let mentioned_in = if access.hides(&row) {
            Vec::new()
        } else {
            let request =
                ListRequest { person_id: Some(id.to_string()), limit: Some(MENTIONS_SHOWN), ..Default::default() };
            self.stories.list(user, &request).await?.items
        };
        let tagged = self.tagged_media(media, user, id).await?;
        let portrait = match &row.fields.portrait_id {
            Some(portrait_id) if !access.hides(&row) => visible_media(media, user, portrait_id).await?,
            _ => None,
        };
        let hides = |person: &PersonRow| access.hides(person);
        let timeline = timeline::timeline(&timeline::Life {
            person: &row,
            edges: &kin.edges,
            relatives: &kin.people,
            hides: &hides,
            media: &tagged,
            stories: &mentioned_in,
        });
        Ok(PersonPage {
            person: view(&row, access),
            family,
            others,
            me,
            related_to_me,
            mentioned_in,
            portrait,
            media: tagged,
            timeline,
        })
    }

    /// Shows a photo of the person's legacy as their portrait (`None`: no portrait). The
    /// change is an edit like any other: revisioned, with a `PersonUpdated` event.
    pub async fn set_portrait(
        &self,
        media: &Media,
        user: &User,
        id: &PersonId,
        input: &PortraitInput,
    ) -> Result<PersonView> {
        let current = self.editable(user, id).await?;
        let media_id = input.media_id.as_ref().map(|m| MediaId::new(m.trim())).filter(|m| !m.is_empty());
        if let Some(media_id) = &media_id {
            let photo = visible_media(media, Some(user), media_id).await?;
            let usable = photo.as_ref().is_some_and(|p| {
                p.legacy_id == current.legacy_id && p.kind == Some(MediaKind::Image) && p.state == MediaState::Ready
            });
            if !usable {
                return Err(Error::invalid(
                    "media_id",
                    "is not a processed photo of this person's legacy (a portrait is chosen from its photos)",
                ));
            }
        }
        let version = input.version.unwrap_or(current.version);
        let mut fields = current.fields.clone();
        fields.portrait_id = media_id;
        self.save_fields(user, &current, version, &fields).await?;
        self.person(Some(user), id).await
    }

    /// Says the user is `id` ("This is me"), letting go of the person they said before
    /// in the same legacy. Only a person whose details the user may see, and whom no
    /// other member said is them.
    pub async fn claim(&self, user: &User, id: &PersonId) -> Result<PersonView> {
        let (row, access) = self.readable(Some(user), id).await?;
        if access.hides(&row) {
            return Err(Error::forbidden(
                ErrorCode::Forbidden,
                "This living person's details are shown only to the legacy's owners and editors; ask one of them \
                 whether this is you.",
            ));
        }
        let mut tx = self.db.begin().await?;
        if !repo::set_user_tx(&mut tx, &row.legacy_id, id, Some(&user.id)).await? {
            return Err(Error::conflict(ErrorCode::Conflict, "Another member already said this person is them."));
        }
        tx.commit().await?;
        self.person(Some(user), id).await
    }

    /// Takes back "This is me" (the user themselves, or an editor of the legacy).
    pub async fn unclaim(&self, user: &User, id: &PersonId) -> Result<PersonView> {
        let (row, access) = self.readable(Some(user), id).await?;
        if !access.is(&row) && !access.can_edit() {
            return Err(Error::forbidden(
                ErrorCode::Forbidden,
                "Only the member who said this is them can take it back.",
            ));
        }
        let mut tx = self.db.begin().await?;
        repo::set_user_tx(&mut tx, &row.legacy_id, id, None).await?;
        tx.commit().await?;
        self.person(Some(user), id).await
    }

    /// The people the user said are them, one a legacy they still belong to.
    pub async fn mine(&self, user: &User) -> Result<Vec<MyPerson>> {
        let mut mine = Vec::new();
        for row in repo::all_of_user(&self.db, &user.id).await? {
            let access = self.access(Some(user), &row.legacy_id).await?;
            if access.can_read() {
                let person = row.summary(access.hides(&row));
                mine.push(MyPerson { person, legacy_id: row.legacy_id, legacy_name: row.legacy_name });
            }
        }
        Ok(mine)
    }

    pub async fn family(&self, user: Option<&User>, id: &PersonId) -> Result<FamilyView> {
        let (row, access) = self.readable(user, id).await?;
        Ok(self.family_of(&row, access).await?.0)
    }

    /// The person's immediate family, and the relationships and rows it was made from.
    async fn family_of(&self, person: &PersonRow, access: Access<'_>) -> Result<(FamilyView, Kin)> {
        let id = &person.id;
        let edges = repo::relationships_of(&self.db, &[id]).await?;
        let parent_edges: Vec<&RelationshipRow> =
            edges.iter().filter(|e| e.kind == "parent" && &e.person_b == id).collect();
        let parent_ids: Vec<&PersonId> = parent_edges.iter().map(|e| &e.person_a).collect();
        let birth_parents: HashSet<&PersonId> =
            parent_edges.iter().filter(|e| e.subkind == "birth").map(|e| &e.person_a).collect();
        // Siblings: the other children of this person's parents, full when they share
        // both of this person's birth parents.
        let siblings_edges = repo::relationships_of(&self.db, &parent_ids).await?;
        let mut sibling_parents: HashMap<&PersonId, HashSet<&PersonId>> = HashMap::new();
        for edge in siblings_edges.iter().filter(|e| e.kind == "parent" && &e.person_b != id) {
            if parent_ids.contains(&&edge.person_a) {
                let parents = sibling_parents.entry(&edge.person_b).or_default();
                if edge.subkind == "birth" {
                    parents.insert(&edge.person_a);
                }
            }
        }
        let mut wanted: Vec<&PersonId> = edges.iter().map(|e| e.other(id)).collect();
        wanted.extend(sibling_parents.keys().copied());
        let people: HashMap<PersonId, PersonRow> =
            repo::find_many(&self.db, &wanted).await?.into_iter().map(|p| (p.id.clone(), p)).collect();
        let relative = |other: &PersonId, relationship_id: Option<&RelationshipId>, kind: &str| {
            people.get(other).map(|p| Relative {
                person: p.summary(access.hides(p)),
                relationship_id: relationship_id.cloned(),
                kind: kind.to_string(),
            })
        };
        let mut family = FamilyView::default();
        for edge in &edges {
            let other = edge.other(id);
            let list = match edge.kind.as_str() {
                "parent" if &edge.person_b == id => &mut family.parents,
                "parent" => &mut family.children,
                _ => &mut family.partners,
            };
            list.extend(relative(other, Some(&edge.id), &edge.subkind));
        }
        for (sibling, parents) in &sibling_parents {
            let full = birth_parents.len() == 2 && birth_parents.iter().all(|p| parents.contains(p));
            family.siblings.extend(relative(sibling, None, if full { "full" } else { "half" }));
        }
        let birth_order = |r: &Relative| people.get(&r.person.id).and_then(|p| p.fields.birth_sort());
        for list in [&mut family.parents, &mut family.partners] {
            list.sort_by(|a, b| a.person.name.cmp(&b.person.name));
        }
        for list in [&mut family.siblings, &mut family.children] {
            list.sort_by(|a, b| birth_order(a).cmp(&birth_order(b)).then_with(|| a.person.name.cmp(&b.person.name)));
        }
        Ok((family, Kin { edges, people }))
    }

    /// A person's ancestors (`up` generations) and descendants (`down`), each at most
    /// [`TREE_GENERATIONS_MAX`]; living people as "Living person" to readers who may not
    /// edit the legacy.
    pub async fn tree(
        &self,
        user: Option<&User>,
        id: &PersonId,
        up: Option<i64>,
        down: Option<i64>,
    ) -> Result<FamilyTree> {
        let (root, access) = self.readable(user, id).await?;
        let mut problems = Problems::default();
        let mut generations = |field: &str, value: Option<i64>| match value {
            None => TREE_GENERATIONS_DEFAULT,
            Some(n) if (0..=i64::from(TREE_GENERATIONS_MAX)).contains(&n) => n as u32,
            Some(_) => {
                problems.add(field, format!("must be between 0 and {TREE_GENERATIONS_MAX} generations"));
                TREE_GENERATIONS_DEFAULT
            }
        };
        let (up, down) = (generations("up", up), generations("down", down));
        problems.into_result()?;
        let walked = self.graphs.of(&self.db, &root.legacy_id).await?.generations(id, up, down, TREE_PEOPLE_MAX);
        let ids: Vec<&PersonId> = walked.people.iter().map(|(id, _)| id).collect();
        let mut rows: HashMap<PersonId, PersonRow> =
            repo::find_many(&self.db, &ids).await?.into_iter().map(|p| (p.id.clone(), p)).collect();
        rows.insert(root.id.clone(), root.clone());
        let mut parents: HashMap<&PersonId, Vec<PersonId>> = HashMap::new();
        let mut children: HashMap<&PersonId, Vec<PersonId>> = HashMap::new();
        for (parent, child) in &walked.edges {
            parents.entry(child).or_default().push(parent.clone());
            children.entry(parent).or_default().push(child.clone());
        }
        let people = walked
            .people
            .iter()
            .filter_map(|(id, generation)| {
                let row = rows.get(id)?;
                // Each side draws its own edges: ancestors with their parents, descendants
                // with their children, the root with both.
                let kin = |edges: &mut HashMap<&PersonId, Vec<PersonId>>, wanted: bool| {
                    if wanted {
                        let mut ids = edges.remove(id).unwrap_or_default();
                        ids.sort_by_key(|other| rows.get(other).and_then(|p| p.fields.birth_sort()));
                        ids
                    } else {
                        Vec::new()
                    }
                };
                Some(TreePerson {
                    person: row.summary(access.hides(row)),
                    generation: *generation,
                    parents: kin(&mut parents, *generation <= 0),
                    children: kin(&mut children, *generation >= 0),
                })
            })
            .collect();
        Ok(FamilyTree {
            root: root.id.clone(),
            legacy_id: root.legacy_id.clone(),
            legacy_name: root.legacy_name.clone(),
            up,
            down,
            people,
            truncated: walked.truncated,
        })
    }

    /// Relates `id` to another person of the same legacy, after the guard rails.
    pub async fn relate(&self, user: &User, id: &PersonId, input: &RelationshipInput) -> Result<RelationshipView> {
        let person = self.editable(user, id).await?;
        let mut problems = Problems::default();
        let other_id = PersonId::new(input.person_id.trim());
        let other = if other_id.is_empty() {
            problems.add("person_id", "is required");
            None
        } else if other_id == person.id {
            problems.add("person_id", "is this same person: nobody can be related to themselves");
            None
        } else {
            let other = repo::find(&self.db, &other_id).await?.filter(|o| o.legacy_id == person.legacy_id);
            if other.is_none() {
                problems.add("person_id", "is not a person of this legacy");
            }
            other
        };
        let kind = input.kind.as_deref().map(str::trim).filter(|k| !k.is_empty());
        let bond = match input.relation.trim() {
            "parent" | "child" => ParentKind::parse(kind.unwrap_or("birth")).map(Bond::Parent).or_else(|| {
                problems.add("kind", "must be one of birth, adoptive, step, foster");
                None
            }),
            "partner" => PartnerKind::parse(kind.unwrap_or("married")).map(Bond::Partner).or_else(|| {
                problems.add("kind", "must be one of married, partnered, divorced");
                None
            }),
            _ => {
                problems.add("relation", "must be one of parent, child, partner");
                None
            }
        };
        let start_date = model::date(&mut problems, "start_date", &input.start_date);
        let end_date = model::date(&mut problems, "end_date", &input.end_date);
        let confirmed = matches!(input.confirm.as_deref().map(str::trim), Some("true" | "on" | "yes" | "1"));
        problems.into_result()?;
        let (Some(other), Some(bond)) = (other, bond) else { return Err(not_found()) };

        let (kind, subkind, a, b) = match bond {
            Bond::Parent(kind) => {
                let (parent, child) =
                    if input.relation.trim() == "parent" { (&other, &person) } else { (&person, &other) };
                self.check_parenthood(parent, child, kind, confirmed).await?;
                ("parent", kind.as_str(), parent.id.clone(), child.id.clone())
            }
            Bond::Partner(kind) => {
                let (a, b) = if person.id < other.id { (&person, &other) } else { (&other, &person) };
                ("partner", kind.as_str(), a.id.clone(), b.id.clone())
            }
        };
        let relationship_id = RelationshipId::new(new_id());
        let row = repo::NewRelationship {
            id: &relationship_id,
            legacy_id: &person.legacy_id,
            kind,
            subkind,
            person_a: &a,
            person_b: &b,
            start_date: &start_date,
            end_date: &end_date,
            by: &user.id,
            now: now_millis(),
        };
        let mut tx = self.db.begin().await?;
        if !repo::insert_relationship_tx(&mut tx, &row).await? {
            return Err(Error::conflict(ErrorCode::AlreadyExists, "These two are already related this way."));
        }
        let stored = repo::find_relationship(&mut tx, &relationship_id).await?.ok_or_else(not_found)?;
        append(&mut tx, id, user, RelationshipAdded { relationship: facts(&stored) }).await?;
        tx.commit().await?;
        Ok(stored.view())
    }

    /// Nobody their own ancestor; at most two birth parents; a child born before the
    /// parent only when the editor confirmed it.
    async fn check_parenthood(
        &self,
        parent: &PersonRow,
        child: &PersonRow,
        kind: ParentKind,
        confirmed: bool,
    ) -> Result<()> {
        let (parent_name, child_name) = (parent.fields.full_name(), child.fields.full_name());
        match graph::is_ancestor(&self.db, &child.id, &parent.id, self.limits).await? {
            Some(false) => {}
            Some(true) => {
                return Err(Error::invalid(
                    "person_id",
                    &format!("{child_name} is already an ancestor of {parent_name}: nobody can be their own ancestor"),
                ))
            }
            None => {
                return Err(Error::invalid(
                    "person_id",
                    &format!("the ancestors of {parent_name} are too many to check within this instance's limits"),
                ))
            }
        }
        if kind == ParentKind::Birth {
            let parents = repo::parents_of(&self.db, &[&child.id]).await?;
            let births = parents.iter().filter(|e| e.subkind == "birth" && e.person_a != parent.id).count();
            if births >= 2 {
                return Err(Error::invalid(
                    "kind",
                    &format!("{child_name} already has two birth parents; add this parent as adoptive, step or foster"),
                ));
            }
        }
        if !confirmed {
            if let (Some(parent_born), Some(child_born)) = (parent.fields.birth_sort(), child.fields.birth_sort()) {
                if child_born < parent_born {
                    return Err(Error::invalid(
                        "confirm",
                        &format!(
                            "{child_name} was born before {parent_name} by these dates; check them, or confirm to add \
                             the relationship anyway"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Removes a stored relationship.
    pub async fn unrelate(&self, user: &User, id: &RelationshipId) -> Result<()> {
        let edge = repo::find_relationship(&self.db, id).await?.ok_or(Error::NotFound { what: "relationship" })?;
        let access = self.access(Some(user), &edge.legacy_id).await?;
        if !access.can_read() {
            return Err(Error::NotFound { what: "relationship" });
        }
        if !access.can_edit() {
            return Err(edit_refused());
        }
        let mut tx = self.db.begin().await?;
        if repo::delete_relationship_tx(&mut tx, &edge.legacy_id, id).await? {
            append(&mut tx, &edge.person_b, user, RelationshipRemoved { relationship: facts(&edge) }).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// How `a` is related to `b`: what `a` is to `b`, named in plain English, and the
    /// chain of people between them; says so when the walk stopped at a limit.
    pub async fn kinship(&self, user: Option<&User>, a: &PersonId, b: &PersonId) -> Result<Kinship> {
        let (row_a, access) = self.readable(user, a).await?;
        let (row_b, _) = self.readable(user, b).await?;
        let (summary_a, summary_b) = (row_a.summary(access.hides(&row_a)), row_b.summary(access.hides(&row_b)));
        let not_found = |sentence: String, capped: bool| Kinship {
            a: summary_a.clone(),
            b: summary_b.clone(),
            found: false,
            relation: String::new(),
            sentence,
            path: Vec::new(),
            capped,
        };
        if row_a.legacy_id != row_b.legacy_id {
            return Ok(not_found(
                format!(
                    "{} and {} belong to different legacies, and relationships join people of one legacy.",
                    summary_a.name, summary_b.name
                ),
                false,
            ));
        }
        let family_graph = self.graphs.of(&self.db, &row_a.legacy_id).await?;
        let steps = match graph::shortest_path(&family_graph, b, a, self.limits) {
            PathSearch::Found(steps) => steps,
            PathSearch::NotFound { capped: true } => {
                return Ok(not_found(
                    format!(
                        "No relationship between {} and {} was found within {} steps and {} people, the limits of \
                         this instance; they may be related more distantly.",
                        summary_a.name, summary_b.name, self.limits.max_depth, self.limits.max_visited
                    ),
                    true,
                ))
            }
            PathSearch::NotFound { capped: false } => {
                return Ok(not_found(
                    format!("{} and {} are not related in this family tree.", summary_a.name, summary_b.name),
                    false,
                ))
            }
        };
        let ids: Vec<&PersonId> = steps.iter().map(|(_, id)| id).collect();
        let people: HashMap<PersonId, PersonRow> =
            repo::find_many(&self.db, &ids).await?.into_iter().map(|p| (p.id.clone(), p)).collect();
        let path = steps
            .iter()
            .filter_map(|(step, id)| {
                let person = people.get(id)?;
                Some(KinshipStep { step: step_name(step).to_string(), person: person.summary(access.hides(person)) })
            })
            .collect();
        let only_steps: Vec<Step> = steps.iter().map(|(step, _)| *step).collect();
        let half = self.is_half(b, &steps).await?;
        let sex = if access.hides(&row_a) { Sex::Unknown } else { row_a.fields.sex };
        let relation = kinship::describe(&only_steps, half, sex);
        let sentence = kinship::sentence(&summary_a.name, &summary_b.name, &relation);
        Ok(Kinship { a: summary_a, b: summary_b, found: true, relation, sentence, path, capped: false })
    }

    /// Whether a blood path (up to a common ancestor, then down) goes through two people
    /// who share only that one of their two birth parents: a half relation.
    async fn is_half(&self, start: &PersonId, steps: &[(Step, PersonId)]) -> Result<bool> {
        let ups = steps.iter().take_while(|(s, _)| matches!(s, Step::Parent { .. })).count();
        let downs = steps[ups..].iter().take_while(|(s, _)| matches!(s, Step::Child { .. })).count();
        if ups == 0 || downs == 0 || ups + downs != steps.len() {
            return Ok(false);
        }
        let below_apex_here = if ups == 1 { start } else { &steps[ups - 2].1 };
        let below_apex_there = &steps[ups].1;
        let parents = repo::parents_of(&self.db, &[below_apex_here, below_apex_there]).await?;
        let births = |child: &PersonId| -> HashSet<&PersonId> {
            parents.iter().filter(|e| &e.person_b == child && e.subkind == "birth").map(|e| &e.person_a).collect()
        };
        let (here, there) = (births(below_apex_here), births(below_apex_there));
        Ok(here.len() == 2 && there.len() == 2 && here.intersection(&there).count() == 1)
    }
}

/// Adds the person a new legacy remembers, in the legacy's own transaction: named as the
/// legacy, with its dates as typed.
pub async fn add_subject_tx(
    tx: &mut Tx,
    legacy_id: &LegacyId,
    name: &str,
    born: &str,
    died: &str,
    user: &User,
    now: i64,
) -> Result<PersonId> {
    let id = PersonId::new(new_id());
    let fields = PersonFields {
        given_names: name.to_string(),
        birth_date: born.to_string(),
        death_date: died.to_string(),
        ..PersonFields::default()
    };
    let person =
        repo::NewPerson { id: &id, legacy_id, fields: &fields, is_subject: true, gedcom_xref: None, by: &user.id, now };
    repo::insert_tx(tx, &person).await?;
    repo::insert_revision_tx(tx, &id, 1, &fields, &user.id, now).await?;
    let created = PersonCreated { person_id: id.clone(), legacy_id: legacy_id.clone(), version: 1, living: false };
    append(tx, &id, user, created).await?;
    Ok(id)
}

/// The relationships of one person and the rows of the people at their other ends (and
/// of their siblings).
struct Kin {
    edges: Vec<RelationshipRow>,
    people: HashMap<PersonId, PersonRow>,
}

/// The media item if the reader may see it; `None` when it is gone or hidden from them.
pub(crate) async fn visible_media(media: &Media, user: Option<&User>, id: &MediaId) -> Result<Option<MediaView>> {
    match media.media(user, id).await {
        Ok(item) => Ok(Some(item)),
        Err(Error::NotFound { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}

fn view(row: &PersonRow, access: Access<'_>) -> PersonView {
    let f = &row.fields;
    if access.hides(row) {
        return PersonView {
            id: row.id.clone(),
            legacy_id: row.legacy_id.clone(),
            legacy_name: row.legacy_name.clone(),
            name: model::LIVING_PERSON.to_string(),
            private: true,
            given_names: String::new(),
            surname: String::new(),
            birth_surname: String::new(),
            nicknames: Vec::new(),
            sex: Sex::Unknown,
            birth: types::LifeEvent::default(),
            death: types::LifeEvent::default(),
            life_years: String::new(),
            living: true,
            bio: String::new(),
            bio_html: String::new(),
            portrait_id: None,
            is_subject: row.is_subject,
            version: row.version,
            updated_at: row.updated_at,
            can_edit: false,
            is_me: false,
            claimed: row.user_id.is_some(),
        };
    }
    PersonView {
        id: row.id.clone(),
        legacy_id: row.legacy_id.clone(),
        legacy_name: row.legacy_name.clone(),
        name: f.full_name(),
        private: false,
        given_names: f.given_names.clone(),
        surname: f.surname.clone(),
        birth_surname: f.birth_surname.clone(),
        nicknames: f.nickname_list(),
        sex: f.sex,
        birth: model::life_event(&f.birth_date, &f.birth_place),
        death: model::life_event(&f.death_date, &f.death_place),
        life_years: f.life_years(),
        living: f.living,
        bio: f.bio.clone(),
        bio_html: render::markdown_to_html(&f.bio),
        portrait_id: f.portrait_id.clone(),
        is_subject: row.is_subject,
        version: row.version,
        updated_at: row.updated_at,
        can_edit: access.can_edit(),
        is_me: access.is(row),
        claimed: row.user_id.is_some(),
    }
}

fn step_name(step: &Step) -> &'static str {
    match step {
        Step::Parent { .. } => "parent",
        Step::Child { .. } => "child",
        Step::Partner { .. } => "partner",
    }
}

fn facts(edge: &RelationshipRow) -> RelationshipFacts {
    RelationshipFacts {
        relationship_id: edge.id.clone(),
        legacy_id: edge.legacy_id.clone(),
        kind: edge.kind.clone(),
        subkind: edge.subkind.clone(),
        person_a: edge.person_a.clone(),
        person_b: edge.person_b.clone(),
    }
}

/// Appends `payload` as done by `user` (the people module's one way to write an event).
pub(crate) async fn append<P: EventPayload>(tx: &mut Tx, id: &str, user: &User, payload: P) -> Result<String> {
    events::append(tx, Event::of(id, Some(&user.id), payload)).await
}

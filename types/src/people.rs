//! People and relationships as the API and the pages show them, and what people type to
//! add or change them.

use serde::{Deserialize, Serialize};

use crate::ids::{ImportId, LegacyId, MediaId, PersonId, RelationshipId};

string_enum!(
    /// As recorded; `unknown` when not given.
    Sex { Female => "female", Male => "male", Unknown => "unknown" }
);

// `string_enum!` writes the derives, so the default is written out here.
#[allow(clippy::derivable_impls)]
impl Default for Sex {
    fn default() -> Self {
        Sex::Unknown
    }
}

string_enum!(
    /// How a parent is a parent.
    ParentKind { Birth => "birth", Adoptive => "adoptive", Step => "step", Foster => "foster" }
);

string_enum!(
    /// What two partners are (or were) to each other.
    PartnerKind { Married => "married", Partnered => "partnered", Divorced => "divorced" }
);

/// A birth or death: when (a genealogical date) and where.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LifeEvent {
    /// As typed or imported ("ABT 1921", "about 1921").
    pub date: String,
    /// In plain English ("about 1921"); the text as given when it is not a date Heirloom reads.
    pub date_display: String,
    pub place: String,
}

/// A person. When `private` (a living person and a reader who may not edit the legacy)
/// only `id`, `legacy_id`, `name` ("Living person") and `private` carry anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonView {
    pub id: PersonId,
    pub legacy_id: LegacyId,
    pub legacy_name: String,
    /// Given names and surname, or "Living person".
    pub name: String,
    /// True when the details of a living person are withheld from this reader.
    pub private: bool,
    pub given_names: String,
    pub surname: String,
    pub birth_surname: String,
    /// Also known as.
    pub nicknames: Vec<String>,
    pub sex: Sex,
    pub birth: LifeEvent,
    pub death: LifeEvent,
    /// "1921–1999", "born 1921", "died 1999", or empty.
    pub life_years: String,
    pub living: bool,
    /// The stored Markdown.
    pub bio: String,
    /// The Markdown rendered to sanitized HTML.
    pub bio_html: String,
    pub portrait_id: Option<MediaId>,
    /// The person the legacy remembers.
    pub is_subject: bool,
    pub version: i64,
    pub updated_at: i64,
    /// Whether this reader may edit the person and their relationships.
    pub can_edit: bool,
    /// Whether the reader said this person is them ("This is me").
    pub is_me: bool,
    /// Whether some member of the legacy said this person is them.
    pub claimed: bool,
}

/// A person in a list: a name and life years (or "Living person").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonSummary {
    pub id: PersonId,
    pub name: String,
    pub life_years: String,
    pub sex: Sex,
    pub private: bool,
}

impl PersonSummary {
    /// "Rose Howard (1921–1999)", or the name alone without life years.
    pub fn with_years(&self) -> String {
        if self.life_years.is_empty() {
            self.name.clone()
        } else {
            format!("{} ({})", self.name, self.life_years)
        }
    }
}

/// A relative of a person, with the stored relationship that makes them one (none for
/// a sibling: siblings are derived from shared parents).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Relative {
    pub person: PersonSummary,
    pub relationship_id: Option<RelationshipId>,
    /// `birth`, `adoptive`, `step`, `foster`, `married`, `partnered`, `divorced`; for a
    /// sibling `full` or `half`.
    pub kind: String,
}

/// A person's immediate family.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FamilyView {
    pub parents: Vec<Relative>,
    pub partners: Vec<Relative>,
    pub siblings: Vec<Relative>,
    pub children: Vec<Relative>,
}

/// The person page: the person, their family, and the people of the legacy one may
/// relate them to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonPage {
    pub person: PersonView,
    pub family: FamilyView,
    pub others: Vec<PersonSummary>,
    /// The reader's own person in this legacy, when they said which one is them.
    pub me: Option<PersonSummary>,
    /// How this person is related to the reader's own person (not when it is them).
    pub related_to_me: Option<Kinship>,
    /// Stories the reader may read whose text mentions this person, newest first.
    pub mentioned_in: Vec<crate::StorySummary>,
    /// The photo chosen as their portrait, when the reader may see it.
    pub portrait: Option<crate::MediaView>,
    /// Photos and recordings they are tagged in that the reader may see, newest tag first.
    pub media: Vec<crate::MediaView>,
    /// Their life in order: births, partnerships, deaths, the photos they are in (by when
    /// each was taken) and the stories that mention them (by when each was last written);
    /// what has no known date comes last.
    pub timeline: Vec<TimelineEntry>,
}

string_enum!(
    /// What a line of a person's timeline is.
    TimelineKind {
        Born => "born",
        Partnered => "partnered",
        ChildBorn => "child_born",
        ParentDied => "parent_died",
        PartnerDied => "partner_died",
        Died => "died",
        TaggedIn => "tagged_in",
        Story => "story",
    }
);

/// One line of a person's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    pub kind: TimelineKind,
    /// When, in plain English ("12 March 1921", "about 1950"); empty when not known.
    pub when: String,
    /// The year it is placed at, when known.
    pub year: Option<i32>,
    /// The line in plain English ("Married Tom Howard", "Born in Leeds").
    pub text: String,
    /// The other person of a family event.
    pub person: Option<PersonSummary>,
    /// The story of a `story` line.
    pub story_id: Option<crate::StoryId>,
    /// The photo, recording or video of a `tagged_in` line.
    pub media_id: Option<MediaId>,
}

/// The photo to show as a person's portrait; none takes the portrait away. `version`,
/// when given, is the person's version the change was made from (as for an edit).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortraitInput {
    #[serde(default)]
    pub media_id: Option<MediaId>,
    #[serde(default)]
    pub version: Option<i64>,
}

/// A person a member said is them, in one of their legacies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyPerson {
    pub person: PersonSummary,
    pub legacy_id: LegacyId,
    pub legacy_name: String,
}

/// Input to add or change a person. Dates are genealogical dates as people write them
/// ("12 March 1921", "about 1921", "between 1880 and 1885"); an empty text is no date.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonInput {
    /// The legacy the person belongs to (on create; ignored on change).
    #[serde(default)]
    pub legacy_id: LegacyId,
    #[serde(default)]
    pub given_names: String,
    #[serde(default)]
    pub surname: String,
    #[serde(default)]
    pub birth_surname: String,
    /// A list, or (from a page's form) one text of comma-separated names.
    #[serde(default, deserialize_with = "crate::text::list_or_commas")]
    pub nicknames: Vec<String>,
    /// `female`, `male` or `unknown` (default).
    #[serde(default)]
    pub sex: Option<String>,
    #[serde(default)]
    pub birth_date: String,
    #[serde(default)]
    pub birth_place: String,
    #[serde(default)]
    pub death_date: String,
    #[serde(default)]
    pub death_place: String,
    /// `true`/`on` for a living person (private to the legacy's editors); defaults to
    /// true when no death date is given.
    #[serde(default)]
    pub living: Option<String>,
    #[serde(default)]
    pub bio: String,
    /// The version the change started from (on change).
    #[serde(default)]
    pub version: Option<i64>,
}

/// Input to relate a person to another of the same legacy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RelationshipInput {
    /// What the other person is to this one: `parent`, `child` or `partner`.
    #[serde(default)]
    pub relation: String,
    #[serde(default)]
    pub person_id: PersonId,
    /// For a parent or child: `birth` (default), `adoptive`, `step`, `foster`. For a
    /// partner: `married` (default), `partnered`, `divorced`.
    #[serde(default)]
    pub kind: Option<String>,
    /// For partners: when the partnership began and ended, as genealogical dates.
    #[serde(default)]
    pub start_date: String,
    #[serde(default)]
    pub end_date: String,
    /// `true`/`on` to add it although the dates look wrong (a child born before a parent).
    #[serde(default)]
    pub confirm: Option<String>,
}

/// A stored relationship: `parent` (`person_a` is a parent of `person_b`) or `partner`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RelationshipView {
    pub id: RelationshipId,
    pub legacy_id: LegacyId,
    pub kind: String,
    pub subkind: String,
    pub person_a: PersonId,
    pub person_b: PersonId,
    pub start_date: String,
    pub end_date: String,
}

/// One person along a relationship path and how they are joined to the one before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KinshipStep {
    /// `parent`, `child` or `partner`: what this person is to the previous one.
    pub step: String,
    pub person: PersonSummary,
}

/// How two people are related: what `a` is to `b`, and the chain of people between them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Kinship {
    pub a: PersonSummary,
    pub b: PersonSummary,
    /// Whether a path was found within the limits.
    pub found: bool,
    /// "great-aunt", "second cousin once removed"; empty when not found.
    pub relation: String,
    /// "Rose is Tom's great-aunt", or why there is no answer ("No relationship was found
    /// within 12 steps…").
    pub sentence: String,
    /// From `b` to `a`, `b` first.
    pub path: Vec<KinshipStep>,
    /// True when the search stopped at its depth or visited-people limit.
    pub capped: bool,
}

/// A page of a legacy's people, by surname.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PeoplePage {
    pub items: Vec<PersonSummary>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// One record of a GEDCOM file that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportSkip {
    /// The line of the file the record starts on.
    pub line: usize,
    pub reason: String,
}

/// What a GEDCOM import did. A re-import of the same file creates and changes nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub relationships_added: u64,
    /// Photos and recordings a GEDZIP archive brought (the people are tagged in them).
    #[serde(default)]
    pub media_added: u64,
    pub skipped: Vec<ImportSkip>,
}

/// The most generations a family tree shows each way.
pub const TREE_GENERATIONS_MAX: u32 = 10;
/// The generations a family tree shows each way unless asked otherwise.
pub const TREE_GENERATIONS_DEFAULT: u32 = 4;

/// One person of a family tree, with the people of the tree who are their parents and
/// children.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TreePerson {
    pub person: PersonSummary,
    /// Generations from the root: negative for ancestors (-1 parents), positive for
    /// descendants (1 children), 0 for the root.
    pub generation: i32,
    pub parents: Vec<PersonId>,
    pub children: Vec<PersonId>,
}

/// A person's ancestors and descendants, a few generations each way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FamilyTree {
    pub root: PersonId,
    pub legacy_id: LegacyId,
    pub legacy_name: String,
    /// Generations of ancestors and of descendants asked for.
    pub up: u32,
    pub down: u32,
    /// The root first, then ancestors and descendants generation by generation.
    pub people: Vec<TreePerson>,
    /// True when the tree stopped at the most people one tree shows.
    pub truncated: bool,
}

string_enum!(
    /// Which relatives a listing walks to: the people one relationship away (parents,
    /// partners, children), or every ancestor or descendant within the instance's limits.
    RelativesKind { Neighbours => "neighbours", Ancestors => "ancestors", Descendants => "descendants" }
);

/// One person of a relatives listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListedRelative {
    pub person: PersonSummary,
    /// Generations from the person listed around: −1 a parent, −2 a grandparent, 0 a
    /// partner, 1 a child.
    pub generation: i32,
    /// What they are to that person ("grandmother", "partner", "great-grandson").
    pub relation: String,
}

/// A page of a person's relatives, nearest generations first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RelativesPage {
    pub kind: RelativesKind,
    pub items: Vec<ListedRelative>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// True when the walk stopped at the instance's limit of people visited, so more
    /// distant relatives may exist that no page lists.
    pub truncated: bool,
}

string_enum!(
    /// Where a background GEDCOM import is.
    ImportStatus { Queued => "queued", Running => "running", Done => "done", Failed => "failed" }
);

impl ImportStatus {
    /// Whether the import has ended (done or failed).
    pub fn is_over(self) -> bool {
        matches!(self, ImportStatus::Done | ImportStatus::Failed)
    }
}

/// A GEDCOM import running in the background: the file has been read and found sound;
/// its people and families are being written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportJob {
    pub id: ImportId,
    pub legacy_id: LegacyId,
    pub file_name: String,
    pub status: ImportStatus,
    /// Records (people and families) written so far, of `total`.
    pub processed: u64,
    pub total: u64,
    /// What the import did, once done.
    pub report: Option<ImportReport>,
    /// Why it failed, once failed.
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ImportJob {
    /// Progress as a whole percentage (100 once done).
    pub fn percent(&self) -> u64 {
        match (self.status, self.total) {
            (ImportStatus::Done, _) => 100,
            (_, 0) => 0,
            (_, total) => (self.processed.min(total) * 100) / total,
        }
    }
}

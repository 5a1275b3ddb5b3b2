//! Rows of the people tables, the checked fields of a person, and how a person reads to
//! someone who may or may not see a living person's details.

use serde::{Deserialize, Serialize};
use types::{
    LegacyId, LifeEvent, MediaId, ParentKind, PartnerKind, PersonId, PersonSummary, RelationshipId, Sex, UserId,
};

use crate::people::dates;
use crate::validate::{self, Problems};

/// What a reader who may not see a living person's details sees instead of their name.
pub const LIVING_PERSON: &str = "Living person";
pub const NAME_MAX_CHARS: usize = 120;
pub const PLACE_MAX_CHARS: usize = 200;
pub const DATE_MAX_CHARS: usize = 80;
pub const NICKNAMES_MAX: usize = 10;
pub const BIO_MAX_CHARS: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PersonRow {
    pub id: PersonId,
    pub legacy_id: LegacyId,
    pub legacy_name: String,
    #[sqlx(flatten)]
    pub fields: PersonFields,
    pub is_subject: bool,
    pub gedcom_xref: Option<String>,
    /// The member who said this person is them.
    pub user_id: Option<UserId>,
    pub version: i64,
    pub updated_at: i64,
}

/// Everything about a person that an edit changes, checked; also what a revision keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct PersonFields {
    pub given_names: String,
    pub surname: String,
    pub birth_surname: String,
    /// One a line.
    pub nicknames: String,
    pub sex: Sex,
    pub birth_date: String,
    pub birth_place: String,
    pub death_date: String,
    pub death_place: String,
    pub living: bool,
    pub bio: String,
    pub portrait_id: Option<MediaId>,
}

impl PersonFields {
    /// "Rose Howard", or the birth surname, or "Unnamed person".
    pub fn full_name(&self) -> String {
        let surname = if self.surname.is_empty() { &self.birth_surname } else { &self.surname };
        let name = format!("{} {}", self.given_names, surname);
        let name = name.trim();
        if name.is_empty() {
            "Unnamed person".to_string()
        } else {
            name.to_string()
        }
    }

    pub fn nickname_list(&self) -> Vec<String> {
        self.nicknames.lines().map(str::to_string).filter(|n| !n.is_empty()).collect()
    }

    /// The sort key of the birth date, for timelines and plausibility checks.
    pub fn birth_sort(&self) -> Option<i64> {
        dates::parse(&self.birth_date).ok().and_then(|d| d.sort_key())
    }

    pub fn death_sort(&self) -> Option<i64> {
        dates::parse(&self.death_date).ok().and_then(|d| d.sort_key())
    }

    /// "1921–1999", "born 1921", "died 1999", or empty.
    pub fn life_years(&self) -> String {
        let year = |text: &str| dates::parse(text).ok().and_then(|d| d.year());
        match (year(&self.birth_date), year(&self.death_date)) {
            (Some(born), Some(died)) => format!("{born}–{died}"),
            (Some(born), None) if !self.living => format!("{born}–"),
            (Some(born), None) => format!("born {born}"),
            (None, Some(died)) => format!("died {died}"),
            (None, None) => String::new(),
        }
    }
}

/// A date field as it reads on a page: the date in plain English, or the text as given
/// when it is not a date Heirloom reads (an imported phrase).
pub fn life_event(date: &str, place: &str) -> LifeEvent {
    let date_display = if date.is_empty() {
        String::new()
    } else {
        dates::parse(date).map(|d| d.display()).unwrap_or_else(|_| date.to_string())
    };
    LifeEvent { date: date.to_string(), date_display, place: place.to_string() }
}

impl PersonRow {
    /// The person as a list shows them to a reader; `private` hides a living person.
    pub fn summary(&self, private: bool) -> PersonSummary {
        if private {
            return PersonSummary {
                id: self.id.clone(),
                name: LIVING_PERSON.to_string(),
                life_years: String::new(),
                sex: Sex::Unknown,
                private: true,
            };
        }
        PersonSummary {
            id: self.id.clone(),
            name: self.fields.full_name(),
            life_years: self.fields.life_years(),
            sex: self.fields.sex,
            private: false,
        }
    }
}

/// What people type for a person, checked; every problem is named at once.
pub fn fields(problems: &mut Problems, input: &types::PersonInput) -> PersonFields {
    let given_names = validate::line(problems, "given_names", &input.given_names, false, NAME_MAX_CHARS);
    let surname = validate::line(problems, "surname", &input.surname, false, NAME_MAX_CHARS);
    let birth_surname = validate::line(problems, "birth_surname", &input.birth_surname, false, NAME_MAX_CHARS);
    if given_names.is_empty() && surname.is_empty() && birth_surname.is_empty() {
        problems.add("given_names", "give at least one name (given names or surname)");
    }
    let mut nicknames = Vec::new();
    for nickname in &input.nicknames {
        let nickname = validate::line(problems, "nicknames", nickname, false, NAME_MAX_CHARS);
        if !nickname.is_empty() && !nicknames.contains(&nickname) {
            nicknames.push(nickname);
        }
    }
    if nicknames.len() > NICKNAMES_MAX {
        problems.add("nicknames", format!("at most {NICKNAMES_MAX} names"));
    }
    let sex =
        validate::choice(problems, "sex", input.sex.as_deref(), Sex::Unknown, Sex::parse, "female, male, unknown");
    let birth_date = date(problems, "birth_date", &input.birth_date);
    let death_date = date(problems, "death_date", &input.death_date);
    let birth_place = validate::line(problems, "birth_place", &input.birth_place, false, PLACE_MAX_CHARS);
    let death_place = validate::line(problems, "death_place", &input.death_place, false, PLACE_MAX_CHARS);
    let living = match input.living.as_deref().map(str::trim) {
        None | Some("") => death_date.is_empty() && death_place.is_empty(),
        Some("true" | "on" | "yes" | "1") => true,
        Some("false" | "off" | "no" | "0") => false,
        Some(_) => {
            problems.add("living", "must be true or false");
            false
        }
    };
    if living && !death_date.is_empty() {
        problems.add("living", "a person with a death date is not living; clear one of them");
    }
    if let (Ok(born), Ok(died)) = (dates::parse(&birth_date), dates::parse(&death_date)) {
        if let (Some(born), Some(died)) = (born.earliest(), died.latest()) {
            if died < born {
                problems.add("death_date", "is before the birth date");
            }
        }
    }
    let bio = validate::multiline(problems, "bio", &input.bio, BIO_MAX_CHARS);
    PersonFields {
        given_names,
        surname,
        birth_surname,
        nicknames: nicknames.join("\n"),
        sex,
        birth_date,
        birth_place,
        death_date,
        death_place,
        living,
        bio,
        portrait_id: None,
    }
}

/// A genealogical date as typed: empty, or one [`dates::parse`] reads (its error names
/// the forms it reads).
pub fn date(problems: &mut Problems, field: &str, value: &str) -> String {
    let value = validate::line(problems, field, value, false, DATE_MAX_CHARS);
    if !value.is_empty() {
        if let Err(err) = dates::parse(&value) {
            problems.add(field, err.to_string());
        }
    }
    value
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RelationshipRow {
    pub id: RelationshipId,
    pub legacy_id: LegacyId,
    pub kind: String,
    pub subkind: String,
    pub person_a: PersonId,
    pub person_b: PersonId,
    pub start_date: String,
    pub end_date: String,
}

/// What a stored relationship is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bond {
    /// `person_a` is a parent of `person_b`.
    Parent(ParentKind),
    Partner(PartnerKind),
}

impl RelationshipRow {
    /// The bond, or `None` for a row this version cannot read (never written by it).
    pub fn bond(&self) -> Option<Bond> {
        match self.kind.as_str() {
            "parent" => ParentKind::parse(&self.subkind).map(Bond::Parent),
            "partner" => PartnerKind::parse(&self.subkind).map(Bond::Partner),
            _ => None,
        }
    }

    pub fn view(&self) -> types::RelationshipView {
        types::RelationshipView {
            id: self.id.clone(),
            legacy_id: self.legacy_id.clone(),
            kind: self.kind.clone(),
            subkind: self.subkind.clone(),
            person_a: self.person_a.clone(),
            person_b: self.person_b.clone(),
            start_date: self.start_date.clone(),
            end_date: self.end_date.clone(),
        }
    }

    /// The person at the other end from `id`.
    pub fn other(&self, id: &PersonId) -> &PersonId {
        if &self.person_a == id {
            &self.person_b
        } else {
            &self.person_a
        }
    }
}

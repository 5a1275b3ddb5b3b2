//! People and relationships through the service, on SQLite and PostgreSQL: a legacy's
//! subject, the guard rails (no self-relation, no cycle of ancestors, two birth parents,
//! a child born before a parent only when confirmed), derived siblings, "how are we
//! related" across generations and in-laws, the traversal caps, living privacy on every
//! read path, version conflicts and the outbox.

use std::sync::Arc;

use backend::db::{with_pool, Db};
use backend::identity::{repo as users, NewUser, Role, User};
use backend::media::Media;
use backend::people::graph::Limits;
use backend::people::People;
use backend::stories::Stories;
use backend::{db_test, Error};
use types::{
    ImportReport, ImportStatus, LegacyId, LegacyInput, LegacyRole, LegacyView, PersonId, PersonInput,
    RelationshipInput, StoryInput, StoryUpdate,
};

async fn user(db: &Db, name: &str) -> User {
    users::insert(db, &NewUser::new(&format!("{name}@example.org"), name, Role::Member).unwrap()).await.unwrap()
}

const LIMITS: Limits = Limits { max_depth: 24, max_visited: 100_000 };

struct Family {
    stories: Arc<Stories>,
    people: People,
    /// For person pages (the photos a person is tagged in); its files live in `dir`.
    media: Arc<Media>,
    owner: User,
    legacy: LegacyView,
    dir: tempfile::TempDir,
}

async fn family(db: &Db, limits: Limits) -> Family {
    let stories = Arc::new(Stories::new(db.clone()));
    let people = People::new(db.clone(), stories.clone(), limits);
    let dir = tempfile::tempdir().unwrap();
    let media = crate::media_pipeline::media_in(db, dir.path());
    let owner = user(db, "owner").await;
    let input =
        LegacyInput { name: "Rose Howard".into(), born: "1921".into(), died: "1999".into(), summary: "".into() };
    let legacy = stories.create_legacy(&owner, &input, None).await.unwrap();
    Family { stories, people, media, owner, legacy, dir }
}

fn person(given: &str, surname: &str, sex: &str, born: &str) -> PersonInput {
    PersonInput {
        given_names: given.into(),
        surname: surname.into(),
        sex: Some(sex.into()),
        birth_date: born.into(),
        living: Some("off".into()),
        ..PersonInput::default()
    }
}

impl Family {
    async fn add(&self, given: &str, sex: &str, born: &str) -> PersonId {
        let mut input = person(given, "Howard", sex, born);
        input.legacy_id = self.legacy.id.clone();
        self.people.create(&self.owner, &input).await.unwrap().id
    }

    async fn relate(&self, child: &PersonId, relation: &str, other: &PersonId) -> Result<(), Error> {
        let input = RelationshipInput { relation: relation.into(), person_id: other.clone(), ..Default::default() };
        self.people.relate(&self.owner, child, &input).await.map(|_| ())
    }

    async fn parent(&self, child: &PersonId, parent: &PersonId) {
        self.relate(child, "parent", parent).await.unwrap();
    }

    /// Adds each `(given name, sex, born)` Howard; their ids in the same order.
    async fn add_each<const N: usize>(&self, people: [(&str, &str, &str); N]) -> [PersonId; N] {
        let mut ids = Vec::with_capacity(N);
        for (given, sex, born) in people {
            ids.push(self.add(given, sex, born).await);
        }
        ids.try_into().expect("one id a person")
    }

    /// Relates each `(child, parent)`.
    async fn parents(&self, pairs: &[(&PersonId, &PersonId)]) {
        for (child, parent) in pairs {
            self.parent(child, parent).await;
        }
    }

    async fn relation(&self, a: &PersonId, b: &PersonId) -> String {
        self.people.kinship(Some(&self.owner), a, b).await.unwrap().relation
    }

    /// Runs a queued import as the consumer does.
    async fn run_import(&self, id: &types::ImportId) -> Result<(), Error> {
        self.people.run_import(&self.media, &self.dir.path().join("work"), id).await
    }

    async fn join(&self, db: &Db, name: &str, role: LegacyRole) -> User {
        let member = user(db, name).await;
        let token = self.stories.invite(&self.owner, &self.legacy.id, role.as_str(), 7, None).await.unwrap();
        self.stories.accept_invitation(&member, &token).await.unwrap();
        member
    }
}

fn field_problem(err: Error) -> String {
    match err {
        Error::Invalid(fields) => {
            fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ")
        }
        other => panic!("expected a field problem, got {other:?}"),
    }
}

async fn count(db: &Db, sql: &str) -> i64 {
    with_pool!(db, |pool| sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.unwrap())
}

db_test!(a_new_legacy_has_its_subject_who_cannot_be_deleted, |db| {
    let f = family(db, LIMITS).await;
    let page = f.people.in_legacy(Some(&f.owner), &f.legacy.id, None, None).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].name, "Rose Howard");
    assert_eq!(page.items[0].life_years, "1921–1999");
    let subject = f.people.person(Some(&f.owner), &page.items[0].id).await.unwrap();
    assert!(subject.is_subject);
    let err = f.people.delete(&f.owner, &subject.id).await.unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
});

db_test!(three_generations_are_named_in_plain_english, |db| {
    let f = family(db, LIMITS).await;
    let [grandma, grandpa, mum, uncle, me, cousin] = f
        .add_each([
            ("Edith", "female", "1900"),
            ("Arthur", "male", "1898"),
            ("Mary", "female", "1925"),
            ("John", "male", "1928"),
            ("Tom", "male", "1950"),
            ("Ann", "female", "1952"),
        ])
        .await;
    f.parents(&[
        (&mum, &grandma),
        (&mum, &grandpa),
        (&uncle, &grandma),
        (&uncle, &grandpa),
        (&me, &mum),
        (&cousin, &uncle),
    ])
    .await;

    assert_eq!(f.relation(&grandma, &me).await, "grandmother");
    assert_eq!(f.relation(&me, &grandpa).await, "grandson");
    assert_eq!(f.relation(&uncle, &me).await, "uncle");
    assert_eq!(f.relation(&cousin, &me).await, "first cousin");
    assert_eq!(f.relation(&mum, &uncle).await, "sister");
    let kinship = f.people.kinship(Some(&f.owner), &cousin, &me).await.unwrap();
    assert_eq!(kinship.sentence, "Ann Howard is Tom Howard's first cousin");
    let chain: Vec<&str> = kinship.path.iter().map(|s| s.person.name.as_str()).collect();
    assert_eq!(chain.len(), 4, "{chain:?}");
    assert_eq!(chain.last(), Some(&"Ann Howard"));

    // Siblings are derived, never stored; full when both birth parents are shared.
    let family = f.people.family(Some(&f.owner), &mum).await.unwrap();
    assert_eq!(family.siblings.len(), 1);
    assert_eq!(family.siblings[0].kind, "full");
    assert_eq!(family.parents.len(), 2);
    assert_eq!(family.children.len(), 1);
    assert_eq!(count(db, "SELECT COUNT(*) FROM relationships").await, 6);
});

db_test!(half_siblings_and_in_laws, |db| {
    let f = family(db, LIMITS).await;
    let [dad, first_wife, second_wife, older, younger] = f
        .add_each([
            ("Arthur", "male", "1900"),
            ("Edith", "female", "1902"),
            ("Grace", "female", "1905"),
            ("Mary", "female", "1925"),
            ("Paul", "male", "1935"),
        ])
        .await;
    f.parents(&[(&older, &dad), (&older, &first_wife), (&younger, &dad), (&younger, &second_wife)]).await;
    assert_eq!(f.relation(&younger, &older).await, "half-brother");
    let family = f.people.family(Some(&f.owner), &older).await.unwrap();
    assert_eq!(family.siblings[0].kind, "half");

    let husband = f.add("George", "male", "1920").await;
    f.relate(&older, "partner", &husband).await.unwrap();
    assert_eq!(f.relation(&husband, &older).await, "husband");
    assert_eq!(f.relation(&first_wife, &husband).await, "mother-in-law");
    assert_eq!(f.relation(&husband, &first_wife).await, "son-in-law");
    assert_eq!(f.relation(&husband, &younger).await, "brother-in-law");
});

db_test!(the_guard_rails_refuse_and_change_nothing, |db| {
    let f = family(db, LIMITS).await;
    let grandma = f.add("Edith", "female", "1900").await;
    let mum = f.add("Mary", "female", "1925").await;
    let me = f.add("Tom", "male", "1950").await;
    let dad = f.add("Arthur", "male", "1922").await;
    let stranger = f.add("Grace", "female", "1926").await;
    let late = f.add("Late", "female", "1990").await;
    f.parent(&mum, &grandma).await;
    f.parent(&me, &mum).await;
    f.parent(&me, &dad).await;
    let relationships = "SELECT COUNT(*) FROM relationships";
    let events = "SELECT COUNT(*) FROM outbox";
    let (relationships_before, events_before) = (count(db, relationships).await, count(db, events).await);

    // Nobody is their own ancestor.
    let err = field_problem(f.relate(&grandma, "parent", &me).await.unwrap_err());
    assert!(err.starts_with("person_id") && err.contains("ancestor"), "{err}");
    // Nobody is related to themselves.
    let err = field_problem(f.relate(&me, "partner", &me).await.unwrap_err());
    assert!(err.contains("themselves"), "{err}");
    // At most two birth parents.
    let err = field_problem(f.relate(&me, "parent", &stranger).await.unwrap_err());
    assert!(err.starts_with("kind") && err.contains("two birth parents"), "{err}");
    // A child born before the parent needs confirming.
    let mut born_later = RelationshipInput { relation: "parent".into(), person_id: late.clone(), ..Default::default() };
    let err = field_problem(f.people.relate(&f.owner, &grandma, &born_later).await.unwrap_err());
    assert!(err.starts_with("confirm") && err.contains("born before"), "{err}");
    // Bad input names the field.
    let cousin = RelationshipInput { relation: "cousin".into(), person_id: dad.clone(), ..Default::default() };
    let err = field_problem(f.people.relate(&f.owner, &me, &cousin).await.unwrap_err());
    assert!(err.starts_with("relation"), "{err}");
    let nobody = RelationshipInput { relation: "parent".into(), person_id: "no-such".into(), ..Default::default() };
    let err = field_problem(f.people.relate(&f.owner, &me, &nobody).await.unwrap_err());
    assert!(err.contains("not a person of this legacy"), "{err}");
    let bad_date = PersonInput { birth_date: "next spring".into(), ..person("X", "Y", "male", "") };
    let err =
        field_problem(f.people.update(&f.owner, &me, &PersonInput { version: Some(1), ..bad_date }).await.unwrap_err());
    assert!(err.starts_with("birth_date"), "{err}");
    assert_eq!(count(db, relationships).await, relationships_before);
    assert_eq!(count(db, events).await, events_before);

    // A step-parent is not a third birth parent, and a confirmed date warning is kept.
    let step = RelationshipInput {
        relation: "parent".into(),
        person_id: stranger,
        kind: Some("step".into()),
        ..Default::default()
    };
    f.people.relate(&f.owner, &me, &step).await.unwrap();
    born_later.confirm = Some("on".into());
    f.people.relate(&f.owner, &grandma, &born_later).await.unwrap();
    // The same relationship twice is a conflict.
    let err = f.relate(&me, "parent", &dad).await.unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert_eq!(count(db, relationships).await, relationships_before + 2);
    assert_eq!(count(db, events).await, events_before + 2);
});

db_test!(the_walk_stops_at_its_limits_and_says_so, |db| {
    let f = family(db, Limits { max_depth: 3, max_visited: 100 }).await;
    let mut line = vec![f.add("P0", "female", "1800").await];
    for generation in 1..6 {
        let child = f.add(&format!("P{generation}"), "female", &format!("{}", 1800 + generation * 25)).await;
        f.parent(&child, line.last().unwrap()).await;
        line.push(child);
    }
    let near = f.people.kinship(Some(&f.owner), &line[0], &line[3]).await.unwrap();
    assert!(near.found);
    assert_eq!(near.relation, "great-grandmother");
    let far = f.people.kinship(Some(&f.owner), &line[0], &line[5]).await.unwrap();
    assert!(!far.found && far.capped, "{far:?}");
    assert!(far.sentence.contains("within 3 steps"), "{}", far.sentence);
    let unrelated = f.add("Stranger", "male", "1900").await;
    let none = f.people.kinship(Some(&f.owner), &line[1], &unrelated).await.unwrap();
    assert!(!none.found && !none.capped);
    assert!(none.sentence.contains("not related"), "{}", none.sentence);
    // Walked from both ends, the side with nobody to visit ends the search: no limit was hit.
    let other_way = f.people.kinship(Some(&f.owner), &unrelated, &line[1]).await.unwrap();
    assert!(!other_way.found && !other_way.capped, "{other_way:?}");
});

db_test!(a_tree_shows_the_generations_asked_for_each_way, |db| {
    let f = family(db, LIMITS).await;
    let [great_gran, gran, grandad, mum, son, daughter, grandson] = f
        .add_each([
            ("Ada", "female", "1850"),
            ("Edith", "female", "1880"),
            ("Arthur", "male", "1878"),
            ("Mary", "female", "1910"),
            ("Tom", "male", "1940"),
            ("Jane", "female", "1935"),
            ("Sam", "male", "1970"),
        ])
        .await;
    f.parents(&[
        (&gran, &great_gran),
        (&mum, &gran),
        (&mum, &grandad),
        (&son, &mum),
        (&daughter, &mum),
        (&grandson, &son),
    ])
    .await;

    let tree = f.people.tree(Some(&f.owner), &mum, None, None).await.unwrap();
    let at = |id: &PersonId| tree.people.iter().find(|p| &p.person.id == id).map(|p| p.generation);
    assert_eq!(tree.people[0].person.id, mum);
    assert_eq!((tree.up, tree.down), (4, 4));
    assert_eq!(
        [&great_gran, &gran, &grandad, &mum, &son, &daughter, &grandson].map(at),
        [Some(-2), Some(-1), Some(-1), Some(0), Some(1), Some(1), Some(2)]
    );
    // Parents for the ancestors, children for the descendants, by birth.
    assert_eq!(tree.people[0].parents, vec![grandad.clone(), gran.clone()]);
    assert_eq!(tree.people[0].children, vec![daughter.clone(), son.clone()]);
    assert!(!tree.truncated);

    let near = f.people.tree(Some(&f.owner), &mum, Some(1), Some(0)).await.unwrap();
    let ids: Vec<&PersonId> = near.people.iter().map(|p| &p.person.id).collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(near.people[0].children.is_empty());
    for (up, down) in [(Some(11), None), (None, Some(-1))] {
        let problem = field_problem(f.people.tree(Some(&f.owner), &mum, up, down).await.unwrap_err());
        assert!(problem.contains("between 0 and 10 generations"), "{problem}");
    }
    let outsider = user(db, "outsider").await;
    assert!(matches!(f.people.tree(Some(&outsider), &mum, None, None).await, Err(Error::NotFound { .. })));
});

db_test!(a_member_says_which_person_is_them_and_sees_how_others_are_related, |db| {
    let f = family(db, LIMITS).await;
    let [gran, mum, uncle, tom, ann] = f
        .add_each([
            ("Edith", "female", "1900"),
            ("Mary", "female", "1925"),
            ("John", "male", "1928"),
            ("Tom", "male", "1950"),
            ("Ann", "female", "1952"),
        ])
        .await;
    f.parents(&[(&mum, &gran), (&uncle, &gran), (&tom, &mum), (&ann, &uncle)]).await;

    let viewer = f.join(db, "viewer", LegacyRole::Viewer).await;
    let claimed = f.people.claim(&viewer, &tom).await.unwrap();
    assert!(claimed.is_me && claimed.claimed);
    let page = f.people.page(&f.media, Some(&viewer), &ann).await.unwrap();
    assert_eq!(page.me.map(|me| me.id), Some(tom.clone()));
    assert_eq!(page.related_to_me.unwrap().sentence, "Ann Howard is Tom Howard's first cousin");
    assert!(f.people.page(&f.media, Some(&viewer), &tom).await.unwrap().related_to_me.is_none());
    // The owner sees that someone said Tom is them, but Tom is not the owner.
    let seen = f.people.person(Some(&f.owner), &tom).await.unwrap();
    assert!(seen.claimed && !seen.is_me);
    assert!(f.people.page(&f.media, Some(&f.owner), &ann).await.unwrap().related_to_me.is_none());
    // Nobody else may say they are Tom, or take it back for the viewer.
    let err = f.people.claim(&f.owner, &tom).await.unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    let cousin = f.join(db, "cousin", LegacyRole::Viewer).await;
    assert!(matches!(f.people.unclaim(&cousin, &tom).await, Err(Error::Forbidden(_))));

    // Marked living later, Tom stays visible to the member who is Tom, and to nobody else.
    let mut input = person("Tom", "Howard", "male", "1950");
    input.living = Some("on".into());
    input.version = Some(seen.version);
    f.people.update(&f.owner, &tom, &input).await.unwrap();
    assert!(!f.people.person(Some(&viewer), &tom).await.unwrap().private);
    assert!(f.people.person(Some(&cousin), &tom).await.unwrap().private);
    // A living person one may not see cannot be claimed (that would reveal them).
    assert!(matches!(f.people.claim(&cousin, &tom).await, Err(Error::Forbidden(_))));

    // One person a legacy: saying "this is me" of Ann lets go of Tom.
    f.people.claim(&viewer, &ann).await.unwrap();
    assert!(!f.people.person(Some(&f.owner), &tom).await.unwrap().claimed);
    let mine = f.people.mine(&viewer).await.unwrap();
    assert_eq!(
        mine.iter().map(|m| (&m.person.id, m.legacy_name.as_str())).collect::<Vec<_>>(),
        vec![(&ann, "Rose Howard")]
    );
    f.people.unclaim(&viewer, &ann).await.unwrap();
    assert!(f.people.mine(&viewer).await.unwrap().is_empty());
});

db_test!(a_story_that_links_to_a_person_is_a_backlink_on_their_page, |db| {
    let f = family(db, LIMITS).await;
    let mary = f.add("Mary", "female", "1925").await;
    let other = f
        .stories
        .create_legacy(&f.owner, &LegacyInput { name: "Elsewhere".into(), ..LegacyInput::default() }, None)
        .await
        .unwrap();
    let stranger = f.people.in_legacy(Some(&f.owner), &other.id, None, None).await.unwrap().items[0].id.clone();
    let story = |title: &str, body: String, status: &str| StoryInput {
        legacy_id: f.legacy.id.clone(),
        title: title.into(),
        body,
        tags: Vec::new(),
        visibility: Some("members".into()),
        status: Some(status.into()),
    };
    let body =
        format!("[Mary](/people/{mary}) baked, and [someone](/people/{stranger}) and [nobody](/people/none) ate.");
    let published =
        f.stories.create_story(&f.owner, &story("Baking day", body.clone(), "published"), None).await.unwrap();
    f.stories.create_story(&f.owner, &story("Draft", body, "draft"), None).await.unwrap();
    assert_eq!(count(db, "SELECT COUNT(*) FROM story_mentions").await, 2, "a person of another legacy is no mention");

    let titles = |page: types::PersonPage| {
        let mut titles = page.mentioned_in.into_iter().map(|s| s.title).collect::<Vec<_>>();
        titles.sort();
        titles
    };
    assert_eq!(titles(f.people.page(&f.media, Some(&f.owner), &mary).await.unwrap()), vec!["Baking day", "Draft"]);
    // A viewer sees only the stories they may read.
    let viewer = f.join(db, "viewer", LegacyRole::Viewer).await;
    assert_eq!(titles(f.people.page(&f.media, Some(&viewer), &mary).await.unwrap()), vec!["Baking day"]);
    // Edited away, the mention goes.
    let update = StoryUpdate {
        version: published.version,
        title: "Baking day".into(),
        body: "Nobody baked.".into(),
        ..StoryUpdate::default()
    };
    f.stories.update_story(&f.owner, &published.id, &update).await.unwrap();
    assert_eq!(titles(f.people.page(&f.media, Some(&viewer), &mary).await.unwrap()), Vec::<String>::new());
});

db_test!(living_people_are_private_to_all_but_editors, |db| {
    let f = family(db, LIMITS).await;
    let mut input = person("Lily", "Howard", "female", "1990");
    input.legacy_id = f.legacy.id.clone();
    input.living = Some("on".into());
    let lily = f.people.create(&f.owner, &input).await.unwrap();
    assert_eq!(lily.name, "Lily Howard");
    let mum = f.add("Mary", "female", "1960").await;
    f.parent(&lily.id, &mum).await;

    let viewer = f.join(db, "viewer", LegacyRole::Viewer).await;
    let seen = f.people.person(Some(&viewer), &lily.id).await.unwrap();
    assert!(seen.private);
    assert_eq!(seen.name, "Living person");
    assert!(seen.birth.date.is_empty() && seen.given_names.is_empty() && seen.bio.is_empty());
    let listed = f.people.in_legacy(Some(&viewer), &f.legacy.id, None, None).await.unwrap();
    assert!(listed.items.iter().any(|p| p.id == lily.id && p.name == "Living person" && p.life_years.is_empty()));
    assert!(!listed.items.iter().any(|p| p.name.contains("Lily")));
    let family = f.people.family(Some(&viewer), &mum).await.unwrap();
    assert_eq!(family.children[0].person.name, "Living person");
    let kinship = f.people.kinship(Some(&viewer), &lily.id, &mum).await.unwrap();
    assert_eq!(kinship.sentence, "Living person is Mary Howard's child");
    assert!(!serde_json::to_string(&f.people.page(&f.media, Some(&viewer), &mum).await.unwrap())
        .unwrap()
        .contains("Lily"));
    let tree = f.people.tree(Some(&viewer), &mum, None, None).await.unwrap();
    assert!(tree.people.iter().any(|p| p.person.id == lily.id && p.person.private));
    assert!(!serde_json::to_string(&tree).unwrap().contains("Lily"));
    let listed = f.people.relatives(Some(&viewer), &mum, Some("descendants"), None, None).await.unwrap();
    assert_eq!((listed.items[0].person.name.as_str(), listed.items[0].relation.as_str()), ("Living person", "child"));
    assert!(!serde_json::to_string(&listed).unwrap().contains("Lily"));

    let editor = f.join(db, "editor", LegacyRole::Editor).await;
    assert_eq!(f.people.person(Some(&editor), &lily.id).await.unwrap().name, "Lily Howard");
    // Outsiders and the signed-out learn nothing, not even that the person exists.
    let outsider = user(db, "outsider").await;
    for reader in [Some(&outsider), None] {
        assert!(matches!(f.people.person(reader, &lily.id).await, Err(Error::NotFound { .. })));
    }
    // A viewer cannot change people.
    let err = f.people.update(&viewer, &mum, &PersonInput { version: Some(1), ..person("M", "H", "female", "") }).await;
    assert!(matches!(err, Err(Error::Forbidden(_))), "{err:?}");
});

db_test!(a_stale_edit_is_a_conflict_and_every_save_is_a_revision, |db| {
    let f = family(db, LIMITS).await;
    let mary = f.add("Mary", "female", "1925").await;
    let mut change = person("Mary Ann", "Howard", "female", "about 1925");
    change.version = Some(1);
    let saved = f.people.update(&f.owner, &mary, &change).await.unwrap();
    assert_eq!(
        (saved.version, saved.name.as_str(), saved.birth.date_display.as_str()),
        (2, "Mary Ann Howard", "about 1925")
    );
    let err = f.people.update(&f.owner, &mary, &change).await.unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert_eq!(count(db, "SELECT COUNT(*) FROM person_revisions WHERE version = 2").await, 1);
    assert_eq!(count(db, "SELECT COUNT(*) FROM outbox WHERE event_type = 'PersonUpdated'").await, 1);
    f.people.delete(&f.owner, &mary).await.unwrap();
    assert!(matches!(f.people.person(Some(&f.owner), &mary).await, Err(Error::NotFound { .. })));
});

const MUSTERSTAMMBAUM: &[u8] = include_bytes!("../../tests/data/gedcom/Musterstammbaum.ged");

/// Queues an import of `bytes` and runs it as the consumer would; its report.
async fn import(f: &Family, user: &User, legacy: &LegacyId, bytes: &[u8]) -> Result<ImportReport, Error> {
    let people = &f.people;
    let job = people.start_import(user, legacy, "tree.ged", bytes).await?;
    assert_eq!(job.status, ImportStatus::Queued);
    f.run_import(&job.id).await?;
    let done = people.import_job(user, &job.id).await?;
    assert_eq!((done.status, done.processed, done.percent()), (ImportStatus::Done, done.total, 100), "{done:?}");
    Ok(done.report.expect("a finished import has its report"))
}

db_test!(an_import_is_queued_runs_once_and_keeps_its_report, |db| {
    let f = family(db, LIMITS).await;
    let job = f.people.start_import(&f.owner, &f.legacy.id, "C:\\Trees\\muster.ged", MUSTERSTAMMBAUM).await.unwrap();
    assert_eq!(job.file_name, "muster.ged");
    assert!(job.total >= 20, "{job:?}");
    assert_eq!(count(db, "SELECT COUNT(*) FROM outbox WHERE event_type = 'GedcomImportQueued'").await, 1);
    // Nothing is written before the import runs.
    assert_eq!(count(db, "SELECT COUNT(*) FROM persons").await, 1);
    f.run_import(&job.id).await.unwrap();
    let people = count(db, "SELECT COUNT(*) FROM persons").await;
    assert_eq!(people, 21);
    // A redelivered event finds the import over and does nothing; the file is gone.
    f.run_import(&job.id).await.unwrap();
    assert_eq!(count(db, "SELECT COUNT(*) FROM persons").await, people);
    assert_eq!(count(db, "SELECT COUNT(*) FROM gedcom_imports WHERE file_base64 <> ''").await, 0);
    let done = f.people.import_job(&f.owner, &job.id).await.unwrap();
    assert_eq!(done.report.map(|r| r.created), Some(20));

    // Only the legacy's editors see an import; one whose starter lost the right fails.
    let viewer = f.join(db, "viewer", LegacyRole::Viewer).await;
    assert!(matches!(f.people.import_job(&viewer, &job.id).await, Err(Error::NotFound { .. })));
    let editor = f.join(db, "editor", LegacyRole::Editor).await;
    let queued = f.people.start_import(&editor, &f.legacy.id, "", MUSTERSTAMMBAUM).await.unwrap();
    assert_eq!(queued.file_name, "family tree.ged");
    f.stories.set_member(&f.owner, &f.legacy.id, &editor.id, Some("viewer")).await.unwrap();
    f.run_import(&queued.id).await.unwrap();
    let failed = f.people.import_job(&f.owner, &queued.id).await.unwrap();
    assert_eq!(failed.status, ImportStatus::Failed);
    assert!(failed.error.unwrap_or_default().contains("can no longer edit"));
});

db_test!(a_real_gedcom_file_imports_once_and_round_trips, |db| {
    use backend::people::gedcom::{self, Version};
    let f = family(db, LIMITS).await;
    let report = import(&f, &f.owner, &f.legacy.id, MUSTERSTAMMBAUM).await.unwrap();
    assert_eq!((report.created, report.updated, report.unchanged), (20, 0, 0), "{report:?}");
    assert!(report.relationships_added > 20, "{report:?}");
    let people = count(db, "SELECT COUNT(*) FROM persons").await;
    let relationships = count(db, "SELECT COUNT(*) FROM relationships").await;

    // The same file again changes nothing.
    let again = import(&f, &f.owner, &f.legacy.id, MUSTERSTAMMBAUM).await.unwrap();
    assert_eq!((again.created, again.updated, again.unchanged, again.relationships_added), (0, 0, 20, 0), "{again:?}");
    assert_eq!(count(db, "SELECT COUNT(*) FROM persons").await, people);
    assert_eq!(count(db, "SELECT COUNT(*) FROM relationships").await, relationships);

    // Export → import into another legacy → export: the same people and families.
    for version in [Version::V7, Version::V551] {
        let first = f.people.export_gedcom(Some(&f.owner), &f.legacy.id, version.clone()).await.unwrap();
        let other = f
            .stories
            .create_legacy(&f.owner, &LegacyInput { name: "Copy".into(), ..LegacyInput::default() }, None)
            .await
            .unwrap();
        import(&f, &f.owner, &other.id, first.as_bytes()).await.unwrap();
        let second = f.people.export_gedcom(Some(&f.owner), &other.id, version).await.unwrap();
        let (a, mut b) = (gedcom::parse(first.as_bytes()).unwrap(), gedcom::parse(second.as_bytes()).unwrap());
        // The second legacy's own subject ("Copy") is the one person the first file lacks.
        b.people.retain(|p| p.given_names != "Copy");
        let key = |doc: &gedcom::Document| {
            let mut people: Vec<_> = doc
                .people
                .iter()
                .map(|p| {
                    let mut p = p.clone();
                    p.line = 0;
                    p
                })
                .collect();
            people.sort_by(|x, y| x.xref.cmp(&y.xref));
            let mut families: Vec<_> = doc
                .families
                .iter()
                .map(|f| {
                    (
                        f.partners.clone(),
                        {
                            let mut c = f.children.clone();
                            c.sort();
                            c
                        },
                        f.divorced,
                    )
                })
                .collect();
            families.sort();
            (people, families)
        };
        assert_eq!(key(&a), key(&b));
        assert!(first.contains("Musterstammbaum") || a.people.len() == 21, "{}", a.people.len());
    }
});

db_test!(a_malformed_gedcom_file_is_refused_with_line_numbers_and_imports_nothing, |db| {
    let f = family(db, LIMITS).await;
    let people = count(db, "SELECT COUNT(*) FROM persons").await;
    let broken =
        b"0 HEAD\n1 GEDC\n2 VERS 5.5.1\n0 @I1@ INDI\n1 NAME Rose /Howard/\nx NAME Broken\n0 @I2@ INDI\n3 BIRT\n";
    let err = field_problem(f.people.start_import(&f.owner, &f.legacy.id, "broken.ged", broken).await.unwrap_err());
    assert!(err.contains("line 6") && err.contains("line 8"), "{err}");
    assert!(err.starts_with("file"), "{err}");
    assert_eq!(count(db, "SELECT COUNT(*) FROM persons").await, people);
    // A viewer may not import.
    let viewer = f.join(db, "viewer", LegacyRole::Viewer).await;
    assert!(f.people.start_import(&viewer, &f.legacy.id, "tree.ged", MUSTERSTAMMBAUM).await.is_err());
    assert_eq!(count(db, "SELECT COUNT(*) FROM gedcom_imports").await, 0);
    assert_eq!(count(db, "SELECT COUNT(*) FROM persons").await, people);
});

db_test!(an_export_keeps_living_people_private, |db| {
    use backend::people::gedcom::Version;
    let f = family(db, LIMITS).await;
    let mut input = person("Lily", "Howard", "female", "1990");
    input.legacy_id = f.legacy.id.clone();
    input.living = Some("on".into());
    f.people.create(&f.owner, &input).await.unwrap();
    let viewer = f.join(db, "viewer", LegacyRole::Viewer).await;
    let seen = f.people.export_gedcom(Some(&viewer), &f.legacy.id, Version::V7).await.unwrap();
    assert!(!seen.contains("Lily") && !seen.contains("1990") && seen.contains("Living"), "{seen}");
    let full = f.people.export_gedcom(Some(&f.owner), &f.legacy.id, Version::V7).await.unwrap();
    assert!(full.contains("Lily"), "{full}");
    let outsider = user(db, "outsider").await;
    assert!(matches!(
        f.people.export_gedcom(Some(&outsider), &f.legacy.id, Version::V7).await,
        Err(Error::NotFound { .. })
    ));
});

db_test!(a_timeline_orders_a_life_and_leaves_out_what_a_reader_may_not_see, |db| {
    let f = family(db, LIMITS).await;
    let [rose, tom, mum] =
        f.add_each([("Rose", "female", "12 March 1921"), ("Tom", "male", "1919"), ("Mum", "female", "1890")]).await;
    let mut died = person("Rose", "Howard", "female", "12 March 1921");
    died.birth_place = "Leeds".into();
    died.death_date = "1999".into();
    died.version = Some(1);
    f.people.update(&f.owner, &rose, &died).await.unwrap();
    let mut died = person("Tom", "Howard", "male", "1919");
    died.death_date = "about 1980".into();
    died.version = Some(1);
    f.people.update(&f.owner, &tom, &died).await.unwrap();
    let mut married = RelationshipInput { relation: "partner".into(), person_id: tom.clone(), ..Default::default() };
    married.start_date = "June 1945".into();
    f.people.relate(&f.owner, &rose, &married).await.unwrap();
    f.parent(&rose, &mum).await;
    let son = f.add("Ben", "male", "1947").await;
    f.parent(&son, &rose).await;
    let mut living = person("Lily", "Howard", "female", "1950");
    living.legacy_id = f.legacy.id.clone();
    living.living = Some("on".into());
    let lily = f.people.create(&f.owner, &living).await.unwrap();
    f.parent(&lily.id, &rose).await;

    let lines = |page: types::PersonPage| {
        page.timeline.iter().map(|e| format!("{} | {} | {}", e.kind.as_str(), e.when, e.text)).collect::<Vec<_>>()
    };
    let owner_sees = lines(f.people.page(&f.media, Some(&f.owner), &rose).await.unwrap());
    assert_eq!(
        owner_sees,
        [
            "born | 12 March 1921 | Born in Leeds",
            "partnered | June 1945 | Married Tom Howard",
            "child_born | 1947 | Ben Howard was born",
            "child_born | 1950 | Lily Howard was born",
            "partner_died | about 1980 | Tom Howard died",
            "died | 1999 | Died",
        ]
    );
    // Mum has no death date: her line is not there. A viewer does not learn of Lily.
    let viewer = f.join(db, "viewer", LegacyRole::Viewer).await;
    let viewer_sees = lines(f.people.page(&f.media, Some(&viewer), &rose).await.unwrap());
    assert_eq!(viewer_sees.len(), 5, "{viewer_sees:?}");
    assert!(!viewer_sees.iter().any(|line| line.contains("Lily") || line.contains("Living")), "{viewer_sees:?}");
    // A living person's own timeline is theirs: a viewer sees none of it.
    assert!(f.people.page(&f.media, Some(&viewer), &lily.id).await.unwrap().timeline.is_empty());
});

db_test!(relatives_are_listed_a_page_at_a_time_nearest_first, |db| {
    let f = family(db, LIMITS).await;
    let [a, b, c, d, e, g] = f
        .add_each([
            ("Ann", "female", "1990"),
            ("Bob", "male", "1960"),
            ("Cat", "female", "1962"),
            ("Dan", "male", "1930"),
            ("Eve", "female", "1932"),
            ("Gus", "male", "1934"),
        ])
        .await;
    f.parents(&[(&a, &b), (&a, &c), (&b, &d), (&b, &e), (&c, &g)]).await;
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = f.people.relatives(Some(&f.owner), &a, Some("ancestors"), cursor.as_deref(), Some(2)).await.unwrap();
        assert!(page.items.len() <= 2 && !page.truncated);
        pages.push(page.items.iter().map(|r| format!("{} {}", r.person.name, r.relation)).collect::<Vec<_>>());
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let all: Vec<String> = pages.concat();
    assert_eq!(all.len(), 5, "{pages:?}");
    assert!(all[..2].iter().all(|r| r.ends_with(" father") || r.ends_with(" mother")), "{all:?}");
    assert!(all[2..].iter().all(|r| r.ends_with("grandfather") || r.ends_with("grandmother")), "{all:?}");
    let neighbours = f.people.relatives(Some(&f.owner), &b, None, None, None).await.unwrap();
    let named: Vec<&str> = neighbours.items.iter().map(|r| r.relation.as_str()).collect();
    let mut parents = named[..2].to_vec();
    parents.sort_unstable();
    assert_eq!(
        (parents, named.get(2..)),
        (vec!["father", "mother"], Some(&["daughter"][..])),
        "parents, then children"
    );
    let descendants = f.people.relatives(Some(&f.owner), &d, Some("descendants"), None, None).await.unwrap();
    assert_eq!(descendants.items.iter().map(|r| r.relation.as_str()).collect::<Vec<_>>(), ["son", "granddaughter"]);
    // What does not read is refused, by name.
    let err = f.people.relatives(Some(&f.owner), &a, Some("cousins"), None, None).await.unwrap_err();
    assert!(field_problem(err).starts_with("kind: must be one of neighbours, ancestors, descendants"));
    let err = f.people.relatives(Some(&f.owner), &a, None, Some("nonsense"), Some(0)).await.unwrap_err();
    let problems = field_problem(err);
    assert!(
        problems.contains("limit: must be between 1 and 200") && problems.contains("cursor: is not a cursor"),
        "{problems}"
    );
});

/// A GEDCOM 5.5.1 file of `couples` couples, each with two children, husband, wife and
/// children numbered in turn.
fn generated_gedcom(couples: usize) -> Vec<u8> {
    let mut file = String::from("0 HEAD\n1 GEDC\n2 VERS 5.5.1\n1 CHAR UTF-8\n");
    for c in 0..couples {
        let base = c * 4;
        for (i, (given, sex)) in [("John", "M"), ("Mary", "F"), ("Tom", "M"), ("Ann", "F")].iter().enumerate() {
            let n = base + i;
            file += &format!(
                "0 @I{n}@ INDI\n1 NAME {given} {n} /Line{c}/\n1 SEX {sex}\n1 BIRT\n2 DATE {}\n",
                1900 + i * 25
            );
            file += &format!("1 {} @F{c}@\n", if i < 2 { "FAMS" } else { "FAMC" });
        }
        file += &format!(
            "0 @F{c}@ FAM\n1 HUSB @I{base}@\n1 WIFE @I{}@\n1 CHIL @I{}@\n1 CHIL @I{}@\n",
            base + 1,
            base + 2,
            base + 3
        );
    }
    file += "0 TRLR\n";
    file.into_bytes()
}

// More records than one transaction of an import holds: every one arrives, each with its
// event, and importing the file again (as after an import stopped part-way) adds nothing.
db_test!(an_import_larger_than_a_transaction_writes_every_record_and_repeats_calmly, |db| {
    use backend::people::exchange::RECORDS_PER_TRANSACTION;
    let f = family(db, LIMITS).await;
    let couples = RECORDS_PER_TRANSACTION / 3;
    let file = generated_gedcom(couples);
    let report = import(&f, &f.owner, &f.legacy.id, &file).await.unwrap();
    let (people, edges) = (couples as u64 * 4, couples as u64 * 5);
    assert!(people + edges > 2 * RECORDS_PER_TRANSACTION as u64, "the file spans several transactions");
    assert_eq!((report.created, report.relationships_added), (people, edges), "{report:?}");
    assert_eq!(count(db, "SELECT COUNT(*) FROM persons").await, people as i64 + 1);
    assert_eq!(count(db, "SELECT COUNT(*) FROM relationships").await, edges as i64);
    let events = "SELECT COUNT(*) FROM outbox WHERE event_type IN ('PersonCreated', 'RelationshipAdded')";
    assert_eq!(count(db, events).await, (people + edges) as i64 + 1, "one event a record, and the subject's");
    let again = import(&f, &f.owner, &f.legacy.id, &file).await.unwrap();
    assert_eq!((again.created, again.unchanged, again.relationships_added), (0, people, 0), "{again:?}");
    assert_eq!(count(db, "SELECT COUNT(*) FROM persons").await, people as i64 + 1);
});

// A GEDZIP archive brings its people and the photos they are in: each file once, however
// many people are in it and however often the archive is imported; a file the archive
// lacks is reported with the person's line.
db_test!(a_gedzip_archive_brings_its_photos_and_tags_its_people_in_them, |db| {
    let f = family(db, LIMITS).await;
    let gedcom = "0 HEAD\n1 GEDC\n2 VERS 7.0\n0 @I1@ INDI\n1 NAME Edna /Howard/\n1 OBJE @O1@\n1 OBJE @O2@\n\
                  1 FAMS @F1@\n0 @I2@ INDI\n1 NAME Tom /Howard/\n1 OBJE @O1@\n1 FAMS @F1@\n0 @F1@ FAM\n\
                  1 HUSB @I2@\n1 WIFE @I1@\n1 MARR\n2 DATE JUN 1945\n0 @O1@ OBJE\n1 FILE media/wedding%20day.jpg\n\
                  2 FORM image/jpeg\n0 @O2@ OBJE\n1 FILE media/lost.jpg\n2 FORM image/jpeg\n0 TRLR\n";
    let mut photo = Vec::new();
    image::codecs::jpeg::JpegEncoder::new(&mut photo).encode_image(&image::RgbImage::new(16, 12)).unwrap();
    let archive =
        backend::people::gedzip::archive(&[("gedcom.ged", gedcom.as_bytes()), ("media/wedding day.jpg", &photo)]);

    let report = import(&f, &f.owner, &f.legacy.id, &archive).await.unwrap();
    assert_eq!((report.created, report.relationships_added, report.media_added), (2, 1, 1), "{report:?}");
    let lost: Vec<String> = report.skipped.iter().map(|s| format!("{}: {}", s.line, s.reason)).collect();
    assert_eq!(lost, ["4: the file media/lost.jpg is not in the archive"]);
    let listed = f.people.in_legacy(Some(&f.owner), &f.legacy.id, None, None).await.unwrap();
    let id_of = |name: &str| listed.items.iter().find(|p| p.name == name).unwrap().id.clone();
    for name in ["Edna Howard", "Tom Howard"] {
        let tagged = f.people.tagged_media(&f.media, Some(&f.owner), &id_of(name)).await.unwrap();
        let files: Vec<&str> = tagged.iter().map(|m| m.file_name.as_str()).collect();
        assert_eq!(files, ["wedding day.jpg"], "{name}");
        assert_eq!(tagged[0].size, photo.len() as u64);
    }
    // The marriage came with its date, and Edna's timeline has it and the photo.
    let page = f.people.page(&f.media, Some(&f.owner), &id_of("Edna Howard")).await.unwrap();
    let lines: Vec<String> = page.timeline.iter().map(|e| format!("{} | {}", e.when, e.text)).collect();
    assert_eq!(lines, ["June 1945 | Married Tom Howard", " | wedding day.jpg"]);
    let uploaded = "SELECT COUNT(*) FROM outbox WHERE event_type = 'MediaUploaded'";
    assert_eq!(count(db, uploaded).await, 1, "handed to processing like any upload");

    let again = import(&f, &f.owner, &f.legacy.id, &archive).await.unwrap();
    assert_eq!((again.unchanged, again.media_added), (2, 0), "{again:?}");
    assert_eq!(count(db, "SELECT COUNT(*) FROM media").await, 1, "the photo is not added twice");

    // An archive without its GEDCOM file is refused when the import is asked for.
    let without = backend::people::gedzip::archive(&[("tree.ged", gedcom.as_bytes())]);
    let err = f.people.start_import(&f.owner, &f.legacy.id, "tree.gdz", &without).await.unwrap_err();
    assert!(field_problem(err).starts_with("file: is a zip archive without gedcom.ged"));
});

// The relationship finder walks a copy of the legacy's graph kept in memory: every change
// to the relationships (added, removed, a person deleted) is seen by the next question.
db_test!(the_relationship_finder_sees_every_change_at_once, |db| {
    let f = family(db, LIMITS).await;
    let [mum, son] = f.add_each([("Mary", "female", "1925"), ("Tom", "male", "1950")]).await;
    let related = |a: PersonId, b: PersonId| {
        let people = &f.people;
        let owner = &f.owner;
        async move { people.kinship(Some(owner), &a, &b).await.unwrap() }
    };
    assert!(!related(son.clone(), mum.clone()).await.found);
    f.parent(&son, &mum).await;
    assert_eq!(related(son.clone(), mum.clone()).await.relation, "son");
    let edge = f.people.family(Some(&f.owner), &son).await.unwrap().parents[0].relationship_id.clone().unwrap();
    f.people.unrelate(&f.owner, &edge).await.unwrap();
    assert!(!related(son.clone(), mum.clone()).await.found);
    let gran = f.add("Edith", "female", "1900").await;
    f.parents(&[(&son, &mum), (&mum, &gran)]).await;
    assert_eq!(related(son.clone(), gran.clone()).await.relation, "grandson");
    f.people.delete(&f.owner, &mum).await.unwrap();
    assert!(!related(son.clone(), gran.clone()).await.found, "the way through Mary went with her");
});

// A person's parents are found through the index on the child: SQLite once read every
// parent edge of the instance for each generation through the unique (kind, a, b) index.
// (The plan, a deterministic budget; the speed is the bench's.)
db_test!(parents_are_found_by_the_index_on_the_child, |db| {
    if db.engine() != backend::db::Engine::Sqlite {
        return;
    }
    let sql = "EXPLAIN QUERY PLAN SELECT id FROM relationships WHERE kind = 'parent' AND person_b IN ('a', 'b')";
    let plan: Vec<(i64, i64, i64, String)> =
        with_pool!(db, |pool| sqlx::query_as::<_, (i64, i64, i64, String)>(sql).fetch_all(pool).await.unwrap());
    let steps: Vec<&str> = plan.iter().map(|row| row.3.as_str()).collect();
    assert_eq!(steps, ["SEARCH relationships USING INDEX relationships_b (person_b=? AND kind=?)"], "{steps:?}");
});

//! Search on SQLite and PostgreSQL: stories written through the real `Stories` service,
//! indexed by the search consumer through the embedded dispatcher, then searched as
//! different readers. Ranking, CJK, stemming, filters and facets, permissions (hidden
//! stories are neither returned nor counted), updates and deletes, generations and
//! rebuilds, typeahead, typos and hostile query text.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use backend::db::Db;
use backend::events::{consumer, Consumer, Dispatcher, RetryPolicy};
use backend::identity::{repo as users, NewUser, Role, User};
use backend::search::{Kind, Reader, Search, SearchQuery, SearchResults, Sort};
use backend::stories::Stories;
use backend::{db_test, Error};
use types::events::{Envelope, EventType};
use types::{LegacyInput, LegacyRole, LegacyView, StoryInput, StoryStatus, StoryUpdate, StoryView, Visibility};

use StoryStatus::Published;
use Visibility::{Members, Private, Public};

/// A data folder, the services, and a dispatcher feeding the search indexer.
struct World {
    db: Db,
    dir: tempfile::TempDir,
    stories: Stories,
    search: Arc<Search>,
    dispatcher: Dispatcher,
}

impl World {
    async fn new(db: &Db) -> World {
        let dir = tempfile::tempdir().unwrap();
        let search =
            Arc::new(Search::open_or_rebuild(&backend::disk::Disk::new(dir.path(), 0), db.clone()).await.unwrap());
        World::with(db, dir, search)
    }

    fn with(db: &Db, dir: tempfile::TempDir, search: Arc<Search>) -> World {
        let retry = RetryPolicy { attempts: 1, first_backoff: Duration::from_millis(1) };
        let dispatcher = Dispatcher::new(db.clone(), vec![search.indexer()], retry);
        World { db: db.clone(), dir, stories: Stories::new(db.clone()), search, dispatcher }
    }

    /// Delivers every pending event to the indexer; none may fail.
    async fn sync(&self) {
        self.dispatcher.drain().await.unwrap();
        assert!(consumer::dead_letters(&self.db).await.unwrap().is_empty(), "the indexer failed an event");
    }

    /// A world where Ana owns the legacy "Rosa", as most tests here start.
    async fn with_ana_owning_rosa(db: &Db) -> (World, User, LegacyView) {
        let w = World::new(db).await;
        let ana = w.user("Ana", Role::Member).await;
        let rosa = w.legacy(&ana, "Rosa").await;
        (w, ana, rosa)
    }

    async fn user(&self, name: &str, role: Role) -> User {
        users::insert(&self.db, &NewUser::new(&format!("{name}@example.org"), name, role).unwrap()).await.unwrap()
    }

    async fn legacy(&self, owner: &User, name: &str) -> LegacyView {
        let input = LegacyInput { name: name.into(), born: "1931".into(), died: "2019".into(), summary: "".into() };
        self.stories.create_legacy(owner, &input, None).await.unwrap()
    }

    async fn join(&self, owner: &User, member: &User, legacy: &LegacyView, role: LegacyRole) {
        let token = self.stories.invite(owner, &legacy.id, role.as_str(), 7, None).await.unwrap();
        self.stories.accept_invitation(member, &token).await.unwrap();
    }

    #[allow(clippy::too_many_arguments)]
    async fn story(
        &self,
        author: &User,
        legacy: &LegacyView,
        title: &str,
        body: &str,
        tags: &[&str],
        visibility: Visibility,
        status: StoryStatus,
    ) -> StoryView {
        let input = StoryInput {
            legacy_id: legacy.id.clone(),
            title: title.into(),
            body: body.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            visibility: Some(visibility.as_str().into()),
            status: Some(status.as_str().into()),
        };
        let story = self.stories.create_story(author, &input, None).await.unwrap();
        // Distinct update times, so date filters and sorting have something to tell apart.
        tokio::time::sleep(Duration::from_millis(3)).await;
        story
    }

    async fn reader(&self, user: Option<&User>) -> Reader {
        self.search.reader(user).await.unwrap()
    }

    async fn find(&self, user: Option<&User>, query: SearchQuery) -> SearchResults {
        let reader = self.reader(user).await;
        self.search.search(&reader, &query).await.unwrap()
    }

    /// Ids of the hits for `text`, in order.
    async fn ids(&self, user: Option<&User>, text: &str) -> Vec<String> {
        ids(&self.find(user, SearchQuery::text(text)).await)
    }
}

fn ids(results: &SearchResults) -> Vec<String> {
    results.hits.iter().map(|h| h.id.clone()).collect()
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

fn facet(counts: &[backend::search::FacetCount]) -> Vec<(String, u64)> {
    counts.iter().map(|c| (c.label.clone(), c.count)).collect()
}

db_test!(a_title_match_ranks_above_a_body_match, |db| {
    let (w, ana, rosa) = World::with_ana_owning_rosa(db).await;
    let in_body = w
        .story(
            &ana,
            &rosa,
            "Summer",
            "That summer the bees were everywhere, bees in every room.",
            &[],
            Public,
            Published,
        )
        .await;
    let in_title = w.story(&ana, &rosa, "Bees", "She kept three hives by the wall.", &[], Public, Published).await;
    w.story(&ana, &rosa, "Winter", "Snow up to the windows.", &[], Public, Published).await;
    w.sync().await;

    let results = w.find(None, SearchQuery::text("bees")).await;
    assert_eq!(ids(&results), [in_title.id.to_string(), in_body.id.to_string()]);
    assert_eq!(results.total, 2);
    assert!(results.hits[0].score > results.hits[1].score);
    assert_eq!(results.hits[0].kind, Kind::Story);
    assert_eq!(results.hits[0].legacy_name, "Rosa");
    assert_eq!(results.hits[0].author_name, "Ana");

    // Newest first ignores relevance.
    let newest = w.find(None, SearchQuery { sort: Sort::Newest, ..SearchQuery::text("bees") }).await;
    assert_eq!(ids(&newest), [in_title.id.to_string(), in_body.id.to_string()]);
    w.stories
        .update_story(
            &ana,
            &in_body.id,
            &StoryUpdate { version: 1, title: "Summer".into(), body: in_body.body.clone(), ..Default::default() },
        )
        .await
        .unwrap();
    w.sync().await;
    let newest = w.find(None, SearchQuery { sort: Sort::Newest, ..SearchQuery::text("bees") }).await;
    assert_eq!(ids(&newest), [in_body.id.to_string(), in_title.id.to_string()]);

    // Paging: the total stays, the page moves.
    let second = w.find(None, SearchQuery { limit: Some(1), offset: 1, ..SearchQuery::text("bees") }).await;
    assert_eq!((second.total, ids(&second)), (2, vec![in_body.id.to_string()]));
});

db_test!(a_renamed_legacy_and_its_stories_are_found_by_the_new_name_only, |db| {
    let (w, ana, rosa) = World::with_ana_owning_rosa(db).await;
    let story = w.story(&ana, &rosa, "Bees", "She kept three hives.", &[], Public, Published).await;
    w.sync().await;
    let details = LegacyInput { name: "Margit".into(), ..Default::default() };
    let update = types::LegacyUpdate { version: rosa.version, details };
    w.stories.update_legacy(&ana, &rosa.id, &update).await.unwrap();
    w.sync().await;

    let found = w.find(Some(&ana), SearchQuery::text("margit")).await;
    assert!(ids(&found).contains(&rosa.id.to_string()), "the legacy by its new name");
    let hit = found.hits.iter().find(|h| h.id == story.id.as_str()).expect("its story, by the legacy's new name");
    assert_eq!(hit.legacy_name, "Margit");
    let legacies = |results: &SearchResults| results.hits.iter().filter(|h| h.kind == Kind::Legacy).count();
    assert_eq!(legacies(&w.find(Some(&ana), SearchQuery::text("rosa")).await), 0, "not by the old one");
});

db_test!(cjk_text_is_found_by_its_words, |db| {
    let (w, ana, rosa) = World::with_ana_owning_rosa(db).await;
    let story = w
        .story(&ana, &rosa, "祖母の思い出", "祖母は日本語を教えてくれた。東京で生まれた。", &[], Public, Published)
        .await;
    let korean = w.story(&ana, &rosa, "할머니", "할머니는 서울에서 태어났다.", &[], Public, Published).await;
    w.sync().await;

    assert_eq!(w.ids(None, "日本").await, [story.id.as_str()]);
    assert_eq!(w.ids(None, "日本語").await, [story.id.as_str()]);
    assert_eq!(w.ids(None, "東京").await, [story.id.as_str()]);
    assert_eq!(w.ids(None, "祖母").await, [story.id.as_str()], "title");
    assert_eq!(w.ids(None, "서울").await, [korean.id.as_str()]);
    assert!(w.ids(None, "京都").await.is_empty(), "京 and 都 never stand together");
    assert!(w.ids(None, "語日本").await.is_empty(), "the bigrams must be adjacent and in order");
    let results = w.find(None, SearchQuery::text("日本語")).await;
    assert!(results.hits[0].snippet_html.contains("<mark>日本語</mark>"), "{}", results.hits[0].snippet_html);
});

db_test!(stemming_finds_other_forms_of_a_word, |db| {
    let (w, ana, rosa) = World::with_ana_owning_rosa(db).await;
    let running = w.story(&ana, &rosa, "Gardens", "He was running to the station.", &[], Public, Published).await;
    w.sync().await;

    for text in ["run", "runs", "running", "garden", "GARDENING", "stations"] {
        assert_eq!(w.ids(None, text).await, [running.id.as_str()], "{text}");
    }
    assert!(w.ids(None, "ran").await.is_empty(), "irregular forms are not stems");
});

db_test!(filters_narrow_and_facets_count_the_matches, |db| {
    let (w, ana, rosa) = World::with_ana_owning_rosa(db).await;
    let bo = w.user("Bo", Role::Member).await;
    let ben = w.legacy(&ana, "Ben").await;
    w.join(&ana, &bo, &rosa, LegacyRole::Contributor).await;
    let s1 = w.story(&ana, &rosa, "Letters home", "family news", &["War", "letters"], Members, Published).await;
    let s2 = w.story(&bo, &rosa, "The front", "family at war", &["war"], Members, Published).await;
    let s3 = w.story(&ana, &ben, "Ben's box", "family papers", &["letters"], Members, Published).await;
    w.story(&ana, &ben, "Unrelated", "nothing here", &["war"], Members, Published).await;
    w.sync().await;

    let all = w.find(Some(&ana), SearchQuery::text("family")).await;
    assert_eq!(sorted(ids(&all)), sorted(vec![s1.id.to_string(), s2.id.to_string(), s3.id.to_string()]));
    assert_eq!(all.total, 3);
    assert_eq!(facet(&all.facets.kinds), [("story".to_string(), 3)]);
    assert_eq!(facet(&all.facets.tags), [("letters".to_string(), 2), ("war".to_string(), 2)]);
    assert_eq!(facet(&all.facets.authors), [("Ana".to_string(), 2), ("Bo".to_string(), 1)]);
    assert_eq!(all.facets.authors[0].value, ana.id);
    assert_eq!(facet(&all.facets.legacies), [("Rosa".to_string(), 2), ("Ben".to_string(), 1)]);
    assert_eq!(all.facets.legacies[0].value, rosa.id);

    let q = |f: fn(&mut SearchQuery)| {
        let mut query = SearchQuery::text("family");
        f(&mut query);
        query
    };
    let by_tag = w.find(Some(&ana), q(|q| q.tag = Some(" WAR ".into()))).await;
    assert_eq!(sorted(ids(&by_tag)), sorted(vec![s1.id.to_string(), s2.id.to_string()]));
    assert_eq!(facet(&by_tag.facets.tags), [("war".to_string(), 2), ("letters".to_string(), 1)]);
    let mut by_legacy = SearchQuery::text("family");
    by_legacy.legacy_id = Some(ben.id.to_string());
    assert_eq!(ids(&w.find(Some(&ana), by_legacy).await), [s3.id.as_str()]);
    let mut by_author = SearchQuery::text("family");
    by_author.author_id = Some(bo.id.to_string());
    assert_eq!(ids(&w.find(Some(&ana), by_author).await), [s2.id.as_str()]);
    let mut from = SearchQuery::text("family");
    from.from = Some(s3.updated_at);
    assert_eq!(ids(&w.find(Some(&ana), from).await), [s3.id.as_str()]);
    let mut to = SearchQuery::text("family");
    to.to = Some(s1.updated_at);
    assert_eq!(ids(&w.find(Some(&ana), to).await), [s1.id.as_str()]);
    let mut between = SearchQuery::text("family");
    (between.from, between.to) = (Some(s2.updated_at), Some(s2.updated_at));
    assert_eq!(ids(&w.find(Some(&ana), between).await), [s2.id.as_str()]);

    // Legacies are documents too: by name, and filtered by kind.
    let mut legacies = SearchQuery::text("rosa");
    legacies.kinds = vec![Kind::Legacy];
    let found = w.find(Some(&ana), legacies).await;
    assert_eq!(ids(&found), [rosa.id.as_str()]);
    assert_eq!(found.hits[0].kind, Kind::Legacy);
    let mixed = w.find(Some(&ana), SearchQuery::text("rosa")).await;
    // The legacy's subject is a person of the same name.
    let kinds = [("story".to_string(), 2), ("legacy".to_string(), 1), ("person".to_string(), 1)];
    assert_eq!(facet(&mixed.facets.kinds), kinds);
    let mut stories_only = SearchQuery::text("rosa");
    stories_only.kinds = vec![Kind::Story];
    assert_eq!(w.find(Some(&ana), stories_only).await.total, 2);
});

db_test!(readers_find_and_count_only_what_they_may_read, |db| {
    let w = World::new(db).await;
    let ana = w.user("Ana", Role::Member).await;
    let ed = w.user("Ed", Role::Member).await;
    let vic = w.user("Vic", Role::Member).await;
    let olga = w.user("Olga", Role::Member).await;
    let admin = w.user("Root", Role::Admin).await;
    let rosa = w.legacy(&ana, "Rosa").await;
    let other = w.legacy(&olga, "Other").await;
    let hidden = w.legacy(&olga, "Hidden").await;
    w.join(&ana, &ed, &rosa, LegacyRole::Editor).await;
    w.join(&ana, &vic, &rosa, LegacyRole::Viewer).await;
    let mut all = Vec::new();
    for (author, legacy) in [(&ana, &rosa), (&olga, &other)] {
        for &visibility in Visibility::ALL {
            for &status in StoryStatus::ALL {
                let title = format!("Secret {visibility} {status}");
                let tag = format!("{}-{visibility}-{status}", author.display_name.to_lowercase());
                all.push(w.story(author, legacy, &title, "a secret recipe", &[&tag], visibility, status).await);
            }
        }
    }
    w.story(&olga, &hidden, "Members only", "a secret kept", &[], Members, Published).await;
    w.sync().await;

    for user in [None, Some(&ana), Some(&ed), Some(&vic), Some(&olga), Some(&admin)] {
        let who = user.map_or("anonymous".to_string(), |u| u.display_name.clone());
        let mut readable = Vec::new();
        let mut readable_tags = Vec::new();
        for story in &all {
            if w.stories.story(user, &story.id).await.is_ok() {
                readable.push(story.id.to_string());
                readable_tags.push((story.tags[0].clone(), 1));
            }
        }
        let mut query = SearchQuery::text("secret");
        query.kinds = vec![Kind::Story];
        query.legacy_id = None;
        let results = w.find(user, query).await;
        let found: Vec<String> =
            results.hits.iter().filter(|h| h.legacy_name != "Hidden").map(|h| h.id.clone()).collect();
        assert_eq!(sorted(found), sorted(readable.clone()), "{who}: the same stories as the service lets them read");
        let in_hidden = usize::from(user.is_some_and(|u| u.id == olga.id));
        assert_eq!(results.total, readable.len() + in_hidden, "{who}: total");
        let kinds_total: u64 = results.facets.kinds.iter().map(|c| c.count).sum();
        assert_eq!(kinds_total as usize, results.total, "{who}: facet counts");
        readable_tags.sort();
        let mut tags = facet(&results.facets.tags);
        tags.sort();
        assert_eq!(tags, readable_tags, "{who}: a hidden story's tag is not even counted");
    }
    // Spot checks, so the comparison above cannot pass by both sides being empty.
    let anonymous = sorted(w.ids(None, "secret").await);
    assert_eq!(anonymous.len(), 2, "the two public published stories");
    assert_eq!(w.find(Some(&vic), SearchQuery::text("secret")).await.total, 3, "public ×2 + Rosa's members");
    assert_eq!(w.find(Some(&ed), SearchQuery::text("secret")).await.total, 5, "+ Rosa's two non-private drafts");
    assert_eq!(w.find(Some(&ana), SearchQuery::text("secret")).await.total, 7, "+ her own private ones");

    // Legacies: members and admins see them; others only when they have a public story.
    assert_eq!(w.ids(None, "hidden").await, Vec::<String>::new());
    assert_eq!(w.ids(Some(&ana), "hidden").await, Vec::<String>::new());
    assert_eq!(w.ids(Some(&olga), "hidden").await.len(), 3, "the legacy, its subject and its story");
    let mut legacy_only = SearchQuery::text("hidden");
    legacy_only.kinds = vec![Kind::Legacy];
    assert_eq!(ids(&w.find(Some(&admin), legacy_only).await), [hidden.id.as_str()]);
    let mut other_legacy = SearchQuery::text("other");
    other_legacy.kinds = vec![Kind::Legacy];
    assert_eq!(ids(&w.find(None, other_legacy).await), [other.id.as_str()], "it has a public story");
});

db_test!(updates_and_deletes_reach_the_index, |db| {
    let (w, ana, rosa) = World::with_ana_owning_rosa(db).await;
    let story = w.story(&ana, &rosa, "Apple pie", "With cinnamon.", &["baking"], Public, Published).await;
    w.sync().await;
    assert_eq!(w.ids(None, "apple").await, [story.id.as_str()]);
    let mut rosa_query = SearchQuery::text("rosa");
    rosa_query.kinds = vec![Kind::Legacy];
    assert_eq!(ids(&w.find(None, rosa_query.clone()).await), [rosa.id.as_str()], "public story: legacy visible");

    let update = StoryUpdate {
        version: 1,
        title: "Cherry pie".into(),
        body: "With almonds.".into(),
        tags: vec!["summer".into()],
        ..Default::default()
    };
    w.stories.update_story(&ana, &story.id, &update).await.unwrap();
    w.sync().await;
    assert!(w.ids(None, "apple").await.is_empty());
    assert!(w.ids(None, "cinnamon").await.is_empty());
    assert_eq!(w.ids(None, "cherry almonds").await, [story.id.as_str()]);
    let by_tag = w.find(None, SearchQuery { tag: Some("summer".into()), ..SearchQuery::text("pie") }).await;
    assert_eq!(ids(&by_tag), [story.id.as_str()]);

    let private = StoryUpdate {
        version: 2,
        title: "Cherry pie".into(),
        body: "With almonds.".into(),
        visibility: Some("private".into()),
        ..Default::default()
    };
    w.stories.update_story(&ana, &story.id, &private).await.unwrap();
    w.sync().await;
    assert!(w.ids(None, "cherry").await.is_empty(), "now private");
    assert!(w.find(None, rosa_query.clone()).await.hits.is_empty(), "no public story left: legacy hidden");
    assert_eq!(w.ids(Some(&ana), "cherry").await, [story.id.as_str()], "the author still finds it");

    w.stories.delete_story(&ana, &story.id).await.unwrap();
    w.sync().await;
    assert!(w.ids(Some(&ana), "cherry").await.is_empty());

    // Replaying an old event (a redelivery, out of order) reloads the row: still gone.
    let events = backend::events::outbox::events_for(db, "story", &story.id).await.unwrap();
    let created = events.iter().find(|e| e.event_type == "StoryCreated").unwrap();
    w.search.indexer().handle(created).await.unwrap();
    assert!(w.ids(Some(&ana), "cherry").await.is_empty());
    assert_eq!(w.find(Some(&ana), SearchQuery::text("rosa")).await.total, 2, "only the legacy and its subject");
});

db_test!(a_rebuild_switches_generations_atomically, |db| {
    let (w, ana, rosa) = World::with_ana_owning_rosa(db).await;
    for i in 0..30 {
        let input = StoryInput {
            legacy_id: rosa.id.clone(),
            title: format!("Harvest {i}"),
            body: "apples and pears".into(),
            tags: vec![format!("t{}", i % 3)],
            visibility: Some("public".into()),
            status: Some("published".into()),
        };
        w.stories.create_story(&ana, &input, None).await.unwrap();
    }
    w.sync().await;
    let root = w.search.root();
    let first = w.search.generation();
    assert!(root.join(&first).is_dir());
    assert_eq!(std::fs::read_to_string(root.join("CURRENT")).unwrap(), first);

    // Searches keep answering, with every document, while the rebuild runs.
    let stop = Arc::new(AtomicBool::new(false));
    let searching = {
        let (search, stop, reader) = (w.search.clone(), stop.clone(), w.reader(None).await);
        tokio::spawn(async move {
            let mut searches = 0;
            while !stop.load(Ordering::SeqCst) || searches == 0 {
                let results = search.search(&reader, &SearchQuery::text("apples")).await.unwrap();
                assert!(results.total >= 30, "a search during the rebuild saw {} documents", results.total);
                searches += 1;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            searches
        })
    };
    let hold = w.search.hold_next_rebuild();
    let rebuilding = {
        let search = w.search.clone();
        tokio::spawn(async move { search.rebuild().await })
    };
    hold.filled.await.unwrap();
    // The new generation is filled but not current: changes now reach only the old one
    // and must be carried over at the switch.
    assert_eq!(w.search.generation(), first);
    let early = w.stories.list(Some(&ana), &Default::default()).await.unwrap().items.pop().unwrap();
    let renamed = StoryUpdate {
        version: early.version,
        title: "Quince harvest".into(),
        body: "apples and pears".into(),
        tags: early.tags.clone(),
        ..Default::default()
    };
    w.stories.update_story(&ana, &early.id, &renamed).await.unwrap();
    let late = w.story(&ana, &rosa, "Late harvest", "apples in the snow", &[], Public, Published).await;
    w.sync().await;
    assert_eq!(w.ids(None, "snow").await, [late.id.as_str()], "the old generation is still written to");
    hold.release.send(()).unwrap();
    let report = rebuilding.await.unwrap().unwrap();
    stop.store(true, Ordering::SeqCst);
    assert!(searching.await.unwrap() > 0);

    let second = w.search.generation();
    assert_ne!(second, first);
    assert_eq!(report.generation, second);
    assert_eq!(report.legacies, 1);
    assert_eq!(report.stories, 30, "counted when filled, before the late story");
    assert_eq!(std::fs::read_to_string(root.join("CURRENT")).unwrap(), second);
    assert!(!root.join(&first).exists(), "the old generation is removed");
    assert!(root.join(&second).is_dir());
    let results = w.find(None, SearchQuery::text("apples")).await;
    assert_eq!(results.total, 31);
    assert_eq!(w.ids(None, "snow").await, [late.id.as_str()], "created during the rebuild");
    assert_eq!(w.ids(None, "quince").await, [early.id.as_str()], "changed during the rebuild");
    assert_eq!(facet(&results.facets.tags), [("t0".to_string(), 10), ("t1".to_string(), 10), ("t2".to_string(), 10)]);
    // And the indexer writes into the new generation.
    let after = w.story(&ana, &rosa, "After", "medlars", &[], Public, Published).await;
    w.sync().await;
    assert_eq!(w.ids(None, "medlars").await, [after.id.as_str()]);
});

/// A consumer that takes the search indexer's name and does nothing: events it
/// "handles" are recorded as processed but never reach the index.
struct Lost;

#[async_trait]
impl Consumer for Lost {
    fn name(&self) -> &str {
        "search"
    }
    fn wants(&self, _: &EventType) -> bool {
        true
    }
    async fn handle(&self, _: &Envelope) -> backend::Result<()> {
        Ok(())
    }
}

db_test!(a_missing_corrupt_or_stale_index_is_rebuilt_on_start, |db| {
    let (w, ana, rosa) = World::with_ana_owning_rosa(db).await;
    let story = w.story(&ana, &rosa, "Grandma", "the orchard", &[], Public, Published).await;
    w.sync().await;
    let World { dir, search, dispatcher, .. } = w;
    let root = search.root();
    let first = search.generation();
    drop(dispatcher);
    drop(search);

    // Up to date: opened as it is.
    let search = Arc::new(Search::open_or_rebuild(&backend::disk::Disk::new(dir.path(), 0), db.clone()).await.unwrap());
    assert_eq!(search.generation(), first, "no needless rebuild");
    drop(search);

    // Deleted: rebuilt from the database.
    std::fs::remove_dir_all(&root).unwrap();
    let search = Arc::new(Search::open_or_rebuild(&backend::disk::Disk::new(dir.path(), 0), db.clone()).await.unwrap());
    let w = World::with(db, dir, search);
    assert_eq!(w.ids(None, "orchard").await, [story.id.as_str()]);
    let rebuilt = w.search.generation();
    let World { dir, search, dispatcher, .. } = w;
    drop(dispatcher);
    drop(search);

    // Corrupt: rebuilt.
    std::fs::write(root.join(&rebuilt).join("meta.json"), b"{ not json").unwrap();
    let search = Arc::new(Search::open_or_rebuild(&backend::disk::Disk::new(dir.path(), 0), db.clone()).await.unwrap());
    assert_ne!(search.generation(), rebuilt);
    assert!(!root.join(&rebuilt).exists(), "the corrupt generation is removed");
    let w = World::with(db, dir, search);
    assert_eq!(w.ids(None, "orchard").await, [story.id.as_str()]);

    // Behind: the search consumer has handled an event the index never saw.
    let missed = w.story(&ana, &rosa, "Meadow", "wild flowers", &[], Public, Published).await;
    let lost = Dispatcher::new(db.clone(), vec![Arc::new(Lost)], RetryPolicy::default());
    lost.drain().await.unwrap();
    assert!(w.ids(None, "flowers").await.is_empty());
    let World { dir, search, dispatcher, .. } = w;
    let before = search.generation();
    drop(dispatcher);
    drop(search);
    let search = Arc::new(Search::open_or_rebuild(&backend::disk::Disk::new(dir.path(), 0), db.clone()).await.unwrap());
    assert_ne!(search.generation(), before);
    let w = World::with(db, dir, search);
    assert_eq!(w.ids(None, "flowers").await, [missed.id.as_str()]);
});

db_test!(typeahead_and_typos_find_what_was_meant, |db| {
    let (w, ana, rosa) = World::with_ana_owning_rosa(db).await;
    let olga = w.user("Olga", Role::Member).await;
    let other = w.legacy(&olga, "Other").await;
    let grandma =
        w.story(&ana, &rosa, "Grandma's kitchen", "My grandmother baked bread.", &[], Public, Published).await;
    w.story(&ana, &rosa, "Bread", "Grain from the farm.", &[], Public, Published).await;
    w.story(&olga, &other, "Grandad's notes", "private", &[], Private, Published).await;
    w.sync().await;

    let reader = w.reader(Some(&ana)).await;
    let suggestions = w.search.suggest("gra", &reader, 5).await.unwrap();
    assert_eq!(suggestions.first().map(|s| s.id.as_str()), Some(grandma.id.as_str()), "{suggestions:?}");
    assert_eq!(suggestions[0].title, "Grandma's kitchen");
    assert_eq!(suggestions[0].legacy_name, "Rosa");
    assert!(suggestions.iter().all(|s| s.title != "Grandad's notes"), "others' private stories are not suggested");
    let legacies = w.search.suggest("ros", &reader, 5).await.unwrap();
    assert!(legacies.iter().any(|s| s.kind == Kind::Legacy && s.id == rosa.id), "{legacies:?}");
    assert!(w.ids(Some(&ana), "gra").await.contains(&grandma.id.to_string()));
    assert!(w.ids(Some(&ana), "gra ").await.is_empty(), "a finished word is not a prefix");

    assert_eq!(w.ids(None, "grandmotehr").await, [grandma.id.as_str()]);
    assert_eq!(w.ids(None, "kitchn").await, [grandma.id.as_str()]);
    let typo = w.find(None, SearchQuery::text("grandmotehr")).await;
    assert!(typo.hits[0].snippet_html.contains("<mark>grandmother</mark>"), "{}", typo.hits[0].snippet_html);
    assert!(w.ids(None, "brea").await.len() == 2, "prefix of the last word");
    assert!(w.ids(None, "bred").await.is_empty(), "no typo tolerance under five letters");
    // Typeahead forgives a typo in the word being typed in titles only (cheap), while the
    // full search above found the same typo in a story's text.
    let title_typo = w.search.suggest("kitchn", &reader, 5).await.unwrap();
    assert_eq!(title_typo.first().map(|s| s.id.as_str()), Some(grandma.id.as_str()), "{title_typo:?}");
    let text_typo = w.search.suggest("grandmotehr", &reader, 5).await.unwrap();
    assert!(text_typo.is_empty(), "{text_typo:?}");
});

db_test!(query_syntax_is_plain_text, |db| {
    let (w, ana, rosa) = World::with_ana_owning_rosa(db).await;
    let story =
        w.story(&ana, &rosa, "A title", "The title of foo and bar; a < b & c > \"d\"", &[], Public, Published).await;
    w.sync().await;

    assert_eq!(w.ids(None, "title:(foo AND \"").await, [story.id.as_str()], "just the words title, foo, and");
    for text in [
        "*",
        "\"",
        "\\",
        "foo~2",
        "bar^3",
        "[a TO z]",
        "-secret",
        "+x",
        "(((",
        "a OR b",
        "'; DROP TABLE stories; --",
        "🙂",
        "\u{0}",
        "title:",
        "{!}",
        "foo AND",
        "NOT",
        "?",
        "\"\"\"",
        "::",
        "/regex/",
    ] {
        let reader = w.reader(None).await;
        assert!(w.search.search(&reader, &SearchQuery::text(text)).await.is_ok(), "{text:?}");
        assert!(w.search.suggest(text, &reader, 5).await.is_ok(), "suggest {text:?}");
    }
    let results = w.find(None, SearchQuery::text("foo")).await;
    let snippet = &results.hits[0].snippet_html;
    assert!(snippet.contains("<mark>foo</mark>"), "{snippet}");
    assert!(snippet.contains("a &lt; b &amp; c &gt; &quot;d&quot;"), "user text is escaped: {snippet}");
});

db_test!(bad_queries_are_refused_with_the_field_named, |db| {
    let w = World::new(db).await;
    let reader = w.reader(None).await;
    for text in ["", "   \t"] {
        let err = w.search.search(&reader, &SearchQuery::text(text)).await.unwrap_err();
        assert!(matches!(&err, Error::Invalid(f) if f[0].field == "q"), "{err:?}");
        assert!(matches!(w.search.suggest(text, &reader, 5).await, Err(Error::Invalid(_))));
    }
    let err = w.search.search(&reader, &SearchQuery::text("x".repeat(513))).await.unwrap_err();
    assert!(matches!(&err, Error::Invalid(f) if f[0].field == "q" && f[0].message.contains("512")), "{err:?}");
    assert!(w.search.search(&reader, &SearchQuery::text("x".repeat(512))).await.is_ok());
    let err = w.search.search(&reader, &SearchQuery { limit: Some(1000), ..SearchQuery::text("x") }).await.unwrap_err();
    assert!(matches!(&err, Error::Invalid(f) if f[0].field == "limit"), "{err:?}");
    assert!(matches!(w.search.suggest("x", &reader, 0).await, Err(Error::Invalid(_))));
});

db_test!(people_are_found_by_any_form_of_their_name_and_the_living_only_by_editors, |db| {
    use backend::people::{graph::Limits, People};
    use types::PersonInput;
    let (w, ana, rosa) = World::with_ana_owning_rosa(db).await;
    let people =
        People::new(db.clone(), Arc::new(Stories::new(db.clone())), Limits { max_depth: 8, max_visited: 1000 });
    let vic = w.user("Vic", Role::Member).await;
    let ed = w.user("Ed", Role::Member).await;
    w.join(&ana, &vic, &rosa, LegacyRole::Viewer).await;
    w.join(&ana, &ed, &rosa, LegacyRole::Editor).await;
    let person = |given: &str, surname: &str, born: &str, living: &str| PersonInput {
        legacy_id: rosa.id.clone(),
        given_names: given.into(),
        surname: surname.into(),
        birth_surname: "Dubois".into(),
        nicknames: vec!["Nan".into()],
        birth_date: born.into(),
        birth_place: "Lyon".into(),
        living: Some(living.into()),
        ..PersonInput::default()
    };
    let renee = people.create(&ana, &person("Renée", "Howard", "about 1921", "off")).await.unwrap();
    let lily = people.create(&ana, &person("Lily", "Howard", "1990", "on")).await.unwrap();
    w.sync().await;

    let persons = |text: &str| {
        let mut query = SearchQuery::text(text);
        query.kinds = vec![Kind::Person];
        query
    };
    for text in ["Renée Howard", "howard, renee", "RENEE", "Dubois", "Nan Howard", "1921", "Lyon renee"] {
        let found = ids(&w.find(Some(&vic), persons(text)).await);
        assert!(found.contains(&renee.id.to_string()), "{text}: {found:?}");
    }
    let hit = w.find(Some(&vic), persons("Renée")).await.hits.into_iter().find(|h| h.id == renee.id.as_str()).unwrap();
    assert_eq!(hit.title, "Renée Howard (1921–)");
    assert_eq!(hit.href(), format!("/people/{}", renee.id));
    // A living person: found by the legacy's editors, never by its viewers (nor counted).
    assert!(ids(&w.find(Some(&ed), persons("Lily")).await).contains(&lily.id.to_string()));
    let hidden = w.find(Some(&vic), persons("Lily")).await;
    assert!(hidden.hits.is_empty() && hidden.total == 0, "{:?}", hidden.hits);
    assert!(w.find(None, persons("Renée")).await.hits.is_empty());
    // A death recorded: the person leaves the editors-only grant.
    let mut died = person("Lily", "Howard", "1990", "off");
    died.death_date = "2020".into();
    died.version = Some(lily.version);
    people.update(&ana, &lily.id, &died).await.unwrap();
    w.sync().await;
    assert!(ids(&w.find(Some(&vic), persons("Lily")).await).contains(&lily.id.to_string()));
    people.delete(&ana, &lily.id).await.unwrap();
    w.sync().await;
    assert!(w.find(Some(&ana), persons("Lily")).await.hits.is_empty());
});

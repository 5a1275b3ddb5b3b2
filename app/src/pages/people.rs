//! People of a legacy: the list with its "add a person" form, the person page (life,
//! family, adding relatives, "how are we related") and the edit page. Every form posts
//! without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use types::{
    routes, FamilyTree, Flash, ImportJob, Kinship, LegacyRole, LegacyView, MediaView, PeoplePage, PersonId, PersonPage,
    PersonSummary, PersonView, Relative, TimelineEntry, TreePerson, TREE_GENERATIONS_MAX,
};

use crate::api::{load_import, load_people, load_person, load_tree};
use crate::components::family_chart::FamilyChart;
use crate::components::form::{choices, ChoiceField, Field, FlashMessage};
use crate::components::import_progress::ImportProgress;
use crate::components::media::{small_image, MediaGallery};
use crate::components::page::{list_or, loaded_page, param, query};
use crate::components::raw_text::textarea_text;
use crate::request;

#[component]
pub fn PeopleListPage() -> impl IntoView {
    loaded_page(
        (param("id"), query("cursor")),
        |(id, cursor)| load_people(id, cursor),
        |(legacy, people)| view! { <PeopleList legacy people/> }.into_any(),
    )
}

#[component]
fn PeopleList(legacy: LegacyView, people: PeoplePage) -> impl IntoView {
    let flash = request::flash();
    let can_edit = matches!(legacy.my_role, Some(LegacyRole::Owner | LegacyRole::Editor));
    let id = legacy.id.clone();
    let file_errors: Vec<String> =
        flash.fields.iter().filter(|f| f.field == "file").map(|f| f.message.clone()).collect();
    let next = people.next_cursor.map(|cursor| format!("{}?cursor={cursor}", routes::PEOPLE.to(&[&id])));
    view! {
        <Title text=format!("People of {}", legacy.name)/>
        <p class="crumbs"><a dir="auto" href=routes::LEGACY.to(&[&id])>{legacy.name.clone()}</a></p>
        <h1>"People"</h1>
        <FlashMessage flash=flash.clone()/>
        {list_or(people.items, "people-list", "", "No people yet.", |p| view! { <PersonLink person=p/> })}
        {next.map(|href| view! { <p><a href=href rel="next">"More people"</a></p> })}
        <p><a href=routes::fill(routes::api::GEDCOM, &[&id]) download="heirloom.ged">"Download as GEDCOM"</a></p>
        {can_edit.then(|| view! {
            <section class="panel" aria-labelledby="import-title">
                <h2 id="import-title">"Import a family tree"</h2>
                <form method="post" enctype="multipart/form-data" action=routes::fill(routes::form::IMPORT_GEDCOM, &[&id]) class="stack">
                    <div class="field">
                        <label for="field-file">"GEDCOM file (.ged, or .gdz with photos)"</label>
                        <input id="field-file" type="file" name="file" accept=".ged,.GED,.gdz,.GDZ,.zip,text/vnd.familysearch.gedcom,application/zip" required=true
                            aria-describedby="field-file-hint"/>
                        <p class="hint" id="field-file-hint">"From any genealogy program (GEDCOM 5.5.1 or 7.0). A GEDZIP archive (.gdz) also brings the photos its people are in. Importing the same file again updates the people it brought."</p>
                        {(!file_errors.is_empty()).then(|| view! {
                            <ul class="field-error" id="field-file-error">
                                {file_errors.clone().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
                            </ul>
                        })}
                    </div>
                    <button type="submit">"Import"</button>
                </form>
            </section>
        }.into_any())}
        {can_edit.then(|| view! {
            <section class="panel" aria-labelledby="add-person-title">
                <h2 id="add-person-title">"Add a person"</h2>
                <form method="post" action=routes::fill(routes::form::CREATE_PERSON, &[&id]) class="stack">
                    <PersonFields flash=flash.clone() person=None/>
                    <button type="submit" class="primary">"Add person"</button>
                </form>
            </section>
        })}
    }
}

/// A person's name as a link to their page (or to `to`), with their life years.
#[component]
fn PersonLink(person: PersonSummary, #[prop(optional)] to: Option<String>) -> impl IntoView {
    view! {
        <a dir="auto" href=to.unwrap_or_else(|| routes::PERSON.to(&[&person.id]))>{person.name.clone()}</a>
        {(!person.life_years.is_empty()).then(|| view! { " " <span class="meta">{format!("({})", person.life_years)}</span> })}
    }
}

/// The fields of a person form, filled from what was typed (after a problem) or from
/// the person being edited.
#[component]
fn PersonFields(flash: Flash, person: Option<PersonView>) -> impl IntoView {
    let typed = !flash.values.is_empty();
    let typed_flash = flash.clone();
    let value = move |name: &str, current: Option<String>| {
        if typed {
            typed_flash.value(name).unwrap_or_default().to_string()
        } else {
            current.unwrap_or_default()
        }
    };
    let error = |name: &str| flash.field_error(name).map(str::to_string);
    let p = person.as_ref();
    let sex = value("sex", p.map(|p| p.sex.as_str().to_string()));
    let living = value("living", p.map(|p| if p.living { "on".to_string() } else { "off".to_string() }));
    view! {
        <Field label="Given names" name="given_names" required=false value=value("given_names", p.map(|p| p.given_names.clone()))
            error=error("given_names")/>
        <Field label="Surname" name="surname" required=false value=value("surname", p.map(|p| p.surname.clone()))
            error=error("surname")/>
        <Field label="Birth surname" name="birth_surname" required=false
            value=value("birth_surname", p.map(|p| p.birth_surname.clone())) error=error("birth_surname")/>
        <Field label="Also known as" name="nicknames" required=false hint="Separate several names with commas."
            value=value("nicknames", p.map(|p| p.nicknames.join(", "))) error=error("nicknames")/>
        <ChoiceField label="Sex" name="sex" chosen=sex error=error("sex")
            choices=choices(&[("unknown", "not recorded"), ("female", "female"), ("male", "male")])/>
        <Field label="Born" name="birth_date" required=false hint="For example 12 March 1921, about 1921, before 1930."
            value=value("birth_date", p.map(|p| p.birth.date.clone())) error=error("birth_date")/>
        <Field label="Birthplace" name="birth_place" required=false
            value=value("birth_place", p.map(|p| p.birth.place.clone())) error=error("birth_place")/>
        <Field label="Died" name="death_date" required=false
            value=value("death_date", p.map(|p| p.death.date.clone())) error=error("death_date")/>
        <Field label="Place of death" name="death_place" required=false
            value=value("death_place", p.map(|p| p.death.place.clone())) error=error("death_place")/>
        <ChoiceField label="Living or deceased" name="living" chosen=living error=error("living")
            hint="A living person's details are shown only to the legacy's owners and editors."
            choices=choices(&[("", "not sure: living unless a death is recorded"), ("on", "living"), ("off", "deceased")])/>
        <div class="field">
            <label for="field-bio">"About them"</label>
            <textarea id="field-bio" name="bio" rows="6">{textarea_text(value("bio", p.map(|p| p.bio.clone())))}</textarea>
            {error("bio").map(|e| view! { <p class="field-error">{e}</p> })}
        </div>
    }
}

#[component]
pub fn PersonPageView() -> impl IntoView {
    loaded_page(
        (param("id"), query("relative")),
        |(id, r)| load_person(id, r),
        |(page, kinship)| view! { <PersonDetails page kinship/> }.into_any(),
    )
}

#[component]
fn PersonDetails(page: PersonPage, kinship: Option<Kinship>) -> impl IntoView {
    let flash = request::flash();
    let PersonPage { person, family, others, me: _, related_to_me, mentioned_in, portrait, media, timeline } = page;
    let id = person.id.clone();
    let can_edit = person.can_edit;
    let life = |label: &str, event: &types::LifeEvent| {
        let when = (!event.date_display.is_empty()).then(|| event.date_display.clone());
        let place = (!event.place.is_empty()).then(|| format!("in {}", event.place));
        let text = [when, place].into_iter().flatten().collect::<Vec<_>>().join(" ");
        (!text.is_empty()).then(|| view! { <p dir="auto">{format!("{label} {text}")}</p> })
    };
    let group = move |title: &'static str, relatives: Vec<Relative>| {
        let person_id = id.clone();
        (!relatives.is_empty()).then(|| view! {
            <h3>{title}</h3>
            <ul class="relatives">
                {relatives.into_iter().map(|r| {
                    let remove = r.relationship_id.filter(|_| can_edit).map(|rid| {
                        let action = format!("{}?person={}", routes::fill(routes::form::UNRELATE, &[&rid]), person_id);
                        view! {
                            <form method="post" action=action class="inline-form">
                                <button type="submit" aria-label=format!("Remove the relationship with {}", r.person.name)>"Remove"</button>
                            </form>
                        }
                    });
                    let kind = (!matches!(r.kind.as_str(), "birth" | "full")).then(|| format!(" · {}", r.kind));
                    view! { <li><PersonLink person=r.person/>{kind.map(|k| view! { <span class="meta">{k}</span> })}{remove}</li> }
                }).collect_view()}
            </ul>
        }.into_any())
    };
    let options = others.clone();
    // The page in parts, each erased to `AnyView`: as one view type it is too deep for
    // the compiler where the server renders it.
    let about = view! {
        <Title text=person.name.clone()/>
        <p class="crumbs">
            <a dir="auto" href=routes::LEGACY.to(&[&person.legacy_id])>{person.legacy_name.clone()}</a>
            " / " <a href=routes::PEOPLE.to(&[&person.legacy_id])>"People"</a>
        </p>
        <h1 dir="auto">{person.name.clone()}</h1>
        <FlashMessage flash=flash.clone()/>
        {portrait.clone().map(|photo| view! { <Portrait photo name=person.name.clone()/> })}
        {person.private.then(|| view! {
            <p class="notice">"The details of living people are shown only to the legacy's owners and editors."</p>
        })}
        {(!person.life_years.is_empty()).then(|| view! { <p class="dates">{person.life_years.clone()}</p> })}
        {life("Born", &person.birth)}
        {life("Died", &person.death)}
        {(!person.nicknames.is_empty()).then(|| view! { <p dir="auto">{format!("Also known as {}", person.nicknames.join(", "))}</p> })}
        {(!person.bio_html.is_empty()).then(|| view! { <div class="story-body" dir="auto" inner_html=person.bio_html.clone()></div> })}
    }
    .into_any();
    view! {
        {about}
        <nav class="actions" aria-label="Actions for this person">
            <a class="button" href=routes::PERSON_TREE.to(&[&person.id])>"Family tree"</a>
            {can_edit.then(|| view! { <a class="button" href=routes::EDIT_PERSON.to(&[&person.id])>"Edit"</a> })}
        </nav>
        <section aria-labelledby="family-title">
            <h2 id="family-title">"Family"</h2>
            {(family.parents.is_empty() && family.partners.is_empty() && family.siblings.is_empty() && family.children.is_empty())
                .then(|| view! { <p>"No relatives recorded yet."</p> })}
            {group("Parents", family.parents)}
            {group("Partners", family.partners)}
            {group("Brothers and sisters", family.siblings)}
            {group("Children", family.children)}
        </section>
        {(!timeline.is_empty()).then(|| view! { <Timeline entries=timeline/> }.into_any())}
        {(!mentioned_in.is_empty()).then(|| view! {
            <section aria-labelledby="mentions-title">
                <h2 id="mentions-title">"Mentioned in"</h2>
                <ul class="mentions">
                    {mentioned_in.into_iter().map(|story| view! {
                        <li><a dir="auto" href=routes::STORY.to(&[&story.id])>{story.title.clone()}</a></li>
                    }).collect_view()}
                </ul>
            </section>
        }.into_any())}
        {(!media.is_empty()).then(|| view! {
            <section aria-labelledby="tagged-title">
                <h2 id="tagged-title">"Photos and recordings"</h2>
                <MediaGallery items=media.clone() empty_text=""/>
            </section>
        }.into_any())}
        {(can_edit && !person.private).then(|| view! { <PortraitChoice person=person.clone() media portrait/> }.into_any())}
        {view! { <YouAndThisPerson person=person.clone() related_to_me/> }.into_any()}
        {(can_edit && !others.is_empty()).then(|| view! { <AddRelative person=person.clone() others=others.clone() flash=flash.clone()/> }.into_any())}
        {(!options.is_empty()).then(|| view! { <HowRelated person=person.clone() others=options kinship/> }.into_any())}
    }
}

/// The photo chosen as a person's portrait.
#[component]
fn Portrait(photo: MediaView, name: String) -> impl IntoView {
    let (src, width, height) = small_image(&photo);
    view! {
        <figure class="portrait">
            <a href=routes::LEGACY_MEDIA.to(&[&photo.legacy_id])>
                <img src=src alt=format!("Portrait of {name}") width=width.map(|w| w.to_string())
                    height=height.map(|h| h.to_string())/>
            </a>
        </figure>
    }
}

/// A person's life in order, each line linking to what it is about.
#[component]
fn Timeline(entries: Vec<TimelineEntry>) -> impl IntoView {
    view! {
        <section aria-labelledby="timeline-title">
            <h2 id="timeline-title">"Life"</h2>
            <ol class="timeline">
                {entries.into_iter().map(|entry| {
                    let when = if entry.when.is_empty() { "Date unknown".to_string() } else { entry.when.clone() };
                    let text = match (&entry.story_id, &entry.media_id, &entry.person) {
                        (Some(story), _, _) => view! {
                            "Remembered in " <a dir="auto" href=routes::STORY.to(&[story])>{entry.text.clone()}</a>
                        }.into_any(),
                        (None, Some(media), _) => view! {
                            "Tagged in " <a dir="auto" href=format!("#media-{media}")>{entry.text.clone()}</a>
                        }.into_any(),
                        (None, None, Some(person)) => view! {
                            <a dir="auto" href=routes::PERSON.to(&[&person.id])>{entry.text.clone()}</a>
                        }.into_any(),
                        (None, None, None) => view! { <span dir="auto">{entry.text.clone()}</span> }.into_any(),
                    };
                    view! {
                        <li class=format!("timeline-{}", entry.kind.as_str())>
                            <span class="timeline-when">{when}</span>
                            " "
                            <span class="timeline-what">{text}</span>
                        </li>
                    }
                }).collect_view()}
            </ol>
        </section>
    }
}

/// The editor's choice of portrait among the processed photos the person is tagged in
/// (and the portrait they have, tagged or not, so saving keeps it unless changed).
#[component]
fn PortraitChoice(person: PersonView, media: Vec<MediaView>, portrait: Option<MediaView>) -> impl IntoView {
    let mut photos: Vec<MediaView> = media
        .into_iter()
        .filter(|m| m.kind == Some(types::MediaKind::Image) && m.state == types::MediaState::Ready)
        .collect();
    if let Some(portrait) = portrait.filter(|p| !photos.iter().any(|m| m.id == p.id)) {
        photos.insert(0, portrait);
    }
    let current = person.portrait_id.clone();
    (!photos.is_empty() || current.is_some()).then(|| view! {
        <section class="panel" aria-labelledby="portrait-title">
            <h2 id="portrait-title">"Portrait"</h2>
            <form method="post" action=routes::fill(routes::form::SET_PORTRAIT, &[&person.id]) class="inline-form">
                <input type="hidden" name="version" value=person.version.to_string()/>
                <label for="field-media_id">"Show as their portrait"</label>
                <select id="field-media_id" name="media_id">
                    <option value="" selected=current.is_none()>"No portrait"</option>
                    {photos.into_iter().map(|photo| {
                        let label = if photo.caption.trim().is_empty() { photo.file_name.clone() } else { photo.caption.clone() };
                        view! { <option value=photo.id.to_string() selected=current.as_ref() == Some(&photo.id)>{label}</option> }
                    }).collect_view()}
                </select>
                <button type="submit">"Save portrait"</button>
            </form>
            <p class="hint">"A portrait is chosen from the photos this person is tagged in."</p>
        </section>
    })
}

#[component]
fn AddRelative(person: PersonView, others: Vec<PersonSummary>, flash: Flash) -> impl IntoView {
    let error = |name: &str| flash.field_error(name).map(str::to_string);
    let kept = |name: &str| flash.value(name).unwrap_or_default().to_string();
    let relation = flash.value("relation").unwrap_or("parent").to_string();
    let people = others.into_iter().map(|o| (o.id.to_string(), o.with_years())).collect::<Vec<_>>();
    let kinds = ["adoptive", "step", "foster", "partnered", "divorced"].map(|k| (k, k));
    view! {
        <section class="panel" aria-labelledby="relate-title">
            <h2 id="relate-title">"Add a relative"</h2>
            <form method="post" action=routes::fill(routes::form::RELATE, &[&person.id]) class="stack">
                <ChoiceField label=format!("Who is it to {}?", person.name) name="relation" chosen=relation
                    error=error("relation") choices=choices(&[("parent", "a parent"), ("child", "a child"), ("partner", "a partner")])/>
                <ChoiceField label="Person" name="person_id" chosen=kept("person_id") error=error("person_id") choices=people/>
                <ChoiceField label="Kind" name="kind" chosen=kept("kind") error=error("kind")
                    choices=[vec![(String::new(), "birth parent or child / married partner".to_string())], choices(&kinds)].concat()/>
                {error("confirm").map(|e| view! {
                    <div class="field checkbox has-error">
                        <p class="field-error" id="field-confirm-error">{e}</p>
                        <input id="field-confirm" type="checkbox" name="confirm" value="on" aria-describedby="field-confirm-error"/>
                        <label for="field-confirm">"The dates are right; add it anyway"</label>
                    </div>
                })}
                <button type="submit" class="primary">"Add relative"</button>
            </form>
        </section>
    }
}

#[component]
fn HowRelated(person: PersonView, others: Vec<PersonSummary>, kinship: Option<Kinship>) -> impl IntoView {
    let chosen = kinship.as_ref().map(|k| k.a.id.to_string()).unwrap_or_default();
    view! {
        <section class="panel" aria-labelledby="kinship-title">
            <h2 id="kinship-title">"How are they related?"</h2>
            <form method="get" action=routes::PERSON.to(&[&person.id]) class="inline-form">
                <label for="field-relative">{format!("How is this person related to {}?", person.name)}</label>
                <select id="field-relative" name="relative">
                    {others.into_iter().map(|o| view! {
                        <option value=o.id.to_string() selected=chosen == o.id.as_str()>{o.name.clone()}</option>
                    }).collect_view()}
                </select>
                <button type="submit">"Show"</button>
            </form>
            {kinship.map(|kinship| view! { <KinshipAnswer kinship/> })}
        </section>
    }
}

/// A relationship named in a sentence, and the chain of people between the two.
#[component]
fn KinshipAnswer(kinship: Kinship) -> impl IntoView {
    view! {
        <div class="kinship" role="status">
            <p class="kinship-sentence" dir="auto">{kinship.sentence.clone()}</p>
            {(!kinship.path.is_empty()).then(|| view! {
                <ol class="kinship-path" aria-label="The chain of people between them">
                    <li><PersonLink person=kinship.b.clone()/></li>
                    {kinship.path.into_iter().map(|step| view! {
                        <li><span class="meta">{format!("{} → ", step.step)}</span><PersonLink person=step.person/></li>
                    }).collect_view()}
                </ol>
            })}
        </div>
    }
}

/// "This is me" and, when the reader said which person is them, how this one is
/// related to them.
#[component]
fn YouAndThisPerson(person: PersonView, related_to_me: Option<Kinship>) -> impl IntoView {
    let claim = (!person.is_me && !person.claimed && !person.private).then(|| {
        view! {
            <form method="post" action=routes::fill(routes::form::CLAIM_PERSON, &[&person.id]) class="inline-form">
                <button type="submit">"This is me"</button>
            </form>
        }
    });
    let unclaim = person.is_me.then(|| {
        view! {
            <p>"This is you."</p>
            <form method="post" action=routes::fill(routes::form::UNCLAIM_PERSON, &[&person.id]) class="inline-form">
                <button type="submit">"This is not me"</button>
            </form>
        }
    });
    view! {
        {related_to_me.map(|kinship| view! {
            <section class="panel" aria-labelledby="related-to-me-title">
                <h2 id="related-to-me-title">{format!("How {} is related to you", person.name)}</h2>
                <KinshipAnswer kinship/>
            </section>
        })}
        {claim}
        {unclaim}
    }
}

#[component]
pub fn EditPersonPage() -> impl IntoView {
    loaded_page(
        param("id"),
        |id| load_person(id, None),
        |(page, _)| view! { <EditPerson person=page.person/> }.into_any(),
    )
}

#[component]
fn EditPerson(person: PersonView) -> impl IntoView {
    let flash = request::flash();
    let id = person.id.clone();
    view! {
        <Title text=format!("Edit {}", person.name)/>
        <p class="crumbs"><a dir="auto" href=routes::PERSON.to(&[&id])>{person.name.clone()}</a></p>
        <h1>"Edit person"</h1>
        <FlashMessage flash=flash.clone()/>
        <form method="post" action=routes::fill(routes::form::UPDATE_PERSON, &[&id]) class="stack">
            <input type="hidden" name="version" value=person.version.to_string()/>
            <PersonFields flash=flash.clone() person=Some(person.clone())/>
            <button type="submit" class="primary">"Save"</button>
        </form>
        {(!person.is_subject).then(|| view! {
            <form method="post" action=routes::fill(routes::form::DELETE_PERSON, &[&id]) class="danger-zone">
                <button type="submit" class="danger">"Delete this person"</button>
            </form>
        })}
    }
}

#[component]
pub fn FamilyTreePage() -> impl IntoView {
    let key = (param("id"), query("up"), query("down"));
    loaded_page(key, |(id, up, down)| load_tree(id, up, down), |tree| view! { <FamilyTreeView tree/> }.into_any())
}

#[component]
fn FamilyTreeView(tree: FamilyTree) -> impl IntoView {
    let root = tree.people.first().map(|p| p.person.clone());
    let name = root.as_ref().map(|p| p.name.clone()).unwrap_or_default();
    let generations = |field: &'static str, label: &'static str, chosen: u32| {
        view! {
            <label for=format!("field-{field}")>{label}</label>
            <select id=format!("field-{field}") name=field>
                {(0..=TREE_GENERATIONS_MAX).map(|n| view! { <option value=n.to_string() selected=n == chosen>{n.to_string()}</option> }).collect_view()}
            </select>
        }
    };
    let lists = TreeLists::new(&tree);
    view! {
        <Title text=format!("Family tree of {name}")/>
        <p class="crumbs">
            <a dir="auto" href=routes::LEGACY.to(&[&tree.legacy_id])>{tree.legacy_name.clone()}</a>
            " / " <a href=routes::PEOPLE.to(&[&tree.legacy_id])>"People"</a>
            " / " <a dir="auto" href=routes::PERSON.to(&[&tree.root])>{name.clone()}</a>
        </p>
        <h1 dir="auto">{format!("Family tree of {name}")}</h1>
        <form method="get" action=routes::PERSON_TREE.to(&[&tree.root]) class="inline-form tree-depth">
            {generations("up", "Generations of ancestors", tree.up)}
            {generations("down", "Generations of descendants", tree.down)}
            <button type="submit">"Show"</button>
        </form>
        {tree.truncated.then(|| view! {
            <p class="notice">"This tree is too large to show whole: it shows the first people reached. Choose fewer generations, or open the tree of someone further out."</p>
        })}
        // Erased: the island's view type makes the page's too deep for the compiler.
        {view! { <FamilyChart tree=tree.clone()/> }.into_any()}
        <section aria-labelledby="ancestors-title">
            <h2 id="ancestors-title">"Ancestors"</h2>
            {lists.list(0, true)}
        </section>
        <section aria-labelledby="descendants-title">
            <h2 id="descendants-title">"Descendants"</h2>
            {lists.list(0, false)}
        </section>
    }
}

/// The tree as nested lists: each person with their parents (or children) inside.
struct TreeLists {
    people: Vec<TreePerson>,
    index: std::collections::HashMap<PersonId, usize>,
}

impl TreeLists {
    fn new(tree: &FamilyTree) -> TreeLists {
        let index = tree.people.iter().enumerate().map(|(i, p)| (p.person.id.clone(), i)).collect();
        TreeLists { people: tree.people.clone(), index }
    }

    /// The list under person `at`: their parents when `upward`, else their children.
    fn list(&self, at: usize, upward: bool) -> AnyView {
        let mut shown = std::collections::HashSet::new();
        let items = self.items(at, upward, &mut shown);
        if items.is_empty() {
            let none = if upward { "No ancestors recorded." } else { "No descendants recorded." };
            return view! { <p>{none}</p> }.into_any();
        }
        view! { <ul class="tree-list">{items}</ul> }.into_any()
    }

    /// Someone reached twice (cousins who married) is listed in full once.
    fn items(&self, at: usize, upward: bool, shown: &mut std::collections::HashSet<usize>) -> Vec<AnyView> {
        let person = &self.people[at];
        let kin = if upward { &person.parents } else { &person.children };
        kin.iter()
            .filter_map(|id| self.index.get(id).copied())
            .map(|i| {
                let relative = self.people[i].person.clone();
                let first_time = shown.insert(i);
                let inner = if first_time { self.items(i, upward, shown) } else { Vec::new() };
                let tree = routes::PERSON_TREE.to(&[&relative.id]);
                let link = view! {
                    <PersonLink person=relative to=tree/>
                    {(!first_time).then(|| view! { " " <span class="meta">"(shown above)"</span> })}
                };
                view! {
                    <li>
                        {link}
                        {(!inner.is_empty()).then(|| view! { <ul>{inner}</ul> })}
                    </li>
                }
                .into_any()
            })
            .collect()
    }
}

#[component]
pub fn GedcomImportPage() -> impl IntoView {
    loaded_page(param("id"), load_import, |job| view! { <GedcomImport job/> }.into_any())
}

#[component]
fn GedcomImport(job: ImportJob) -> impl IntoView {
    let people = routes::PEOPLE.to(&[&job.legacy_id]);
    view! {
        <Title text=format!("Importing {}", job.file_name)/>
        <p class="crumbs"><a href=people>"People"</a></p>
        <h1 dir="auto">{format!("Importing {}", job.file_name)}</h1>
        <ImportProgress job=job.clone()/>
        // Without JavaScript the bar moves when the page is loaded again.
        {(!job.status.is_over()).then(|| view! {
            <p class="hint"><a href=routes::GEDCOM_IMPORT.to(&[&job.id])>"Refresh"</a>" to see how far it has got."</p>
        })}
    }
}

//! Who is told of what, and how. The `notifications` consumer reads an event, finds the
//! members it concerns (never its actor, never someone who may not read where it
//! happened; an invitation's account, not a member yet, is told of it), and in one transaction writes their notifications, the emails of those who
//! want them at once (to a verified address only), and a `NotificationAdded` event per member for the bell. An event
//! already turned into notifications changes nothing. Digests collect the rest: every
//! [`DIGEST_EVERY`] the members whose oldest waiting notification is a day (a week) old
//! get one email of what they have not read, taken with an update so two replicas never
//! both send it.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use types::events::{
    CommentAdded, Envelope, EventType, InvitationSent, NotificationAdded, ReactionChanged, StoryCreated, StoryUpdated,
};
use types::{
    Delivery, Digest, ErrorCode, Following, LegacyId, NotificationId, NotificationKind, NotificationPage,
    NotificationPreference, PreferencesInput, StoryId, StoryStatus, SubjectKind, UserId,
};

use crate::db::{Db, Tx};
use crate::email::compose::{self, Unsubscribe};
use crate::email::Mailer;
use crate::error::{Context, Error, Result};
use crate::events::{self, Consumer, Event, OnEvent};
use crate::identity::{self, Role, User};
use crate::media::Media;
use crate::notifications::model::{Place, Recipient};
use crate::notifications::repo;
use crate::paging;
use crate::stories::model::StoryRow;
use crate::stories::permissions::{self, Reader};
use crate::stories::service::story_facts;
use crate::stories::Stories;
use crate::time::{new_id, now_millis};
use crate::validate::{self, Problems};

/// Its name: the key of its progress records.
pub const CONSUMER: &str = "notifications";

/// How often the digest sender looks for digests due.
pub const DIGEST_EVERY: Duration = Duration::from_secs(300);

/// The events that may concern someone.
const EVENTS: &[EventType] = &[
    EventType::CommentAdded,
    EventType::ReactionChanged,
    EventType::StoryCreated,
    EventType::StoryUpdated,
    EventType::InvitationSent,
];

const PAGE_DEFAULT: i64 = 30;
const PAGE_MAX: i64 = 100;
/// How much of a comment an email quotes.
const EXCERPT_CHARS: usize = 300;

type HmacSha256 = Hmac<Sha256>;

pub struct Notifications {
    db: Db,
    stories: Arc<Stories>,
    media: Arc<Media>,
    mailer: Arc<Mailer>,
    /// This instance's address, the base of emailed links.
    public_url: String,
    /// Signs unsubscribe links.
    unsubscribe_key: [u8; 32],
}

impl Notifications {
    pub fn new(
        db: Db,
        stories: Arc<Stories>,
        media: Arc<Media>,
        mailer: Arc<Mailer>,
        public_url: &str,
        unsubscribe_key: [u8; 32],
    ) -> Notifications {
        let public_url = public_url.trim_end_matches('/').to_string();
        Notifications { db, stories, media, mailer, public_url, unsubscribe_key }
    }

    // --- the reader's side ---

    /// The reader's notifications, newest first, a page at a time, with the unread count.
    pub async fn list(&self, user: &User, cursor: Option<&str>, limit: Option<i64>) -> Result<NotificationPage> {
        let mut problems = Problems::default();
        let limit = validate::limit(&mut problems, limit, PAGE_DEFAULT, PAGE_MAX);
        let after = paging::parse_cursor(&mut problems, cursor);
        problems.into_result()?;
        let mut rows = repo::list(&self.db, &user.id, after, limit + 1).await?;
        let next_cursor = paging::keyset_page(&mut rows, limit, |r| (r.created_at, r.id.as_str()));
        let unread = self.unread(user).await?;
        Ok(NotificationPage { items: rows.iter().map(|r| r.view()).collect(), next_cursor, unread })
    }

    /// How many notifications the reader has not read (the bell's count).
    pub async fn unread(&self, user: &User) -> Result<i64> {
        repo::unread(&self.db, &user.id).await
    }

    /// Marks one of the reader's notifications read; where it points.
    pub async fn mark_read(&self, user: &User, id: &NotificationId) -> Result<String> {
        repo::mark_read(&self.db, &user.id, id, now_millis()).await?;
        match repo::find(&self.db, &user.id, id).await? {
            Some(row) => Ok(row.place().link()),
            None if repo::exists(&self.db, &user.id, id).await? => Ok(types::routes::NOTIFICATIONS.path.to_string()),
            None => Err(Error::NotFound { what: "notification" }),
        }
    }

    /// Marks every notification of the reader read; how many were unread.
    pub async fn mark_all_read(&self, user: &User) -> Result<u64> {
        repo::mark_all_read(&self.db, &user.id, now_millis()).await
    }

    /// How the reader hears of each kind (the default where they chose nothing).
    pub async fn preferences(&self, user_id: &UserId) -> Result<Vec<NotificationPreference>> {
        let chosen = repo::preferences(&self.db, user_id).await?;
        Ok(NotificationKind::ALL
            .iter()
            .map(|&kind| NotificationPreference {
                kind,
                delivery: chosen
                    .iter()
                    .find(|(k, _)| *k == kind)
                    .map(|(_, d)| *d)
                    .unwrap_or_else(|| kind.default_delivery()),
            })
            .collect())
    }

    /// Changes how the reader hears of the kinds named; every value is checked first,
    /// and a bad one changes nothing.
    pub async fn set_preferences(&self, user: &User, input: &PreferencesInput) -> Result<Vec<NotificationPreference>> {
        let mut problems = Problems::default();
        let mut chosen = Vec::new();
        for (kind, delivery) in &input.0 {
            let field = kind.clone();
            match (NotificationKind::parse(kind.trim()), Delivery::parse(delivery.trim())) {
                (None, _) => problems.add(&field, format!("is not a kind of notification; the kinds are {}", kinds())),
                (Some(_), None) => problems.add(&field, "must be one of in_app, email, daily, weekly, off"),
                (Some(kind), Some(delivery)) => chosen.push((kind, delivery)),
            }
        }
        if input.0.is_empty() {
            problems.add("preferences", "names no kind of notification to change");
        }
        problems.into_result()?;
        let mut tx = self.db.begin().await?;
        for (kind, delivery) in chosen {
            repo::set_preference_tx(&mut tx, &user.id, kind, delivery).await?;
        }
        tx.commit().await?;
        self.preferences(&user.id).await
    }

    // --- following legacies ---

    /// Whether the reader follows the legacy (its new stories reach their bell); `None`
    /// when they are not a member of it.
    pub async fn following(&self, user: &User, legacy_id: &LegacyId) -> Result<Option<bool>> {
        let role = self.stories.role_in(legacy_id, user).await?;
        self.following_as(user, legacy_id, role).await
    }

    /// [`Self::following`] for a caller who already looked up the reader's role there.
    pub async fn following_as(
        &self,
        user: &User,
        legacy_id: &LegacyId,
        role: Option<types::LegacyRole>,
    ) -> Result<Option<bool>> {
        match role {
            Some(_) => Ok(Some(repo::is_following(&self.db, &user.id, legacy_id).await?)),
            None => Ok(None),
        }
    }

    /// Follows the legacy again, or stops following it. Only its members follow a legacy:
    /// to anyone else it is not found.
    pub async fn set_following(&self, user: &User, legacy_id: &LegacyId, following: bool) -> Result<Following> {
        if self.stories.role_in(legacy_id, user).await?.is_none() {
            return Err(Error::NotFound { what: "legacy" });
        }
        repo::set_following(&self.db, &user.id, legacy_id, following, now_millis()).await?;
        Ok(Following { legacy_id: legacy_id.clone(), following })
    }

    // --- unsubscribe links ---

    /// The signature of an unsubscribe link for `user_id` and `scope` (a kind, or `digest`).
    fn signature(&self, user_id: &str, scope: &str) -> HmacSha256 {
        // HMAC takes keys of any length; this cannot fail.
        #[allow(clippy::expect_used)]
        let mut mac = HmacSha256::new_from_slice(&self.unsubscribe_key).expect("HMAC accepts any key length");
        mac.update(format!("unsubscribe\n{user_id}\n{scope}").as_bytes());
        mac
    }

    /// The query (`user=…&scope=…&sig=…`) of an unsubscribe link.
    pub fn unsubscribe_query(&self, user_id: &UserId, scope: &str) -> String {
        let sig = BASE64URL.encode(self.signature(user_id, scope).finalize().into_bytes());
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("user", user_id).append_pair("scope", scope).append_pair("sig", &sig);
        query.finish()
    }

    /// What a signed link stops: the kinds of `scope`, after its signature is checked.
    /// A link that was changed, or names nothing, is refused.
    pub fn check_unsubscribe(&self, user_id: &str, scope: &str, sig: &str) -> Result<Vec<NotificationKind>> {
        let refused = || {
            Error::forbidden(
                ErrorCode::LinkRefused,
                "This unsubscribe link is not valid: it may have been cut short or changed. Change your email \
                 settings on your account page instead.",
            )
        };
        let sig = BASE64URL.decode(sig.trim()).map_err(|_| refused())?;
        self.signature(user_id, scope).verify_slice(&sig).map_err(|_| refused())?;
        match scope {
            "digest" => Ok(NotificationKind::ALL.to_vec()),
            kind => NotificationKind::parse(kind).map(|k| vec![k]).ok_or_else(refused),
        }
    }

    /// Stops the emails a signed link names: those kinds are shown under the bell only.
    /// Returns what was stopped, in words.
    pub async fn unsubscribe(&self, user_id: &str, scope: &str, sig: &str) -> Result<String> {
        let kinds = self.check_unsubscribe(user_id, scope, sig)?;
        let user_id = UserId::from(user_id.to_string());
        if identity::repo::find_by_id(&self.db, &user_id).await?.is_none() {
            // The account is gone, and with it every email to it.
            return Ok(scope_words(scope));
        }
        let current = self.preferences(&user_id).await?;
        let mut tx = self.db.begin().await?;
        // A digest's link stops digests; a notification's, that kind's emails.
        let stops = |delivery: Delivery| match scope {
            "digest" => delivery.digest().is_some(),
            _ => delivery != Delivery::InApp && delivery != Delivery::Off,
        };
        for preference in current.iter().filter(|p| kinds.contains(&p.kind) && stops(p.delivery)) {
            repo::set_preference_tx(&mut tx, &user_id, preference.kind, Delivery::InApp).await?;
        }
        tx.commit().await?;
        Ok(scope_words(scope))
    }

    // --- the consumer ---

    /// Tells the members an event concerns, once however often it is delivered.
    pub async fn notify(&self, event: &Envelope) -> Result<()> {
        let Some((place, candidates)) = self.concerned(event).await? else {
            return Ok(());
        };
        let actor = event.actor.clone().map(UserId::from);
        // The story's row decides for every member alike: read once, not per member.
        let story = match (&place.media_id, &place.story_id) {
            (None, Some(story_id)) => self.stories.story_row(story_id).await?,
            _ => None,
        };
        let mut told = Vec::new();
        for candidate in candidates {
            if actor.as_ref() == Some(&candidate.user_id)
                || told.iter().any(|(r, _, _): &(Recipient, _, _)| r.user_id == candidate.user_id)
            {
                continue;
            }
            let Some(user) = identity::repo::find_by_id(&self.db, &candidate.user_id).await? else { continue };
            // An invitation is for someone not yet a member: it is theirs to read.
            let invited = candidate.kind == NotificationKind::Invitation;
            if user.disabled || !(invited || self.may_read(&user, &place, story.as_ref()).await?) {
                continue;
            }
            let delivery = self.delivery(&user.id, candidate.kind).await?;
            if delivery != Delivery::Off {
                told.push((candidate, user, delivery));
            }
        }
        if told.is_empty() {
            return Ok(());
        }
        let excerpt = self.excerpt(&place).await?;
        let mut tx = self.db.begin().await?;
        if repo::is_notified_tx(&mut tx, &event.message_id).await? {
            return Ok(());
        }
        let now = now_millis();
        for (recipient, user, delivery) in told {
            let id = NotificationId::new(new_id());
            let email_now = delivery == Delivery::Email && self.mailer.enabled() && self.may_email(&user).await?;
            let emailed_at = email_now.then_some(now);
            let (kind, digest) = (recipient.kind, delivery.digest());
            repo::insert_tx(
                &mut tx,
                &id,
                &user.id,
                kind,
                &event.message_id,
                actor.as_ref(),
                &place,
                digest,
                emailed_at,
                event.occurred_at,
            )
            .await?;
            if email_now {
                self.email_at_once(&mut tx, &user, &id, excerpt.as_deref()).await?;
            }
            let added = NotificationAdded {
                notification_id: id.clone(),
                user_id: user.id.clone(),
                legacy_id: place.legacy_id.clone(),
                kind,
            };
            events::append(&mut tx, Event::of(&id, event.actor.as_deref(), added)).await?;
        }
        tx.commit().await
    }

    /// Where the event happened and who it may concern, each with why (the first reason
    /// for a member wins: a reply or a mention says more than "a comment").
    async fn concerned(&self, event: &Envelope) -> Result<Option<(Place, Vec<Recipient>)>> {
        let decode = "decoding an event for notifications";
        let tell = |user_id: UserId, kind| Recipient { user_id, kind };
        let found = match &event.event_type {
            EventType::CommentAdded => {
                let added: CommentAdded = event.payload_as().context(decode)?;
                let facts = added.comment;
                let Some(comment) = crate::conversation::repo::find(&self.db, &facts.comment_id).await? else {
                    return Ok(None);
                };
                let mut recipients = self.mentioned(&facts.legacy_id, &comment.body).await?;
                if let Some(parent_id) = &added.parent_id {
                    if let Some(parent) = crate::conversation::repo::find(&self.db, parent_id).await? {
                        recipients.push(tell(parent.author_id, NotificationKind::Reply));
                    }
                }
                if let Some(author) = self.author_of(facts.story_id.as_ref(), facts.media_id.as_ref()).await? {
                    recipients.push(tell(author, NotificationKind::Comment));
                }
                let story_id = match (&facts.story_id, &facts.media_id) {
                    (None, Some(media_id)) => self.story_of_media(media_id).await?,
                    (story_id, _) => story_id.clone(),
                };
                let mut place = Place::legacy(facts.legacy_id);
                place.story_id = story_id;
                place.media_id = facts.media_id;
                place.comment_id = Some(facts.comment_id);
                (place, recipients)
            }
            EventType::ReactionChanged => {
                let changed: ReactionChanged = event.payload_as().context(decode)?;
                if !changed.on {
                    return Ok(None);
                }
                let mut place = Place::legacy(changed.legacy_id);
                let author = match changed.subject {
                    SubjectKind::Story => {
                        let story_id = StoryId::from(changed.subject_id);
                        let author = self.author_of(Some(&story_id), None).await?;
                        place.story_id = Some(story_id);
                        author
                    }
                    SubjectKind::Media => {
                        let media_id = types::MediaId::from(changed.subject_id);
                        let author = self.author_of(None, Some(&media_id)).await?;
                        place.story_id = self.story_of_media(&media_id).await?;
                        place.media_id = Some(media_id);
                        author
                    }
                    SubjectKind::Comment => {
                        let comment_id = types::CommentId::from(changed.subject_id);
                        let Some(comment) = crate::conversation::repo::find(&self.db, &comment_id).await? else {
                            return Ok(None);
                        };
                        place.story_id = match (&comment.story_id, &comment.media_id) {
                            (None, Some(media_id)) => self.story_of_media(media_id).await?,
                            (story_id, _) => story_id.clone(),
                        };
                        place.media_id = comment.media_id;
                        place.comment_id = Some(comment_id);
                        Some(comment.author_id)
                    }
                };
                (place, author.map(|a| tell(a, NotificationKind::Reaction)).into_iter().collect())
            }
            EventType::StoryCreated | EventType::StoryUpdated => {
                let story = if event.event_type == EventType::StoryCreated {
                    event.payload_as::<StoryCreated>().context(decode)?.story
                } else {
                    let updated: StoryUpdated = event.payload_as().context(decode)?;
                    if updated.autosave {
                        return Ok(None);
                    }
                    updated.story
                };
                if story.status != StoryStatus::Published {
                    return Ok(None);
                }
                let mut recipients = Vec::new();
                for user_id in crate::stories::repo::mentioned_users(&self.db, &story.story_id).await? {
                    if !repo::was_told_of_story(&self.db, &user_id, &story.story_id, NotificationKind::Mention).await? {
                        recipients.push(tell(user_id, NotificationKind::Mention));
                    }
                }
                // Those who joined after it was published find it there; it is not news.
                // Those who had stopped following the legacy when it was published are not
                // told (a mention still is), however late this reads the event.
                let members = crate::stories::repo::members(&self.db, &story.legacy_id).await?;
                let unfollowers = repo::unfollowers_at(&self.db, &story.legacy_id, event.occurred_at).await?;
                let followers = members
                    .into_iter()
                    .filter(|m| m.created_at <= event.occurred_at && !unfollowers.contains(&m.user_id));
                for member in followers {
                    let kind = NotificationKind::NewStory;
                    if !repo::was_told_of_story(&self.db, &member.user_id, &story.story_id, kind).await? {
                        recipients.push(tell(member.user_id, kind));
                    }
                }
                let mut place = Place::legacy(story.legacy_id);
                place.story_id = Some(story.story_id);
                (place, recipients)
            }
            EventType::InvitationSent => {
                let sent: InvitationSent = event.payload_as().context(decode)?;
                let Some(invited) = sent.invited_user_id else { return Ok(None) };
                let mut place = Place::legacy(sent.legacy_id);
                place.invitation_id = Some(sent.invitation_id);
                (place, vec![tell(invited, NotificationKind::Invitation)])
            }
            _ => return Ok(None),
        };
        Ok(Some(found))
    }

    /// The members a comment names as `@Name` (the longest name that matches wins, so
    /// "@Ann Lee" is not also "@Ann").
    async fn mentioned(&self, legacy_id: &LegacyId, body: &str) -> Result<Vec<Recipient>> {
        if !body.contains('@') {
            return Ok(Vec::new());
        }
        let mut members = crate::stories::repo::members(&self.db, legacy_id).await?;
        members.sort_by_key(|m| std::cmp::Reverse(m.display_name.chars().count()));
        let mut text = body.to_lowercase();
        let mut found = Vec::new();
        for member in members {
            let name = member.display_name.trim().to_lowercase();
            if name.is_empty() {
                continue;
            }
            let needle = format!("@{name}");
            let mut hit = false;
            let mut from = 0;
            while let Some(at) = text[from..].find(&needle).map(|i| i + from) {
                let end = at + needle.len();
                // A whole name: "@Ann" is not a mention of "@Annabel".
                if !text[end..].chars().next().is_some_and(char::is_alphanumeric) {
                    text.replace_range(at..end, &" ".repeat(needle.len()));
                    hit = true;
                }
                from = end.min(text.len());
            }
            if hit {
                found.push(Recipient { user_id: member.user_id, kind: NotificationKind::Mention });
            }
        }
        Ok(found)
    }

    /// Who wrote the story, or added the item.
    async fn author_of(&self, story_id: Option<&StoryId>, media_id: Option<&types::MediaId>) -> Result<Option<UserId>> {
        if let Some(media_id) = media_id {
            return Ok(crate::media::repo::find(&self.db, media_id).await?.map(|row| row.uploader_id));
        }
        match story_id {
            Some(story_id) => Ok(self.stories.story_row(story_id).await?.map(|row| row.author_id)),
            None => Ok(None),
        }
    }

    async fn story_of_media(&self, media_id: &types::MediaId) -> Result<Option<StoryId>> {
        Ok(crate::media::repo::find(&self.db, media_id).await?.and_then(|row| row.story_id))
    }

    /// Whether `user` may read where it happened now: a member who may read its story
    /// (`story`, the row of the place's story when it is not an item's) or its item.
    async fn may_read(&self, user: &User, place: &Place, story: Option<&StoryRow>) -> Result<bool> {
        let Some(role) = self.stories.role_in(&place.legacy_id, user).await? else {
            return Ok(false);
        };
        let reader = Reader { user_id: Some(user.id.as_str()), is_admin: user.role() == Role::Admin, role: Some(role) };
        Ok(match (&place.media_id, &place.story_id) {
            (Some(media_id), _) => self.media.media(Some(user), media_id).await.is_ok(),
            (None, Some(_)) => story.is_some_and(|story| permissions::can_read(reader, story_facts(story))),
            (None, None) => true,
        })
    }

    /// Whether the member's address was shown to be theirs: a family's words go only there.
    async fn may_email(&self, user: &User) -> Result<bool> {
        identity::repo::is_verified(&self.db, &user.id, &user.email).await
    }

    async fn delivery(&self, user_id: &UserId, kind: NotificationKind) -> Result<Delivery> {
        let preferences = self.preferences(user_id).await?;
        Ok(preferences.iter().find(|p| p.kind == kind).map_or_else(|| kind.default_delivery(), |p| p.delivery))
    }

    /// The first words of the comment it is about, as plain text.
    async fn excerpt(&self, place: &Place) -> Result<Option<String>> {
        let Some(comment_id) = &place.comment_id else { return Ok(None) };
        let Some(comment) = crate::conversation::repo::find(&self.db, comment_id).await? else { return Ok(None) };
        let text: String = comment.body.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut excerpt: String = text.chars().take(EXCERPT_CHARS).collect();
        if text.chars().count() > EXCERPT_CHARS {
            excerpt.push('…');
        }
        Ok(Some(excerpt))
    }

    /// Queues the email of one notification, in the transaction that writes it.
    async fn email_at_once(&self, tx: &mut Tx, user: &User, id: &NotificationId, excerpt: Option<&str>) -> Result<()> {
        let row = repo::find(&mut *tx, &user.id, id).await?.ok_or(Error::NotFound { what: "notification" })?;
        let link = format!("{}{}", self.public_url, row.place().link());
        let unsubscribe = self.unsubscribe_for(&user.id, row.kind.as_str(), &in_a_sentence(row.kind.label()));
        let mail = compose::notification(&user.display_name, &row.text(), excerpt, &link, &unsubscribe);
        self.mailer.queue(tx, &user.email, &format!("notification.{}", row.kind), &mail).await?;
        Ok(())
    }

    fn unsubscribe_for(&self, user_id: &UserId, scope: &str, what: &str) -> Unsubscribe {
        let query = self.unsubscribe_query(user_id, scope);
        Unsubscribe {
            what: what.to_string(),
            page: format!("{}{}?{query}", self.public_url, types::routes::UNSUBSCRIBE.path),
            one_click: format!("{}{}?{query}", self.public_url, types::routes::api::UNSUBSCRIBE),
            settings: format!("{}{}", self.public_url, types::routes::NOTIFICATION_SETTINGS.path),
        }
    }

    // --- digests ---

    /// Sends the digests due at `now`; how many were sent.
    pub async fn send_digests(&self, now: i64) -> Result<usize> {
        if !self.mailer.enabled() {
            return Ok(0);
        }
        let mut sent = 0;
        for digest in Digest::ALL {
            for user_id in repo::digests_due(&self.db, *digest, now - digest.period_ms()).await? {
                if self.send_digest(&user_id, *digest, now).await? {
                    sent += 1;
                }
            }
        }
        Ok(sent)
    }

    /// One member's digest: what waits for it is taken, and what of it is still unread
    /// is emailed, in one transaction.
    async fn send_digest(&self, user_id: &UserId, digest: Digest, now: i64) -> Result<bool> {
        let Some(user) = identity::repo::find_by_id(&self.db, user_id).await? else { return Ok(false) };
        let mut tx = self.db.begin().await?;
        let taken = repo::take_digest_tx(&mut tx, user_id, digest, now).await?;
        if taken.is_empty() {
            return Ok(false);
        }
        let rows = repo::unread_of_tx(&mut tx, user_id, &taken).await?;
        let items: Vec<(String, String)> =
            rows.iter().map(|row| (row.text(), format!("{}{}", self.public_url, row.place().link()))).collect();
        // Taken either way, so an address not verified yet does not get a pile later.
        let emailed = !items.is_empty() && !user.disabled && self.may_email(&user).await?;
        if emailed {
            let unsubscribe = self.unsubscribe_for(user_id, "digest", "digests");
            let mail = compose::digest(&user.display_name, digest.as_str(), &items, &unsubscribe);
            self.mailer.queue(&mut tx, &user.email, &format!("digest.{digest}"), &mail).await?;
        }
        tx.commit().await?;
        Ok(emailed)
    }
}

fn kinds() -> String {
    NotificationKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
}

/// What an unsubscribe link stops, in words.
pub fn scope_words(scope: &str) -> String {
    match NotificationKind::parse(scope) {
        Some(kind) => format!("emails about {}", in_a_sentence(kind.label())),
        None => "digest emails".to_string(),
    }
}

/// A label inside a sentence: "Comments on what I wrote" as "comments on what I wrote".
fn in_a_sentence(label: &str) -> String {
    let mut chars = label.chars();
    chars.next().map(|first| first.to_lowercase().chain(chars).collect()).unwrap_or_default()
}

/// The consumer that tells members of what concerns them.
pub fn consumer(notifications: Arc<Notifications>) -> impl Consumer {
    OnEvent::whole(CONSUMER, EVENTS, notifications, |notifications: Arc<Notifications>, event: Envelope| async move {
        notifications.notify(&event).await
    })
}

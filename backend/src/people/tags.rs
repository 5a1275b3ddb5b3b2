//! People tagged in photos, recordings and videos (the whole item). Whoever may edit an
//! item (its uploader, the legacy's owners and editors) tags people of its legacy in it;
//! a tag is shown to whoever may see both the item and the person, so a living person
//! hidden from a reader is not named on a photo either. The media capability decides who
//! sees an item; it is passed in, as the stories capability is to media. Each tag added
//! or taken away is a `MediaPeopleTagged` event, so search finds an item by the names of
//! the people in it (those not living: a living person's name would give them away).

use std::collections::HashMap;

use types::events::MediaPeopleTagged;
use types::{ErrorCode, LegacyId, MediaId, MediaView, PersonId, PersonSummary};

use crate::args;
use crate::db::{placeholders, Args, Db, Tx};
use crate::error::{Error, Result};
use crate::events::{self, Event};
use crate::identity::User;
use crate::media::Media;
use crate::people::model::PersonRow;
use crate::people::{repo, People};
use crate::time::now_millis;

/// The most people a tag form offers.
const CHOICES_MAX: i64 = 500;
/// The most items a person page shows them tagged in.
const TAGGED_SHOWN: i64 = 60;

#[derive(sqlx::FromRow)]
struct TagRow {
    media_id: MediaId,
    person_id: PersonId,
}

/// The tags of the items of `media_ids`.
async fn tags_of(db: &Db, media_ids: &[&MediaId]) -> Result<Vec<TagRow>> {
    let mut rows = Vec::new();
    for chunk in media_ids.chunks(500) {
        let sql = format!(
            "SELECT media_id, person_id FROM media_people WHERE media_id IN ({}) ORDER BY created_at, person_id",
            placeholders(1, chunk.len())
        );
        rows.extend(db.fetch_all::<TagRow>(&sql, Args(chunk.iter().map(|id| (*id).into()).collect())).await?);
    }
    Ok(rows)
}

/// Records a tag added (`tagged`) or taken away as a `MediaPeopleTagged` event: the
/// search index then finds the item by the names of the people in it.
async fn tagged_tx(tx: &mut Tx, user: &User, media_id: &MediaId, person: &PersonRow, tagged: bool) -> Result<()> {
    let event = MediaPeopleTagged {
        media_id: media_id.clone(),
        legacy_id: person.legacy_id.clone(),
        person_id: person.id.clone(),
        tagged,
    };
    events::append(tx, Event::of(media_id, Some(&user.id), event)).await?;
    Ok(())
}

/// Takes away every tag of a person about to be deleted, each with its event (the rows
/// would go with the person, but the items' documents in the index must lose the name).
pub(crate) async fn untag_everywhere_tx(tx: &mut Tx, user: &User, person: &PersonRow) -> Result<()> {
    let sql = "SELECT media_id FROM media_people WHERE person_id = $1 ORDER BY media_id";
    let media_ids: Vec<MediaId> = tx.scalars(sql, args![&person.id]).await?;
    for media_id in &media_ids {
        tx.execute("DELETE FROM media_people WHERE media_id = $1 AND person_id = $2", args![media_id, &person.id])
            .await?;
        tagged_tx(tx, user, media_id, person, false).await?;
    }
    Ok(())
}

impl People {
    /// The item, and the person to tag in it, after the checks both ways of tagging share.
    async fn taggable(
        &self,
        media: &Media,
        user: &User,
        media_id: &MediaId,
        person_id: &PersonId,
    ) -> Result<PersonRow> {
        let item = media.media(Some(user), media_id).await?;
        if !item.can_edit {
            return Err(Error::forbidden(
                ErrorCode::Forbidden,
                "Only whoever uploaded this item and the legacy's owners and editors can tag people in it.",
            ));
        }
        let person = repo::find(&self.db, person_id).await?.filter(|p| p.legacy_id == item.legacy_id);
        let access = self.access(Some(user), &item.legacy_id).await?;
        match person {
            Some(person) if !access.hides(&person) => Ok(person),
            _ => Err(Error::invalid("person_id", "is not a person of this item's legacy")),
        }
    }

    /// Tags a person in a photo, recording or video; tagging twice changes nothing.
    /// Returns the item's legacy.
    pub async fn tag(&self, media: &Media, user: &User, media_id: &MediaId, person_id: &PersonId) -> Result<LegacyId> {
        let person = self.taggable(media, user, media_id, person_id).await?;
        let sql = "INSERT INTO media_people (media_id, person_id, tagged_by, created_at) VALUES ($1, $2, $3, $4) \
                   ON CONFLICT (media_id, person_id) DO NOTHING";
        let mut tx = self.db.begin().await?;
        if tx.execute(sql, args![media_id, &person.id, &user.id, now_millis()]).await? == 1 {
            tagged_tx(&mut tx, user, media_id, &person, true).await?;
        }
        tx.commit().await?;
        Ok(person.legacy_id)
    }

    /// Removes a tag; returns the item's legacy.
    pub async fn untag(
        &self,
        media: &Media,
        user: &User,
        media_id: &MediaId,
        person_id: &PersonId,
    ) -> Result<LegacyId> {
        let person = self.taggable(media, user, media_id, person_id).await?;
        let sql = "DELETE FROM media_people WHERE media_id = $1 AND person_id = $2";
        let mut tx = self.db.begin().await?;
        if tx.execute(sql, args![media_id, person_id]).await? == 1 {
            tagged_tx(&mut tx, user, media_id, &person, false).await?;
        }
        tx.commit().await?;
        Ok(person.legacy_id)
    }

    /// The people of a legacy a user may tag in its items (whom they may see), by surname.
    pub async fn taggable_people(&self, user: &User, legacy_id: &LegacyId) -> Result<Vec<PersonSummary>> {
        let access = self.access(Some(user), legacy_id).await?;
        if !access.can_read() {
            return Ok(Vec::new());
        }
        let rows = repo::in_legacy(&self.db, legacy_id, None, CHOICES_MAX).await?;
        Ok(rows.iter().filter(|p| !access.hides(p)).map(|p| p.summary(false)).collect())
    }

    /// Who is tagged in each of `items` (all of one legacy), as this reader may see them.
    pub async fn tagged_in(
        &self,
        user: Option<&User>,
        legacy_id: &LegacyId,
        items: &[MediaView],
    ) -> Result<HashMap<MediaId, Vec<PersonSummary>>> {
        let access = self.access(user, legacy_id).await?;
        let ids: Vec<&MediaId> = items.iter().filter(|m| &m.legacy_id == legacy_id).map(|m| &m.id).collect();
        let tags = tags_of(&self.db, &ids).await?;
        let people_ids: Vec<&PersonId> = tags.iter().map(|t| &t.person_id).collect();
        let people: HashMap<PersonId, PersonRow> =
            repo::find_many(&self.db, &people_ids).await?.into_iter().map(|p| (p.id.clone(), p)).collect();
        let mut tagged: HashMap<MediaId, Vec<PersonSummary>> = HashMap::new();
        for tag in &tags {
            if let Some(person) = people.get(&tag.person_id).filter(|p| !access.hides(p)) {
                tagged.entry(tag.media_id.clone()).or_default().push(person.summary(false));
            }
        }
        Ok(tagged)
    }

    /// The items a person is tagged in that the reader may see, newest tag first; none
    /// when the person themselves is hidden from the reader.
    pub async fn tagged_media(
        &self,
        media: &Media,
        user: Option<&User>,
        person_id: &PersonId,
    ) -> Result<Vec<MediaView>> {
        let (person, access) = self.readable(user, person_id).await?;
        if access.hides(&person) {
            return Ok(Vec::new());
        }
        let sql = "SELECT media_id FROM media_people WHERE person_id = $1 ORDER BY created_at DESC, media_id LIMIT $2";
        let ids: Vec<MediaId> = self.db.scalars(sql, args![person_id, TAGGED_SHOWN]).await?;
        let mut items = Vec::with_capacity(ids.len());
        for id in &ids {
            items.extend(super::service::visible_media(media, user, id).await?);
        }
        Ok(items)
    }
}

//! Rows of the tips tables, candidates, arms and the request context.

use serde::{Deserialize, Serialize};
use types::{SyncStatus, TipContext, TipDevice, TipId, TipKind, UserId};

use crate::error::Result;
use crate::validate::Problems;

/// A part of the day, in the reader's local time: what the recommender learns per arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Morning,
    Afternoon,
    Evening,
    Night,
}

impl Bucket {
    pub const ALL: [Bucket; 4] = [Bucket::Morning, Bucket::Afternoon, Bucket::Evening, Bucket::Night];

    /// 5-11 morning, 12-16 afternoon, 17-21 evening, 22-4 night.
    pub fn of_hour(hour: u8) -> Bucket {
        match hour {
            5..=11 => Bucket::Morning,
            12..=16 => Bucket::Afternoon,
            17..=21 => Bucket::Evening,
            _ => Bucket::Night,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Morning => "morning",
            Bucket::Afternoon => "afternoon",
            Bucket::Evening => "evening",
            Bucket::Night => "night",
        }
    }

    pub fn parse(text: &str) -> Option<Bucket> {
        Bucket::ALL.into_iter().find(|b| b.as_str() == text)
    }
}

/// The context a policy sees: resolved from the request (never looked up by the policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context {
    pub hour: u8,
    pub weekday: u8,
    pub bucket: Bucket,
    pub device: Option<TipDevice>,
}

impl Context {
    pub fn at(hour: u8, weekday: u8, device: Option<TipDevice>) -> Context {
        Context { hour, weekday, bucket: Bucket::of_hour(hour), device }
    }

    /// The request's context, with the server's clock (UTC) for what it leaves out;
    /// out-of-range values are field errors.
    pub fn resolve(input: &TipContext, now_millis: i64) -> Result<Context> {
        let mut problems = Problems::default();
        if input.hour.is_some_and(|h| h > 23) {
            problems.add("context.hour", "must be between 0 and 23 (the reader's local hour)");
        }
        if input.weekday.is_some_and(|d| d > 6) {
            problems.add("context.weekday", "must be between 0 (Monday) and 6 (Sunday)");
        }
        problems.into_result()?;
        let secs = now_millis.div_euclid(1000);
        let utc_hour = (secs.div_euclid(3600).rem_euclid(24)) as u8;
        // 1970-01-01 was a Thursday (3 when Monday is 0).
        let utc_weekday = ((secs.div_euclid(86_400) + 3).rem_euclid(7)) as u8;
        Ok(Context::at(input.hour.unwrap_or(utc_hour), input.weekday.unwrap_or(utc_weekday), input.device))
    }

    pub fn to_json(self) -> serde_json::Value {
        serde_json::json!({
            "hour": self.hour, "weekday": self.weekday, "bucket": self.bucket.as_str(),
            "device": self.device.map(TipDevice::as_str),
        })
    }
}

/// An arm of the recommender: candidate kind × source or theme × time of day. Feedback
/// is counted for the arm itself and two coarser levels (kind in this part of the day,
/// kind at any time), which the learning policy pools from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Arm {
    pub kind: TipKind,
    pub group: String,
    pub bucket: Bucket,
}

impl Arm {
    /// `kind:group:bucket`.
    pub fn key(&self) -> String {
        format!("{}:{}:{}", self.kind, self.group, self.bucket.as_str())
    }

    /// `kind:*:bucket`.
    pub fn kind_key(&self) -> String {
        format!("{}:*:{}", self.kind, self.bucket.as_str())
    }

    /// `kind:*:*`.
    pub fn kind_any_time_key(&self) -> String {
        format!("{}:*:*", self.kind)
    }

    /// Every key feedback on this arm counts towards, finest first.
    pub fn keys(&self) -> [String; 3] {
        [self.key(), self.kind_key(), self.kind_any_time_key()]
    }

    pub fn parse(key: &str) -> Option<Arm> {
        let mut parts = key.split(':');
        let (Some(kind), Some(group), Some(bucket), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        Some(Arm { kind: TipKind::parse(kind)?, group: group.to_string(), bucket: Bucket::parse(bucket)? })
    }
}

/// Something that could be suggested. Sources produce these; a policy picks one.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Stable across requests (`prompt:childhood-01`, `draft:<story id>`, `todoist:<task id>`):
    /// what feedback and cool-downs refer to.
    pub key: String,
    pub kind: TipKind,
    pub source: String,
    /// The theme (prompts) or source: the middle part of the arm.
    pub group: String,
    pub title: String,
    pub body: String,
    pub deep_link: String,
    pub meta: serde_json::Value,
    /// Higher first among candidates of the same arm (a task's priority); ties are random.
    pub priority: i64,
}

impl Candidate {
    pub fn arm(&self, bucket: Bucket) -> Arm {
        Arm { kind: self.kind, group: self.group.clone(), bucket }
    }
}

/// One user's link to one connector. The credential is sealed; `None` once disconnected.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConnectionRow {
    pub user_id: UserId,
    pub connector: String,
    pub status: String,
    pub sealed_credential: Option<String>,
    pub connected_at: Option<i64>,
    pub last_sync_at: Option<i64>,
    pub last_sync_status: String,
    pub last_error: Option<String>,
    pub item_count: i64,
    pub updated_at: i64,
}

impl ConnectionRow {
    pub fn connected(&self) -> bool {
        self.status == "connected" && self.sealed_credential.is_some()
    }

    pub fn sync_status(&self) -> SyncStatus {
        SyncStatus::parse(&self.last_sync_status).unwrap_or(SyncStatus::Never)
    }
}

/// An open task of one of the user's live connections, as fetched at the last sync.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OpenItem {
    pub connector: String,
    #[sqlx(flatten)]
    pub task: crate::tips::connector::ConnectorItem,
}

/// A tip as issued: what was suggested, from which arm, by which policy, and its outcome.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TipRow {
    pub id: TipId,
    pub user_id: UserId,
    pub kind: String,
    pub source: String,
    pub candidate_key: String,
    /// Empty when nothing could be suggested (the friendly advice): no learning from it.
    pub arm: String,
    pub title: String,
    pub body: String,
    pub deep_link: String,
    pub meta: String,
    pub policy: String,
    pub context: String,
    pub created_at: i64,
    pub shown_at: Option<i64>,
    pub outcome: Option<String>,
    pub outcome_at: Option<i64>,
}

impl TipRow {
    pub fn tip(&self) -> types::Tip {
        types::Tip {
            id: self.id.clone(),
            kind: TipKind::parse(&self.kind).unwrap_or(TipKind::Advice),
            title: self.title.clone(),
            body: self.body.clone(),
            source: self.source.clone(),
            deep_link: self.deep_link.clone(),
            meta: serde_json::from_str(&self.meta).unwrap_or(serde_json::Value::Null),
        }
    }

    pub fn meta_str(&self, field: &str) -> Option<String> {
        let meta: serde_json::Value = serde_json::from_str(&self.meta).ok()?;
        meta.get(field)?.as_str().map(str::to_string)
    }
}

/// Feedback counts of one arm (for one user, or everyone).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub shown: u64,
    pub done: u64,
    /// Skipped or dismissed.
    pub not_done: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_fall_into_parts_of_the_day() {
        assert_eq!(Bucket::of_hour(5), Bucket::Morning);
        assert_eq!(Bucket::of_hour(12), Bucket::Afternoon);
        assert_eq!(Bucket::of_hour(21), Bucket::Evening);
        assert_eq!(Bucket::of_hour(23), Bucket::Night);
        assert_eq!(Bucket::of_hour(0), Bucket::Night);
    }

    #[test]
    fn arms_round_trip_through_their_keys() {
        let arm = Arm { kind: TipKind::Prompt, group: "childhood".into(), bucket: Bucket::Evening };
        assert_eq!(arm.key(), "prompt:childhood:evening");
        assert_eq!(Arm::parse(&arm.key()), Some(arm.clone()));
        assert_eq!(arm.keys()[1], "prompt:*:evening");
        assert_eq!(arm.keys()[2], "prompt:*:*");
        assert_eq!(Arm::parse("prompt:a:b:c"), None);
        assert_eq!(Arm::parse("nope:a:evening"), None);
    }

    #[test]
    fn the_context_takes_the_clock_for_what_the_request_leaves_out() {
        // 2024-01-01T08:30:00Z was a Monday.
        let monday_8_30 = 1_704_097_800_000;
        let ctx = Context::resolve(&TipContext::default(), monday_8_30).unwrap();
        assert_eq!((ctx.hour, ctx.weekday, ctx.bucket), (8, 0, Bucket::Morning));
        let given = TipContext { hour: Some(20), weekday: Some(5), device: Some(TipDevice::Phone) };
        let ctx = Context::resolve(&given, monday_8_30).unwrap();
        assert_eq!((ctx.hour, ctx.weekday, ctx.bucket), (20, 5, Bucket::Evening));
        let bad = TipContext { hour: Some(24), weekday: Some(7), device: None };
        match Context::resolve(&bad, monday_8_30) {
            Err(crate::Error::Invalid(fields)) => {
                let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
                assert_eq!(names, ["context.hour", "context.weekday"]);
            }
            other => panic!("expected field errors, got {other:?}"),
        }
    }
}

//! The conversation under a story: its reactions, its comments with their replies, and
//! the forms to take part. Everything is a plain form post, so it all works without
//! JavaScript; each form comes back to the comment it acted on (`#comment-…`).

use leptos::prelude::*;
use types::{routes, CommentView, ConversationView, ReactionCount, ReactionKind};

use crate::components::live::LiveConversation;
use crate::components::page::format_time;
use crate::components::raw_text::textarea_text;
use crate::request;

/// The conversation on a story or media item: `action` is where a new comment is posted,
/// `react` where reactions to `what` ("this story") are.
#[component]
pub fn Conversation(
    conversation: ConversationView,
    action: String,
    react: String,
    what: &'static str,
) -> impl IntoView {
    let flash = request::flash();
    let take_part = conversation.can_take_part;
    let heading = match conversation.count {
        0 => "Comments".to_string(),
        1 => "1 comment".to_string(),
        n => format!("{n} comments"),
    };
    let error = flash.field_error("body").map(str::to_string);
    let has_error = error.is_some();
    let draft = flash.value("body").unwrap_or_default().to_string();
    let me = request::current_user().map(|u| u.id.to_string());
    let signed_in = me.is_some();
    let subject_id =
        conversation.story_id.as_deref().or(conversation.media_id.as_deref()).unwrap_or_default().to_string();
    let history = conversation.story_id.as_ref().map(|id| routes::HISTORY.to(&[id])).unwrap_or_default();
    view! {
        <section class="conversation" id="comments" aria-labelledby="comments-title">
            {me.map(|me| view! { <LiveConversation subject_id me history banner_only=false/> }.into_any())}
            <Reactions counts=conversation.reactions action=react take_part label=format!("Reactions to {what}") id="reactions"/>
            <div id="comments-thread">
                <h2 id="comments-title">{heading}</h2>
                {if conversation.comments.is_empty() {
                    view! { <p class="empty">"No comments yet."</p> }.into_any()
                } else {
                    view! {
                        <ol class="comments">
                            {conversation.comments.into_iter().map(|c| view! { <Comment comment=c take_part reply_action=action.clone()/> }).collect_view()}
                        </ol>
                    }.into_any()
                }}
            </div>
            {if take_part {
                view! {
                    <form method="post" action=action class="stack comment-form" id="comment-form">
                        <div class="field" class:has-error=has_error>
                            <label for="comment-body">"Add a comment"</label>
                            <textarea id="comment-body" name="body" rows="3" required
                                aria-invalid=has_error.then_some("true")
                                aria-describedby="comment-body-hint">{textarea_text(draft)}</textarea>
                            <p class="hint" id="comment-body-hint">"*Emphasis*, **bold**, links and lists work."</p>
                            {error.map(|e| view! { <p class="field-error">{e}</p> })}
                        </div>
                        <button type="submit" class="primary">"Comment"</button>
                    </form>
                }.into_any()
            } else if signed_in {
                view! { <p class="note">"Members of this legacy can comment here."</p> }.into_any()
            } else {
                view! { <p class="note"><a href=routes::SIGN_IN.path>"Sign in"</a>" to comment."</p> }.into_any()
            }}
        </section>
    }
    // Erased: pages nest it beside their own views, past the compiler's depth limit.
    .into_any()
}

#[component]
fn Comment(comment: CommentView, take_part: bool, reply_action: String) -> impl IntoView {
    let id = comment.id.to_string();
    let anchor = format!("comment-{id}");
    let is_reply = comment.parent_id.is_some();
    let replies = comment.replies;
    if comment.deleted {
        return view! {
            <li class="comment deleted" id=anchor>
                <p class="note">"This comment was deleted."</p>
                <Replies replies take_part reply_action=reply_action.clone()/>
            </li>
        }
        .into_any();
    }
    let mine = request::current_user().is_some_and(|u| u.id == comment.author_id);
    let react = routes::fill(routes::form::REACT_TO_COMMENT, &[&id]);
    let label = format!("Reactions to {}'s comment", comment.author_name);
    let edited = comment.edited_at.map(|at| view! { " · " <span class="edited" title=format_time(at)>"edited"</span> });
    view! {
        <li class="comment" id=anchor>
            <article aria-label=format!("Comment by {}", comment.author_name)>
                <p class="meta">
                    <strong dir="auto">{comment.author_name.clone()}</strong>
                    " · " {format_time(comment.created_at)} {edited}
                </p>
                <div class="comment-body" dir="auto" inner_html=comment.body_html></div>
                <Reactions counts=comment.reactions action=react take_part label id=""/>
                <div class="comment-actions">
                    {(take_part && !is_reply).then(|| view! {
                        <details>
                            <summary>"Reply"</summary>
                            <CommentForm action=reply_action.clone()
                                id=format!("reply-{id}") label="Your reply" text=String::new()
                                hidden=vec![("parent_id", id.clone())] button="Reply"/>
                        </details>
                    })}
                    {comment.can_edit.then(|| view! {
                        <details>
                            <summary>"Edit"</summary>
                            <CommentForm action=routes::fill(routes::form::EDIT_COMMENT, &[&id])
                                id=format!("edit-{id}") label="Your comment" text=comment.body.clone()
                                hidden=vec![("version", comment.version.to_string())] button="Save"/>
                        </details>
                    })}
                    {comment.can_delete.then(|| view! {
                        <form method="post" action=routes::fill(routes::form::DELETE_COMMENT, &[&id]) class="inline-form">
                            <button type="submit">"Delete"</button>
                        </form>
                    })}
                    {(take_part && !mine).then(|| view! {
                        <details class="flag">
                            <summary>"Report"</summary>
                            <form method="post" action=routes::fill(routes::form::FLAG_COMMENT, &[&id]) class="stack">
                                <div class="field">
                                    <label for=format!("report-{id}")>"What is wrong with this comment?"</label>
                                    <input id=format!("report-{id}") name="reason" required/>
                                </div>
                                <button type="submit">"Send to the legacy's owners"</button>
                            </form>
                        </details>
                    })}
                </div>
            </article>
            <Replies replies take_part reply_action=reply_action.clone()/>
        </li>
    }
    .into_any()
}

#[component]
fn Replies(replies: Vec<CommentView>, take_part: bool, reply_action: String) -> impl IntoView {
    (!replies.is_empty()).then(|| {
        view! {
            <ol class="replies">
                {replies.into_iter().map(|c| view! { <Comment comment=c take_part reply_action=reply_action.clone()/> }).collect_view()}
            </ol>
        }
    })
}

/// A comment's text area in a form of its own (a reply, an edit), with the hidden
/// fields the operation needs.
#[component]
fn CommentForm(
    action: String,
    id: String,
    label: &'static str,
    text: String,
    hidden: Vec<(&'static str, String)>,
    button: &'static str,
) -> impl IntoView {
    view! {
        <form method="post" action=action class="stack">
            {hidden.into_iter().map(|(name, value)| view! { <input type="hidden" name=name value=value/> }).collect_view()}
            <div class="field">
                <label for=id.clone()>{label}</label>
                <textarea id=id name="body" rows="3" required>{textarea_text(text)}</textarea>
            </div>
            <button type="submit">{button}</button>
        </form>
    }
}

/// The reactions on one thing: buttons that toggle the reader's own when they may take
/// part, the counts alone otherwise (only those someone gave).
#[component]
fn Reactions(
    counts: Vec<ReactionCount>,
    action: String,
    take_part: bool,
    #[prop(into)] label: String,
    id: &'static str,
) -> impl IntoView {
    let id = (!id.is_empty()).then_some(id);
    if !take_part {
        return (!counts.is_empty())
            .then(|| {
                view! {
                    <ul class="reactions" id=id aria-label=label>
                        {counts.into_iter().map(|c| {
                            let said = format!("{}: {} ({})", c.reaction.label(), c.count, c.names.join(", "));
                            view! { <li title=said.clone() aria-label=said>{c.reaction.emoji()} " " {c.count}</li> }
                        }).collect_view()}
                    </ul>
                }
            })
            .into_any();
    }
    view! {
        <form method="post" action=action class="reactions" id=id aria-label=label>
            {ReactionKind::ALL.iter().map(|&kind| {
                let given = counts.iter().find(|c| c.reaction == kind);
                let count = given.map_or(0, |c| c.count);
                let mine = given.is_some_and(|c| c.mine);
                let names = given.map(|c| c.names.join(", ")).unwrap_or_default();
                let said = if count == 0 { kind.label().to_string() } else { format!("{}: {count} ({names})", kind.label()) };
                view! {
                    <button type="submit" name="reaction" value=kind.as_str() aria-pressed=if mine { "true" } else { "false" }
                        title=said.clone() aria-label=said>
                        {kind.emoji()} {(count > 0).then(|| view! { " " <span class="count">{count}</span> })}
                    </button>
                }
            }).collect_view()}
        </form>
    }
    .into_any()
}

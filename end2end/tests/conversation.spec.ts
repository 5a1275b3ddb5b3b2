import { Page } from '@playwright/test';
import {
  createLegacyAndStory,
  expect,
  expectAccessible,
  join,
  makePhoto,
  signUp,
  test,
  untilProcessed,
  uploadByApi,
} from './helpers';

/** Comments `text` with the page's own form, as a person would. */
async function comment(page: Page, text: string) {
  await page.getByLabel('Add a comment').fill(text);
  await page.getByRole('button', { name: 'Comment', exact: true }).click();
}

test('members comment, reply, react, edit, report and delete under a story', async ({ page, browser }) => {
  await signUp(page, 'Ann', 'the bees in the orchard');
  const { legacyId, storyId } = await createLegacyAndStory(page, 'Grandma Rose', {
    title: 'The bees',
    body: 'She kept bees behind the house.',
  });
  const context = await browser.newContext();
  const bo = await context.newPage();
  await signUp(bo, 'Bo', 'a jar of heather honey');
  await join(page, bo, legacyId, 'viewer');
  const story = `/stories/${storyId}`;

  await page.goto(story);
  await expect(page.getByRole('heading', { name: 'Comments', exact: true })).toBeVisible();
  await expect(page.getByText('No comments yet.')).toBeVisible();
  await comment(page, 'Who took the photo of the **hives**?\n<script>alert(1)</script>');
  await expect(page.getByText('Your comment was added.')).toBeVisible();
  await expect(page.getByRole('heading', { name: '1 comment' })).toBeVisible();
  const annOnAnnsPage = page.getByRole('article', { name: 'Comment by Ann' });
  await expect(annOnAnnsPage.locator('strong')).toHaveText(['Ann', 'hives']);
  // Markup typed into a comment shows as text.
  await expect(annOnAnnsPage.locator('.comment-body').getByText('<script>alert(1)</script>')).toBeVisible();

  // Bo, a viewer, answers and reacts.
  await bo.goto(story);
  const annsComment = bo.getByRole('article', { name: 'Comment by Ann' });
  await annsComment.locator('summary', { hasText: 'Reply' }).click();
  await annsComment.getByLabel('Your reply').fill('Uncle Jim, in 1962.');
  await annsComment.locator('form').getByRole('button', { name: 'Reply' }).click();
  await expect(bo.locator('.replies').getByRole('article', { name: 'Comment by Bo' })).toContainText('Uncle Jim, in 1962.');
  await expect(bo.getByRole('heading', { name: '2 comments' })).toBeVisible();
  const storyReactions = bo.getByRole('form', { name: 'Reactions to this story' });
  await storyReactions.getByRole('button', { name: 'Love', exact: true }).click();
  await expect(storyReactions.getByRole('button', { name: 'Love: 1 (Bo)' })).toHaveAttribute('aria-pressed', 'true');
  await bo
    .getByRole('form', { name: "Reactions to Ann's comment" })
    .getByRole('button', { name: 'Remember', exact: true })
    .click();
  await expect(bo.getByRole('form', { name: "Reactions to Ann's comment" }).getByRole('button', { name: 'Remember: 1 (Bo)' })).toBeVisible();

  // Ann sees it all, and toggles a reaction of her own on and off.
  await page.goto(story);
  const annReactions = page.getByRole('form', { name: 'Reactions to this story' });
  await expect(annReactions.getByRole('button', { name: 'Love: 1 (Bo)' })).toHaveAttribute('aria-pressed', 'false');
  await annReactions.getByRole('button', { name: 'Love: 1 (Bo)' }).click();
  await expect(annReactions.getByRole('button', { name: 'Love: 2 (Bo, Ann)' })).toHaveAttribute('aria-pressed', 'true');
  await annReactions.getByRole('button', { name: 'Love: 2 (Bo, Ann)' }).click();
  await expect(annReactions.getByRole('button', { name: 'Love: 1 (Bo)' })).toBeVisible();

  // Ann edits her comment; only she is offered to.
  await expect(bo.getByRole('article', { name: 'Comment by Ann' }).locator('summary', { hasText: 'Edit' })).toHaveCount(0);
  await annOnAnnsPage.locator('summary', { hasText: 'Edit' }).click();
  await annOnAnnsPage.getByLabel('Your comment').fill('Who took the photo of the hives, and when?');
  await annOnAnnsPage.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Your comment was changed.')).toBeVisible();
  await expect(annOnAnnsPage).toContainText('Who took the photo of the hives, and when?');
  await expect(annOnAnnsPage.getByText('edited')).toBeVisible();
  await expectAccessible(page);

  // Bo reports it; Ann, the owner, removes it: its reply stays.
  await bo.goto(story);
  const reported = bo.getByRole('article', { name: 'Comment by Ann' });
  await reported.locator('summary', { hasText: 'Report' }).click();
  await reported.getByLabel('What is wrong with this comment?').fill('Off topic');
  await reported.getByRole('button', { name: "Send to the legacy's owners" }).click();
  await expect(bo.getByText('Thank you. The legacy')).toBeVisible();
  await page.goto('/moderation');
  await expect(page.getByRole('link', { name: 'A comment on “The bees”' })).toBeVisible();
  await expect(page.getByText('Who took the photo of the hives, and when?')).toBeVisible();
  await page.getByRole('button', { name: 'Remove the comment' }).click();
  await expect(page.getByText('Nothing to review.')).toBeVisible();
  await page.goto(story);
  await expect(page.getByText('This comment was deleted.')).toBeVisible();
  await expect(page.getByRole('heading', { name: '1 comment' })).toBeVisible();

  // Bo deletes his reply: nothing is left.
  await bo.goto(story);
  await bo.getByRole('article', { name: 'Comment by Bo' }).getByRole('button', { name: 'Delete' }).click();
  await expect(bo.getByText('The comment was deleted.')).toBeVisible();
  await expect(bo.getByText('No comments yet.')).toBeVisible();
  await context.close();
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('a comment and a reaction are plain form posts', async ({ page }) => {
    await signUp(page, 'Cy', 'no scripts in this browser');
    const { storyId } = await createLegacyAndStory(page, 'Uncle Jim', { title: 'The boat', body: 'He built a boat.' });
    await page.goto(`/stories/${storyId}`);
    await comment(page, 'It is still in the shed.');
    await expect(page.getByRole('article', { name: 'Comment by Cy' })).toContainText('It is still in the shed.');
    await page.getByRole('form', { name: 'Reactions to this story' }).getByRole('button', { name: 'Smile', exact: true }).click();
    await expect(page.getByRole('button', { name: 'Smile: 1 (Cy)' })).toHaveAttribute('aria-pressed', 'true');
  });
});

test("the home page's feed shows the family's activity, and nothing of a legacy once removed from it", async ({
  page,
  browser,
}) => {
  await signUp(page, 'Dee', 'letters in the blue box');
  const { legacyId, storyId } = await createLegacyAndStory(page, 'Aunt May', { title: 'The letters', body: 'She wrote every week.' });
  const context = await browser.newContext();
  const eli = await context.newPage();
  await signUp(eli, 'Eli', 'stamps from every country');
  await join(page, eli, legacyId, 'contributor');
  const headers = { origin: new URL(eli.url()).origin };
  const commented = await eli.request.post(`/api/v1/stories/${storyId}/comments`, { headers, data: { body: 'I still have one.' } });
  expect(commented.status()).toBe(201);

  await page.goto('/');
  const feed = page.getByRole('region', { name: "What's new" });
  await expect(async () => {
    await page.reload();
    await expect(feed.getByRole('listitem').filter({ hasText: 'Eli commented on' })).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await expect(feed.getByRole('listitem').filter({ hasText: 'Eli joined' })).toBeVisible();
  await feed.getByRole('link', { name: '“The letters”' }).first().click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('The letters');

  await eli.goto('/');
  await expect(eli.getByRole('region', { name: "What's new" }).getByText('Dee published')).toBeVisible();
  const me = await (await eli.request.get('/api/v1/me')).json();
  const removed = await page.request.delete(`/api/v1/legacies/${legacyId}/members/${me.id}`, {
    headers: { origin: new URL(page.url()).origin },
  });
  expect(removed.ok()).toBeTruthy();
  await eli.reload();
  await expect(eli.getByRole('region', { name: "What's new" }).getByText('Nothing new yet.', { exact: false })).toBeVisible();
  await context.close();
});

test('a comment, a reaction and a save reach another reader of the story without a reload', async ({ page, browser }) => {
  await signUp(page, 'Fay', 'the red tractor in the barn');
  const { legacyId, storyId } = await createLegacyAndStory(page, 'Grandpa Ned', { title: 'The tractor', body: 'It was red.' });
  const context = await browser.newContext();
  const gus = await context.newPage();
  await signUp(gus, 'Gus', 'diesel and hay in summer');
  await join(page, gus, legacyId, 'editor');
  // Fay's second legacy, where Gus stays (the feed part below): made now, so its story's
  // event has long reached every stream by the time Gus's home page opens one (a stream
  // opened before that event passes counts it as new, and the counts below would be off).
  const other = await createLegacyAndStory(page, 'Grandma Nell', { title: 'The orchard', body: 'Apples.' });
  await join(page, gus, other.legacyId, 'viewer');
  const story = `/stories/${storyId}`;
  await gus.goto(story);
  // Listening once the stream is open.
  await expect(gus.locator('.live[data-ready="true"]')).toBeAttached();

  await page.goto(story);
  await comment(page, 'It still runs.');
  await expect(gus.getByRole('article', { name: 'Comment by Fay' })).toContainText('It still runs.');
  await expect(gus.getByRole('heading', { name: '1 comment' })).toBeVisible();
  await page.getByRole('form', { name: 'Reactions to this story' }).getByRole('button', { name: 'Love', exact: true }).click();
  await expect(
    gus.getByRole('form', { name: 'Reactions to this story' }).getByRole('button', { name: 'Love: 1 (Fay)' }),
  ).toBeVisible();

  // While Gus is typing a reply, the next comment waits behind a button; his reply stays.
  const fays = gus.getByRole('article', { name: 'Comment by Fay' });
  await fays.locator('summary', { hasText: 'Reply' }).click();
  await fays.getByLabel('Your reply').fill('I drove it once');
  const headers = { origin: new URL(page.url()).origin };
  await page.request.post(`/api/v1/stories/${storyId}/comments`, { headers, data: { body: 'So did I.' } });
  await gus.getByRole('button', { name: 'Show new comments' }).click();
  await expect(gus.getByText('So did I.')).toBeVisible();
  await expect(gus.getByRole('article', { name: 'Comment by Fay' }).first().getByLabel('Your reply')).toHaveValue(
    'I drove it once',
  );

  // Fay saves the story: Gus is told, with the way to the changes.
  const saved = await page.request.put(`/api/v1/stories/${storyId}`, {
    headers,
    data: { version: 1, title: 'The tractor', body: 'It was red, then green.' },
  });
  expect(saved.ok()).toBeTruthy();
  await expect(gus.getByText('Fay changed this story')).toBeVisible();
  await gus.getByRole('link', { name: 'show changes' }).click();
  await expect(gus).toHaveURL(`${story}/history`);

  // Editing it too, Gus is told of Fay's next save.
  await gus.goto(`${story}/edit`);
  await expect(gus.locator('.live[data-ready="true"]')).toBeAttached();
  const again = await page.request.put(`/api/v1/stories/${storyId}`, {
    headers,
    data: { version: 2, title: 'The tractor', body: 'It was red, then green, then rust.' },
  });
  expect(again.ok()).toBeTruthy();
  await expect(gus.getByText('Fay changed this story')).toBeVisible();

  // On his home page what Fay does is counted above the feed, without moving it, until
  // he is removed from the legacy; her second legacy, where he stays, still reaches him.
  await gus.goto('/');
  await expect(gus.locator('.feed-new[data-ready="true"]')).toBeAttached();
  await page.request.post(`/api/v1/stories/${storyId}/comments`, { headers, data: { body: 'One more thing.' } });
  await expect(gus.getByRole('link', { name: '1 new' })).toBeVisible();
  const gusId = (await (await gus.request.get('/api/v1/me')).json()).id;
  const removed = await page.request.delete(`/api/v1/legacies/${legacyId}/members/${gusId}`, { headers });
  expect(removed.ok()).toBeTruthy();
  await page.request.post(`/api/v1/stories/${storyId}/comments`, { headers, data: { body: 'Not for Gus.' } });
  await page.request.post(`/api/v1/stories/${other.storyId}/comments`, { headers, data: { body: 'For Gus.' } });
  // Events reach a stream in order: the second legacy's comment came after the first's.
  await expect(gus.getByRole('link', { name: '2 new' })).toBeVisible();
  await gus.getByRole('link', { name: '2 new' }).click();
  await expect(gus.locator('.feed-list')).toContainText('The orchard');
  await expect(gus.locator('.feed-list')).not.toContainText('The tractor');
  await context.close();
});

test('the feed scrolls through 200 items, each next page fetched ahead', async ({ page }) => {
  test.setTimeout(120_000);
  await signUp(page, 'Hal', 'two hundred stories to tell');
  const { legacyId } = await createLegacyAndStory(page, 'The Hall family');
  const headers = { origin: new URL(page.url()).origin };
  for (let i = 0; i < 200; i += 20) {
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, j) =>
        page.request.post('/api/v1/stories', {
          headers,
          data: { legacy_id: legacyId, title: `Story ${i + j}`, body: 'x', tags: [], visibility: 'members', status: 'published' },
        }),
      ),
    );
    expect(created.every((r) => r.status() === 201)).toBeTruthy();
  }
  // The projection has caught up: 200 stories and the person the legacy remembers.
  await expect
    .poll(
      async () => {
        let count = 0;
        let cursor = '';
        do {
          const page_ = await (await page.request.get(`/api/v1/feed?limit=100${cursor}`)).json();
          count += page_.items.length;
          cursor = page_.next_cursor ? `&cursor=${encodeURIComponent(page_.next_cursor)}` : '';
        } while (cursor);
        return count;
      },
      { timeout: 30_000 },
    )
    .toBe(201);

  const prefetch = page.waitForRequest((request) => request.url().includes('before='));
  await page.goto('/');
  const items = page.locator('.feed-list > li');
  await expect(items).toHaveCount(20);
  await expect(page.locator('.feed-more[data-ready="true"]')).toBeAttached();
  // The next page is asked for before the reader reaches the end.
  await prefetch;
  await expect(async () => {
    await page.mouse.wheel(0, 4000);
    await expect(page.getByText('That is everything.')).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 60_000 });
  await expect(items).toHaveCount(201);
  const titles = (await items.allTextContents()).map((text) => text.match(/Story \d+/)?.[0]).filter(Boolean);
  expect(new Set(titles).size).toBe(200);
});

test("a photo's own page carries its conversation", async ({ page }) => {
  test.setTimeout(90_000);
  await signUp(page, 'Ida', 'the photo album on the shelf');
  const { legacyId } = await createLegacyAndStory(page, 'Cousin Jo');
  const mediaId = await uploadByApi(page, { legacyId }, await makePhoto(page, 'beach.jpg', 640, 480));
  expect(await untilProcessed(page, mediaId)).toBe('ready');
  await page.goto(`/legacies/${legacyId}/media`);
  await page.locator(`#media-${mediaId}`).getByRole('link', { name: 'Comments' }).click();
  await expect(page).toHaveURL(`/legacies/${legacyId}/media/${mediaId}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('beach.jpg');
  await comment(page, 'The summer of 1988.');
  await expect(page).toHaveURL(new RegExp(`/legacies/${legacyId}/media/${mediaId}#comment-`));
  await expect(page.getByRole('article', { name: 'Comment by Ida' })).toContainText('The summer of 1988.');
  await page.getByRole('form', { name: 'Reactions to this item' }).getByRole('button', { name: 'Smile', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Smile: 1 (Ida)' })).toHaveAttribute('aria-pressed', 'true');
  // Another legacy's path to the item is not a second address for it.
  expect((await page.request.get(`/legacies/not-this-one/media/${mediaId}`)).status()).toBe(404);

  // Reported, it reaches the owner's moderation queue; removed there, it is gone.
  await page.locator('summary', { hasText: 'Report a problem with this photo or recording' }).click();
  await page.getByLabel('What is wrong?').fill('Not from our family');
  await page.getByRole('button', { name: "Send to the legacy's owners" }).click();
  await expect(page.getByText("Thank you. The legacy's owners will review it.")).toBeVisible();
  await page.goto('/moderation');
  await expect(page.getByRole('heading', { name: 'A photo or recording' })).toBeVisible();
  await expect(page.getByText('“Not from our family” — Ida on')).toBeVisible();
  await page.getByRole('button', { name: 'Remove the photo or recording' }).click();
  await expect(page.getByText('Nothing to review.')).toBeVisible();
  expect((await page.request.get(`/legacies/${legacyId}/media/${mediaId}`)).status()).toBe(404);
});

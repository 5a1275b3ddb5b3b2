// The tip page and connected apps, against the second Heirloom of the config (the one
// connected to the local Todoist, end2end/todoist/fake-todoist.mjs): connecting Todoist,
// a Todoist task as a tip, done completing it there, skip by key and by swipe, a prompt
// tip leading to a new story, the home page's card, and the page without JavaScript.
import { Page } from '@playwright/test';
import { createLegacyAndStory, expect, signUp, test } from './helpers';

const TIPS_BASE_URL = `http://127.0.0.1:${Number(process.env.E2E_TIPS_PORT ?? 3110)}`;
const TODOIST = `http://127.0.0.1:${Number(process.env.E2E_TODOIST_PORT ?? 3109)}`;
/** The open tasks every account of the local Todoist starts with. */
const TASKS = [
  'Call the county archive about Grandpa’s letters',
  'Buy a photo scanner',
  'Send Aunt Rose the wedding photos',
];
const PASSWORD = 'a tip a day keeps the forgetting away';

test.use({ baseURL: TIPS_BASE_URL });

const account = (name: string) => `${name}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;

/** Connects the signed-in user's Todoist through the OAuth pages, as `todoistAccount`. */
async function connectTodoist(page: Page, todoistAccount: string) {
  await page.goto('/connect');
  const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Todoist' }) });
  await expect(card.locator('.connector-status')).toHaveText('Not connected.');
  await card.getByRole('link', { name: 'Connect Todoist' }).click();
  await expect(page).toHaveURL(new RegExp(`^${TODOIST}/oauth/authorize\\?`));
  await page.getByLabel('Todoist account').fill(todoistAccount);
  await page.getByRole('button', { name: 'Agree' }).click();
  await expect(page).toHaveURL(/\/connect\?connected=todoist$/);
  await expect(page.locator('.flash')).toHaveText('Todoist is connected.');
  return card;
}

/** The tip page, once its island is live. */
async function openTips(page: Page, path = '/tips') {
  await page.goto(path);
  await expect(page.locator('.tip-stage')).toHaveAttribute('data-ready', 'true');
  return page.locator('.tip-title');
}

/** Skips (pressing S) until a tip of `kind` shows; each skip must bring a different tip. */
// Skips tips until one of `kind` (and, if given, one that `wanted` accepts) shows.
async function skipUntil(page: Page, kind: string, most = 12, wanted?: () => Promise<boolean>) {
  const title = page.locator('.tip-title');
  for (let i = 0; i < most; i++) {
    if ((await title.getAttribute('data-tip-kind')) === kind && (!wanted || (await wanted()))) return;
    const before = await title.textContent();
    await page.keyboard.press('s');
    await expect(title).not.toHaveText(before ?? '');
    await expect(page.locator('.tip-announcement')).toContainText('Skipped.');
  }
  throw new Error(`no ${kind} tip after ${most} skips`);
}

test('a connected Todoist task shows as a tip; done completes it at Todoist, skip shows another', async ({ page }) => {
  const todoist = account('planner');
  await signUp(page, 'Planner', PASSWORD);
  const card = await connectTodoist(page, todoist);
  await card.getByRole('button', { name: 'Sync now' }).click();
  await expect(page.locator('.flash')).toHaveText('Todoist synced: 3 open tasks.');
  await expect(card.locator('.connector-status')).toContainText('3 open tasks');

  const title = await openTips(page);
  // Full black, one tip in large type, covering the page.
  const stage = page.locator('.tip-stage');
  expect(await stage.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(0, 0, 0)');
  const box = await stage.boundingBox();
  const viewport = page.viewportSize()!;
  expect(box?.width).toBe(viewport.width);
  expect(box?.height).toBe(viewport.height);

  // Skip (S) brings another tip; then skip on until a Todoist task shows.
  const first = (await title.textContent())!;
  await page.keyboard.press('s');
  await expect(page.locator('.tip-announcement')).toContainText('Skipped.');
  await expect(title).not.toHaveText(first);
  await skipUntil(page, 'todo');
  const task = (await title.textContent())!.trim();
  expect(TASKS).toContain(task);
  await expect(page.locator('.tip-kind')).toHaveText('Task from Todoist');
  const link = page.getByRole('link', { name: 'Open in Todoist' });
  await expect(link).toHaveAttribute('target', '_blank');
  const taskId = new URL((await link.getAttribute('href'))!).searchParams.get('id');
  expect(taskId).toMatch(/^\d+$/);

  // Tapping the tip marks it done; the task is closed at Todoist through an outbound call.
  await page.locator('.tip-main').click();
  await expect(page.locator('.tip-announcement')).toContainText('Done. It will be marked complete in Todoist too.');
  await expect(title).not.toHaveText(task);
  await expect
    .poll(async () => (await (await page.request.get(`${TODOIST}/_test/closed?account=${todoist}`)).json()), {
      timeout: 15_000,
    })
    .toEqual([taskId]);
});

test('a prompt tip leads to a new story that starts with the prompt', async ({ page }) => {
  await signUp(page, 'Writer', PASSWORD);
  await createLegacyAndStory(page, 'Grandma Ruth');
  await openTips(page);
  // A library prompt: the legacy has no story yet, so "write the first story" is a prompt
  // tip too, and the recommender may show either first.
  const write = page.getByRole('link', { name: 'Write this story' });
  await skipUntil(page, 'prompt', 12, async () => ((await write.getAttribute('href')) ?? '').includes('?prompt='));
  const prompt = (await page.locator('.tip-title').textContent())!.trim();
  await expect(page.locator('.tip-kind')).toHaveText('Story prompt');
  await page.getByRole('link', { name: 'Write this story' }).click();
  await expect(page).toHaveURL(/\/legacies\/[^/]+\/new\?prompt=[a-z0-9-]+$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('New story');
  await expect(page.getByLabel('Title')).toHaveValue(prompt);
  await expect(page.locator('.story-prompt')).toContainText(prompt);
});

test('on a phone, a swipe left skips and Enter marks done', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signUp(page, 'Swiper', PASSWORD);
  await createLegacyAndStory(page, 'Uncle Sam');
  const title = await openTips(page);
  const first = (await title.textContent())!;
  const box = (await page.locator('.tip-main').boundingBox())!;
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width - 10, y);
  await page.mouse.down();
  await page.mouse.move(box.x + 10, y, { steps: 6 });
  await page.mouse.up();
  await expect(page.locator('.tip-announcement')).toContainText('Skipped.');
  await expect(title).not.toHaveText(first);

  const second = (await title.textContent())!;
  await page.keyboard.press('Enter');
  await expect(page.locator('.tip-announcement')).toContainText('Done.');
  await expect(title).not.toHaveText(second);
});

test('the home page shows the next tip, and its card opens that tip', async ({ page }) => {
  await signUp(page, 'Homebody', PASSWORD);
  await createLegacyAndStory(page, 'Aunt May');
  await page.goto('/');
  const card = page.getByRole('region', { name: 'Next tip' });
  const text = (await card.locator('.next-tip-text').textContent())!;
  expect(text.length).toBeGreaterThan(0);
  await card.getByRole('link', { name: 'Open the tip page' }).click();
  await expect(page).toHaveURL(/\/tips\?tip=/);
  await expect(page.locator('.tip-title')).toHaveText(text);
});

test('declining at Todoist, a revoked token and disconnecting are each explained on the connect page', async ({
  page,
}) => {
  const todoist = account('revoker');
  await signUp(page, 'Revoker', PASSWORD);
  await page.goto('/connect');
  await page.getByRole('link', { name: 'Connect Todoist' }).click();
  await page.getByRole('link', { name: 'Cancel' }).click();
  await expect(page).toHaveURL(/\/connect\?error=forbidden&connector=todoist$/);
  await expect(page.locator('.flash')).toHaveText('Todoist was not connected: access was declined.');

  const card = await connectTodoist(page, todoist);
  // The user revokes Heirloom's access at Todoist: the next sync finds out and says so.
  expect((await page.request.post(`${TODOIST}/_test/revoke?account=${todoist}`)).status()).toBe(204);
  await card.getByRole('button', { name: 'Sync now' }).click();
  await expect(card.locator('.connector-status')).toHaveText('Not connected.');
  await expect(card.getByRole('alert')).toContainText(/revoked|no longer/i);
  await expect(card.getByRole('link', { name: 'Connect Todoist' })).toBeVisible();

  // Connected again, then disconnected by the user.
  const again = await connectTodoist(page, account('revoker-again'));
  await again.getByRole('button', { name: 'Disconnect Todoist' }).click();
  await expect(page.locator('.flash')).toContainText('Todoist is disconnected');
  await expect(again.locator('.connector-status')).toHaveText('Not connected.');
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the tip page works with plain forms: skip brings another tip', async ({ page }) => {
    await signUp(page, 'Plain', PASSWORD);
    await createLegacyAndStory(page, 'Cousin Joe');
    await page.goto('/tips');
    const title = page.locator('.tip-title');
    const first = (await title.textContent())!;
    await page.getByRole('button', { name: 'Skip' }).click();
    await expect(page).toHaveURL(/\/tips/);
    await expect(title).not.toHaveText(first);
  });
});

import { Browser, Page } from '@playwright/test';
import {
  createLegacy as createLegacyAs,
  createLegacyAndStory,
  expect,
  expectAccessible,
  join,
  signUp as signUpAs,
  test,
} from './helpers';

const PASSWORD = 'the orchard by the river';

const signUp = (page: Page, name: string) => signUpAs(page, name, PASSWORD);

const createLegacy = (page: Page, name: string) => createLegacyAs(page, name, '1931');

/** Opens the editor for a new story in the legacy at `legacyUrl` and waits for TipTap. */
async function newStory(page: Page, legacyUrl: string, title: string) {
  await page.goto(legacyUrl);
  await page.getByRole('link', { name: 'Write a story' }).click();
  await page.getByLabel('Title').fill(title);
  const editor = page.getByRole('textbox', { name: 'Story text' });
  await expect(editor).toBeVisible();
  return editor;
}

/** Types each line into the focused editor, pressing Enter between them. */
async function typeLines(page: Page, lines: string[]) {
  for (const [i, line] of lines.entries()) {
    if (i > 0) await page.keyboard.press('Enter');
    await page.keyboard.type(line);
  }
}

/** Signs up `writer`, creates a legacy named `legacy` and opens a new story titled `title`. */
async function startStory(page: Page, writer: string, legacy: string, title: string) {
  await signUp(page, writer);
  const legacyUrl = await createLegacy(page, legacy);
  return { legacyUrl, editor: await newStory(page, legacyUrl, title) };
}

test('a member writes a rich story, publishes it, and it reads the same after a reload', async ({ page }) => {
  const { editor } = await startStory(page, 'Writer', 'Grandma Rosa', 'The orchard');

  await editor.click();
  await typeLines(page, ['## Early years', 'She was a **brave** girl who loved the museum']);
  for (let i = 0; i < 'museum'.length; i++) await page.keyboard.press('Shift+ArrowLeft');
  page.once('dialog', (dialog) => dialog.accept('https://example.org/museum'));
  await page.getByRole('button', { name: 'Link' }).click();
  // The link is applied after the prompt closes; keys pressed before then would replace
  // the still-selected word.
  await expect(editor.getByRole('link', { name: 'museum' })).toBeVisible();
  // Focus comes back to the editor with "museum" still selected (now and then only after
  // a first key): Enter then would replace it. Move to the end until the caret is there.
  await expect(async () => {
    await editor.press('End');
    expect(await page.evaluate(() => window.getSelection()?.isCollapsed ?? false)).toBe(true);
  }).toPass({ timeout: 5_000 });
  // A new line (the empty first one), then a list.
  await typeLines(page, ['', '- bees', 'apples']);
  await expect(page.getByTestId('word-count')).toContainText('words');

  await page.getByRole('button', { name: 'Publish' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('The orchard');
  const body = page.locator('.story-body');
  await expect(body.getByRole('heading', { level: 2 })).toHaveText('Early years');
  await expect(body.locator('strong')).toHaveText('brave');
  await expect(body.getByRole('listitem')).toHaveText(['bees', 'apples']);
  const link = body.getByRole('link', { name: 'museum' });
  await expect(link).toHaveAttribute('href', 'https://example.org/museum');
  await expect(link).toHaveAttribute('rel', 'noopener nofollow ugc');

  const before = await body.innerHTML();
  await page.reload();
  expect(await page.locator('.story-body').innerHTML()).toBe(before);

  // The editor round-trips the stored Markdown: saving without changes keeps the page identical.
  await page.getByRole('link', { name: 'Edit' }).click();
  await expect(page.getByRole('textbox', { name: 'Story text' })).toBeVisible();
  await page.getByRole('button', { name: 'Publish' }).click();
  await expect(page.locator('.story-body')).toBeVisible();
  expect(await page.locator('.story-body').innerHTML()).toBe(before);
});

test('two tabs editing the same story: the second gets a conflict, not an overwrite', async ({ page, context }) => {
  const { editor } = await startStory(page, 'Tabs', 'Uncle Theo', 'The boat');
  await editor.click();
  await page.keyboard.type('He built a boat.');
  await page.getByRole('button', { name: 'Save draft' }).click();
  const storyUrl = page.url();

  const second = await context.newPage();
  await page.goto(`${storyUrl}/edit`);
  await second.goto(`${storyUrl}/edit`);
  await expect(second.getByRole('textbox', { name: 'Story text' })).toBeVisible();

  await page.getByLabel('Title').fill('The boat, first tab');
  await page.getByRole('button', { name: 'Save draft' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('The boat, first tab');

  await second.getByLabel('Title').fill('The boat, second tab');
  await second.getByRole('button', { name: 'Save draft' }).click();
  await expect(second.getByRole('alert').first()).toContainText('was changed by Tabs');
  await expect(second.getByLabel('Title')).toHaveValue('The boat, second tab');

  await page.reload();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('The boat, first tab');
});

test('an old revision can be compared and restored', async ({ page }) => {
  const { editor } = await startStory(page, 'Historian', 'The old farm', 'Harvest');
  await editor.click();
  await page.keyboard.type('The first harvest was wheat.');
  await page.getByRole('button', { name: 'Publish' }).click();
  await page.getByRole('link', { name: 'Edit' }).click();
  const again = page.getByRole('textbox', { name: 'Story text' });
  await again.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('The first harvest was barley.');
  await page.getByRole('button', { name: 'Publish' }).click();
  await expect(page.locator('.story-body')).toContainText('barley');

  await page.getByRole('link', { name: 'History' }).click();
  await page.getByRole('button', { name: 'Show differences' }).click();
  await expect(page.locator('.diff-removed')).toContainText('wheat');
  await expect(page.locator('.diff-added')).toContainText('barley');
  await page.getByRole('button', { name: 'Restore version 1' }).click();
  await expect(page.getByRole('status')).toContainText('Version 1 was restored');
  await expect(page.locator('.story-body')).toContainText('wheat');
});

test('an invited viewer can read but not edit', async ({ page, browser }) => {
  const { legacyUrl, editor } = await startStory(page, 'Owner', 'Aunt Mia', 'The letters');
  await editor.click();
  await page.keyboard.type('She wrote every week.');
  await page.getByRole('button', { name: 'Publish' }).click();
  const storyUrl = page.url();

  await page.goto(legacyUrl);
  await page.getByRole('link', { name: 'Members' }).click();
  await page.getByLabel('They join as').selectOption('viewer');
  await page.getByRole('button', { name: 'Create invitation link' }).click();
  const invitation = await page.locator('#invitation-url').inputValue();
  expect(invitation).toContain('/invitations/');

  const guest = await (browser as Browser).newContext();
  const reader = await guest.newPage();
  await signUp(reader, 'Viewer');
  await reader.goto(invitation);
  await reader.getByRole('button', { name: 'Join' }).click();
  await expect(reader.getByRole('heading', { level: 1 })).toHaveText('Aunt Mia');
  await expect(reader.getByRole('link', { name: 'Write a story' })).toHaveCount(0);
  await reader.getByRole('link', { name: 'The letters' }).click();
  await expect(reader.locator('.story-body')).toContainText('She wrote every week.');
  await expect(reader.getByRole('link', { name: 'Edit' })).toHaveCount(0);
  const refused = await reader.goto(`${storyUrl}/edit`);
  expect(refused?.status()).toBe(403);
  await expect(reader.getByRole('heading', { level: 1 })).toHaveText('Not allowed');
  await expect(reader.getByRole('alert')).toHaveText('You can read this story but not edit it.');
  const put = await reader.request.put(storyUrl.replace('/stories/', '/api/v1/stories/'), {
    data: { version: 1, title: 'Hijacked', body: 'x' },
    headers: { origin: new URL(storyUrl).origin },
  });
  expect(put.status()).toBe(403);
  await guest.close();
});

test('the editor bundle loads only on pages that edit', async ({ page }) => {
  const bundles: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes('/editor/editor.js')) bundles.push(page.url());
  });
  await signUp(page, 'Lazy');
  const legacyUrl = await createLegacy(page, 'Cousin Ida');
  await page.goto('/');
  await page.goto(legacyUrl);
  await page.waitForLoadState('networkidle');
  expect(bundles).toEqual([]);
  await page.getByRole('link', { name: 'Write a story' }).click();
  await expect(page.getByRole('textbox', { name: 'Story text' })).toBeVisible();
  expect(bundles.length).toBe(1);
});

test('a hostile story title and body stay text in the title bar and the editor', async ({ page }) => {
  await signUp(page, 'Prankster');
  const title = '</title><meta http-equiv="refresh" content="0;url=/signin?hijacked=1">Trip';
  const body = '</textarea><button formaction="/account" data-pwn>Own</button> A plain line.';
  const { storyId } = await createLegacyAndStory(page, 'Cousin Ned', { title, body, visibility: 'public' });

  for (const path of [`/stories/${storyId}`, `/stories/${storyId}/edit`, `/stories/${storyId}/history`]) {
    await page.goto(path);
    // A meta refresh would have moved the page on by now.
    await page.waitForTimeout(500);
    await expect(page).toHaveURL(path);
    expect(await page.title()).toContain(title);
    // User text keeps its own direction (a right-to-left override cannot reorder the page).
    if (!path.endsWith('/edit')) await expect(page.locator('[dir="auto"]', { hasText: 'Trip' }).first()).toBeVisible();
    await expect(page.locator('meta[http-equiv]')).toHaveCount(0);
    await expect(page.locator('[data-pwn]')).toHaveCount(0);
  }
  // The editor's form, as served (before TipTap takes over), holds the body exactly as written.
  const plain = await page.context().browser()!.newContext({ javaScriptEnabled: false, storageState: await page.context().storageState() });
  const form = await plain.newPage();
  await form.goto(`/stories/${storyId}/edit`);
  await expect(form.locator('#story-body')).toHaveValue(body);
  await expect(form.locator('[data-pwn]')).toHaveCount(0);
  await plain.close();

  // Reflected: a search for the same text.
  await page.goto(`/search?q=${encodeURIComponent(title)}`);
  await page.waitForTimeout(500);
  await expect(page).toHaveURL(/\/search\?q=/);
  await expect(page.locator('meta[http-equiv]')).toHaveCount(0);
});

test('one edited sentence shows as one changed line, and autosaves do not pile up versions', async ({ page }) => {
  const { editor } = await startStory(page, 'Editor', 'Great-aunt Rose', 'The shop');
  await editor.click();
  await typeLines(page, ['She opened a shop in 1931.', 'It sold buttons and thread.', 'It closed in the war.']);
  // A form post: the browser sends the text with CRLF line endings.
  await page.getByRole('button', { name: 'Save draft' }).click();
  const storyUrl = page.url();

  await page.goto(`${storyUrl}/edit`);
  const again = page.getByRole('textbox', { name: 'Story text' });
  await again.getByText('buttons').click();
  await page.keyboard.press('End');
  // Two autosaves after pauses (they post LF line endings).
  const autosaved = () => page.waitForResponse((r) => r.url().includes('autosave_story') && r.ok(), { timeout: 15_000 });
  let saved = autosaved();
  await page.keyboard.type(' Also ribbons');
  await saved;
  saved = autosaved();
  await page.keyboard.type(', and lace.');
  await saved;
  await expect(page.getByText('Draft saved')).toBeVisible();
  await page.getByRole('button', { name: 'Publish' }).click();
  await expect(page.locator('.story-body')).toContainText('ribbons, and lace');

  await page.getByRole('link', { name: 'History' }).click();
  // The first save, then the edit: the autosaves and Publish are one version.
  await expect(page.locator('li.revision')).toHaveCount(2);
  await page.getByRole('button', { name: 'Show differences' }).click();
  await expect(page.locator('.diff-removed')).toHaveCount(1);
  await expect(page.locator('.diff-added')).toHaveCount(1);
  await expect(page.locator('.diff-added')).toContainText('Also ribbons, and lace.');
  await expect(page.locator('.diff-same')).toContainText(['She opened a shop in 1931.']);
});

test("an owner renames a legacy and changes its dates; a viewer cannot", async ({ page, browser }) => {
  await signUp(page, 'Nell');
  const legacyUrl = await createLegacy(page, 'Grandpa Ole');
  await page.getByRole('link', { name: 'Edit legacy' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Edit legacy');
  await expect(page.getByLabel('Name')).toHaveValue('Grandpa Ole');
  await expectAccessible(page);

  // A problem keeps what was typed and changes nothing.
  await page.getByLabel('Name').fill('');
  await page.getByLabel('Summary').fill('Fisherman on the fjord');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('is required', { exact: true })).toBeVisible();
  await expect(page.getByLabel('Summary')).toHaveValue('Fisherman on the fjord');

  await page.getByLabel('Name').fill('Ole Hansen');
  await page.getByLabel('Died').fill('1988');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page).toHaveURL(legacyUrl);
  await expect(page.getByText("The legacy's details were saved.")).toBeVisible();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Ole Hansen');
  await expect(page.locator('.legacy-header .dates')).toHaveText('1931 – 1988');
  await expect(page.locator('.legacy-header .lede')).toHaveText('Fisherman on the fjord');
  await page.goto('/legacies');
  await expect(page.getByRole('link', { name: 'Ole Hansen' })).toBeVisible();

  // A viewer sees no way to edit it, and the page refuses them.
  const guest = await (browser as Browser).newContext();
  const reader = await guest.newPage();
  await signUp(reader, 'Pia');
  await join(page, reader, new URL(legacyUrl).pathname.split('/').pop()!, 'viewer');
  await reader.goto(legacyUrl);
  await expect(reader.getByRole('heading', { level: 1 })).toHaveText('Ole Hansen');
  await expect(reader.getByRole('link', { name: 'Edit legacy' })).toHaveCount(0);
  const refused = await reader.goto(`${legacyUrl}/edit`);
  expect(refused?.status()).toBe(403);
  await expect(reader.getByRole('alert')).toHaveText("Only the legacy's owners can change it.");
  await guest.close();
});

test('a signed-out reader of a public story sees its edit on the next load, and the page still hydrates', async ({
  page,
  browser,
}) => {
  await signUp(page, 'Publisher');
  const { storyId } = await createLegacyAndStory(page, 'Uncle Sven', {
    title: 'The ferry',
    body: 'He ran the ferry for forty years.',
    visibility: 'public',
  });
  const guest = await (browser as Browser).newContext();
  const reader = await guest.newPage();
  // Twice: the second load is the kept page unless another test wrote meanwhile (the
  // tests share one server), with a script nonce of its own.
  for (let i = 0; i < 2; i++) {
    const response = await reader.goto(`/stories/${storyId}`);
    expect(i === 0 ? ['miss'] : ['hit', 'miss']).toContain(response?.headers()['x-page-cache']);
    await expect(reader.getByRole('heading', { level: 1 })).toHaveText('The ferry');
    // Its scripts ran (the theme switch is an island): the nonce and its policy agree.
    await expect(reader.locator('button[data-theme-current]')).toHaveCount(1);
  }
  const edited = await page.request.put(`/api/v1/stories/${storyId}`, {
    headers: { origin: new URL(page.url()).origin },
    data: { version: 1, title: 'The ferry to Lidingö', body: 'He ran the ferry for forty years.', visibility: 'public', status: 'published' },
  });
  expect(edited.status()).toBe(200);
  await reader.reload();
  await expect(reader.getByRole('heading', { level: 1 })).toHaveText('The ferry to Lidingö');
  await guest.close();
});

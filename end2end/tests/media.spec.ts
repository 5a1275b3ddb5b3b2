// Media in the browser: the uploader island (drop zone, progress, resume), the story's
// gallery, the legacy's media page with its lightbox, caption editing, and photos
// inserted from the story editor.
import { Browser, Page } from '@playwright/test';
import {
  createLegacyAndStory,
  dropFiles,
  expect,
  expectAccessible,
  makePhoto,
  makeTone,
  makeVideo,
  signUp,
  test,
  untilProcessed,
  uploadByApi,
} from './helpers';

const PASSWORD = 'the orchard by the river';
/** Processing (thumbnails) runs in the background; it takes a moment per photo. */
const PROCESSED = { timeout: 45_000 };

async function uploaderReady(page: Page) {
  await expect(page.locator('.uploader')).toHaveAttribute('data-ready', 'true');
}

/** Signs up `name`, and opens a new story of a new legacy with its uploader ready. */
async function storyToUploadTo(page: Page, name: string, legacy: string, story: { title: string; body: string }) {
  await signUp(page, name, PASSWORD);
  const { storyId } = await createLegacyAndStory(page, legacy, story);
  await page.goto(`/stories/${storyId}`);
  await uploaderReady(page);
  return storyId!;
}

test('three photos dropped on a story upload with progress, become thumbnails and show in its gallery', async ({
  page,
  browser,
}) => {
  test.setTimeout(120_000);
  await signUp(page, 'Gardener', PASSWORD);
  const { storyId } = await createLegacyAndStory(page, 'Grandpa Leo', {
    title: 'The garden',
    body: 'He grew beans and roses.',
    visibility: 'public',
  });
  await page.goto(`/stories/${storyId}`);
  const section = page.getByRole('region', { name: 'Photos and recordings' });
  await expect(section.getByText('None yet.')).toBeVisible();
  await uploaderReady(page);

  const names = ['garden.jpg', 'kitchen.jpg', 'porch.png'];
  const photos = await Promise.all(names.map((name) => makePhoto(page, name)));
  await dropFiles(page, section.locator('.dropzone'), photos);

  const uploads = section.getByRole('list', { name: 'Uploads' });
  await expect(uploads.locator('progress')).toHaveCount(3);
  for (const name of names) {
    await expect(uploads.getByRole('progressbar', { name: `${name} upload` })).toBeVisible();
  }
  const announcements = page.getByTestId('upload-announcements');
  for (const name of names) await expect(announcements).toContainText(`${name} uploaded`);
  // Each row follows processing until its thumbnail appears.
  for (const name of names) {
    await expect(uploads.getByRole('img', { name })).toBeVisible(PROCESSED);
  }
  await expect(uploads.locator('.upload[data-state="ready"]')).toHaveCount(3);
  await expect(uploads.locator('progress').first()).toHaveAttribute('value', String(photos[0].buffer.length));
  for (const name of names) await expect(announcements).toContainText(`${name} is ready`);
  await expectAccessible(page);

  // Without a reload the story's gallery shows them, each with its caption control.
  const gallery = section.locator('.media-grid');
  await expect(gallery.getByRole('img')).toHaveCount(3);
  await expect(section.getByText('None yet.')).toHaveCount(0);
  for (const name of names) {
    await expect(gallery.locator(`.media-item[data-name="${name}"]`).getByText('Edit caption')).toBeVisible();
  }

  // After a reload too, server-rendered with a srcset.
  await page.reload();
  await expect(gallery.getByRole('img')).toHaveCount(3);
  const garden = gallery.getByRole('img', { name: 'garden.jpg' });
  await expect(garden).toHaveAttribute('srcset', /thumb-320\?[^ ]+ 320w, .*thumb-960\?[^ ]+ 960w/);
  await expect(garden).toHaveAttribute('sizes', /15rem/);
  expect(await garden.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);

  // The uploader can caption an item in place.
  const item = gallery.locator('.media-item[data-name="garden.jpg"]');
  await item.getByText('Edit caption').click();
  await item.getByLabel('Caption for garden.jpg').fill('Beans along the fence, 1971');
  await item.getByRole('button', { name: 'Save caption' }).click();
  await expect(item.getByRole('status')).toHaveText('Caption saved.');
  await expect(item.locator('figcaption')).toHaveText('Beans along the fence, 1971');
  await page.reload();
  await expect(gallery.getByRole('img', { name: 'Beans along the fence, 1971' })).toBeVisible();

  // A signed-out reader of the public story sees the gallery without JavaScript:
  // each photo is a link to the large picture.
  const guest = await (browser as Browser).newContext({ javaScriptEnabled: false });
  const reader = await guest.newPage();
  await reader.goto(`/stories/${storyId}`);
  const readerGallery = reader.locator('.media-grid');
  // Each photo's link, and its Comments link.
  await expect(readerGallery.locator('a.media-thumb')).toHaveCount(3);
  await expect(readerGallery.getByRole('link', { name: 'Comments' })).toHaveCount(3);
  const link = readerGallery.getByRole('link', { name: 'Beans along the fence, 1971' });
  const href = await link.getAttribute('href');
  expect(href).toMatch(/^\/media\/[^/]+\/(original|thumb-1920)\?/);
  expect((await reader.request.get(href!)).status()).toBe(200);
  await expect(reader.locator('.uploader')).toHaveCount(0);
  await expect(reader.getByText('Edit caption')).toHaveCount(0);
  await guest.close();
});

test('the legacy media page opens photos in a lightbox that the keyboard drives', async ({ page }) => {
  test.setTimeout(120_000);
  await signUp(page, 'Archivist', PASSWORD);
  const { legacyId } = await createLegacyAndStory(page, 'Aunt Vera');
  await page.goto(`/legacies/${legacyId}`);
  await page.getByRole('link', { name: 'Photos and recordings' }).first().click();
  await expect(page).toHaveURL(`/legacies/${legacyId}/media`);
  await expect(page.getByText('No photos or recordings yet.')).toBeVisible();
  await uploaderReady(page);

  // Legacy-level media, chosen with the file picker (the keyboard's way in).
  const names = ['one.jpg', 'two.jpg', 'three.jpg'];
  const photos = await Promise.all(names.map((name) => makePhoto(page, name, 800, 600)));
  await page.getByLabel('Choose files').setInputFiles(photos);
  const uploads = page.getByRole('list', { name: 'Uploads' });
  for (const name of names) await expect(uploads.getByRole('img', { name })).toBeVisible(PROCESSED);
  // The gallery took them in without a reload.
  const grid = page.locator('.media-grid');
  await expect(grid.getByRole('img')).toHaveCount(3);
  await expect(page.getByText('No photos or recordings yet.')).toHaveCount(0);

  await page.reload();
  await expect(grid.getByRole('img')).toHaveCount(3);
  // The grid is in upload order, which the three parallel uploads decide.
  const order = await grid.getByRole('img').evaluateAll((imgs) => imgs.map((img) => img.getAttribute('alt')));
  expect([...order].sort()).toEqual([...names].sort());
  const first = grid.getByRole('link', { name: order[0]! });
  await first.click();

  const dialog = page.getByRole('dialog', { name: 'Photo viewer' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'Close' })).toBeFocused();
  await expect(dialog.getByText('Photo 1 of 3')).toBeVisible();
  const large = dialog.getByRole('img');
  await expect(large).toHaveAttribute('alt', order[0]!);
  await expect(large).toHaveAttribute('src', /^\/media\/[^/]+\/original\?/);
  await expectAccessible(page);

  await page.keyboard.press('ArrowRight');
  await expect(dialog.getByText('Photo 2 of 3')).toBeVisible();
  await expect(large).toHaveAttribute('alt', order[1]!);
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  await expect(dialog.getByText('Photo 3 of 3')).toBeVisible();
  await expect(large).toHaveAttribute('alt', order[2]!);
  await dialog.getByRole('button', { name: 'Next' }).click();
  await expect(large).toHaveAttribute('alt', order[0]!);

  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(first).toBeFocused();

  // Opened from the keyboard too; Close gives the focus back.
  const second = grid.getByRole('link', { name: order[1]! });
  await second.focus();
  await page.keyboard.press('Enter');
  await expect(dialog).toBeVisible();
  await expect(large).toHaveAttribute('alt', order[1]!);
  await page.keyboard.press('Enter');
  await expect(dialog).toBeHidden();
  await expect(second).toBeFocused();
});

test('a part cut off by the network is sent again and the upload completes', async ({ page }) => {
  test.setTimeout(90_000);
  await signUp(page, 'Patient', PASSWORD);
  const { storyId } = await createLegacyAndStory(page, 'Cousin Ada', { title: 'The move', body: 'Boxes.' });
  let puts = 0;
  await page.route('**/uploads/*/parts/*', async (route) => {
    puts += 1;
    if (puts === 1) await route.abort('connectionreset');
    else await route.continue();
  });
  await page.goto(`/stories/${storyId}`);
  await uploaderReady(page);
  await page.getByLabel('Choose files').setInputFiles(await makePhoto(page, 'boxes.jpg'));
  const row = page.locator('.upload', { hasText: 'boxes.jpg' });
  await expect(page.getByTestId('upload-announcements')).toContainText('boxes.jpg uploaded');
  expect(puts).toBe(2);
  await expect(row.getByRole('img', { name: 'boxes.jpg' })).toBeVisible(PROCESSED);
});

test('an upload that keeps failing pauses, and Resume sends only what is missing', async ({ page }) => {
  test.setTimeout(90_000);
  await signUp(page, 'Offline', PASSWORD);
  const { storyId } = await createLegacyAndStory(page, 'Uncle Sam', { title: 'The trip', body: 'Trains.' });
  let online = false;
  let puts = 0;
  await page.route('**/uploads/*/parts/*', async (route) => {
    puts += 1;
    if (online) await route.continue();
    else await route.abort('internetdisconnected');
  });
  await page.goto(`/stories/${storyId}`);
  await uploaderReady(page);
  await page.getByLabel('Choose files').setInputFiles(await makePhoto(page, 'train.jpg'));
  const row = page.locator('.upload', { hasText: 'train.jpg' });
  // One try and three retries (1 s, 2 s, 4 s apart), then it pauses.
  await expect(row.getByText('Connection trouble — retrying…')).toBeVisible();
  await expect(row.getByText('Paused — connection lost')).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId('upload-announcements')).toContainText('train.jpg paused: connection lost');
  expect(puts).toBe(4);

  online = true;
  await row.getByRole('button', { name: 'Resume' }).click();
  await expect(page.getByTestId('upload-announcements')).toContainText('train.jpg uploaded');
  expect(puts).toBe(5);
  await expect(row.getByRole('img', { name: 'train.jpg' })).toBeVisible(PROCESSED);
});

test('a refused file says why, and Cancel stops an upload', async ({ page }) => {
  await storyToUploadTo(page, 'Careful', 'Grandma Jo', { title: 'Letters', body: 'Ink.' });
  await page.getByLabel('Choose files').setInputFiles({
    name: 'notes.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from('not a photo'),
  });
  const refused = page.locator('.upload', { hasText: 'notes.txt' });
  await expect(refused.getByText(/^Failed: text\/plain files are not accepted here/)).toBeVisible();
  await expect(page.getByTestId('upload-announcements')).toContainText('notes.txt failed: text/plain files');

  // Parts that never answer: the upload can be cancelled while it waits.
  await page.route('**/uploads/*/parts/*', () => {});
  await page.getByLabel('Choose files').setInputFiles(await makePhoto(page, 'slow.jpg'));
  const slow = page.locator('.upload', { hasText: 'slow.jpg' });
  await expect(slow.getByText(/^Uploading… \d+%$/)).toBeVisible();
  await slow.getByRole('button', { name: 'Cancel' }).click();
  await expect(slow.getByText('Cancelled')).toBeVisible();
  await expect(page.getByTestId('upload-announcements')).toContainText('slow.jpg cancelled');
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  await page.reload();
  await expect(page.locator('.media-grid')).toHaveCount(0);
});

test('the story editor uploads a photo and inserts it with a stable path', async ({ page }) => {
  test.setTimeout(90_000);
  await signUp(page, 'Illustrator', PASSWORD);
  const { storyId } = await createLegacyAndStory(page, 'Great-aunt May', { title: 'The bakery', body: 'Bread.' });
  await page.goto(`/stories/${storyId}/edit`);
  const editor = page.getByRole('textbox', { name: 'Story text' });
  await expect(editor).toBeVisible();
  await editor.click();
  await page.keyboard.press('End');

  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Insert image' }).click();
  await (await chooser).setFiles(await makePhoto(page, 'loaves.jpg', 2400, 1600));
  await expect(page.getByTestId('image-status')).toHaveText('Inserted loaves.jpg.', PROCESSED);
  const inserted = editor.getByRole('img', { name: 'loaves.jpg' });
  await expect(inserted).toHaveAttribute('src', /^\/media\/[^/?]+\/thumb-1920$/);

  await page.getByRole('button', { name: 'Publish' }).click();
  await expect(page).toHaveURL(`/stories/${storyId}`);
  const shown = page.locator('.story-body').getByRole('img', { name: 'loaves.jpg' });
  await expect(shown).toHaveAttribute('src', /^\/media\/[^/?]+\/thumb-1920$/);
  await expect.poll(() => shown.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(1920);
  // The photo also belongs to the story's media.
  await expect(page.locator('.media-grid').getByRole('img', { name: 'loaves.jpg' })).toBeVisible();
});

test('a photo that cannot be processed says why, and Retry sends it through again', async ({ page }) => {
  test.setTimeout(90_000);
  await storyToUploadTo(page, 'Restorer', 'Old Tom', { title: 'The shed', body: 'Tools.' });
  const whole = await makePhoto(page, 'broken.jpg');
  // A JPEG cut short: it looks like a photo but cannot be decoded.
  await page.getByLabel('Choose files').setInputFiles({ ...whole, buffer: whole.buffer.subarray(0, 700) });
  const row = page.locator('.upload', { hasText: 'broken.jpg' });
  await expect(row.getByText(/^Processing failed: /)).toBeVisible(PROCESSED);
  const announcements = page.getByTestId('upload-announcements');
  await expect(announcements).toContainText('broken.jpg failed: ');
  await row.getByRole('button', { name: 'Retry' }).click();
  await expect(announcements.getByText(/^broken\.jpg failed: /)).toHaveCount(2, PROCESSED);
  await expect(row.getByText(/^Processing failed: /)).toBeVisible();
});

test('without JavaScript the gallery shows media, and captions and retries are plain forms', async ({
  page,
  browser,
}) => {
  test.setTimeout(90_000);
  await signUp(page, 'Plain', PASSWORD);
  const target = await createLegacyAndStory(page, 'Great-uncle Ned', { title: 'The farm', body: 'Cows.' });
  const photo = await makePhoto(page, 'barn.jpg', 1000, 700);
  const broken = await makePhoto(page, 'blurred.jpg');
  const barnId = await uploadByApi(page, target, photo);
  const brokenId = await uploadByApi(page, target, { ...broken, buffer: broken.buffer.subarray(0, 700) });
  expect(await untilProcessed(page, barnId)).toBe('ready');
  expect(await untilProcessed(page, brokenId)).toBe('failed');

  const plain = await (browser as Browser).newContext({
    javaScriptEnabled: false,
    storageState: await page.context().storageState(),
  });
  const reader = await plain.newPage();
  await reader.goto(`/stories/${target.storyId}`);
  const gallery = reader.locator('.media-grid');
  await expect(gallery.getByRole('link', { name: 'barn.jpg' })).toHaveAttribute('href', /^\/media\/[^/]+\/original\?/);
  const failed = gallery.locator('.media-item[data-name="blurred.jpg"]');
  await expect(failed.getByText('Processing failed', { exact: true })).toBeVisible();
  await expect(failed.locator('.media-failure')).not.toBeEmpty();
  // The page says so (Chromium with scripts turned off by a test does not show <noscript>, so the markup is checked).
  expect(await reader.locator('noscript').innerHTML()).toContain('Uploading needs JavaScript.');

  const versionOf = async (id: string) => (await (await page.request.get(`/api/v1/media/${id}`)).json()).version;
  const before = await versionOf(brokenId);
  await failed.getByRole('button', { name: 'Retry processing' }).click();
  await expect(reader).toHaveURL(new RegExp(`/stories/${target.storyId}\\??$`));
  expect(await versionOf(brokenId)).toBeGreaterThan(before);

  const barn = gallery.locator('.media-item[data-name="barn.jpg"]');
  await barn.getByText('Edit caption').click();
  await barn.getByLabel('Caption for barn.jpg').fill('The red barn');
  await barn.getByRole('button', { name: 'Save caption' }).click();
  await expect(reader).toHaveURL(new RegExp(`/stories/${target.storyId}\\??$`));
  await expect(barn.locator('figcaption')).toHaveText('The red barn');
  await expect(gallery.getByRole('link', { name: 'The red barn' })).toBeVisible();
  await plain.close();
});

test('recordings and videos play in place, from their web versions', async ({ page }) => {
  test.setTimeout(120_000);
  await storyToUploadTo(page, 'Listener', 'Nana Pearl', { title: 'Her songs', body: 'Hymns.' });
  await page.getByLabel('Choose files').setInputFiles([makeTone('hymn.wav'), await makeVideo(page, 'dance.webm')]);
  const announcements = page.getByTestId('upload-announcements');
  await expect(announcements).toContainText('hymn.wav is ready', PROCESSED);
  await expect(announcements).toContainText('dance.webm is ready', PROCESSED);

  await page.reload();
  const gallery = page.locator('.media-grid');
  const audio = gallery.locator('audio');
  await expect(audio).toHaveAttribute('controls', '');
  await expect(audio).toHaveAttribute('aria-label', 'hymn.wav');
  await expect(audio).toHaveAttribute('src', /^\/media\/[^/]+\/web\?/);
  const video = gallery.locator('video');
  await expect(video).toHaveAttribute('preload', 'metadata');
  await expect(video).toHaveAttribute('src', /^\/media\/[^/]+\/web\?/);
  await expect(video).toHaveAttribute('poster', /^\/media\/[^/]+\/poster\?/);
  const played = await page.request.get((await audio.getAttribute('src'))!);
  expect(played.headers()['content-type']).toMatch(/^audio\//);
});

test('a caption being typed is kept when another upload finishes', async ({ page }) => {
  test.setTimeout(90_000);
  await signUp(page, 'Captioner', PASSWORD);
  const { legacyId } = await createLegacyAndStory(page, 'Uncle Sam');
  const first = await uploadByApi(page, { legacyId }, await makePhoto(page, 'first.jpg', 400, 300));
  await untilProcessed(page, first);
  await page.goto(`/legacies/${legacyId}/media`);
  await uploaderReady(page);

  const item = page.locator('.media-item[data-name="first.jpg"]');
  await item.getByText('Edit caption').click();
  const caption = item.getByLabel('Caption for first.jpg');
  await caption.fill('Half a thought');
  await page.getByLabel('Choose files').setInputFiles([await makePhoto(page, 'second.jpg', 400, 300)]);
  await expect(page.getByTestId('upload-announcements')).toContainText('second.jpg is ready', PROCESSED);
  // The gallery was left alone while the caption was being written…
  await expect(caption).toHaveValue('Half a thought');
  await item.getByRole('button', { name: 'Save caption' }).click();
  await expect(item.getByRole('status')).toHaveText('Caption saved.');
  // …and the new photo is there once the page is read again.
  await page.reload();
  await expect(page.locator('.media-grid').getByRole('img')).toHaveCount(2);
});

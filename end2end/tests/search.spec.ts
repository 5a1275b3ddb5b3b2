import { Page } from '@playwright/test';
import { expect, signUp, test } from './helpers';

const PASSWORD = 'the orchard by the river';

/** A word no other story in the suite contains (the suite shares one server). */
const uniqueWord = () =>
  Array.from({ length: 9 }, () => 'bcdfghjklmnpqrstvwxz'[Math.floor(Math.random() * 20)]).join('');

/** Creates a legacy and published stories through the REST API as the signed-in user. */
async function writeStories(page: Page, legacyName: string, stories: { title: string; body: string; tags: string[] }[]) {
  const origin = new URL(page.url()).origin;
  const headers = { origin };
  const legacy = await page.request.post('/api/v1/legacies', { headers, data: { name: legacyName } });
  expect(legacy.status()).toBe(201);
  const legacyId = (await legacy.json()).id as string;
  const ids: string[] = [];
  for (const story of stories) {
    const created = await page.request.post('/api/v1/stories', {
      headers,
      data: { legacy_id: legacyId, ...story, visibility: 'members', status: 'published' },
    });
    expect(created.status()).toBe(201);
    ids.push((await created.json()).id as string);
  }
  return ids;
}

/** Waits until the index has every story (indexing follows the write within moments). */
async function untilIndexed(page: Page, word: string, count: number) {
  await expect
    .poll(async () => (await (await page.request.get(`/api/v1/search?q=${word}`)).json()).total, { timeout: 10_000 })
    .toBe(count);
}

test('typing in the header box suggests stories; the keyboard picks one and opens it', async ({ page }) => {
  await signUp(page, 'Seeker', PASSWORD);
  const word = uniqueWord();
  const title = `${word[0].toUpperCase()}${word.slice(1)} orchard`;
  const [storyId] = await writeStories(page, 'Grandma Ivy', [
    { title, body: 'Apples and bees by the river.', tags: ['garden'] },
  ]);
  await untilIndexed(page, word, 1);

  await page.goto('/legacies');
  await expect(page.locator('form.site-search')).toHaveAttribute('data-ready', 'true');
  const box = page.getByRole('combobox', { name: 'Search' });
  await box.click();
  await box.pressSequentially(word.slice(0, 3), { delay: 40 });

  const listbox = page.getByRole('listbox', { name: 'Suggestions' });
  await expect(listbox).toBeVisible();
  await expect(box).toHaveAttribute('aria-expanded', 'true');
  const option = listbox.getByRole('option', { name: new RegExp(title) });
  await expect(option).toBeVisible();
  await expect(page.locator('.search-announcement')).toContainText(/suggestion/);

  // Escape closes the list; Down opens it again with the first suggestion chosen.
  await box.press('Escape');
  await expect(box).toHaveAttribute('aria-expanded', 'false');
  await expect(listbox).toBeHidden();
  await box.press('ArrowDown');
  await expect(box).toHaveAttribute('aria-expanded', 'true');
  await expect(box).toHaveAttribute('aria-activedescendant', 'site-search-option-0');
  await expect(listbox.getByRole('option').first()).toHaveAttribute('aria-selected', 'true');
  await expect(listbox.getByRole('option').first()).toContainText(title);

  await box.press('Enter');
  await expect(page).toHaveURL(`/stories/${storyId}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(title);
});

test('the results page shows highlighted matches and narrows them by tag', async ({ page }) => {
  await signUp(page, 'Finder', PASSWORD);
  const word = uniqueWord();
  await writeStories(page, 'Uncle Bram', [
    { title: 'The apple harvest', body: `We picked apples with ${word} every autumn.`, tags: ['apples'] },
    { title: 'The pear tree', body: `The old pear tree and ${word} in the yard.`, tags: ['pears'] },
  ]);
  await untilIndexed(page, word, 2);

  // The header box submits to the results page.
  await page.getByRole('combobox', { name: 'Search' }).fill(word);
  await page.getByRole('search', { name: 'Site' }).getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(`/search?q=${word}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Search');
  const hits = page.locator('.search-hit');
  await expect(hits).toHaveCount(2);
  await expect(page.locator('.hit-snippet mark').first()).toHaveText(word);
  await expect(page.getByText(`2 results for “${word}”`)).toBeVisible();

  // A tag facet narrows the search…
  const tags = page.getByRole('region', { name: 'Tags' });
  await tags.getByRole('link', { name: /pears/ }).click();
  await expect(page).toHaveURL(/tag=pears/);
  await expect(hits).toHaveCount(1);
  await expect(hits.first().getByRole('heading')).toHaveText('The pear tree');
  await expect(page.getByRole('list', { name: 'Filters in force' })).toContainText('Tag: pears');

  // …and so does the filter form.
  const form = page.getByRole('search', { name: 'Search and filter' });
  await form.getByLabel('Tag').fill('apples');
  await form.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/tag=apples/);
  await expect(hits).toHaveCount(1);
  await expect(hits.first().getByRole('link', { name: 'The apple harvest' })).toBeVisible();

  await page.getByRole('link', { name: 'Remove the filter Tag: apples' }).click();
  await expect(hits).toHaveCount(2);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the header search box is a plain form to the results page', async ({ page }) => {
    await page.goto('/');
    await page.getByRole('combobox', { name: 'Search' }).fill('nothing-like-this');
    await page.getByRole('combobox', { name: 'Search' }).press('Enter');
    await expect(page).toHaveURL('/search?q=nothing-like-this');
    await expect(page.getByText('Nothing found for “nothing-like-this”.')).toBeVisible();
  });
});

import path from 'path';
import { Browser, Page } from '@playwright/test';
import { createLegacy, expect, makePhoto, signUp, test, untilProcessed, uploadByApi } from './helpers';

const PASSWORD = 'the family tree in the attic';

/** A legacy for someone born in 1899, and the URL of its people page. */
async function legacyPeople(page: Page, name: string): Promise<string> {
  await createLegacy(page, name, '1899');
  await page.getByRole('link', { name: 'People' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('People');
  return page.url();
}

/** Adds a Howard through the people page's form; returns the new person's page. */
async function addPerson(page: Page, peopleUrl: string, given: string, sex: string, born: string, living = 'off') {
  await page.goto(peopleUrl);
  await page.getByLabel('Given names').fill(given);
  await page.getByLabel('Surname', { exact: true }).fill('Howard');
  await page.getByLabel('Sex').selectOption(sex);
  await page.getByLabel('Born', { exact: true }).fill(born);
  await page.getByLabel('Living or deceased').selectOption(living);
  await page.getByRole('button', { name: 'Add person' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`${given} Howard`);
  return page.url();
}

async function addParent(page: Page, childUrl: string, parentLabel: string) {
  await page.goto(childUrl);
  await page.getByLabel(/^Who is it to/).selectOption('parent');
  await page.getByLabel('Person', { exact: true }).selectOption({ label: parentLabel });
  await page.getByRole('button', { name: 'Add relative' }).click();
  await expect(page.locator('.flash-notice')).toHaveText('Relationship added.');
}

/**
 * Edith Howard's legacy with three generations: her children Mary (1925) and John (about
 * 1928), Mary's son Tom (born `tomBorn`, a year in 1950) and John's daughter Ann (1952).
 * Returns each one's page.
 */
async function cousins(page: Page, tomBorn: string) {
  const people = await legacyPeople(page, 'Edith Howard');
  const mary = await addPerson(page, people, 'Mary', 'female', '1925');
  const john = await addPerson(page, people, 'John', 'male', 'about 1928');
  const tom = await addPerson(page, people, 'Tom', 'male', tomBorn);
  const ann = await addPerson(page, people, 'Ann', 'female', '1952');
  await addParent(page, mary, 'Edith Howard (1899–)');
  await addParent(page, john, 'Edith Howard (1899–)');
  await addParent(page, tom, 'Mary Howard (1925–)');
  await addParent(page, ann, 'John Howard (1928–)');
  return { people, mary, john, tom, ann };
}

test('three generations are related, and cousins are named as cousins', async ({ page }) => {
  await signUp(page, 'Genealogist', PASSWORD);
  const { mary, tom, ann } = await cousins(page, '12 March 1950');

  // Mary's page: her mother, her brother (derived), her son.
  await page.goto(mary);
  const family = page.getByRole('region', { name: 'Family' });
  await expect(family.getByRole('link', { name: 'Edith Howard' })).toBeVisible();
  await expect(family.getByRole('link', { name: 'John Howard' })).toBeVisible();
  await expect(family.getByRole('link', { name: 'Tom Howard' })).toBeVisible();
  await expect(page.getByText('Born 12 March 1950')).toHaveCount(0);

  // How is Ann related to Tom?
  await page.goto(tom);
  await expect(page.getByText('Born 12 March 1950')).toBeVisible();
  await page.getByLabel('How is this person related to Tom Howard?').selectOption({ label: 'Ann Howard' });
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page.locator('.kinship-sentence')).toHaveText("Ann Howard is Tom Howard's first cousin");
  const chain = page.getByRole('list', { name: 'The chain of people between them' }).getByRole('link');
  await expect(chain).toHaveText(['Tom Howard', 'Mary Howard', 'Edith Howard', 'John Howard', 'Ann Howard']);
  await chain.nth(2).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Edith Howard');

  // "This is me": Tom's member sees how others are related to them.
  await page.goto(tom);
  await page.getByRole('button', { name: 'This is me' }).click();
  await expect(page.locator('.flash-notice')).toContainText('This person is you');
  await expect(page.getByText('This is you.')).toBeVisible();
  await page.goto(ann);
  const related = page.getByRole('region', { name: 'How Ann Howard is related to you' });
  await expect(related.locator('.kinship-sentence')).toHaveText("Ann Howard is Tom Howard's first cousin");
  await page.goto('/account');
  const you = page.getByRole('region', { name: 'You in family trees' });
  await expect(you.getByRole('link', { name: 'Tom Howard' })).toBeVisible();
  await expect(you.getByRole('link', { name: 'Edith Howard' })).toBeVisible();
});

test('the family tree is a chart to walk with the keyboard, and nested lists', async ({ page }) => {
  await signUp(page, 'Treewalker', PASSWORD);
  const { mary } = await cousins(page, '1950');

  await page.goto(mary);
  await page.getByRole('link', { name: 'Family tree' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Family tree of Mary Howard');
  const chart = page.locator('.family-chart[data-ready="true"]');
  await expect(chart).toBeVisible();
  // The chart moves the focus on the next animation frame: each check waits for it.
  const focused = () => page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? '');

  // The person the tree is about is where the keyboard starts.
  await chart.getByRole('link', { name: /^Mary Howard/ }).focus();
  await expect.poll(focused).toBe('Mary Howard (1925–), the person this tree is about');
  await page.keyboard.press('ArrowDown');
  await expect.poll(focused).toBe('Tom Howard (1950–), child');
  await page.keyboard.press('Home');
  await page.keyboard.press('ArrowUp');
  await expect.poll(focused).toBe('Edith Howard (1899–), parent');
  // Enter re-centres the tree on Edith.
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Family tree of Edith Howard');
  await expect(chart).toBeVisible();
  await chart.getByRole('link', { name: /^Edith Howard/ }).focus();
  await page.keyboard.press('ArrowDown');
  await expect.poll(focused).toBe('Mary Howard (1925–), child');
  await page.keyboard.press('ArrowRight');
  await expect.poll(focused).toBe('John Howard (1928–), child');
  await page.keyboard.press('ArrowDown');
  await expect.poll(focused).toBe('Ann Howard (1952–), grandchild');
  await page.getByRole('button', { name: 'Zoom out' }).click();
  await expect(page.locator('.chart-view')).toHaveAttribute('transform', /scale\(0\.800\)/);

  // The same relatives as nested lists: Ann under John under Edith.
  const descendants = page.getByRole('region', { name: 'Descendants' });
  await expect(descendants.locator('li', { hasText: 'John Howard' }).getByRole('link', { name: 'Ann Howard' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Ancestors' })).toContainText('No ancestors recorded.');
  // Fewer generations through the form.
  await page.getByLabel('Generations of descendants').selectOption('1');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(descendants.getByRole('link', { name: 'Mary Howard' })).toBeVisible();
  await expect(descendants.getByRole('link', { name: 'Ann Howard' })).toHaveCount(0);
});

test('an @ mention in a story links the person, and their page lists the story', async ({ page }) => {
  await signUp(page, 'Storyteller', PASSWORD);
  const people = await legacyPeople(page, 'Edith Howard');
  await addPerson(page, people, 'Mary', 'female', '1925');
  await page.goto(people.replace(/\/people$/, ''));
  await page.getByRole('link', { name: 'Write a story' }).click();
  await page.getByLabel('Title').fill('Baking day');
  const editor = page.getByRole('textbox', { name: 'Story text' });
  await expect(editor).toBeVisible();
  await editor.click();
  await page.keyboard.type('Baked by @how');
  const offered = page.getByRole('listbox', { name: 'People to mention' });
  // Both Howards are offered; another name narrows it to Mary.
  await expect(offered.getByRole('button')).toHaveText(['Edith Howard (1899–)', 'Mary Howard (1925–)']);
  for (let i = 0; i < 3; i++) await page.keyboard.press('Backspace');
  await page.keyboard.type('mar');
  await expect(offered.getByRole('button')).toHaveText(['Mary Howard (1925–)']);
  await offered.getByRole('button', { name: 'Mary Howard (1925–)' }).click();
  await expect(offered).toBeHidden();
  await expect(editor.getByRole('link', { name: 'Mary Howard' })).toBeVisible();
  await page.keyboard.type('and friends.');
  await page.getByRole('button', { name: 'Publish' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Baking day');

  await page.locator('.story-body').getByRole('link', { name: 'Mary Howard' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Mary Howard');
  const mentions = page.getByRole('region', { name: 'Mentioned in' });
  await mentions.getByRole('link', { name: 'Baking day' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Baking day');
});

test('a person is tagged in a photo, which then shows on their page, in their life and as their portrait', async ({ page }) => {
  test.setTimeout(120_000);
  await signUp(page, 'Tagger', PASSWORD);
  const people = await legacyPeople(page, 'Edith Howard');
  const legacyId = new URL(people).pathname.split('/')[2];
  const mediaId = await uploadByApi(page, { legacyId }, await makePhoto(page, 'bakery.jpg', 800, 600));
  expect(await untilProcessed(page, mediaId)).toBe('ready');

  await page.goto(`/legacies/${legacyId}/media`);
  await page.getByLabel('Tag a person in bakery.jpg').selectOption({ label: 'Edith Howard' });
  await page.getByRole('button', { name: 'Tag', exact: true }).click();
  await expect(page.locator('.flash-notice')).toHaveText('Tagged.');
  const tagged = page.getByRole('list', { name: 'People in bakery.jpg' });
  await expect(tagged.getByRole('link')).toHaveText(['Edith Howard']);
  // Everyone tagged already is not offered again.
  await expect(page.getByLabel('Tag a person in bakery.jpg')).toHaveCount(0);
  // Search finds the photo by the name of the person in it, once the index has the tag.
  const photoHits = async () =>
    (await (await page.request.get(`/api/v1/search?q=${encodeURIComponent('Edith Howard')}&type=media`)).json()).hits
      .map((hit: { id: string }) => hit.id);
  await expect.poll(photoHits, { timeout: 10_000 }).toEqual([mediaId]);
  await page.goto(`/search?q=${encodeURIComponent('Edith Howard')}&type=media`);
  await expect(page.locator('.search-hit')).toHaveCount(1);
  await expect(page.locator('.search-hit').first()).toContainText('bakery.jpg');
  await page.goto(`/legacies/${legacyId}/media`);
  await tagged.getByRole('link', { name: 'Edith Howard' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Edith Howard');
  const photos = page.getByRole('region', { name: 'Photos and recordings' });
  await expect(photos.getByRole('img', { name: 'bakery.jpg' })).toBeVisible();
  // Her life in order: the birth, then the photo (no date in the file: last, undated).
  const life = page.getByRole('region', { name: 'Life' }).getByRole('listitem');
  await expect(life).toHaveText([/^1899\s+Born$/, /^Date unknown\s+Tagged in bakery\.jpg$/]);
  await expect(page.getByRole('img', { name: 'Portrait of Edith Howard' })).toHaveCount(0);
  await page.getByLabel('Show as their portrait').selectOption({ label: 'bakery.jpg' });
  await page.getByRole('button', { name: 'Save portrait' }).click();
  await expect(page.locator('.flash-notice')).toHaveText('Portrait chosen.');
  await expect(page.getByRole('img', { name: 'Portrait of Edith Howard' })).toBeVisible();
  await expect(page.getByLabel('Show as their portrait')).toHaveValue(mediaId);

  const edith = page.url();

  await page.goto(`/legacies/${legacyId}/media`);
  await page.getByRole('button', { name: 'Remove the tag of Edith Howard' }).click();
  await expect(page.locator('.flash-notice')).toHaveText('Tag removed.');
  await expect(page.getByRole('list', { name: 'People in bakery.jpg' })).toHaveCount(0);
  // The portrait stays, and its choice still offers it.
  await page.goto(edith);
  await expect(page.getByRole('img', { name: 'Portrait of Edith Howard' })).toBeVisible();
  await expect(page.getByLabel('Show as their portrait')).toHaveValue(mediaId);
});

test('the guard rails answer with the field and change nothing', async ({ page }) => {
  await signUp(page, 'Careful', PASSWORD);
  const people = await legacyPeople(page, 'Arthur Howard');
  const child = await addPerson(page, people, 'Mary', 'female', '1925');
  await addParent(page, child, 'Arthur Howard (1899–)');

  // Arthur as Mary's child too would make him his own ancestor.
  await page.goto(child);
  await page.getByLabel(/^Who is it to/).selectOption('child');
  await page.getByLabel('Person', { exact: true }).selectOption({ label: 'Arthur Howard (1899–)' });
  await page.getByRole('button', { name: 'Add relative' }).click();
  await expect(page.locator('.field-error')).toContainText('nobody can be their own ancestor');
  await expect(page.getByRole('region', { name: 'Family' }).getByRole('link')).toHaveCount(1);

  // A date the parser does not read is refused with the forms it does.
  await page.goto(people);
  await page.getByLabel('Given names').fill('Someone');
  await page.getByLabel('Born', { exact: true }).fill('next spring');
  await page.getByRole('button', { name: 'Add person' }).click();
  await expect(page.locator('#field-birth_date-error')).toContainText('next spring');
  await expect(page.getByLabel('Given names')).toHaveValue('Someone');
  await expect(page.getByRole('list').getByRole('link', { name: 'Someone' })).toHaveCount(0);
});

test('a viewer sees "Living person" instead of a living relative', async ({ page, browser }) => {
  await signUp(page, 'Keeper', PASSWORD);
  const people = await legacyPeople(page, 'Rose Howard');
  // A name no other test uses, so search answers about this Lily alone.
  const given = `Lily${Math.random().toString(36).replace(/[^a-z]/g, '').slice(0, 6)}`;
  const lily = await addPerson(page, people, given, 'female', '1990', 'on');
  // The keeper finds her by name once the index has her.
  const hits = async (who: Page) => (await (await who.request.get(`/api/v1/search?q=${given}`)).json()).total;
  await expect.poll(() => hits(page), { timeout: 10_000 }).toBe(1);

  await page.goto(people.replace('/people', '/members'));
  await page.getByLabel('They join as').selectOption('viewer');
  await page.getByRole('button', { name: 'Create invitation link' }).click();
  const invitation = await page.locator('#invitation-url').inputValue();

  const guest = await (browser as Browser).newContext();
  const reader = await guest.newPage();
  await signUp(reader, 'Cousin', PASSWORD);
  await reader.goto(invitation);
  await reader.getByRole('button', { name: 'Join' }).click();
  await reader.goto(people);
  await expect(reader.getByRole('link', { name: 'Living person' })).toBeVisible();
  await expect(reader.getByText('Lily')).toHaveCount(0);
  await reader.goto(lily);
  await expect(reader.getByRole('heading', { level: 1 })).toHaveText('Living person');
  await expect(reader.getByText('1990')).toHaveCount(0);
  const api = await reader.request.get(lily.replace('/people/', '/api/v1/people/'));
  expect(api.status()).toBe(200);
  expect(await api.text()).not.toContain('Lily');
  // Nor does search give her away: not by name, on the results page or in the API.
  expect(await hits(reader)).toBe(0);
  await reader.goto(`/search?q=${given}`);
  await expect(reader.getByRole('heading', { level: 1 })).toHaveText('Search');
  await expect(reader.locator('.search-hit')).toHaveCount(0);
  await guest.close();
});

test('a real GEDCOM file is imported through the people page, and once only', async ({ page }) => {
  await signUp(page, 'Importer', PASSWORD);
  const people = await legacyPeople(page, 'Max Mustermann');
  const file = path.join(__dirname, '../../backend/tests/data/gedcom/Musterstammbaum.ged');
  await page.getByLabel(/^GEDCOM file/).setInputFiles(file);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  // The import runs in the background; its page follows it with a progress bar.
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Importing Musterstammbaum.ged');
  const progress = page.getByRole('progressbar', { name: 'Import progress' });
  await expect(progress).toBeVisible();
  await expect(page.locator('.import-status')).toHaveText('Import finished.');
  await expect(progress).toHaveAttribute('value', await progress.getAttribute('max') ?? '');
  await expect(page.locator('.import-summary')).toContainText('Imported 20 new people (0 updated, 0 unchanged)');
  await page.getByRole('link', { name: 'Open the people' }).click();
  await page.getByRole('link', { name: 'Florian Mustertyp' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Florian Mustertyp');
  await expect(page.getByRole('region', { name: 'Family' }).getByRole('link')).not.toHaveCount(0);

  await page.goto(people);
  await page.getByLabel(/^GEDCOM file/).setInputFiles(file);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(page.locator('.import-summary')).toContainText('Imported 0 new people (0 updated, 20 unchanged)');

  await page.goto(people);
  // A file that does not read: every problem with its line, nothing imported.
  await page.getByLabel(/^GEDCOM file/).setInputFiles({
    name: 'broken.ged',
    mimeType: 'text/plain',
    buffer: Buffer.from('0 HEAD\n1 GEDC\nnot a line\n'),
  });
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(page.locator('#field-file-error')).toContainText('line 3');
});

test('a GEDZIP archive brings its people and the photo they are in', async ({ page }) => {
  await signUp(page, 'Archivist', PASSWORD);
  await legacyPeople(page, 'Alice Gardner');
  const file = path.join(__dirname, '../../backend/tests/data/gedcom/gardner-wedding.gdz');
  await page.getByLabel(/^GEDCOM file/).setInputFiles(file);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Importing gardner-wedding.gdz');
  await expect(page.locator('.import-status')).toHaveText('Import finished.');
  await expect(page.locator('.import-summary')).toContainText('Imported 2 new people');
  await expect(page.locator('.import-summary')).toContainText('Added 1 photo or recording from the archive.');
  await page.getByRole('link', { name: 'Open the people' }).click();
  await page.getByRole('link', { name: 'Walter Gardner' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Walter Gardner');
  const photos = page.getByRole('region', { name: 'Photos and recordings' });
  await expect(photos.getByRole('listitem').filter({ hasText: 'wedding.jpg' })).toHaveCount(1);
});

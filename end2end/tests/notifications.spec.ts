import {
  createLegacyAndStory,
  emailedLink,
  expect,
  expectAccessible,
  join,
  MAILDEV,
  signUp,
  test,
  verifyEmail,
} from './helpers';

test("a mention moves the bell live, is emailed with a link to the comment, and is read from the list", async ({
  page,
  browser,
}) => {
  await signUp(page, 'Ivy', 'apples from the old orchard');
  const { legacyId, storyId } = await createLegacyAndStory(page, 'Grandma Iris', {
    title: 'The orchard',
    body: 'Forty apple trees.',
  });
  const context = await browser.newContext();
  const jo = await context.newPage();
  const joEmail = await signUp(jo, 'Jo', 'cider in the autumn');
  await verifyEmail(jo, joEmail);
  await join(page, jo, legacyId, 'viewer');

  // Jo reads the legacy's page with nothing unread; Ivy names her in a comment.
  await jo.goto(`/legacies/${legacyId}`);
  const bell = jo.getByRole('link', { name: /^Notifications, / });
  await expect(bell).toHaveAccessibleName('Notifications, none unread');
  await page.goto(`/stories/${storyId}`);
  await page.getByLabel('Add a comment').fill('@Jo do you remember the cider press?');
  await page.getByRole('button', { name: 'Comment', exact: true }).click();
  await expect(page.getByText('Your comment was added.')).toBeVisible();
  // Without a reload.
  await expect(bell).toHaveAccessibleName('Notifications, 1 unread', { timeout: 5_000 });

  // The email opens the comment.
  const link = await emailedLink(jo, joEmail, 'Open it on Heirloom');
  expect(new URL(link).pathname).toBe(`/stories/${storyId}`);
  expect(new URL(link).hash).toMatch(/^#comment-/);
  await jo.goto(link);
  await expect(jo.locator(new URL(link).hash)).toContainText('do you remember the cider press?');

  // The list: opening the notification marks it read and goes to the comment.
  await bell.click();
  await expect(jo.getByRole('heading', { level: 1 })).toHaveText('Notifications');
  await expectAccessible(jo);
  await jo.getByRole('button', { name: 'Ivy mentioned you on The orchard' }).click();
  await expect(jo).toHaveURL(new RegExp(`/stories/${storyId}#comment-`));
  await expect(jo.getByRole('link', { name: /^Notifications, / })).toHaveAccessibleName('Notifications, none unread');
  await jo.goto('/notifications');
  await expect(jo.getByRole('article', { name: 'Ivy mentioned you on The orchard' })).not.toContainText('unread');
  await expect(jo.getByRole('button', { name: 'Mark all read' })).toHaveCount(0);
  await context.close();
});

test('notification settings are chosen per kind, and an emailed unsubscribe link stops them only as signed', async ({
  page,
  browser,
}) => {
  const email = await signUp(page, 'Kit', 'letters in the attic');
  await verifyEmail(page, email);
  const { legacyId, storyId } = await createLegacyAndStory(page, 'Uncle Ken', { title: 'The attic', body: 'Boxes of letters.' });
  const context = await browser.newContext();
  const lou = await context.newPage();
  await signUp(lou, 'Lou', 'a trunk of old photographs');
  await join(page, lou, legacyId, 'viewer');

  // Kit chooses: reactions by email at once.
  await page.goto('/account');
  await page.getByRole('link', { name: 'notification settings' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Notification settings');
  await expect(page.getByLabel('Comments on what I wrote')).toHaveValue('email');
  await page.getByLabel('Reactions to what I wrote').selectOption('Email at once');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Your notification settings were saved.')).toBeVisible();
  await expect(page.getByLabel('Reactions to what I wrote')).toHaveValue('email');
  await expectAccessible(page);

  // Lou comments: Kit's email ends with the way to stop such emails.
  const headers = { origin: new URL(lou.url()).origin };
  const said = await lou.request.post(`/api/v1/stories/${storyId}/comments`, { headers, data: { body: 'Who wrote them?' } });
  expect(said.ok()).toBeTruthy();
  await emailedLink(page, email, 'Open it on Heirloom');
  const emails: { to: { address: string }[]; text: string; subject: string }[] = await (
    await page.request.get(`${MAILDEV}/api/email`)
  ).json();
  const mine = emails.filter((e) => e.to.some((t) => t.address === email));
  expect(mine.at(-1)?.subject).toBe('Lou commented on The attic');
  const stop = mine.at(-1)?.text.match(/stop these emails: (\S+)/)?.[1] ?? '';
  expect(new URL(stop).pathname).toBe('/unsubscribe');

  // Changed, the link is refused; as sent, it asks, then stops them, signed in or not.
  const stranger = await browser.newContext();
  const anyone = await stranger.newPage();
  const tampered = new URL(stop);
  tampered.searchParams.set('scope', 'reaction');
  await anyone.goto(tampered.toString());
  await expect(anyone.getByRole('alert')).toContainText('This unsubscribe link is not valid');
  await expect(anyone.getByRole('button', { name: 'Stop these emails' })).toHaveCount(0);
  await anyone.goto(stop);
  await expect(anyone.getByText('Stop emails about comments on what I wrote?')).toBeVisible();
  await expectAccessible(anyone);
  await anyone.getByRole('button', { name: 'Stop these emails' }).click();
  await expect(anyone.getByRole('status')).toContainText('You will no longer get emails about comments on what I wrote.');
  await page.goto('/account/notifications');
  await expect(page.getByLabel('Comments on what I wrote')).toHaveValue('in_app');
  await expect(page.getByLabel('Reactions to what I wrote')).toHaveValue('email');
  await stranger.close();
  await context.close();
});

test('a new account verifies its email address from the emailed link, once', async ({ page }) => {
  const email = await signUp(page, 'Mo', 'a house by the river');
  await expect(page.getByText('(not verified: Heirloom sends no news of your family there yet)')).toBeVisible();
  // Asking again within the minute is refused with the reason.
  await page.getByRole('button', { name: 'Send the verification link again' }).click();
  await expect(page.locator('.flash-error')).toContainText('Too many attempts. Try again in');
  const link = await emailedLink(page, email, 'Verify my email address');
  expect(new URL(link).pathname).toBe('/verify-email');
  await page.goto(link);
  await expectAccessible(page);
  await page.getByRole('button', { name: 'Verify my email address' }).click();
  await expect(page).toHaveURL('/account');
  await expect(page.getByText('Your email address is verified.')).toBeVisible();
  await expect(page.getByText('(verified)')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Send the verification link again' })).toHaveCount(0);
  // The link works once.
  await page.goto(link);
  await page.getByRole('button', { name: 'Verify my email address' }).click();
  await expect(page.locator('.field-error')).toContainText('This link has expired or was already used');
});

test('a member who stops following a legacy hears of no new story there until following again', async ({
  page,
  browser,
}) => {
  await signUp(page, 'Mae', 'quilts on every bed');
  const { legacyId } = await createLegacyAndStory(page, 'Aunt May');
  const context = await browser.newContext();
  const ned = await context.newPage();
  await signUp(ned, 'Ned', 'fishing at the lake');
  await join(page, ned, legacyId, 'viewer');

  await ned.goto(`/legacies/${legacyId}`);
  await expect(ned.getByText('You follow this legacy: its new stories reach your notifications.')).toBeVisible();
  await ned.getByRole('button', { name: 'Stop following' }).click();
  await expect(ned.getByText('You no longer follow this legacy')).toBeVisible();
  await expect(ned.getByRole('button', { name: 'Follow', exact: true })).toBeVisible();
  await expectAccessible(ned);

  const publish = async (title: string) => {
    const created = await page.request.post('/api/v1/stories', {
      headers: { origin: new URL(page.url()).origin },
      data: { legacy_id: legacyId, title, body: 'Stitched by hand.', visibility: 'members', status: 'published' },
    });
    expect(created.status()).toBe(201);
  };
  await publish('The wedding quilt');
  await ned.getByRole('button', { name: 'Follow', exact: true }).click();
  await expect(ned.getByText('Following: new stories in this legacy will reach your notifications.')).toBeVisible();
  await publish('The star quilt');

  // Told of the story published while following, and only of it (events are told in order).
  const bell = ned.getByRole('link', { name: /^Notifications, / });
  await expect(bell).toHaveAccessibleName('Notifications, 1 unread', { timeout: 5_000 });
  await bell.click();
  await expect(ned.getByRole('article', { name: 'Mae published The star quilt in Aunt May' })).toBeVisible();
  await expect(ned.getByText('The wedding quilt')).toHaveCount(0);
  await context.close();
});

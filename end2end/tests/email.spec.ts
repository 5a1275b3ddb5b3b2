import { createLegacy, emailedLink, expect, signUp, test, unique, verifyEmail } from './helpers';

test('a forgotten password is reset from the emailed link, which works once and signs out everywhere else', async ({
  page,
  browser,
}) => {
  const email = await signUp(page, 'Forgetful', 'the password I forgot');

  const context = await browser.newContext();
  const other = await context.newPage();
  await other.goto('/signin');
  await other.getByRole('link', { name: 'Forgot your password?' }).click();
  await expect(other.getByRole('heading', { level: 1 })).toHaveText('Forgot your password?');
  await other.getByLabel('Email').fill('not an address');
  await other.getByRole('button', { name: 'Email me a link' }).click();
  await expect(other.locator('#field-email-error')).toContainText('must be an email address');
  await other.getByLabel('Email').fill(email);
  await other.getByRole('button', { name: 'Email me a link' }).click();
  await expect(other.getByRole('status').or(other.getByRole('alert')).first()).toContainText('is on its way');

  const link = await emailedLink(other, email, 'Choose a new password');
  expect(new URL(link).pathname).toBe('/reset-password');
  await other.goto(link);
  await other.getByLabel('New password', { exact: true }).fill('short');
  await other.getByRole('button', { name: 'Save password' }).click();
  await expect(other.getByText('at least 8 characters').first()).toBeVisible();
  await other.getByLabel('New password', { exact: true }).fill('a brand new passphrase');
  await other.getByRole('button', { name: 'Save password' }).click();
  await expect(other).toHaveURL('/account');
  await expect(other.getByText('Your password was changed')).toBeVisible();

  // The browser signed in before the reset is signed out; the link does not work twice.
  await page.goto('/account');
  await expect(page).toHaveURL(/\/signin/);
  await other.goto(link);
  await other.getByLabel('New password', { exact: true }).fill('yet another passphrase');
  await other.getByRole('button', { name: 'Save password' }).click();
  await expect(other.locator('.field-error')).toContainText('This link has expired or was already used');
  await expect(other.getByRole('link', { name: 'Ask for a new link' })).toBeVisible();
  await context.close();
});

test('an invitation emailed from the members page joins the legacy through its link', async ({ page, browser }) => {
  await signUp(page, 'Inviter', 'the family tree in the attic');
  const legacyUrl = await createLegacy(page, 'Grandpa Joe', '1920');
  await page.getByRole('link', { name: 'Members' }).click();
  const cousin = unique('cousin');
  await page.getByLabel('They join as').selectOption('contributor');
  await page.getByLabel('Their email (optional)').fill(cousin);
  await page.getByRole('button', { name: 'Create invitation link' }).click();
  await expect(page.getByText(`It was emailed to ${cousin}.`)).toBeVisible();

  const link = await emailedLink(page, cousin, 'Join the legacy');
  const context = await browser.newContext();
  const guest = await context.newPage();
  await signUp(guest, 'Cousin', 'another good passphrase', cousin);
  await guest.goto(link);
  await expect(guest.getByRole('heading', { level: 1 })).toHaveText('Join Grandpa Joe');
  await guest.getByRole('button', { name: 'Join' }).click();
  await expect(guest).toHaveURL(legacyUrl);
  await expect(guest.getByRole('link', { name: 'Write a story' })).toBeVisible();
  await context.close();
});

test("an invitation to an account's verified address moves its bell, and the notification opens it to join", async ({
  page,
  browser,
}) => {
  const context = await browser.newContext();
  const cousin = await context.newPage();
  const cousinEmail = await signUp(cousin, 'Nell', 'the boat on the lake');
  await verifyEmail(cousin, cousinEmail);
  await cousin.goto('/');
  const bell = cousin.getByRole('link', { name: /^Notifications, / });
  await expect(bell).toHaveAccessibleName('Notifications, none unread');

  await signUp(page, 'Otis', 'the cabin by the lake');
  const legacyUrl = await createLegacy(page, 'Great-aunt May', '1910');
  await page.getByRole('link', { name: 'Members' }).click();
  await page.getByLabel('They join as').selectOption('viewer');
  await page.getByLabel('Their email (optional)').fill(cousinEmail);
  await page.getByRole('button', { name: 'Create invitation link' }).click();
  await expect(page.getByText(`It was emailed to ${cousinEmail}.`)).toBeVisible();

  // Without a reload; the notification opens the invitation (she is not a member yet).
  await expect(bell).toHaveAccessibleName('Notifications, 1 unread', { timeout: 5_000 });
  await bell.click();
  await cousin.getByRole('button', { name: 'Otis invited you to join Great-aunt May' }).click();
  await expect(cousin).toHaveURL(/\/invitations\//);
  await expect(cousin.getByRole('heading', { level: 1 })).toHaveText('Join Great-aunt May');
  await expect(cousin.getByText('You are invited to join as viewer.')).toBeVisible();
  await cousin.getByRole('button', { name: 'Join' }).click();
  await expect(cousin).toHaveURL(legacyUrl);
  await expect(cousin.getByText('Welcome! You are now a member of this legacy.')).toBeVisible();
  await context.close();
});

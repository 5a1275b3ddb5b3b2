import { Page } from '@playwright/test';
import { expect, signUp as signUpAs, test, unique } from './helpers';

const PASSWORD = 'my grandmother kept bees';

const signUp = (page: Page, email: string, name = 'Ana Test') => signUpAs(page, name, PASSWORD, email);

async function signOut(page: Page) {
  await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).click();
}

test('password sign-up, sign-out, wrong password and sign-in', async ({ page, request }) => {
  const email = unique('ana');
  await signUp(page, email);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your account');
  await expect(page.getByTestId('profile-email')).toHaveText(email);
  await expect(page.getByRole('banner').getByRole('link', { name: 'Ana Test' })).toBeVisible();

  const me = await page.request.get('/api/v1/me');
  expect(me.status()).toBe(200);
  expect((await me.json()).email).toBe(email);

  await signOut(page);
  await expect(page).toHaveURL('/signin');
  await expect(page.getByRole('status')).toHaveText('You are signed out.');
  expect((await page.request.get('/api/v1/me')).status()).toBe(401);

  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('not my password');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('alert')).toHaveText('Email or password is incorrect.');
  await expect(page.getByLabel('Email')).toHaveValue(email);

  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL('/');
  await expect(page.getByRole('banner').getByRole('link', { name: 'Ana Test' })).toBeVisible();
});

test('the account page sends a signed-out reader to sign in and back', async ({ page }) => {
  const email = unique('guard');
  await signUp(page, email, 'Guard Test');
  await signOut(page);
  await page.goto('/account');
  await expect(page).toHaveURL('/signin?next=%2Faccount');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL('/account');
});

test('bad sign-up input is explained beside each field', async ({ page }) => {
  await page.goto('/signup');
  await page.getByLabel('Email').fill('not-an-email');
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL('/signup');
  await expect(page.getByRole('alert')).toContainText('Please correct');
  await expect(page.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#field-email-error')).toHaveText('must look like name@example.org');
  await expect(page.locator('#field-password-error')).toHaveText('must be at least 8 characters');
  await expect(page.locator('#field-display_name-error')).toHaveText('is required');
});

test('another browser can be signed out from the account page', async ({ page, browser }) => {
  const email = unique('two');
  await signUp(page, email, 'Two Browsers');
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await otherPage.goto('/signin');
  await otherPage.getByLabel('Email').fill(email);
  await otherPage.getByLabel('Password').fill(PASSWORD);
  await otherPage.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(otherPage).toHaveURL('/');

  await page.reload();
  await expect(page.locator('.session')).toHaveCount(2);
  await page.getByRole('button', { name: 'Sign out everywhere else' }).click();
  await expect(page.getByRole('status')).toHaveText('Signed out 1 other session(s).');
  await expect(page.locator('.session')).toHaveCount(1);

  await otherPage.goto('/account');
  await expect(otherPage).toHaveURL(/\/signin/);
  await other.close();
});

test('OpenID Connect sign-in through a real provider, and sign-out there too', async ({ page }) => {
  await page.goto('/signin');
  await page.getByRole('link', { name: 'Sign in with Test Provider' }).click();

  // oidc-provider's own login and consent pages.
  await page.locator('input[name="login"]').fill('oidc-erin');
  await page.locator('input[name="password"]').fill('anything');
  await page.locator('button[type="submit"]').click();
  await page.locator('button[type="submit"]').click();

  await expect(page).toHaveURL('/');
  const me = await page.request.get('/api/v1/me');
  expect((await me.json()).email).toBe('oidc-erin@example.org');
  await expect(page.getByRole('banner').getByRole('link', { name: 'Test oidc-erin' })).toBeVisible();

  // Sign-out goes through the provider's end-session page, then back to Heirloom signed out.
  await signOut(page);
  await expect(page).toHaveURL(/\/session\/end/);
  await page.locator('button[autofocus], button[type="submit"]').first().click();
  await expect(page).toHaveURL(/\/signin\?signed_out=1/);
  expect((await page.request.get('/api/v1/me')).status()).toBe(401);

  // Nothing signs the browser back in on its own.
  await page.goto('/');
  await expect(page.getByRole('banner').getByRole('link', { name: 'Sign in' })).toBeVisible();
});

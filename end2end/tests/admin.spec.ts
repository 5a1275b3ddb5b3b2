import { ADMIN } from '../global-setup';
import { expect, signUp, test } from './helpers';

async function signInAsAdmin(page: import('@playwright/test').Page) {
  await page.goto('/signin');
  await page.getByLabel('Email').fill(ADMIN.email);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL('/');
}

test('an admin registers a webhook and follows its delivery in the log', async ({ page }) => {
  await signInAsAdmin(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Deliveries');
  await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Webhooks' }).click();

  // A loopback address is refused, with the reason, and the form keeps what was typed.
  await page.getByLabel('URL').fill('http://127.0.0.1:9/hook');
  await page.getByLabel('Event types').fill('LegacyCreated');
  await page.getByRole('button', { name: 'Add webhook' }).click();
  await expect(page.getByRole('alert').first()).toContainText('loopback');
  await expect(page.getByLabel('URL')).toHaveValue('http://127.0.0.1:9/hook');

  const target = `https://hooks-${Date.now()}.example.com/heirloom`;
  await page.getByLabel('URL').fill(target);
  await page.getByRole('button', { name: 'Add webhook' }).click();
  await expect(page.locator('.flash')).toContainText('signing secret, shown only this once: whsec_');
  await expect(page.getByRole('listitem').filter({ hasText: target })).toBeVisible();

  // A write produces an event, the event a delivery (which fails here: no internet).
  await page.goto('/legacies');
  await page.getByLabel('Name', { exact: true }).fill('Webhook Test Legacy');
  await page.getByRole('button', { name: 'Create legacy' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Webhook Test Legacy');

  const host = new URL(target).host;
  await expect(async () => {
    await page.goto(`/admin/deliveries?target=${host}`);
    await expect(page.getByRole('row').filter({ hasText: target })).toHaveCount(1);
  }).toPass({ timeout: 10_000 });
  await page.getByRole('row').filter({ hasText: target }).getByRole('link').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`POST ${target}`);
  await expect(page.getByText('x-heirloom-signature: t=')).toBeVisible();

  // The chain shows what set the delivery off: the request that created the legacy, its
  // event, and the call the webhook consumer made for it, each under its cause.
  await expect(page.getByRole('heading', { name: 'Chain', level: 2 })).toBeVisible();
  await expect(page.getByText('Began with request')).toBeVisible();
  const chain = page.getByRole('list', { name: 'Events in causal order' });
  await expect(chain.getByRole('listitem').first()).toContainText('LegacyCreated');
  await expect(chain.getByRole('listitem').first()).toContainText('written by the request');
  // (Every active webhook, one from an earlier run of this test too, gets its own call.)
  await expect(chain.getByRole('listitem').filter({ hasText: 'CallSubmitted' }).first()).toContainText('caused by');

  // Filters that match nothing say so.
  await page.goto('/admin/deliveries?status=succeeded&target=nowhere.example');
  await expect(page.getByText('No calls match.')).toBeVisible();
  await page.goto('/admin/dead-letters');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Failed events');
});

test('members cannot open the admin pages', async ({ page }) => {
  await signUp(page, 'Member', 'a long enough password');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' })).toHaveCount(0);
  const response = await page.goto('/admin/deliveries');
  expect(response?.status()).toBe(403);
  await expect(page.getByRole('alert')).toContainText('Only administrators');
});

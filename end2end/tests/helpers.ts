import { expect, Page } from '@playwright/test';

/** An email no other test uses: the suite shares one server and database. */
export const unique = (name: string) => `${name}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.org`;

/** Signs up through the form as `name` with `password`; lands on the account page. */
export async function signUp(page: Page, name: string, password: string, email = unique(name.toLowerCase())) {
  await page.goto('/signup');
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL('/account');
  return email;
}

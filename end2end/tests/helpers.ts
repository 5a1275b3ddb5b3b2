import { expect, Page, test as base } from '@playwright/test';

export { expect };

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

/**
 * The suite's `test`: every page it opens reports Content-Security-Policy violations,
 * and a test fails if there was any.
 */
export const test = base.extend<{ cspViolations: string[] }>({
  cspViolations: [
    async ({ context }, use) => {
      const violations: string[] = [];
      await context.exposeFunction('__reportCspViolation', (text: string) => violations.push(text));
      await context.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) => {
          (window as unknown as { __reportCspViolation: (t: string) => void }).__reportCspViolation(
            `${e.violatedDirective} blocked ${e.blockedURI || 'inline'} on ${e.documentURI}`,
          );
        });
      });
      context.on('console', (message) => {
        if (message.type() === 'error' && message.text().includes('Content Security Policy')) {
          violations.push(message.text());
        }
      });
      await use(violations);
      expect(violations, 'Content-Security-Policy violations').toEqual([]);
    },
    { auto: true },
  ],
});

import AxeBuilder from '@axe-core/playwright';
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
export const test = base.extend<{ cspViolations: string[]; accessibility: void }>({
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
  // Every page a test ends on is checked with axe in the light and the dark theme.
  accessibility: [
    async ({ page, javaScriptEnabled }, use) => {
      await use();
      // axe runs as JavaScript in the page; no-JavaScript tests are covered by their JS twins.
      if (javaScriptEnabled && page.url().startsWith('http')) await expectAccessible(page);
    },
    { auto: true },
  ],
});

/** Fails on any serious or critical axe finding, in both colour schemes. */
export async function expectAccessible(page: Page) {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
    const serious = results.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}) on ${page.url()} [${colorScheme}]: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    expect(serious, 'serious or critical accessibility violations').toEqual([]);
  }
}

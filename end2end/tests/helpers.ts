import AxeBuilder from '@axe-core/playwright';
import { createHash } from 'node:crypto';
import { expect, Locator, Page, test as base } from '@playwright/test';

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

/** The maildev that takes the e2e server's email (its web API). */
export const MAILDEV = `http://127.0.0.1:${process.env.E2E_MAILDEV_WEB_PORT ?? 3112}`;

/** The link of the newest email to `to` that has a line starting with `label: `. */
export async function emailedLink(page: Page, to: string, label: string): Promise<string> {
  let link = '';
  await expect
    .poll(
      async () => {
        const emails: { to: { address: string }[]; text: string }[] = await (await page.request.get(`${MAILDEV}/api/email`)).json();
        const mine = emails.filter((e) => e.to.some((t) => t.address === to));
        const line = mine
          .reverse()
          .map((e) => e.text.split('\n').find((l) => l.startsWith(`${label}: `)))
          .find((l) => l !== undefined);
        link = line?.slice(label.length + 2) ?? '';
        return link;
      },
      { timeout: 15_000 },
    )
    .not.toBe('');
  return link;
}

/** Verifies the address `email` of the signed-in `page` through the link emailed at sign-up. */
export async function verifyEmail(page: Page, email: string) {
  await page.goto(await emailedLink(page, email, 'Verify my email address'));
  await page.getByRole('button', { name: 'Verify my email address' }).click();
  await expect(page.getByText('Your email address is verified.')).toBeVisible();
}

/** `guest` joins the legacy through an invitation `owner` makes with the API. */
export async function join(owner: Page, guest: Page, legacyId: string, role: string) {
  const headers = { origin: new URL(owner.url()).origin };
  const invitation = await owner.request.post(`/api/v1/legacies/${legacyId}/invitations`, { headers, data: { role } });
  expect(invitation.ok()).toBeTruthy();
  const token = (await invitation.json()).token as string;
  const accepted = await guest.request.post(`/api/v1/invitations/${token}/accept`, { headers, data: {} });
  expect(accepted.ok()).toBeTruthy();
}

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

/** Creates a legacy with the page's form, as a person would, and returns its URL. */
export async function createLegacy(page: Page, name: string, born: string): Promise<string> {
  await page.goto('/legacies');
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Born').fill(born);
  await page.getByRole('button', { name: 'Create legacy' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
  return page.url();
}

/** Creates a legacy and (optionally) a published story in it through the REST API, as the signed-in user. */
export async function createLegacyAndStory(
  page: Page,
  legacyName: string,
  story?: { title: string; body: string; visibility?: 'members' | 'public' | 'private' },
) {
  const origin = new URL(page.url()).origin;
  const headers = { origin };
  const legacy = await page.request.post('/api/v1/legacies', { headers, data: { name: legacyName } });
  expect(legacy.status()).toBe(201);
  const legacyId = (await legacy.json()).id as string;
  let storyId: string | undefined;
  if (story) {
    const created = await page.request.post('/api/v1/stories', {
      headers,
      data: { legacy_id: legacyId, tags: [], visibility: 'members', status: 'published', ...story },
    });
    expect(created.status()).toBe(201);
    storyId = (await created.json()).id as string;
  }
  return { legacyId, storyId };
}

/** A photo drawn on a canvas in the page: a JPEG (or PNG) named `name`, as Playwright's file payload. */
export async function makePhoto(page: Page, name: string, width = 1200, height = 800) {
  const type = name.endsWith('.png') ? 'image/png' : 'image/jpeg';
  const base64 = await page.evaluate(
    async ({ name, width, height, type }) => {
      const canvas = document.createElement('canvas');
      canvas.width = width;
      canvas.height = height;
      const ctx = canvas.getContext('2d')!;
      let hue = 0;
      for (const c of name) hue = (hue * 31 + c.charCodeAt(0)) % 360;
      const gradient = ctx.createLinearGradient(0, 0, width, height);
      gradient.addColorStop(0, `hsl(${hue}, 70%, 55%)`);
      gradient.addColorStop(1, `hsl(${(hue + 120) % 360}, 60%, 35%)`);
      ctx.fillStyle = gradient;
      ctx.fillRect(0, 0, width, height);
      ctx.fillStyle = '#fff';
      ctx.font = `${Math.round(height / 8)}px sans-serif`;
      ctx.fillText(name, width / 20, height / 2);
      const blob = await new Promise<Blob>((resolve) => canvas.toBlob((b) => resolve(b!), type, 0.85));
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let binary = '';
      for (const b of bytes) binary += String.fromCharCode(b);
      return btoa(binary);
    },
    { name, width, height, type },
  );
  return { name, mimeType: type, buffer: Buffer.from(base64, 'base64') };
}

/** Drops files on `target` the way a browser does for a drag from the desktop (a DataTransfer with Files). */
export async function dropFiles(page: Page, target: Locator, files: { name: string; mimeType: string; buffer: Buffer }[]) {
  const payload = files.map((f) => ({ name: f.name, type: f.mimeType, base64: f.buffer.toString('base64') }));
  const dataTransfer = await page.evaluateHandle((files) => {
    const dt = new DataTransfer();
    for (const f of files) {
      const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], f.name, { type: f.type }));
    }
    return dt;
  }, payload);
  await target.dispatchEvent('dragenter', { dataTransfer });
  await target.dispatchEvent('dragover', { dataTransfer });
  await target.dispatchEvent('drop', { dataTransfer });
}

/** Uploads a file through the REST API as the signed-in user (no uploader island); returns the media id. */
export async function uploadByApi(
  page: Page,
  target: { legacyId: string; storyId?: string },
  file: { name: string; mimeType: string; buffer: Buffer },
) {
  const origin = new URL(page.url()).origin;
  const sha256 = createHash('sha256').update(file.buffer).digest('hex');
  const asked = await page.request.post('/api/v1/uploads', {
    headers: { origin },
    data: {
      legacy_id: target.legacyId,
      story_id: target.storyId,
      file_name: file.name,
      size: file.buffer.length,
      content_type: file.mimeType,
      sha256,
    },
  });
  expect(asked.status()).toBe(201);
  const ticket = await asked.json();
  for (const part of ticket.parts) {
    const bytes = file.buffer.subarray(part.offset, part.offset + part.size);
    const put = await page.request.put(part.url, { headers: { origin }, data: bytes });
    expect(put.status()).toBe(204);
  }
  const done = await page.request.post(`/api/v1/uploads/${ticket.media_id}/complete`, { headers: { origin } });
  expect(done.status()).toBe(200);
  return ticket.media_id as string;
}

/** Waits until processing has decided about a media item; returns its state. */
export async function untilProcessed(page: Page, mediaId: string) {
  let state = '';
  await expect
    .poll(
      async () => {
        state = (await (await page.request.get(`/api/v1/media/${mediaId}`)).json()).state;
        return ['ready', 'failed', 'rejected'].includes(state);
      },
      { timeout: 45_000 },
    )
    .toBe(true);
  return state;
}

/** A second of a 440 Hz tone as a WAV file. */
export function makeTone(name: string) {
  const rate = 8000;
  const samples = rate;
  const buffer = Buffer.alloc(44 + samples * 2);
  buffer.write('RIFF', 0);
  buffer.writeUInt32LE(36 + samples * 2, 4);
  buffer.write('WAVEfmt ', 8);
  buffer.writeUInt32LE(16, 16);
  buffer.writeUInt16LE(1, 20); // PCM
  buffer.writeUInt16LE(1, 22); // mono
  buffer.writeUInt32LE(rate, 24);
  buffer.writeUInt32LE(rate * 2, 28);
  buffer.writeUInt16LE(2, 32);
  buffer.writeUInt16LE(16, 34);
  buffer.write('data', 36);
  buffer.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) {
    buffer.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 12000), 44 + i * 2);
  }
  return { name, mimeType: 'audio/wav', buffer };
}

/** A short WebM video recorded from a canvas in the page. */
export async function makeVideo(page: Page, name: string) {
  const base64 = await page.evaluate(async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 320;
    canvas.height = 240;
    const ctx = canvas.getContext('2d')!;
    const recorder = new MediaRecorder(canvas.captureStream(10), { mimeType: 'video/webm' });
    const chunks: Blob[] = [];
    recorder.ondataavailable = (e) => chunks.push(e.data);
    let frame = 0;
    const draw = () => {
      ctx.fillStyle = `hsl(${(frame * 24) % 360}, 70%, 50%)`;
      ctx.fillRect(0, 0, 320, 240);
      frame += 1;
    };
    draw();
    recorder.start(100);
    const timer = setInterval(draw, 100);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const stopped = new Promise((resolve) => (recorder.onstop = resolve));
    recorder.stop();
    await stopped;
    clearInterval(timer);
    const bytes = new Uint8Array(await new Blob(chunks, { type: 'video/webm' }).arrayBuffer());
    let binary = '';
    for (const b of bytes) binary += String.fromCharCode(b);
    return btoa(binary);
  });
  return { name, mimeType: 'video/webm', buffer: Buffer.from(base64, 'base64') };
}

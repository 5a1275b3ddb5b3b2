// Browser tests against the real release binary, in Debian's Chromium.
// `make test-e2e` sets E2E_BIN and LEPTOS_SITE_ROOT; the server gets a fresh data folder.
import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const port = Number(process.env.E2E_PORT ?? 3107);
const baseURL = `http://127.0.0.1:${port}`;
// A real OpenID provider (end2end/oidc/provider.mjs) beside the app.
const oidcPort = Number(process.env.E2E_OIDC_PORT ?? 3108);
const oidcIssuer = `http://127.0.0.1:${oidcPort}`;
// A local Todoist (end2end/todoist/fake-todoist.mjs) and a second Heirloom connected to
// it for the tips tests: that one lets outbound calls reach loopback (where the fake is),
// which the first one refuses (the admin tests check the refusal).
const todoistPort = Number(process.env.E2E_TODOIST_PORT ?? 3109);
const todoistBase = `http://127.0.0.1:${todoistPort}`;
const tipsPort = Number(process.env.E2E_TIPS_PORT ?? 3110);
const tipsBaseURL = `http://127.0.0.1:${tipsPort}`;
// A real SMTP server with an API to read what arrived (npm maildev), for the emails.
const maildevSmtpPort = Number(process.env.E2E_MAILDEV_SMTP_PORT ?? 3111);
const maildevWebPort = Number(process.env.E2E_MAILDEV_WEB_PORT ?? 3112);
const bin = process.env.E2E_BIN ?? '../target/release/heirloom';
const siteRoot = process.env.LEPTOS_SITE_ROOT ?? '../target/site';

/** A Heirloom on `url`'s port with a fresh data folder and `settings` (HEIRLOOM_* variables). */
function heirloom(url: string, settings: Record<string, string>) {
  return {
    command: `${bin} serve`,
    url: `${url}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore' as const,
    stderr: 'pipe' as const,
    env: {
      LEPTOS_SITE_ADDR: new URL(url).host,
      LEPTOS_SITE_ROOT: siteRoot,
      LEPTOS_ENV: 'PROD',
      HEIRLOOM_DATA_DIR: mkdtempSync(join(tmpdir(), 'heirloom-e2e-')),
      HEIRLOOM_PUBLIC_URL: url,
      ...settings,
    },
  };
}

export default defineConfig({
  testDir: './tests',
  globalSetup: './global-setup.ts',
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  // One retry in CI, reported as "flaky" in the summary: a page now and then arrives with
  // the locked-down CSP of non-page responses instead of its nonce policy (about one run
  // in four, seen 2026-12-06 on the story history and legacy pages; not yet understood,
  // see app/src/request.rs set_page_security_policy, which now logs when it cannot set it).
  retries: process.env.CI ? 1 : 0,
  workers: 2,
  reporter: [['list']],
  timeout: 30_000,
  use: {
    baseURL,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
  webServer: [{
    command: 'node oidc/provider.mjs',
    url: `${oidcIssuer}/.well-known/openid-configuration`,
    reuseExistingServer: false,
    timeout: 30_000,
    stdout: 'ignore',
    stderr: 'ignore',
    env: {
      OIDC_PORT: String(oidcPort),
      OIDC_REDIRECT_URIS: `${baseURL}/auth/oidc/test/callback`,
      OIDC_POST_LOGOUT_URIS: `${baseURL}/signin?signed_out=1`,
    },
  }, {
    command: `../node_modules/.bin/maildev --ip 127.0.0.1 --smtp ${maildevSmtpPort} --web ${maildevWebPort} \
      --mail-directory ${mkdtempSync(join(tmpdir(), 'heirloom-e2e-mail-'))}`,
    url: `http://127.0.0.1:${maildevWebPort}/api/email`,
    reuseExistingServer: false,
    timeout: 30_000,
    stdout: 'ignore',
    stderr: 'pipe',
  }, {
    command: 'node todoist/fake-todoist.mjs',
    url: `${todoistBase}/health`,
    reuseExistingServer: false,
    timeout: 30_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      TODOIST_PORT: String(todoistPort),
      TODOIST_REDIRECT_URI: `${tipsBaseURL}/connectors/todoist/callback`,
    },
  },
  heirloom(baseURL, {
    // The whole suite writes from one address (the feed's test seeds 200 stories).
    HEIRLOOM_WRITES_PER_MINUTE_PER_IP: '10000',
    HEIRLOOM_SMTP_URL: `smtp://127.0.0.1:${maildevSmtpPort}`,
    HEIRLOOM_OIDC_PROVIDERS: `[{ id = "test", name = "Test Provider", issuer = "${oidcIssuer}", client_id = "heirloom", client_secret = "heirloom-test-secret" }]`,
  }),
  heirloom(tipsBaseURL, {
    HEIRLOOM_TODOIST_CLIENT_ID: 'heirloom-e2e-client',
    HEIRLOOM_TODOIST_CLIENT_SECRET: 'heirloom-e2e-secret',
    HEIRLOOM_TODOIST_AUTH_URL: todoistBase,
    HEIRLOOM_TODOIST_API_URL: `${todoistBase}/rest/v2`,
    HEIRLOOM_CALLS_ALLOW_PRIVATE_NETWORKS: 'true',
  })],
});

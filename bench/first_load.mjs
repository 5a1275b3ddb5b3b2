// First-load transferred bytes of one page in Chromium, for bench/run.py.
//
//   node bench/first_load.mjs <url>        (BENCH_COOKIE="name=value; …" to load it signed in)
//
// Opens the page in a fresh browser context (empty cache, no service worker), waits for
// the load event, for the islands to hydrate (an element with [data-ready], up to 10 s)
// and for the network to go idle, then prints one JSON line: what Chromium received per
// resource type as reported by the DevTools protocol — `encodedDataLength` of
// Network.loadingFinished (bytes on the wire, headers included, after any compression)
// and the decoded body bytes (the sum of Network.dataReceived) — plus the
// Content-Encoding of each response, so compression (or its absence) is measured, not
// assumed. Without /usr/bin/chromium it prints {"skipped": "…"} and exits 0.

import { existsSync } from 'node:fs';
import { chromium } from '@playwright/test';

const CHROMIUM = '/usr/bin/chromium';
const HYDRATION_TIMEOUT_MS = 10_000;

const url = process.argv[2];
if (!url) {
  console.error('usage: node bench/first_load.mjs <url>');
  process.exit(2);
}
if (!existsSync(CHROMIUM)) {
  console.log(JSON.stringify({ skipped: `${CHROMIUM} is missing (scripts/test-tools.sh installs it)` }));
  process.exit(0);
}

/** The group a response is counted in: WASM is told apart from other fetches by its type. */
function group(type, mimeType, responseUrl) {
  if (mimeType === 'application/wasm' || new URL(responseUrl).pathname.endsWith('.wasm')) return 'WASM';
  if (type === 'XHR' || type === 'Fetch') return 'Fetch';
  if (['Document', 'Script', 'Stylesheet', 'Image'].includes(type)) return type;
  return 'Other';
}

/** "a=1; b=2" as Playwright cookies for the page's origin. */
function cookies(header, origin) {
  return header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair.includes('='))
    .map((pair) => {
      const at = pair.indexOf('=');
      return { name: pair.slice(0, at), value: pair.slice(at + 1), url: origin };
    });
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
try {
  const context = await browser.newContext();
  const cookieHeader = process.env.BENCH_COOKIE || '';
  if (cookieHeader) await context.addCookies(cookies(cookieHeader, new URL(url).origin));
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');

  // requestId → what is known of it so far.
  const requests = new Map();
  const entry = (id) => {
    if (!requests.has(id)) requests.set(id, { decoded: 0, encoded: null, failed: false });
    return requests.get(id);
  };
  cdp.on('Network.responseReceived', ({ requestId, type, response }) => {
    const headers = Object.fromEntries(Object.entries(response.headers).map(([k, v]) => [k.toLowerCase(), v]));
    Object.assign(entry(requestId), {
      group: group(type, response.mimeType, response.url),
      url: response.url,
      status: response.status,
      encoding: headers['content-encoding'] || 'identity',
    });
  });
  cdp.on('Network.dataReceived', ({ requestId, dataLength }) => { entry(requestId).decoded += dataLength; });
  cdp.on('Network.loadingFinished', ({ requestId, encodedDataLength }) => {
    entry(requestId).encoded = encodedDataLength;
  });
  cdp.on('Network.loadingFailed', ({ requestId }) => { entry(requestId).failed = true; });

  const started = Date.now();
  await page.goto(url, { waitUntil: 'load' });
  let hydrated = true;
  try {
    await page.waitForSelector('[data-ready]', { state: 'attached', timeout: HYDRATION_TIMEOUT_MS });
  } catch {
    hydrated = false;
  }
  await page.waitForLoadState('networkidle');
  const settledMs = Date.now() - started;

  const byType = {};
  const encodings = {};
  let documentStatus = null;
  const total = { encoded_bytes: 0, decoded_bytes: 0, requests: 0 };
  for (const r of requests.values()) {
    if (r.encoded === null || !r.group) continue; // never finished, or no response (e.g. aborted)
    const bucket = (byType[r.group] ||= { encoded_bytes: 0, decoded_bytes: 0, requests: 0 });
    for (const sum of [bucket, total]) {
      sum.encoded_bytes += r.encoded;
      sum.decoded_bytes += r.decoded;
      sum.requests += 1;
    }
    encodings[r.encoding] = (encodings[r.encoding] || 0) + 1;
    if (r.group === 'Document' && documentStatus === null) documentStatus = r.status;
  }
  console.log(JSON.stringify({
    url, signed_in: Boolean(cookieHeader), document_status: documentStatus, hydrated,
    load_to_idle_ms: settledMs, failed_requests: [...requests.values()].filter((r) => r.failed).length,
    total, by_type: byType, content_encodings: encodings,
  }));
} finally {
  await browser.close();
}

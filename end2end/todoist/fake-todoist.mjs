// A local stand-in for Todoist (which cannot be reached from tests), with node's http
// only. It speaks the endpoints Heirloom's connector uses, with Todoist's documented
// response shapes: the OAuth authorization page and token exchange, GET /rest/v2/tasks
// and POST /rest/v2/tasks/{id}/close.
//
// Tests run in parallel against one instance, so each test signs in to "Todoist" with an
// account name of its own on the authorization page; every account starts with the same
// three open tasks (ids unique to it). Test-only endpoints, by account:
//   GET  /_test/closed?account=A   ids of the tasks closed through the API
//   POST /_test/revoke?account=A   from now on A's tokens get 401 (the user revoked the app)
//
// Environment: TODOIST_PORT (required), TODOIST_REDIRECT_URI (Heirloom's callback, which
// Todoist keeps in the app's settings rather than taking it from the request).
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';

const port = Number(process.env.TODOIST_PORT);
const redirectUri = process.env.TODOIST_REDIRECT_URI;
if (!port || !redirectUri) {
  console.error('TODOIST_PORT and TODOIST_REDIRECT_URI are required');
  process.exit(2);
}
const CLIENT_ID = 'heirloom-e2e-client';
const CLIENT_SECRET = 'heirloom-e2e-secret';

export const TASKS = [
  { content: 'Call the county archive about Grandpa’s letters', priority: 4, due: '2026-12-01' },
  { content: 'Buy a photo scanner', priority: 2, due: null },
  { content: 'Send Aunt Rose the wedding photos', priority: 3, due: '2026-12-24' },
];

let nextId = 2995104339;
/** account name → { tasks, closed: [ids], revoked } */
const accounts = new Map();
/** code → account, until exchanged */
const codes = new Map();
/** token → account */
const tokens = new Map();

// Todoist's documented task object (REST v2), as the Rust tests' fake records it.
function task(content, priority, dueDate) {
  const id = String(nextId++);
  return {
    id, project_id: '2203306141', section_id: null, content, description: '', is_completed: false,
    labels: [], parent_id: null, order: 1, priority,
    due: dueDate ? { date: dueDate, is_recurring: false, datetime: null, string: dueDate, timezone: null } : null,
    url: `https://todoist.com/showTask?id=${id}`, comment_count: 0, created_at: '2019-12-11T22:36:50.000000Z',
    creator_id: '2671355', assignee_id: null, assigner_id: null, duration: null,
  };
}

function account(name) {
  if (!accounts.has(name)) {
    accounts.set(name, { tasks: TASKS.map((t) => task(t.content, t.priority, t.due)), closed: [], revoked: false });
  }
  return accounts.get(name);
}

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'content-type': type });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function readBody(req) {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (chunk) => (data += chunk));
    req.on('end', () => resolve(data));
  });
}

/** The account behind a request's bearer token, or null (401). */
function bearer(req) {
  const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  const name = match && tokens.get(match[1]);
  if (!name || account(name).revoked) return null;
  return account(name);
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, `http://127.0.0.1:${port}`);
  const path = url.pathname;
  if (req.method === 'GET' && path === '/oauth/authorize') {
    const state = url.searchParams.get('state') ?? '';
    if (url.searchParams.get('client_id') !== CLIENT_ID) return send(res, 400, 'Unknown client_id', 'text/plain');
    const back = (params) => `${redirectUri}?${new URLSearchParams({ ...params, state })}`;
    return send(
      res,
      200,
      `<!doctype html><html lang="en"><title>Todoist (test)</title><h1>Allow Heirloom to read and complete your tasks?</h1>
       <form method="get" action="/oauth/approve"><input type="hidden" name="state" value="${escape(state)}">
       <label>Todoist account <input name="account" required></label> <button>Agree</button></form>
       <p><a href="${escape(back({ error: 'access_denied' }))}">Cancel</a></p></html>`,
      'text/html',
    );
  }
  if (req.method === 'GET' && path === '/oauth/approve') {
    const code = randomBytes(12).toString('hex');
    codes.set(code, url.searchParams.get('account') || 'anonymous');
    account(codes.get(code));
    const state = url.searchParams.get('state') ?? '';
    res.writeHead(302, { location: `${redirectUri}?${new URLSearchParams({ code, state })}` });
    return res.end();
  }
  if (req.method === 'POST' && path === '/oauth/access_token') {
    const form = new URLSearchParams(await readBody(req));
    if (form.get('client_id') !== CLIENT_ID || form.get('client_secret') !== CLIENT_SECRET) {
      return send(res, 401, { error: 'invalid_client' });
    }
    const name = codes.get(form.get('code'));
    if (!name) return send(res, 400, { error: 'invalid_grant' });
    codes.delete(form.get('code'));
    const token = randomBytes(20).toString('hex');
    tokens.set(token, name);
    return send(res, 200, { access_token: token, token_type: 'Bearer' });
  }
  if (req.method === 'GET' && path === '/rest/v2/tasks') {
    const who = bearer(req);
    if (!who) return send(res, 401, 'Forbidden', 'text/plain');
    return send(res, 200, who.tasks);
  }
  const close = /^\/rest\/v2\/tasks\/([^/]+)\/close$/.exec(path);
  if (req.method === 'POST' && close) {
    const who = bearer(req);
    if (!who) return send(res, 401, 'Forbidden', 'text/plain');
    if (!who.tasks.some((t) => t.id === close[1]) && !who.closed.includes(close[1])) {
      return send(res, 404, 'Task not found', 'text/plain');
    }
    who.tasks = who.tasks.filter((t) => t.id !== close[1]);
    who.closed.push(close[1]);
    res.writeHead(204);
    return res.end();
  }
  if (req.method === 'GET' && path === '/_test/closed') {
    return send(res, 200, account(url.searchParams.get('account') ?? '').closed);
  }
  if (req.method === 'POST' && path === '/_test/revoke') {
    account(url.searchParams.get('account') ?? '').revoked = true;
    res.writeHead(204);
    return res.end();
  }
  if (req.method === 'GET' && path === '/health') return send(res, 200, 'ok', 'text/plain');
  send(res, 404, 'Not found', 'text/plain');
});

server.listen(port, '127.0.0.1');

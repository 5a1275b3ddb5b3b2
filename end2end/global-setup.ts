// The instance's first account becomes its administrator; creating it here, before any
// test runs, gives the admin tests a known administrator and every other test a member.
import { request } from '@playwright/test';

export const ADMIN = { email: 'admin@e2e.example.org', password: 'the administrator of this instance' };

export default async function globalSetup() {
  const port = Number(process.env.E2E_PORT ?? 3107);
  const baseURL = `http://127.0.0.1:${port}`;
  const api = await request.newContext({ baseURL, extraHTTPHeaders: { origin: baseURL } });
  const response = await api.post('/api/v1/auth/signup', {
    data: { email: ADMIN.email, display_name: 'Admin', password: ADMIN.password },
  });
  if (response.status() !== 201) throw new Error(`admin sign-up failed: ${response.status()} ${await response.text()}`);
  await api.dispose();
}

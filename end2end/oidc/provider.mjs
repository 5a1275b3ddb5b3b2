// A real OpenID Connect provider (panva/oidc-provider) for tests, listening on loopback.
// Accounts: any login name signs in (dev interactions); its email is `<name>@example.org`,
// verified unless the name starts with "unverified".
//
// Environment: OIDC_PORT (required), OIDC_REDIRECT_URIS and OIDC_POST_LOGOUT_URIS
// (comma-separated), OIDC_NO_LOGOUT=1 to hide the end-session endpoint.
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
if (!port) {
  console.error('OIDC_PORT is required');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const list = (value) => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'heirloom',
      client_secret: 'heirloom-test-secret',
      redirect_uris: list(process.env.OIDC_REDIRECT_URIS),
      post_logout_redirect_uris: list(process.env.OIDC_POST_LOGOUT_URIS),
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: !process.env.OIDC_NO_LOGOUT },
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  cookies: { keys: ['heirloom-test-cookie-key'] },
  async findAccount(_ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return { sub, email: `${sub}@example.org`, email_verified: !sub.startsWith('unverified'), name: `Test ${sub}` };
      },
    };
  },
});

// Quiet the "dev interactions / ephemeral keys" warnings: this provider only serves tests.
provider.on('server_error', (_ctx, err) => console.error('oidc-provider error:', err));

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider ready at ${issuer}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

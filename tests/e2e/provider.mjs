// An independent OpenID Provider for the end-to-end suite: panva's oidc-provider (certified),
// configured to look like an Auth0 tenant: issuer ending in "/", Auth0's paths, one confidential
// client, profile and email claims in the ID token. Its dev login form accepts any name.
//
// Env: PROVIDER_PORT (4000), APP_BASE_URL (http://localhost:3000), CLIENT_ID, CLIENT_SECRET.
import Provider from 'oidc-provider';

const port = Number(process.env.PROVIDER_PORT || 4000);
const issuer = `http://127.0.0.1:${port}/`;
const app = process.env.APP_BASE_URL || 'http://localhost:3000';

const configuration = {
  clients: [
    {
      client_id: process.env.CLIENT_ID || 'e2e-client',
      client_secret: process.env.CLIENT_SECRET || 'e2e-secret-that-is-long-enough-for-hs256-0123456789',
      redirect_uris: [`${app}/callback`],
      post_logout_redirect_uris: [app],
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  routes: {
    authorization: '/authorize',
    token: '/oauth/token',
    userinfo: '/userinfo',
    jwks: '/.well-known/jwks.json',
    end_session: '/oidc/logout',
  },
  // As Auth0 does: profile claims in the ID token, not only from userinfo.
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    profile: ['name', 'nickname', 'picture', 'updated_at'],
    email: ['email', 'email_verified'],
  },
  pkce: { required: () => true },
  cookies: { keys: ['e2e-cookie-key-not-secret'] },
  async findAccount(ctx, id) {
    const name = id.replace(/[^\p{L}\p{N} ._-]/gu, '').slice(0, 60) || 'user';
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          name,
          nickname: name.toLowerCase().replace(/\s+/g, '.'),
          picture: `data:image/svg+xml;base64,${Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="#635dff"/></svg>').toString('base64')}`,
          updated_at: 1767225600,
          email: `${name.toLowerCase().replace(/\s+/g, '.')}@example.com`,
          email_verified: true,
        };
      },
    };
  },
};

const provider = new Provider(issuer, configuration);
provider.proxy = false;
const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening, issuer ${issuer}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}

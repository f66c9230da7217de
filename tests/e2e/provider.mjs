// An independent OpenID Provider for the end-to-end suite: panva's oidc-provider (certified),
// configured to look like an Auth0 tenant: issuer ending in "/", Auth0's paths, one confidential
// client, profile and email claims in the ID token. Its dev login form accepts any name.
//
// Env: PROVIDER_PORT (4000), APP_BASE_URL (http://localhost:3000), CLIENT_ID, CLIENT_SECRET.
// For bench/ (several apps on one client, side by side), also:
//   EXTRA_APP_BASE_URLS  comma-separated further app origins allowed to log in and out;
//   EXTRA_REDIRECT_URIS  comma-separated further redirect URIs (axum-oidc answers on /login);
//   PKCE_OPTIONAL=1      accept logins without PKCE (the Flask quickstart sends none);
//   API_AUDIENCE         an API identifier: the client may then get RS256 JWT access tokens for it
//                        by client_credentials (resource=API_AUDIENCE), as from an Auth0 API;
//   REQUEST_STATS=1      count requests per path, readable at GET /__stats (JSON).
// For the FAPI 2.0 scenario:
//   FAPI2_CLIENT_JWKS    the client's public keys (a JWKS, JSON): the client must then authenticate
//                        with private_key_jwt, push its authorization requests (PAR required) and
//                        get DPoP-bound tokens (dpop_bound_access_tokens).
import Provider, { errors } from 'oidc-provider';

const port = Number(process.env.PROVIDER_PORT || 4000);
const issuer = `http://127.0.0.1:${port}/`;
const app = process.env.APP_BASE_URL || 'http://localhost:3000';
const apps = [app, ...(process.env.EXTRA_APP_BASE_URLS || '').split(',').filter(Boolean)];
const audience = process.env.API_AUDIENCE || '';
const fapi2Jwks = process.env.FAPI2_CLIENT_JWKS ? JSON.parse(process.env.FAPI2_CLIENT_JWKS) : null;
const fapi2Client = fapi2Jwks
  ? {
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: fapi2Jwks,
      dpop_bound_access_tokens: true,
      require_pushed_authorization_requests: true,
    }
  : { token_endpoint_auth_method: 'client_secret_basic' };

const configuration = {
  clients: [
    {
      client_id: process.env.CLIENT_ID || 'e2e-client',
      client_secret: process.env.CLIENT_SECRET || 'e2e-secret-that-is-long-enough-for-hs256-0123456789',
      redirect_uris: [...apps.map((a) => `${a}/callback`), ...(process.env.EXTRA_REDIRECT_URIS || '').split(',').filter(Boolean)],
      post_logout_redirect_uris: apps,
      ...fapi2Client,
      grant_types: audience ? ['authorization_code', 'client_credentials'] : ['authorization_code'],
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
  pkce: { required: () => process.env.PKCE_OPTIONAL !== '1' },
  features: {
    pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: Boolean(fapi2Jwks) },
    dPoP: { enabled: true },
    clientCredentials: { enabled: Boolean(audience) },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => false,
      async getResourceServerInfo(ctx, resource) {
        if (!audience || resource !== audience) throw new errors.InvalidTarget();
        return { scope: 'read:me', audience, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
      },
    },
  },
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
if (process.env.REQUEST_STATS === '1') {
  const counts = {};
  provider.use(async (ctx, next) => {
    if (ctx.path === '/__stats') {
      ctx.body = counts;
      return;
    }
    counts[ctx.path] = (counts[ctx.path] || 0) + 1;
    await next();
  });
}
const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening, issuer ${issuer}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}

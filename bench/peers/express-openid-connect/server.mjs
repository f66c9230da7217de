// The same login job with Auth0's Express SDK, written from express-openid-connect's README:
// `auth()` adds /login, /callback and /logout and keeps the session in an encrypted cookie
// (`appSession`) keyed by `secret`; `req.oidc` says who is logged in.
import express from 'express';
import eoc from 'express-openid-connect';

const { auth } = eoc;
const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const domain = env('AUTH0_DOMAIN');
const port = Number(process.env.PORT || 3000);

const app = express();
app.use(
  auth({
    // A bare domain is https; a URL with a scheme points at a local provider.
    issuerBaseURL: domain.includes('://') ? domain : `https://${domain}`,
    baseURL: process.env.APP_BASE_URL || `http://localhost:${port}`,
    clientID: env('AUTH0_CLIENT_ID'),
    clientSecret: env('AUTH0_CLIENT_SECRET'),
    secret: env('APP_SECRET_KEY'),
    authRequired: false,
    authorizationParams: { response_type: 'code', scope: 'openid profile email' },
  }),
);

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

app.get('/', (req, res) => {
  if (req.oidc.isAuthenticated()) {
    const user = req.oidc.user;
    res.send(`<!doctype html><h1>Welcome ${escape(user.name)}!</h1><p><a href="/logout">Logout</a></p><pre>${escape(JSON.stringify(user, null, 2))}</pre>`);
  } else {
    res.send('<!doctype html><h1>Welcome Guest</h1><p><a href="/login">Login</a></p>');
  }
});

app.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));

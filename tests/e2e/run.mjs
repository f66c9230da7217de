// End-to-end scenarios: the app (target/debug/auth0-login) against panva's oidc-provider, in
// Debian's headless Chromium driven by playwright-core. App on localhost, provider on 127.0.0.1:
// cross-site, as with a real Auth0 tenant. Screenshots of each final page go to target/e2e/.
import { spawn } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const shots = join(root, 'target', 'e2e');
mkdirSync(shots, { recursive: true });
const binary = process.env.APP_BINARY || join(root, 'target', 'debug', 'auth0-login');

const APP = 'http://localhost:3000';
const PROVIDER_PORT = 4000;
const CLIENT_ID = 'e2e-client';
const CLIENT_SECRET = 'e2e-secret-that-is-long-enough-for-hs256-0123456789';
const SECRET_KEY = '9c2f4e6a8b0d1f3e5a7c9b1d3f5e7a9c0b2d4f6e8a1c3e5b7d9f0a2c4e6b8d1f';

const children = new Set();

function start(name, command, args, env, ready) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: here, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.on('error', (err) => reject(new Error(`${name} could not start: ${err.message}`)));
    children.add(child);
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${output}`)), 20000);
    const onData = (data) => {
      output += data;
      if (output.includes(ready)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      children.delete(child);
      clearTimeout(timer);
      if (!output.includes(ready)) reject(new Error(`${name} exited with ${code}:\n${output}`));
    });
  });
}

async function stop(child) {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

const startProvider = () =>
  start('oidc-provider', process.execPath, [join(here, 'provider.mjs')], { PROVIDER_PORT: String(PROVIDER_PORT), APP_BASE_URL: APP, CLIENT_ID, CLIENT_SECRET }, 'listening');

const startApp = () =>
  start('app', binary, [], {
    AUTH0_DOMAIN: `http://127.0.0.1:${PROVIDER_PORT}`,
    AUTH0_CLIENT_ID: CLIENT_ID,
    AUTH0_CLIENT_SECRET: CLIENT_SECRET,
    APP_SECRET_KEY: SECRET_KEY,
    APP_BASE_URL: APP,
    PORT: '3000',
    RUST_LOG: 'info',
  }, 'open http://localhost:3000/');

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

async function text(page) {
  return page.locator('body').innerText();
}

// At the provider: sign in with any name, consent if asked, until back on `base`.
async function signInAtProvider(page, name, base = APP) {
  await page.waitForSelector('input[name="login"]');
  await page.fill('input[name="login"]', name);
  await page.fill('input[name="password"]', 'any');
  await page.click('button[type="submit"]');
  for (let i = 0; i < 5 && !page.url().startsWith(base); i++) {
    const consent = page.locator('button[type="submit"]:has-text("Continue")');
    if (await consent.count()) await consent.click();
    else await page.waitForURL((u) => u.toString().startsWith(base), { timeout: 5000 }).catch(() => {});
  }
  await page.waitForURL((u) => u.toString().startsWith(base));
}

async function sessionCookie(context, base = APP) {
  return (await context.cookies(base)).find((c) => c.name === 'auth0_session');
}

const scenarios = {
  async login_lands_on_home_with_profile({ context, page }) {
    await page.goto(`${APP}/`);
    assert((await text(page)).includes('Welcome Guest'), 'guest home');
    await page.click('#qsLoginBtn');
    await signInAtProvider(page, 'Grace Hopper');
    const body = await text(page);
    assert(body.includes('Welcome Grace Hopper!'), `welcome missing: ${body}`);
    assert(await page.locator('img.avatar').count() === 1, 'picture shown');
    assert((await page.locator('#profileJson').innerText()).includes('"email": "grace.hopper@example.com"'), 'profile JSON');
    const cookie = await sessionCookie(context);
    assert(cookie, 'session cookie set');
    assert(cookie.httpOnly, 'HttpOnly');
    assert(cookie.sameSite === 'Lax', `SameSite=${cookie.sameSite}`);
    const size = cookie.name.length + 1 + cookie.value.length;
    assert(size < 4096, `cookie is ${size} bytes`);
    console.log(`    session cookie: ${size} bytes (name=value)`);
    return page;
  },

  async profile_while_logged_out_returns_there_after_login({ page }) {
    await page.goto(`${APP}/profile`);
    await signInAtProvider(page, 'Alan Turing');
    assert(new URL(page.url()).pathname === '/profile', `landed on ${page.url()}`);
    assert((await page.locator('#profileName').innerText()) === 'Alan Turing', 'profile page');
    return page;
  },

  async logout_goes_through_the_provider_and_back_as_guest({ page }) {
    await page.goto(`${APP}/login`);
    await signInAtProvider(page, 'Ada Lovelace');
    await page.click('#qsLogoutBtn');
    await page.waitForURL((u) => u.toString().includes(`127.0.0.1:${PROVIDER_PORT}`));
    const confirm = page.locator('button:has-text("Yes, sign me out")');
    await confirm.click();
    await page.waitForURL((u) => u.toString().startsWith(APP));
    assert((await text(page)).includes('Welcome Guest'), 'guest after logout');
    await page.goto(`${APP}/profile`);
    assert(page.url().includes(`127.0.0.1:${PROVIDER_PORT}`), `/profile did not ask to log in again: ${page.url()}`);
    await page.waitForSelector('input[name="login"]');
    return page;
  },

  async a_logout_link_on_another_site_asks_before_logging_out({ context, page }) {
    await page.goto(`${APP}/login`);
    await signInAtProvider(page, 'Csrf Target');
    // Another site (a page served on 127.0.0.1:3200, cross-site to localhost) links to the logout.
    const site = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<a id="prize" href="${APP}/logout">Claim your prize</a>`);
    });
    await new Promise((resolve) => site.listen(3200, '127.0.0.1', resolve));
    const evil = await context.newPage();
    try {
      await evil.goto('http://127.0.0.1:3200/');
      await evil.click('#prize');
      await evil.waitForURL(`${APP}/logout`);
    } finally {
      site.close();
    }
    assert(await evil.locator('#logoutConfirm').count() === 1, `no confirm page: ${await text(evil)}`);
    await evil.screenshot({ path: join(shots, 'a_logout_link_on_another_site_asks_first.png') });
    await page.goto(`${APP}/`);
    assert((await text(page)).includes('Welcome Csrf Target!'), 'a cross-site link logged the user out');
    // The user does mean it: the button posts a same-origin logout, which goes through.
    await evil.click('#confirmLogoutBtn');
    await evil.waitForURL((u) => u.toString().includes(`127.0.0.1:${PROVIDER_PORT}`));
    await evil.locator('button:has-text("Yes, sign me out")').click();
    await evil.waitForURL((u) => u.toString().startsWith(APP));
    assert((await text(evil)).includes('Welcome Guest'), 'guest after the confirmed logout');
    return evil;
  },

  async cancel_at_the_provider_shows_a_clear_error_page({ page }) {
    await page.goto(`${APP}/login`);
    await page.waitForSelector('input[name="login"]');
    await page.click('a:has-text("Cancel")');
    await page.waitForURL((u) => u.toString().startsWith(APP));
    assert((await page.locator('#errorCode').innerText()) === 'provider_error', 'error code');
    const body = await text(page);
    assert(body.includes('The login was cancelled or denied'), body);
    assert(!/panicked|stack backtrace|RUST_BACKTRACE/.test(body), 'no stack trace');
    return page;
  },

  async a_silent_login_without_a_session_returns_as_a_guest({ page }) {
    const logins = [];
    page.on('request', (r) => { if (r.url().startsWith(`${APP}/login`)) logins.push(r.url()); });
    await page.goto(`${APP}/login?prompt=none&returnTo=%2F`);
    await page.waitForURL(`${APP}/`);
    assert((await text(page)).includes('Welcome Guest'), `not a guest: ${await text(page)}`);
    assert(await page.locator('#errorPage').count() === 0, 'an error page after a silent login');
    assert(logins.length === 1, `/login requested ${logins.length} times (a loop?)`);
    return page;
  },

  async reloading_the_callback_after_login_stays_logged_in({ page }) {
    let callbackUrl = null;
    page.on('request', (r) => { if (r.url().startsWith(`${APP}/callback`)) callbackUrl = r.url(); });
    await page.goto(`${APP}/login`);
    await signInAtProvider(page, 'Back Button');
    assert(callbackUrl, 'the callback was not seen');
    // What the back button or a reload does: the used answer again, while logged in.
    await page.goto(callbackUrl);
    assert(new URL(page.url()).pathname === '/', `landed on ${page.url()}`);
    assert(await page.locator('#errorPage').count() === 0, 'an error page on reload');
    assert((await text(page)).includes('Welcome Back Button!'), 'logged out by a reload');
    return page;
  },

  async two_tabs_both_finish_their_logins({ context }) {
    const tab1 = await context.newPage();
    const tab2 = await context.newPage();
    await tab1.goto(`${APP}/login?returnTo=/profile`);
    await tab2.goto(`${APP}/login`);
    await signInAtProvider(tab1, 'Tab One');
    assert(new URL(tab1.url()).pathname === '/profile', `tab 1 on ${tab1.url()}`);
    await signInAtProvider(tab2, 'Tab Two');
    assert(new URL(tab2.url()).pathname === '/', `tab 2 on ${tab2.url()}`);
    const body = await text(tab2);
    assert(body.includes('Welcome Tab Two!'), `tab 2: ${body}`);
    await tab1.close();
    return tab2;
  },

  async a_restarted_app_keeps_the_user_logged_in({ page, env }) {
    await page.goto(`${APP}/login`);
    await signInAtProvider(page, 'Restart Survivor');
    await stop(env.app);
    env.app = await startApp();
    await page.goto(`${APP}/`);
    assert((await text(page)).includes('Welcome Restart Survivor!'), 'still logged in after restart');
    return page;
  },

  async provider_down_answers_503_then_recovers_without_restarting_the_app({ page, env }) {
    await stop(env.provider);
    await stop(env.app);
    env.app = await startApp(); // starts while the provider is down
    const response = await page.goto(`${APP}/login`);
    assert(response.status() === 503, `status ${response.status()}`);
    assert((await page.locator('#errorCode').innerText()) === 'provider_unavailable', '503 page');
    const shown = await text(page);
    assert(shown.includes('discovery document') && shown.includes('could not connect'), 'names the step and the kind of failure');
    assert(!shown.includes(`${PROVIDER_PORT}`), 'a public page shows the provider address');
    env.provider = await startProvider();
    let status = 503;
    for (let i = 0; i < 40 && status === 503; i++) {
      await new Promise((r) => setTimeout(r, 500));
      status = (await page.goto(`${APP}/login`)).status();
    }
    await signInAtProvider(page, 'Back Again');
    assert((await text(page)).includes('Welcome Back Again!'), 'login after recovery');
    return page;
  },

  async an_expiring_access_token_is_refreshed_and_call_api_keeps_working({ page }) {
    // Demo mode with an API and 30-second access tokens: each call renews the token first.
    const demo = await start('demo-api', binary, ['--demo'], {
      PORT: '3100',
      APP_BASE_URL: 'http://localhost:3100',
      AUTH0_AUDIENCE: 'https://api.demo.example',
      AUTH0_SCOPE: 'openid profile email offline_access',
      DEMO_TOKEN_SECONDS: '30',
    }, 'open http://localhost:3100/');
    try {
      await page.goto('http://localhost:3100/');
      await page.click('#qsLoginBtn');
      await page.click('#user-jane');
      await page.waitForURL('http://localhost:3100/');
      for (let call = 1; call <= 2; call++) {
        await page.click('#callApiLink');
        await page.waitForURL('http://localhost:3100/call-api');
        const status = await page.locator('#apiStatus').innerText();
        assert(status === '200', `call ${call}: the API answered ${status}: ${await text(page)}`);
        assert((await page.locator('#apiBody').innerText()).includes('read:messages'), 'the token carries the permission');
      }
      await page.screenshot({ path: join(shots, 'an_expiring_access_token_is_refreshed_and_call_api_keeps_working.png') });
    } finally {
      await stop(demo);
    }
    return null;
  },

  async the_provider_ends_the_session_by_back_channel_and_a_reload_is_a_guest({ page }) {
    // Sessions in a real Redis; the demo provider sends the logout token, as Auth0 does when an
    // administrator ends a session or the user logs out of another app on the same login.
    const dir = join(shots, 'redis');
    mkdirSync(dir, { recursive: true });
    const redis = await start('redis', process.env.REDIS_SERVER || 'redis-server',
      ['--port', '3300', '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {}, 'Ready to accept connections');
    const demo = await start('demo-redis', binary, ['--demo'], {
      PORT: '3100',
      APP_BASE_URL: 'http://localhost:3100',
      SESSION_STORE: 'redis://127.0.0.1:3300/0',
    }, 'open http://localhost:3100/');
    try {
      let provider = null;
      page.on('request', (r) => { if (r.url().includes('/authorize?')) provider = new URL(r.url()).origin; });
      await page.goto('http://localhost:3100/');
      await page.click('#qsLoginBtn');
      await page.click('#user-jane');
      await page.waitForURL('http://localhost:3100/');
      assert((await text(page)).includes('Welcome Jane Doe!'), 'logged in');
      assert(provider, 'the provider was not seen');
      await page.goto(`${provider}/demo/sessions`);
      await page.click('button.endSession');
      const outcome = await page.locator('#outcome').innerText();
      assert(outcome.includes('the app answered 200'), `back-channel logout: ${outcome}`);
      await page.screenshot({ path: join(shots, 'the_provider_ends_the_session_by_back_channel.provider.png') });
      await page.goto('http://localhost:3100/');
      assert((await text(page)).includes('Welcome Guest'), `still logged in after the provider ended the session: ${await text(page)}`);
      await page.screenshot({ path: join(shots, 'the_provider_ends_the_session_by_back_channel_and_a_reload_is_a_guest.png') });
    } finally {
      await stop(demo);
      await stop(redis);
    }
    return null;
  },

  async a_fapi2_login_against_oidc_provider_requiring_par_dpop_and_private_key_jwt({ page }) {
    // A second oidc-provider whose client must use private_key_jwt, push its authorization
    // requests and get DPoP-bound tokens; the app in AUTH0_SECURITY_PROFILE=fapi2. A certified
    // implementation of all three, checking ours independently.
    const keyFile = join(root, 'crates', 'auth0-axum', 'tests', 'fixtures', 'client-assertion-rsa.pem');
    const jwk = { ...createPublicKey(readFileSync(keyFile)).export({ format: 'jwk' }), alg: 'PS256', use: 'sig' };
    const base = 'http://localhost:3400';
    const fapiProvider = await start('oidc-provider-fapi2', process.execPath, [join(here, 'provider.mjs')], {
      PROVIDER_PORT: '4100', APP_BASE_URL: base, CLIENT_ID: 'e2e-fapi2', REQUEST_STATS: '1',
      FAPI2_CLIENT_JWKS: JSON.stringify({ keys: [jwk] }),
    }, 'listening');
    const fapiApp = await start('app-fapi2', binary, [], {
      AUTH0_DOMAIN: 'http://127.0.0.1:4100',
      AUTH0_CLIENT_ID: 'e2e-fapi2',
      AUTH0_SECURITY_PROFILE: 'fapi2',
      AUTH0_CLIENT_ASSERTION_SIGNING_KEY: keyFile,
      AUTH0_CLIENT_ASSERTION_SIGNING_ALG: 'PS256',
      APP_SECRET_KEY: SECRET_KEY,
      APP_BASE_URL: base,
      PORT: '3400',
      RUST_LOG: 'info',
    }, 'open http://localhost:3400/');
    try {
      const seen = [];
      page.on('request', (r) => seen.push(r.url()));
      await page.goto(`${base}/login`);
      const authorize = seen.find((u) => u.includes('/authorize?'));
      assert(authorize && new URL(authorize).searchParams.has('request_uri'), `not a pushed request: ${authorize}`);
      assert(!new URL(authorize).searchParams.has('code_challenge'), 'the parameters travelled in the URL');
      await signInAtProvider(page, 'Fapi User', base);
      assert((await text(page)).includes('Welcome Fapi User!'), `not logged in: ${await text(page)}`);
      const stats = await (await fetch('http://127.0.0.1:4100/__stats')).json();
      // oidc-provider's PAR endpoint is /request; its token endpoint refused anything but a
      // private_key_jwt assertion with a DPoP proof for this client, so the login proves both.
      assert(stats['/request'] === 1 && stats['/oauth/token'] >= 1, `requests seen: ${JSON.stringify(stats)}`);
      await page.screenshot({ path: join(shots, 'a_fapi2_login_against_oidc_provider_requiring_par_dpop_and_private_key_jwt.png') });
    } finally {
      await stop(fapiApp);
      await stop(fapiProvider);
    }
    return null;
  },

  async demo_mode_logs_in_and_out_with_the_built_in_provider({ page }) {
    const demo = await start('demo', binary, ['--demo'], { PORT: '3100', APP_BASE_URL: 'http://localhost:3100' }, 'open http://localhost:3100/');
    try {
      await page.goto('http://localhost:3100/');
      assert(await page.locator('#demoBanner').count() === 1, 'demo banner');
      await page.click('#qsLoginBtn');
      await page.click('#user-jane');
      await page.waitForURL('http://localhost:3100/');
      assert((await text(page)).includes('Welcome Jane Doe!'), 'demo login');
      await page.click('#qsLogoutBtn');
      await page.waitForURL('http://localhost:3100/');
      assert((await text(page)).includes('Welcome Guest'), 'demo logout');
      await page.screenshot({ path: join(shots, 'demo_mode_logs_in_and_out_with_the_built_in_provider.png') });
    } finally {
      await stop(demo);
    }
    return null;
  },
};

async function main() {
  const started = Date.now();
  const env = { provider: await startProvider(), app: null };
  env.app = await startApp();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  let passed = 0;
  let failed = 0;
  const only = process.argv[2];
  for (const [name, scenario] of Object.entries(scenarios)) {
    if (only && !name.includes(only)) continue;
    const context = await browser.newContext(); // a fresh profile per scenario
    const page = await context.newPage();
    try {
      const last = await scenario({ context, page, env });
      if (last) await last.screenshot({ path: join(shots, `${name}.png`) });
      console.log(`ok   ${name}`);
      passed++;
    } catch (err) {
      await page.screenshot({ path: join(shots, `${name}.FAILED.png`) }).catch(() => {});
      console.log(`FAIL ${name}\n     ${String(err.stack || err).split('\n').slice(0, 4).join('\n     ')}`);
      failed++;
    } finally {
      await context.close();
    }
  }
  await browser.close();
  console.log(`\ne2e: ${((Date.now() - started) / 1000).toFixed(1)} s, screenshots in target/e2e/`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(err);
} finally {
  for (const child of [...children]) await stop(child);
  process.exit(code);
}

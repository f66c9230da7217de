// The side-by-side benchmark (issue 5). Run through bench/run, which installs what this needs.
//
// Systems: our app (release build), a bare axum page (the limit), the Flask quickstart under
// Flask's own server and under gunicorn (2 workers), and Express + express-openid-connect. All log
// in through the same independent provider (tests/e2e/provider.mjs: panva's oidc-provider) with
// the same HTTP flow a browser follows: redirects, cookies per host and path, the provider's
// login and consent forms. Measurements alternate the systems so drift hits all alike.
//
// Usage: node bench/bench.mjs [--smoke] [--only ours,flask,...]
//   --smoke: a few seconds per figure, BENCHMARKS.md untouched (the table goes to
//            target/bench/BENCHMARKS.smoke.md); fails if any system cannot log in or serve.
import { createPublicKey } from 'node:crypto';
import { spawn, execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const work = join(root, 'target', 'bench');
const peers = process.env.BENCH_PEERS || join(work, 'peers');
const argv = process.argv.slice(2);
const SMOKE = argv.includes('--smoke');
const onlyArg = argv.includes('--only') ? argv[argv.indexOf('--only') + 1].split(',') : null;

const P = SMOKE
  ? { rounds: 1, seconds: 1, conns: [1, 32, 256], logins: 3, memRequests: 2000, starts: 1, apiSeconds: 1, verifyIterations: 50 }
  : { rounds: 3, seconds: 5, conns: [1, 32, 256], logins: 200, memRequests: 100000, starts: 3, apiSeconds: 5, verifyIterations: 2000 };

const PROVIDER_PORT = 4400;
const REDIS_PORT = 4401;
const ISSUER = `http://127.0.0.1:${PROVIDER_PORT}/`;
const CLIENT_ID = 'bench-client';
const CLIENT_SECRET = 'bench-secret-that-is-long-enough-for-hs256-0123456789';
const SECRET_KEY = '3f1c5e7a9b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a';
const AUDIENCE = 'https://api.bench.example/';
const USER = 'Bench User';
// bench/run builds the release profile; --smoke, the dev profile (it only checks every figure can be taken).
const release = process.env.BENCH_BIN_DIR || join(root, 'target', 'release');

const base = (port) => `http://localhost:${port}`;
const appEnv = (port) => ({
  AUTH0_DOMAIN: `http://127.0.0.1:${PROVIDER_PORT}`,
  AUTH0_CLIENT_ID: CLIENT_ID,
  AUTH0_CLIENT_SECRET: CLIENT_SECRET,
  APP_SECRET_KEY: SECRET_KEY,
  APP_BASE_URL: base(port),
  PORT: String(port),
});

// Each system: how to start it, and which cookies are its session. The Rust binaries run from
// "/" so that no developer's .env (dotenv searches upwards) changes what is measured.
const ALL = [
  { key: 'ours', name: 'ours (axum)', port: 3400, cmd: join(release, 'auth0-login'), args: [], cwd: '/', session: /^auth0_session$/ },
  { key: 'redis', name: 'ours, sessions in Redis', port: 3406, cmd: join(release, 'auth0-login'), args: [], cwd: '/', session: /^auth0_session$/, env: { SESSION_STORE: `redis://127.0.0.1:${REDIS_PORT}/0` } },
  { key: 'same', name: 'bare axum, our page\'s bytes (limit)', port: 3411, cmd: join(release, 'examples', 'bench_same_bytes'), args: [], cwd: '/', limit: true, deferred: true, env: { BENCH_PAGE_DIR: join(work, 'same-bytes') } },
  { key: 'hello', name: 'bare axum, Hello World', port: 3401, cmd: join(release, 'examples', 'bench_hello'), args: [], cwd: '/', limit: true },
  { key: 'existing', name: 'an existing app (public API only)', port: 3412, cmd: join(release, 'examples', 'bench_existing'), args: [], cwd: '/', session: /^auth0_session$/ },
  { key: 'flask', name: 'Flask dev server', port: 3402, cmd: join(peers, 'flask-quickstart', '.venv', 'bin', 'python'), args: ['server.py'], cwd: join(peers, 'flask-quickstart'), session: /^session$/ },
  { key: 'gunicorn', name: 'Flask + gunicorn -w 2', port: 3403, cmd: join(peers, 'flask-quickstart', '.venv', 'bin', 'gunicorn'), args: ['-w', '2', '-b', '127.0.0.1:3403', 'server:app'], cwd: join(peers, 'flask-quickstart'), session: /^session$/ },
  { key: 'axumoidc', name: 'axum-oidc 0.6 (Rust)', port: 3408, cmd: join(process.env.BENCH_PEER_BIN_DIR || join(work, 'axum-oidc-target', 'release'), 'axum-oidc-peer'), args: [], cwd: '/', session: /^id$/, redirect: '/login' },
  { key: 'express', name: 'Express + eoc', port: 3404, cmd: process.execPath, args: [join(peers, 'express-openid-connect', 'server.mjs')], cwd: join(peers, 'express-openid-connect'), session: /^appSession(\.\d+)?$/ },
];
// bench/run --baseline REV: this app as it was at REV, measured beside today's in the same run.
if (process.env.BENCH_BASELINE_BIN) {
  ALL.splice(1, 0, { key: 'baseline', name: `ours at ${process.env.BENCH_BASELINE_REV || 'baseline'}`, port: 3407, cmd: process.env.BENCH_BASELINE_BIN, args: [], cwd: '/', session: /^auth0_session$/ });
  // And in Redis mode, beside today's Redis row: both store modes before and after.
  ALL.splice(3, 0, { key: 'baseline_redis', name: `ours at ${process.env.BENCH_BASELINE_REV || 'baseline'}, Redis`, port: 3410, cmd: process.env.BENCH_BASELINE_BIN, args: [], cwd: '/', session: /^auth0_session$/, env: { SESSION_STORE: `redis://127.0.0.1:${REDIS_PORT}/0` } });
}
const systems = ALL.filter((s) => !onlyArg || onlyArg.includes(s.key) || s.key === 'ours' || s.key === 'baseline'
  || (s.key === 'baseline_redis' && onlyArg.includes('redis')));
const API = { key: 'api', name: 'ours, with AUTH0_AUDIENCE', port: 3405, cmd: join(release, 'auth0-login'), args: [], cwd: '/' };

const children = new Set();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.log(...a);

// Output goes to a file per process under target/bench/logs, not a pipe: this script blocks
// while wrk runs, and a child writing a log line per request would stall on a full pipe.
function spawnLogged(name, cmd, args, env, cwd) {
  mkdirSync(join(work, 'logs'), { recursive: true });
  const file = join(work, 'logs', `${name.replace(/[^a-z0-9]+/gi, '-')}.log`);
  const fd = openSync(file, 'w');
  const child = spawn(cmd, args, { cwd: cwd || root, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  children.add(child);
  Object.defineProperty(child, 'output', { get: () => { try { return readFileSync(file, 'utf8').slice(-4000); } catch { return ''; } } });
  child.on('exit', () => children.delete(child));
  return child;
}

async function stop(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(5000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

async function stopAll() {
  await Promise.all([...children].map(stop));
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, async () => { await stopAll(); process.exit(130); });

// ---- /proc: CPU and memory of a process and its descendants -------------------------------
const TICK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

function procTree(pid) {
  const parents = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!parents.has(ppid)) parents.set(ppid, []);
      parents.get(ppid).push(Number(entry));
    } catch { /* exited meanwhile */ }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(parents.get(out[i]) || []));
  return out;
}

function cpuSeconds(pid) {
  let ticks = 0;
  for (const p of procTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
    } catch { /* exited */ }
  }
  return ticks / TICK;
}

function rssMiB(pid) {
  let kib = 0;
  for (const p of procTree(pid)) {
    try {
      const m = readFileSync(`/proc/${p}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
      if (m) kib += Number(m[1]);
    } catch { /* exited */ }
  }
  return kib / 1024;
}

// Node's fetch reuses idle connections that a server may just have closed (Node servers drop
// them after 5 s): such a request never reached the server, so it is sent again, once.
async function fetchOnce(url, init) {
  try {
    return await fetch(url, init);
  } catch (e) {
    if (['UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNRESET', 'EPIPE'].includes(e.cause?.code)) return fetch(url, init);
    throw e;
  }
}

// ---- HTTP as a browser does it: cookies by host and path, manual redirects, forms ----------
class Jar {
  constructor() { this.cookies = []; }
  store(url, res) {
    const u = new URL(url);
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = '/';
      let expired = false;
      for (const a of attrs) {
        const [k, v = ''] = a.trim().split('=');
        const key = k.toLowerCase();
        if (key === 'path') path = v || '/';
        if (key === 'max-age' && Number(v) <= 0) expired = true;
        if (key === 'expires' && Date.parse(v) < Date.now()) expired = true;
      }
      this.cookies = this.cookies.filter((c) => !(c.host === u.hostname && c.name === name && c.path === path));
      if (!expired) this.cookies.push({ host: u.hostname, name, value, path });
    }
  }
  matching(url) {
    const u = new URL(url);
    return this.cookies.filter((c) => c.host === u.hostname && (u.pathname === c.path || u.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)));
  }
  header(url) {
    return this.matching(url).map((c) => `${c.name}=${c.value}`).join('; ');
  }
}

function parseForm(html, pageUrl) {
  const form = html.match(/<form\b[^>]*>[\s\S]*?<\/form>/i);
  if (!form) return null;
  const action = (form[0].match(/action="([^"]*)"/i) || [])[1] || pageUrl;
  const fields = new URLSearchParams();
  for (const input of form[0].matchAll(/<input\b[^>]*>/gi)) {
    const name = (input[0].match(/name="([^"]*)"/i) || [])[1];
    if (!name) continue;
    const value = (input[0].match(/value="([^"]*)"/i) || [])[1] || '';
    if (name === 'login') fields.set(name, USER);
    else if (name === 'password') fields.set(name, 'any');
    else fields.set(name, value.replace(/&amp;/g, '&').replace(/&#x2F;/g, '/').replace(/&quot;/g, '"'));
  }
  return { action: new URL(action.replace(/&amp;/g, '&'), pageUrl).toString(), fields };
}

// Logs in at `system` through the provider; returns the jar and the final page.
async function login(system) {
  const jar = new Jar();
  const app = base(system.port);
  let url = `${app}/login`;
  let init = { method: 'GET' };
  for (let hop = 0; hop < 30; hop++) {
    const res = await fetchOnce(url, { ...init, redirect: 'manual', headers: { ...(init.headers || {}), cookie: jar.header(url) } });
    jar.store(url, res);
    if (res.status >= 300 && res.status < 400) {
      await res.arrayBuffer();
      url = new URL(res.headers.get('location'), url).toString();
      init = { method: 'GET' };
      continue;
    }
    const body = await res.text();
    if (url.startsWith(app) && res.status === 200 && new URL(url).pathname === '/') {
      if (!body.includes(`Welcome ${USER}`)) throw new Error(`${system.name}: logged in, but / does not greet the user:\n${body.slice(0, 400)}`);
      return { jar, cookieHeader: jar.header(`${app}/`), sessionBytes: sessionBytes(system, jar) };
    }
    const form = res.status === 200 ? parseForm(body, url) : null;
    if (!form) throw new Error(`${system.name}: login stuck at ${url} (HTTP ${res.status}):\n${body.slice(0, 600)}`);
    url = form.action;
    init = { method: 'POST', body: form.fields.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } };
  }
  throw new Error(`${system.name}: login did not finish in 30 hops`);
}

function sessionBytes(system, jar) {
  return jar.matching(`${base(system.port)}/`).filter((c) => system.session.test(c.name)).reduce((n, c) => n + c.name.length + 1 + c.value.length, 0);
}

// ---- starting systems -------------------------------------------------------------------
async function firstOk(url, child, timeoutMs = 30000) {
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}:\n${child.output}`);
    try {
      const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch { /* not listening yet */ }
    if (Date.now() - started > timeoutMs) throw new Error(`no 200 from ${url} after ${timeoutMs} ms:\n${child.output}`);
    await sleep(2);
  }
}

async function start(system, extraEnv = {}) {
  const t0 = process.hrtime.bigint();
  const child = spawnLogged(system.name, system.cmd, system.args, { ...appEnv(system.port), ...(system.env || {}), ...extraEnv }, system.cwd);
  await firstOk(`http://127.0.0.1:${system.port}/`, child).catch((e) => { throw new Error(`${system.name}: ${e.message}`); });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { child, ms };
}

async function listening(port, timeoutMs = 10000) {
  const accepts = () => new Promise((resolve) => {
    const socket = new net.Socket();
    socket.once('connect', () => { socket.destroy(); resolve(true); }).once('error', () => resolve(false)).connect(port, '127.0.0.1');
  });
  for (const started = Date.now(); !(await accepts()); await sleep(10)) {
    if (Date.now() - started > timeoutMs) throw new Error(`nothing listens on ${port} after ${timeoutMs} ms`);
  }
}

// ---- wrk ---------------------------------------------------------------------------------
function unitMs(value, unit) {
  return Number(value) * { us: 0.001, ms: 1, s: 1000, m: 60000 }[unit];
}

function wrk(port, conns, seconds, headers, path = '/') {
  const args = ['-t', String(Math.min(conns, 2)), '-c', String(conns), '-d', `${seconds}s`, '--latency', '--timeout', '5s'];
  for (const h of headers) args.push('-H', h);
  args.push(`http://127.0.0.1:${port}${path}`);
  const out = execFileSync('wrk', args, { maxBuffer: 1 << 20 }).toString();
  const num = (re) => { const m = out.match(re); return m ? Number(m[1]) : 0; };
  const pct = (p) => { const m = out.match(new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm')); return m ? unitMs(m[1], m[2]) : NaN; };
  const sock = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    requests: num(/(\d+) requests in/),
    p50: pct(50),
    p99: pct(99),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    errors: sock ? sock.slice(1).reduce((n, x) => n + Number(x), 0) : 0,
  };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };
const rotate = (xs, r) => xs.map((_, i) => xs[(i + r) % xs.length]);

async function providerStats() {
  try {
    // A new connection each time: the last one may have idled out during a long wrk run.
    return await new Promise((resolve, reject) => {
      http.get(`${ISSUER}__stats`, { agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => { body += d; });
        res.on('end', () => { try { resolve(JSON.parse(body)); } catch (err) { reject(err); } });
      }).on('error', reject);
    });
  } catch (e) {
    throw new Error(`the provider's /__stats failed: ${e.cause?.message || e.message}\n${providerChild?.output || ''}`);
  }
}
const total = (stats) => Object.values(stats).reduce((n, x) => n + x, 0);

// criterion's figures for the cookie codec (bench/run writes them before this runs, full runs
// only): "name" then "time:   [low estimate high]", each a number and a unit.
function codecLines() {
  const file = join(work, 'session-codec.txt');
  if (SMOKE || !existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  const out = [];
  let name = '';
  for (const line of lines) {
    const m = line.match(/time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]/);
    if (m && name) out.push(`- ${name}: **${m[1]} ${m[2]}** (criterion's estimate; its interval is in target/bench/session-codec.txt)`);
    else if (line.trim() && !line.startsWith(' ') && !/^(Benchmarking|Found|Gnuplot)/.test(line)) name = line.trim();
  }
  if (!out.length) return [];
  return ['## The cookie codec alone', '', `\`cargo bench --bench session_codec\` (criterion, benches/session_codec.rs), same run, one core, the record of a demo login:`, '', ...out, ''];
}

/// "open it and read the user" from the codec benchmark, in µs (a full run only).
function codecUserUs() {
  const file = join(work, 'session-codec.txt');
  if (SMOKE || !existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  const m = text.match(/open it and read the user[^\n]*\n\s+time:\s+\[\S+ \S+ (\S+) (\S+)/);
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === 'ns' ? 0.001 : m[2] === 'ms' ? 1000 : 1);
}

// ---- the run -----------------------------------------------------------------------------
const results = Object.fromEntries([...systems, API].map((s) => [s.key, { wrk: {} }]));
const failures = [];
let providerChild;

async function main() {
  mkdirSync(work, { recursive: true });
  for (const s of [...systems, API]) if (!existsSync(s.cmd)) throw new Error(`${s.name}: ${s.cmd} is missing (bench/run builds and installs everything)`);

  log(`== provider: oidc-provider on ${ISSUER}`);
  const provider = providerChild = spawnLogged('oidc-provider', process.execPath, [join(root, 'tests', 'e2e', 'provider.mjs')], {
    PROVIDER_PORT: String(PROVIDER_PORT),
    APP_BASE_URL: base(ALL[0].port),
    EXTRA_APP_BASE_URLS: [...ALL.slice(1), API].map((s) => base(s.port)).join(','),
    EXTRA_REDIRECT_URIS: ALL.filter((s) => s.redirect).map((s) => `${base(s.port)}${s.redirect}`).join(','),
    CLIENT_ID, CLIENT_SECRET, API_AUDIENCE: AUDIENCE, PKCE_OPTIONAL: '1', REQUEST_STATS: '1',
  });
  await firstOk(`${ISSUER}.well-known/openid-configuration`, provider);
  if (systems.some((s) => s.key === 'redis')) {
    log(`== redis-server on 127.0.0.1:${REDIS_PORT} (ours, sessions in Redis)`);
    mkdirSync(join(work, 'redis'), { recursive: true });
    spawnLogged('redis-server', process.env.REDIS_SERVER || 'redis-server',
      ['--port', String(REDIS_PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', join(work, 'redis')], {});
    await listening(REDIS_PORT);
  }

  // 5. Start-up time to the first 200 on /, alternating; the last start stays up.
  log(`== start-up: ${P.starts} start(s) each, alternating`);
  const running = {};
  for (let r = 0; r < P.starts; r++) {
    for (const s of rotate(systems.filter((x) => !x.deferred), r)) {
      const { child, ms } = await start(s);
      (results[s.key].startMs ||= []).push(ms);
      if (r < P.starts - 1) await stop(child);
      else running[s.key] = child;
    }
  }
  for (const s of systems.filter((x) => !x.deferred)) results[s.key].startMs = median(results[s.key].startMs);

  // 4. One login each: the session cookie, and the Cookie header the load will send.
  log('== first login (cookie size)');
  const cookies = {};
  for (const s of systems) {
    if (s.limit) continue;
    const { cookieHeader, sessionBytes: bytes } = await login(s);
    cookies[s.key] = cookieHeader;
    results[s.key].cookieBytes = bytes;
  }
  // The limits get our Cookie header, so they read a request of the same size.
  cookies.hello = cookies.ours;
  cookies.same = cookies.ours;
  // The same-bytes limit serves a copy of our logged-in home page, as this login's cookie gets it.
  const same = systems.find((s) => s.key === 'same');
  if (same) {
    const page = await fetch(`http://127.0.0.1:${ALL[0].port}/`, { headers: { cookie: cookies.ours } });
    const body = Buffer.from(await page.arrayBuffer());
    if (page.status !== 200 || !body.includes(USER)) throw new Error(`the logged-in page to copy: ${page.status}`);
    mkdirSync(join(work, 'same-bytes'), { recursive: true });
    writeFileSync(join(work, 'same-bytes', 'body.html'), body);
    writeFileSync(join(work, 'same-bytes', 'headers.txt'), [...page.headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n'));
    const { child, ms } = await start(same);
    running.same = child;
    results.same.startMs = ms;
    results.same.pageBytes = body.length;
  }
  for (const s of systems) results[s.key].idleMiB = rssMiB(running[s.key].pid);

  // 2. CPU and wall time per login, logins alternating between systems.
  log(`== ${P.logins} logins each, alternating`);
  const loginSystems = systems.filter((s) => !s.limit);
  const cpu0 = Object.fromEntries(loginSystems.map((s) => [s.key, cpuSeconds(running[s.key].pid)]));
  const wall = Object.fromEntries(loginSystems.map((s) => [s.key, 0]));
  for (let i = 0; i < P.logins; i++) {
    for (const s of rotate(loginSystems, i)) {
      const t0 = process.hrtime.bigint();
      await login(s);
      wall[s.key] += Number(process.hrtime.bigint() - t0) / 1e6;
    }
  }
  for (const s of loginSystems) {
    results[s.key].loginCpuMs = ((cpuSeconds(running[s.key].pid) - cpu0[s.key]) * 1000) / P.logins;
    results[s.key].loginWallMs = wall[s.key] / P.logins;
  }
  await measureFapi2Logins(running.ours);

  // 1. Authenticated GET / under load, alternating systems within each round.
  const statsBefore = await providerStats();
  for (const conns of P.conns) {
    log(`== authenticated GET /, ${conns} connection(s): ${P.rounds} round(s) x ${P.seconds} s each`);
    const runs = Object.fromEntries(systems.map((s) => [s.key, []]));
    for (let r = 0; r < P.rounds; r++) {
      for (const s of rotate(systems, r)) {
        const cpuBefore = cpuSeconds(running[s.key].pid);
        const w = wrk(s.port, conns, P.seconds, [`Cookie: ${cookies[s.key]}`]);
        w.cpuUsPerRequest = ((cpuSeconds(running[s.key].pid) - cpuBefore) * 1e6) / Math.max(w.requests, 1);
        runs[s.key].push(w);
        results[s.key].requests = (results[s.key].requests || 0) + w.requests;
      }
    }
    for (const s of systems) {
      const rs = runs[s.key];
      results[s.key].wrk[conns] = {
        rps: median(rs.map((x) => x.rps)),
        p50: median(rs.map((x) => x.p50)),
        p99: median(rs.map((x) => x.p99)),
        non2xx: rs.reduce((n, x) => n + x.non2xx, 0),
        errors: rs.reduce((n, x) => n + x.errors, 0),
        cpuUsPerRequest: median(rs.map((x) => x.cpuUsPerRequest)),
      };
    }
  }
  const statsAfter = await providerStats();
  results.ours.providerCallsDuringViews = total(statsAfter) - total(statsBefore);

  // 3. Memory after P.memRequests authenticated requests (topping up the load above).
  log(`== memory after ${P.memRequests} authenticated requests each`);
  for (const s of systems) {
    while ((results[s.key].requests || 0) < P.memRequests) {
      const left = P.memRequests - results[s.key].requests;
      const rps = Math.max(results[s.key].wrk[32]?.rps || 100, 50);
      const seconds = Math.max(1, Math.min(60, Math.ceil((left / rps) * 1.1)));
      const served = wrk(s.port, 32, seconds, [`Cookie: ${cookies[s.key]}`]).requests;
      if (served === 0) throw new Error(`${s.name} stopped answering:\n${running[s.key].output}`);
      results[s.key].requests += served;
    }
    results[s.key].loadedMiB = rssMiB(running[s.key].pid);
  }
  for (const s of systems) await stop(running[s.key]);

  // 6. /api/me with a bearer token from the provider (client_credentials for our API).
  log('== /api/me with a bearer token');
  const api = await start(API, { AUTH0_AUDIENCE: AUDIENCE });
  const tokenRes = await fetchOnce(`${ISSUER}oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: AUDIENCE, scope: 'read:me' }).toString(),
  });
  const { access_token: bearer } = await tokenRes.json();
  if (!bearer || bearer.split('.').length !== 3) throw new Error(`the provider gave no JWT access token (HTTP ${tokenRes.status})`);
  const probe = await fetchOnce(`http://127.0.0.1:${API.port}/api/me`, { headers: { authorization: `Bearer ${bearer}` } });
  const probeBody = await probe.text();
  if (probe.status !== 200 || !probeBody.includes('"source":"bearer"')) throw new Error(`/api/me refused the provider's token (HTTP ${probe.status}): ${probeBody}`);
  const jwksBefore = (await providerStats())['/.well-known/jwks.json'] || 0;
  const apiRuns = [];
  for (let r = 0; r < P.rounds; r++) {
    const cpuBefore = cpuSeconds(api.child.pid);
    const w = wrk(API.port, 32, P.apiSeconds, [`Authorization: Bearer ${bearer}`], '/api/me');
    w.cpuUsPerRequest = ((cpuSeconds(api.child.pid) - cpuBefore) * 1e6) / Math.max(w.requests, 1);
    apiRuns.push(w);
  }
  const jwksAfter = (await providerStats())['/.well-known/jwks.json'] || 0;
  results.api.rps = median(apiRuns.map((x) => x.rps));
  results.api.p50 = median(apiRuns.map((x) => x.p50));
  results.api.p99 = median(apiRuns.map((x) => x.p99));
  results.api.non2xx = apiRuns.reduce((n, x) => n + x.non2xx, 0);
  results.api.cpuUsPerRequest = median(apiRuns.map((x) => x.cpuUsPerRequest));
  results.api.jwksFetchesDuringLoad = jwksAfter - jwksBefore;
  results.api.requests = apiRuns.reduce((n, x) => n + x.requests, 0);
  await stop(api.child);
  const verify = JSON.parse(execFileSync(join(release, 'examples', 'bench_verify'), [bearer, `${ISSUER}.well-known/jwks.json`, ISSUER, AUDIENCE, String(P.verifyIterations)]).toString());
  Object.assign(results.api, verify);

  await stop(provider);
  report();
}

// ---- what AUTH0_SECURITY_PROFILE=fapi2 costs a login -------------------------------------------
// A second oidc-provider whose client must use private_key_jwt, PAR and DPoP (as in the e2e
// suite), and ours in fapi2 against it (ES256 assertion key); logins alternate with ours (client
// secret, no PAR, no DPoP) in the same run.
const FAPI2_PORT = 3409;
const FAPI2_PROVIDER_PORT = 4402;
async function measureFapi2Logins(oursChild) {
  const keyFile = join(root, 'crates', 'auth0-axum', 'tests', 'fixtures', 'client-assertion-ec.pem');
  const jwk = { ...createPublicKey(readFileSync(keyFile)).export({ format: 'jwk' }), alg: 'ES256', use: 'sig' };
  log(`== ${P.logins} logins each, ours and ours with AUTH0_SECURITY_PROFILE=fapi2, alternating`);
  const fapiProvider = spawnLogged('oidc-provider-fapi2', process.execPath, [join(root, 'tests', 'e2e', 'provider.mjs')], {
    PROVIDER_PORT: String(FAPI2_PROVIDER_PORT), APP_BASE_URL: base(FAPI2_PORT), CLIENT_ID: 'bench-fapi2',
    FAPI2_CLIENT_JWKS: JSON.stringify({ keys: [jwk] }),
  });
  await firstOk(`http://127.0.0.1:${FAPI2_PROVIDER_PORT}/.well-known/openid-configuration`, fapiProvider);
  const system = {
    key: 'fapi2', name: 'ours, fapi2', port: FAPI2_PORT, cmd: join(release, 'auth0-login'), args: [], cwd: '/', session: /^auth0_session$/,
  };
  const { child } = await start(system, {
    AUTH0_DOMAIN: `http://127.0.0.1:${FAPI2_PROVIDER_PORT}`, AUTH0_CLIENT_ID: 'bench-fapi2', AUTH0_CLIENT_SECRET: '',
    AUTH0_SECURITY_PROFILE: 'fapi2', AUTH0_CLIENT_ASSERTION_SIGNING_KEY: keyFile, AUTH0_CLIENT_ASSERTION_SIGNING_ALG: 'ES256',
  });
  try {
    await login(system);
    const pair = [{ key: 'ours', child: oursChild, system: systems.find((s) => s.key === 'ours') }, { key: 'fapi2', child, system }];
    const cpu0 = Object.fromEntries(pair.map((p) => [p.key, cpuSeconds(p.child.pid)]));
    for (let i = 0; i < P.logins; i++) for (const p of rotate(pair, i)) await login(p.system);
    results.fapi2 = Object.fromEntries(pair.map((p) => [p.key, ((cpuSeconds(p.child.pid) - cpu0[p.key]) * 1000) / P.logins]));
  } finally {
    await stop(child);
    await stop(fapiProvider);
  }
}

// ---- the table -----------------------------------------------------------------------------
const fmt = (x, digits = 0) => (x === undefined || Number.isNaN(x) ? '—' : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const ratio = (a, b) => (a === undefined || b === undefined || Number.isNaN(a) || Number.isNaN(b) || b === 0 ? '—' : `${fmt(a / b, a / b < 10 ? 2 : 0)}×`);

function versions() {
  // wrk -v prints its version and exits 1: keep what it printed either way.
  const v = (cmd, args) => { let out; try { out = execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }); } catch (e) { out = e.stdout || ''; } return out.toString().trim().split('\n')[0] || '?'; };
  let pip = '';
  try { pip = execFileSync(join(peers, 'flask-quickstart', '.venv', 'bin', 'pip'), ['freeze']).toString(); } catch { /* versions show '?' */ }
  const pick = (name) => (pip.match(new RegExp(`^${name}==(.+)$`, 'mi')) || [])[1] || '?';
  const npmv = (dir, pkg) => { try { return JSON.parse(readFileSync(join(dir, 'node_modules', pkg, 'package.json'), 'utf8')).version; } catch { return '?'; } };
  const eoc = join(peers, 'express-openid-connect');
  return [
    `${v('rustc', ['--version'])}; ${v('wrk', ['-v']).replace(/ Copyright.*/, '')}`,
    `Python ${v(join(peers, 'flask-quickstart', '.venv', 'bin', 'python'), ['-c', 'import sys;print(sys.version.split()[0])'])}: Flask ${pick('Flask')}, Authlib ${pick('Authlib')}, gunicorn ${pick('gunicorn')}`,
    `Node ${process.version}: express ${npmv(eoc, 'express')}, express-openid-connect ${npmv(eoc, 'express-openid-connect')}; provider: oidc-provider ${npmv(join(root, 'tests', 'e2e'), 'oidc-provider')}`,
  ];
}

function machine() {
  const cpu = (readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m) || [])[1] || os.arch();
  return `${os.cpus().length} cores (${cpu}), ${fmt(os.totalmem() / 2 ** 30, 0)} GiB, Linux ${os.release()}`;
}

/// The main comparison as an SVG: req/s and app CPU per view of the logged-in page at 32
/// connections, one bar per system, the same-bytes limit marked on both.
function chart(R, name, cols) {
  const rows = cols.filter((k) => R[k]?.wrk?.[32]?.rps > 0);
  const rps = (k) => R[k].wrk[32].rps;
  const cpu = (k) => R[k].wrk[32].cpuUsPerRequest;
  const maxRps = Math.max(...rows.map(rps)) * 1.08;
  const maxCpu = Math.max(...rows.map(cpu).filter((x) => Number.isFinite(x))) * 1.08;
  const W = 980, label = 300, panel = 300, gap = 40, rowH = 26, top = 54;
  const H = top + rows.length * rowH + 34;
  const esc = (t) => String(t).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="13">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">Logged-in GET /, 32 connections (bench/run, ${esc(new Date().toISOString().slice(0, 10))})</text>`,
    `<text x="${label}" y="42">requests per second (more is better)</text>`,
    `<text x="${label + panel + gap}" y="42">app CPU µs per request (less is better)</text>`];
  rows.forEach((k, i) => {
    const y = top + i * rowH;
    const limit = R.same && k === 'same';
    const fill = limit ? '#9aa0a6' : k === 'ours' ? '#eb5424' : '#4a6fa5';
    out.push(`<text x="${label - 8}" y="${y + 15}" text-anchor="end"${k === 'ours' ? ' font-weight="bold"' : ''}>${esc(name[k])}</text>`);
    const w1 = (rps(k) / maxRps) * panel;
    out.push(`<rect x="${label}" y="${y + 3}" width="${w1.toFixed(1)}" height="${rowH - 8}" fill="${fill}"/>`);
    out.push(`<text x="${label + w1 + 4}" y="${y + 15}">${fmt(rps(k))}</text>`);
    if (Number.isFinite(cpu(k))) {
      const w2 = (cpu(k) / maxCpu) * panel;
      out.push(`<rect x="${label + panel + gap}" y="${y + 3}" width="${w2.toFixed(1)}" height="${rowH - 8}" fill="${fill}"/>`);
      out.push(`<text x="${label + panel + gap + w2 + 4}" y="${y + 15}">${fmt(cpu(k), 1)}</text>`);
    }
  });
  if (R.same?.wrk?.[32]) {
    const x1 = label + (rps('same') / maxRps) * panel;
    const x2 = label + panel + gap + (cpu('same') / maxCpu) * panel;
    const y2 = top + rows.length * rowH;
    for (const x of [x1, x2]) out.push(`<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${y2}" stroke="#333" stroke-dasharray="4 3"/>`);
    out.push(`<text x="10" y="${y2 + 22}">Dashed: the limit, bare axum serving our page's bytes (same body and headers, runtime, allocator, profile).</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

function report() {
  const R = results;
  const cols = systems.map((s) => s.key);
  const peersCols = cols.filter((k) => k !== 'ours');
  const name = Object.fromEntries(ALL.map((s) => [s.key, s.name]));
  const rows = [];
  const row = (label, get, digits = 0, compare = true) => {
    const vals = cols.map((k) => get(R[k]));
    const ours = get(R.ours);
    rows.push([label, ...vals.map((v) => fmt(v, digits)), ...(compare ? peersCols.map((k) => ratio(ours, get(R[k]))) : peersCols.map(() => ''))]);
  };
  for (const c of P.conns) {
    row(`GET / (logged in), ${c} conn: req/s`, (r) => r.wrk[c]?.rps);
    row(`  p50 latency, ms`, (r) => r.wrk[c]?.p50, 2);
    row(`  p99 latency, ms`, (r) => r.wrk[c]?.p99, 2);
  }
  row('GET / at 32 conns: app CPU µs per request', (r) => r.wrk[32]?.cpuUsPerRequest, 1);
  row(`CPU ms per login (over ${P.logins})`, (r) => r.loginCpuMs, 2);
  row('wall ms per login (provider included)', (r) => r.loginWallMs, 1);
  row('RSS MiB idle (after start and one login)', (r) => r.idleMiB, 1);
  row(`RSS MiB after ${fmt(P.memRequests)} requests`, (r) => r.loadedMiB, 1);
  row('session cookie bytes (name=value)', (r) => r.cookieBytes);
  row(`ms from start to first 200 on / (median of ${P.starts})`, (r) => r.startMs, 0);
  const header = ['', ...cols.map((k) => name[k]), ...peersCols.map((k) => `ours ÷ ${name[k]}`)];
  const table = [header, header.map((_, i) => (i === 0 ? '---' : '---:')), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');

  const errs = [];
  for (const k of cols) for (const c of P.conns) {
    const w = R[k].wrk[c];
    if (w && (w.non2xx || w.errors)) errs.push(`${name[k]} at ${c} conn: ${w.non2xx} non-2xx, ${w.errors} socket errors`);
  }
  const api = R.api;
  const apiLines = [
    `- \`/api/me\` with a bearer token (RS256 JWT access token from the provider, 32 conns): **${fmt(api.rps)} req/s**, p50 ${fmt(api.p50, 2)} ms, p99 ${fmt(api.p99, 2)} ms, app CPU ${fmt(api.cpuUsPerRequest, 1)} µs per request, ${api.non2xx} non-2xx.`,
    `- One RS256 verify on that token, same run: **${fmt(api.rs256_verify_us, 1)} µs** with ring, as the app verifies (openidconnect's pure-Rust \`rsa\` path: ${fmt(api.rsa_crate_verify_us, 1)} µs); the whole \`token_check\` (parse, claims, signature): ${fmt(api.token_check_us, 1)} µs (${api.iterations} iterations each, one core).`,
    `- JWKS fetched during the ${fmt(api.requests)} \`/api/me\` requests: **${api.jwksFetchesDuringLoad}**. Provider requests during all the authenticated \`GET /\` load on ours: **${R.ours.providerCallsDuringViews}**.`,
  ];

  const o = R.ours;
  const g = (k) => R[k] || {};
  const mark = (ok) => (ok ? 'met' : '**not met**');
  const goals = [];
  if (g('hello').wrk) for (const c of P.conns) {
    const share = o.wrk[c]?.rps / g('hello').wrk[c]?.rps;
    goals.push(`- GET / at ${c} conn: ${fmt(share * 100, 0)}% of bare axum's Hello World (context: a smaller page than ours; the goal is against the same-bytes page above).`);
  }
  for (const [k, want] of [['gunicorn', 20], ['express', 40]]) {
    if (!g(k).wrk) continue;
    for (const c of P.conns) {
      const x = o.wrk[c]?.rps / g(k).wrk[c]?.rps;
      goals.push(`- GET / at ${c} conn: ${fmt(x, 1)}× ${name[k]} (goal ≥ ${want}×): ${mark(x >= want)}.`);
    }
  }
  if (g('axumoidc').wrk) {
    const peer = g('axumoidc');
    const ahead = (label, ours, theirs, lowerIsBetter) => {
      const ok = lowerIsBetter ? ours <= theirs : ours >= theirs;
      goals.push(`- Ahead of axum-oidc, ${label}: ours ${fmt(ours, 1)}, axum-oidc ${fmt(theirs, 1)}: ${mark(ok)}.`);
    };
    for (const c of P.conns) ahead(`GET / req/s at ${c} conn`, o.wrk[c]?.rps, peer.wrk[c]?.rps, false);
    ahead('app CPU µs per GET / (32 conns)', o.wrk[32]?.cpuUsPerRequest, peer.wrk[32]?.cpuUsPerRequest, true);
    ahead('CPU ms per login', o.loginCpuMs, peer.loginCpuMs, true);
    ahead('wall ms per login', o.loginWallMs, peer.loginWallMs, true);
    ahead('RSS MiB idle', o.idleMiB, peer.idleMiB, true);
    ahead(`RSS MiB after ${fmt(P.memRequests)} requests`, o.loadedMiB, peer.loadedMiB, true);
    ahead('session cookie bytes (ours holds the session, theirs an id into server memory)', o.cookieBytes, peer.cookieBytes, true);
    ahead('ms to first 200', o.startMs, peer.startMs, true);
  }
  if (g('flask').loginCpuMs !== undefined) {
    const x = o.loginCpuMs / g('flask').loginCpuMs;
    goals.push(`- CPU per login: ${fmt(x * 100, 1)}% of Flask's (goal ≤ 10%): ${mark(x <= 0.1)}.`);
    const m = o.loadedMiB / g('flask').loadedMiB;
    const mi = o.idleMiB / g('flask').idleMiB;
    goals.push(`- Memory after the load: ${fmt(m * 100, 0)}% of Flask's (goal ≤ 25%): ${mark(m <= 0.25)}.`);
    goals.push(`- Memory idle: ${fmt(mi * 100, 0)}% of Flask's (goal ≤ 1/6, 16.7%): ${mark(mi <= 1 / 6)}.`);
    goals.push(`- Session cookie: ${o.cookieBytes} bytes vs the Flask quickstart's ${g('flask').cookieBytes} (goal: no larger): ${mark(o.cookieBytes <= g('flask').cookieBytes)}.`);
  }
  // Issue 24: against the same-bytes limit.
  const goals24 = [];
  const pct = (x) => `${fmt(x * 100, 0)}%`;
  const same = g('same');
  if (same.wrk) {
    for (const c of P.conns) {
      const share = o.wrk[c]?.rps / same.wrk[c]?.rps;
      goals24.push(`- GET / at ${c} conn: ${fmt(o.wrk[c]?.rps)} req/s, ${pct(share)} of the same-bytes page's ${fmt(same.wrk[c]?.rps)} (goal ≥ 60%): ${mark(share >= 0.6)}.`);
    }
    const x = o.wrk[32]?.cpuUsPerRequest / same.wrk[32]?.cpuUsPerRequest;
    goals24.push(`- App CPU per view at 32 conns: ${fmt(o.wrk[32]?.cpuUsPerRequest, 1)} µs, ${fmt(x, 2)}× the same-bytes page's ${fmt(same.wrk[32]?.cpuUsPerRequest, 1)} µs (goal ≤ 1.6×): ${mark(x <= 1.6)}.`);
  }
  if (R.baseline) for (const c of P.conns) {
    const [now, then] = [o.wrk[c]?.p99, R.baseline.wrk[c]?.p99];
    const noise = now > then && now <= then * 1.1 ? ' (within 10%: the run-to-run spread of a p99 on this machine)' : '';
    goals24.push(`- p99 at ${c} conn: ${fmt(now, 2)} ms, ${process.env.BENCH_BASELINE_REV}'s ${fmt(then, 2)} ms (goal: no worse): ${mark(now <= then)}${noise}.`);
  }
  if (g('redis').wrk) for (const c of P.conns) {
    const share = R.redis.wrk[c]?.rps / o.wrk[c]?.rps;
    goals24.push(`- Redis sessions at ${c} conn: ${pct(share)} of cookie mode's req/s (goal ≥ 50%): ${mark(share >= 0.5)}.`);
  }
  if (g('flask').loginCpuMs !== undefined) {
    const x = o.loginCpuMs / g('flask').loginCpuMs;
    goals24.push(`- CPU per login: ${fmt(o.loginCpuMs, 2)} ms, ${fmt(x * 100, 1)}% of Flask's ${fmt(g('flask').loginCpuMs, 2)} ms (goal ≤ 5%): ${mark(x <= 0.05)}.`);
    if (R.fapi2?.fapi2) {
      const y = R.fapi2.fapi2 / g('flask').loginCpuMs;
      goals24.push(`- CPU per FAPI 2.0 login: ${fmt(R.fapi2.fapi2, 2)} ms, ${fmt(y * 100, 1)}% of Flask's (goal ≤ 5%): ${mark(y <= 0.05)}.`);
    }
    const m = o.loadedMiB / g('flask').loadedMiB;
    goals24.push(`- RSS after ${fmt(P.memRequests)} requests: ${fmt(o.loadedMiB, 1)} MiB, ${pct(m)} of Flask's (goal ≤ 25%): ${mark(m <= 0.25)}.`);
  }
  if (g('existing').wrk) {
    const [e, us] = [R.existing.wrk[32]?.cpuUsPerRequest, o.wrk[32]?.cpuUsPerRequest];
    goals24.push(`- An existing app built from the public API only: ${fmt(e, 1)} µs of app CPU per view against the starter's ${fmt(us, 1)} µs (goal: no more): ${mark(e <= us)}.`);
  }

  // Where the remaining cost is, from bench/profile's breakdown (when it was run).
  const whyItStays = [];
  const breakdown = join(work, 'pageview-breakdown.md');
  if (same.wrk && existsSync(breakdown)) {
    const shares = Object.fromEntries([...readFileSync(breakdown, 'utf8').matchAll(/^\| ([\d.]+)% \| (.+) \|$/gm)].map((m) => [m[2], Number(m[1])]));
    const kernel = Object.entries(shares).filter(([k]) => k.startsWith('kernel')).reduce((a, [, v]) => a + v, 0);
    const server = ['hyper HTTP/1', 'tokio runtime', 'axum routing/handler glue'].reduce((a, k) => a + (shares[k] || 0), 0);
    const view = o.wrk[32]?.cpuUsPerRequest;
    const e = g('existing').wrk?.[32]?.cpuUsPerRequest;
    whyItStays.push('## Where the remaining cost is', '',
      `By the page-view breakdown below, ${fmt(kernel, 0)}% of ours' CPU is the kernel (the loopback write of each answer, which wakes the load generator, and the interrupts and rescheduling around it) and ${fmt(server, 0)}% is hyper, tokio and axum's routing: ${fmt((view * (kernel + server)) / 100, 1)} of ours' ${fmt(view, 1)} µs per view, against ${fmt(same.wrk[32]?.cpuUsPerRequest, 1)} µs for the whole same-bytes page. Per request the kernel costs ours more than the same-bytes server (perf on each, same load: interrupts and rescheduling about 10% of ours' CPU against 2% of its), most likely because a slower server leaves the client's threads asleep more often and each answer then pays for waking one. What is ours alone (opening and checking the sealed cookie, reading the user, the template, the profile JSON, the request span and headers) is the rest, about ${fmt((view * (100 - kernel - server)) / 100, 1)} µs.` +
      (e ? ` The existing app built from the public API alone (no template, a one-line page) costs ${fmt(e, 1)} µs: the library's own hot path (the cookie's open and the user's read, ${codecUserUs() ? `${fmt(codecUserUs(), 2)} µs in the codec benchmark` : 'see the codec benchmark'}) is a small part of a view; the rest is the HTTP stack and the kernel, which any server answering through them pays.` : ''),
      'What stays, and why: the cookie must be opened and authenticated on every view (no caching of anything a request must verify), and the page must be rendered with the user in it; the kernel and HTTP costs do not shrink with less work in the app beyond the same-bytes floor.', '');
  }
  const loginBreakdown = join(work, 'login-breakdown.md');
  if (g('flask').loginCpuMs !== undefined && existsSync(loginBreakdown)) {
    const shares = Object.fromEntries([...readFileSync(loginBreakdown, 'utf8').matchAll(/^\| ([\d.]+)% \| (.+) \|$/gm)].map((m) => [m[2], Number(m[1])]));
    const demo = Object.entries(shares).filter(([k]) => k.startsWith('the demo provider')).reduce((a, [, v]) => a + v, 0);
    const ourShare = (keys) => (100 * keys.reduce((a, k) => a + (shares[k] || 0), 0)) / Math.max(100 - demo, 1);
    const kernel = ourShare(Object.keys(shares).filter((k) => k.startsWith('kernel')));
    const stack = ourShare(['hyper HTTP/1', 'tokio runtime', 'axum routing/handler glue', 'HTTP client to the token endpoint (reqwest, hyper client)', 'malloc/free (mimalloc)', 'memcpy/memmove', 'tracing spans/events']);
    const protocol = ourShare(['ID token checks (token_check)', 'RSA signature check of the ID token (ring)', 'SHA-256, HMAC, HKDF (PKCE, at_hash, keys)', 'randomness (state, nonce, PKCE verifier)', 'cookie codec (base64, AES-GCM)']);
    whyItStays.push(`A login costs ours ${fmt(o.loginCpuMs, 2)} ms of CPU against Flask's ${fmt(g('flask').loginCpuMs, 2)} ms. By the login breakdown below, with the demo provider's share set aside (in \`--demo\` mode it runs in the app's process; in this run the provider is a process of its own), ${fmt(kernel, 0)}% of ours is the kernel (four requests from the browser, one to the token endpoint, their sockets) and ${fmt(stack, 0)}% the HTTP stack, the allocator and logging, while the protocol's own work (the ID token's checks and RS256 verify, PKCE and the hashes, the randomness, the session's seal) is ${fmt(protocol, 0)}%: the login is made of requests, and each request costs what a page view costs. The goal, 5% of Flask's login, is ${fmt(g('flask').loginCpuMs * 0.05, 2)} ms: the CPU of about ${fmt((g('flask').loginCpuMs * 0.05 * 1000) / Math.max(o.wrk[32]?.cpuUsPerRequest || 1, 1), 0)} of our page views, for a login whose own HTTP exchanges (four with the browser, two with the provider) are the larger part of its cost.`, '');
  }
  if (g('flask').loadedMiB !== undefined && same.loadedMiB !== undefined) {
    whyItStays.push(`Memory after ${fmt(P.memRequests)} requests: ours ${fmt(o.loadedMiB, 1)} MiB against Flask's ${fmt(g('flask').loadedMiB, 1)} MiB; the same-bytes server (the same runtime and allocator, no session, no template) holds ${fmt(same.loadedMiB, 1)} MiB, ${fmt((100 * same.loadedMiB) / g('flask').loadedMiB, 0)}% of Flask's, after the same 256-connection load: the runtime's and mimalloc's per-thread heaps and the connections' buffers. Ours is ${fmt(o.loadedMiB - same.loadedMiB, 1)} MiB above that floor (the provider's metadata and keys, the templates, the ledgers and the deny-list).`, '');
  }

  const cpuView = o.wrk[32]?.cpuUsPerRequest;
  goals.push(`- No network call on a page view: ${R.ours.providerCallsDuringViews} provider requests during the load: ${mark(R.ours.providerCallsDuringViews === 0)}. No public-key operation: a page view reads the session from the cookie and verifies no token (by construction; the test \`an_authenticated_page_view_calls_nothing_at_the_provider\` pins the network half); it costs ${fmt(cpuView, 1)} µs of app CPU, one RS256 verify ${fmt(api.rs256_verify_us, 1)} µs.`);
  goals.push(`- JWKS fetched once per rotation: ${api.jwksFetchesDuringLoad} fetches during the \`/api/me\` load (the key was cached at the first request): ${mark(api.jwksFetchesDuringLoad <= 1)}.`);

  // Before and after, same run: both store modes, page views and logins (issue 22).
  const beforeAfter = [];
  if (R.baseline) {
    const line = (label, now, then, digits) => `| ${label} | ${fmt(then, digits)} | ${fmt(now, digits)} | ${ratio(now, then)} |`;
    beforeAfter.push(`## Before and after: ours at ${process.env.BENCH_BASELINE_REV || 'baseline'} and now, same run`, '',
      '| | before | after | after ÷ before |', '|---|---:|---:|---:|');
    for (const [now, then, mode] of [['ours', 'baseline', 'cookie'], ['redis', 'baseline_redis', 'Redis']]) {
      if (!R[now] || !R[then]) continue;
      for (const c of P.conns) beforeAfter.push(line(`${mode} sessions: GET / (logged in), ${c} conn, req/s`, R[now].wrk[c]?.rps, R[then].wrk[c]?.rps, 0));
      beforeAfter.push(line(`${mode} sessions: app CPU µs per GET / (32 conns)`, R[now].wrk[32]?.cpuUsPerRequest, R[then].wrk[32]?.cpuUsPerRequest, 1));
      beforeAfter.push(line(`${mode} sessions: CPU ms per login`, R[now].loginCpuMs, R[then].loginCpuMs, 2));
    }
    beforeAfter.push('', 'The cookie page view now also looks the session up in the in-memory deny-list of back-channel logouts (empty here: the lock-free count is read and nothing else); a Redis page view is one round trip, as before. A Redis login now sends its two index scripts together and saves each request\'s session once.', '');
  }

  const command = `bench/run${SMOKE ? ' --smoke' : ''}${onlyArg ? ` --only ${onlyArg.join(',')}` : ''}${process.env.BENCH_BASELINE_REV ? ` --baseline ${process.env.BENCH_BASELINE_REV}` : ''}`;
  const md = [
    `# Benchmarks${SMOKE ? ' (smoke run: dev builds, too short to quote)' : ''}`,
    '',
    `![Logged-in GET / at 32 connections: requests per second and app CPU per request for each system, the same-bytes limit dashed](${SMOKE ? 'BENCHMARKS.smoke.svg' : 'BENCHMARKS.svg'})`,
    '',
    `Written by \`${command}\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
    `Machine: ${machine()}; wrk on the same machine.`,
    ...versions().map((x) => `Versions: ${x}.`),
    '',
    `Every system logs in as "${USER}" through the same oidc-provider with the same HTTP flow (redirects, the provider's login and consent forms, cookies by host and path). Load: \`wrk\` with that login's Cookie header, ${P.rounds} round(s) of ${P.seconds} s per connection count, systems alternating; the median round is shown. CPU from \`/proc/PID/stat\` (utime+stime, whole process tree), RSS from \`/proc/PID/status\` (summed over the tree: gunicorn's master and 2 workers). "ours ÷ X" divides our figure by X's: above 1 is more requests (or more cost) than X.`,
    '',
    table,
    '',
    ...(errs.length ? ['Errors reported by wrk (counted in the figures above):', ...errs.map((e) => `- ${e}`), ''] : []),
    '## What FAPI 2.0 costs a login',
    '',
    `CPU ms per login, ${P.logins} logins each, alternating in this run: ours with a client secret ${fmt(R.fapi2?.ours, 2)}; ours with \`AUTH0_SECURITY_PROFILE=fapi2\` (a pushed authorization request, an ES256 Private Key JWT assertion on PAR and on the token request, a DPoP proof on each, against an oidc-provider client that requires all three) ${fmt(R.fapi2?.fapi2, 2)} (${ratio(R.fapi2?.fapi2, R.fapi2?.ours)}). The difference is the extra request to the PAR endpoint and four ES256 signatures.`,
    '',
    '## The bearer API and the hot path',
    '',
    ...apiLines,
    '',
    ...beforeAfter,
    ...codecLines(),
    ...(existsSync(join(work, 'pageview-breakdown.md')) ? ['## Where a page view\'s CPU goes', '', readFileSync(join(work, 'pageview-breakdown.md'), 'utf8').trim(), ''] : []),
    ...(existsSync(join(work, 'login-breakdown.md')) ? ['## Where a login\'s CPU goes', '', readFileSync(join(work, 'login-breakdown.md'), 'utf8').trim(), ''] : []),
    ...(goals24.length ? ['## Goals (issue 24: against the same-bytes page)', '', ...goals24, ''] : []),
    ...whyItStays,
    '## Goals (issues 5 and 15)',
    '',
    ...goals,
    '',
  ].join('\n');
  console.log(`\n${md}`);
  writeFileSync(join(work, SMOKE ? 'results.smoke.json' : 'results.json'), JSON.stringify(R, null, 1));
  const out = SMOKE ? join(work, 'BENCHMARKS.smoke.md') : join(root, 'BENCHMARKS.md');
  writeFileSync(out, md);
  writeFileSync(SMOKE ? join(work, 'BENCHMARKS.smoke.svg') : join(root, 'BENCHMARKS.svg'), chart(R, name, cols));
  console.log(`written to ${out}`);

  // Sanity (smoke and full): the figures must come from working systems.
  for (const k of ['ours', 'hello', 'same', 'existing', 'redis', 'baseline', 'baseline_redis'].filter((x) => R[x])) for (const c of P.conns) {
    const w = R[k].wrk[c];
    if (!w || w.non2xx || w.errors || !(w.rps > 0)) failures.push(`${name[k]} at ${c} conn: ${JSON.stringify(w)}`);
  }
  if (R.ours.providerCallsDuringViews !== 0) failures.push(`ours called the provider ${R.ours.providerCallsDuringViews} times during page views`);
  if (api.non2xx) failures.push(`/api/me answered ${api.non2xx} non-2xx`);
  if (!(api.rs256_verify_us > 0)) failures.push('no RS256 verify figure');
}

main()
  .catch((e) => { failures.push(e.stack || String(e)); })
  .finally(async () => {
    await stopAll();
    if (failures.length) {
      console.error(`\nbench FAILED:\n- ${failures.join('\n- ')}`);
      process.exit(1);
    }
  });

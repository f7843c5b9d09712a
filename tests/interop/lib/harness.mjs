// Shared harness for the interop scripts: runs `fapigate demo` on free loopback ports, reads its
// demo.json, and gives each partner an mTLS-capable fetch (undici Agent with the partner's
// certificate) that the npm client libraries use as their transport. Checks are recorded as
// PASS/FAIL lines; the script exits non-zero if any failed, so ctest sees every failure.
import { spawn } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';

const results = [];

// The npm client libraries a script drives, imported by name; a missing package is a setup
// error that says how to install it (exit 1, not a skip).
export async function importPackages(script, names) {
  try {
    return await Promise.all(names.map((n) => import(n)));
  } catch (e) {
    console.error(`${script}: npm packages are missing; run scripts/install-deps ` +
                  `(or \`npm ci\` in tests/interop). ${e.message}`);
    process.exit(1);
  }
}

// The fapigate binary named on the command line (exit 2 with the usage otherwise).
export function binaryArgument(script) {
  const binary = process.argv[2];
  if (!binary) {
    console.error(`usage: node ${script} /path/to/fapigate`);
    process.exit(2);
  }
  return binary;
}

// RFC 8705 §3.1 x5t#S256: base64url(SHA-256(DER)) of a PEM certificate file.
export function certThumbprint(certFile) {
  return createHash('sha256').update(new X509Certificate(fs.readFileSync(certFile)).raw).digest('base64url');
}

// OIDC Core §3.1.3.6 / §3.3.2.11 (at_hash, c_hash, s_hash): base64url of the left half of the
// SHA-256 of the ASCII value (the hash of PS256 and ES256).
export function leftHalfHash(value) {
  const d = createHash('sha256').update(value, 'ascii').digest();
  return d.subarray(0, d.length / 2).toString('base64url');
}

export function record(name, ok, detail = '') {
  results.push({ name, ok });
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}${detail ? `  (${detail})` : ''}`);
}

// Runs fn; a thrown error is a failed check, a returned string is shown as detail.
export async function check(name, fn) {
  try {
    const detail = await fn();
    record(name, true, typeof detail === 'string' ? detail : '');
    return true;
  } catch (e) {
    // The client libraries' OAuth errors (ResponseBodyError and the like) carry the server's
    // status and error code outside the message; show them, or a failure says nothing useful.
    const oauth = e && typeof e.error === 'string'
      ? `HTTP ${e.status ?? '?'} ${e.error}${e.error_description ? `: ${e.error_description}` : ''} | `
      : '';
    record(name, false, oauth + (e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : String(e)));
    return false;
  }
}

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

export function assertEqual(actual, expected, what) {
  if (actual !== expected) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

export function summary(label) {
  const failed = results.filter((r) => !r.ok);
  console.log(`${label}: ${results.length - failed.length}/${results.length} checks passed`);
  return failed.length === 0 && results.length > 0 ? 0 : 1;
}

function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function freePortBase() {
  for (let attempt = 0; attempt < 200; ++attempt) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    let ok = true;
    for (let i = 0; i < 4 && ok; ++i) ok = await portFree(base + i);
    if (ok) return base;
  }
  throw new Error('no four free consecutive ports');
}

// Starts `fapigate demo` in a fresh directory and resolves once it prints its ready line.
// The process is stopped (SIGTERM, then SIGKILL after 5 s) by the returned stop().
export async function startDemo(binary, { readyTimeoutMs = 60000 } = {}) {
  if (!binary || !fs.existsSync(binary)) throw new Error(`fapigate binary not found: ${binary}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fapigate-interop-'));
  const portBase = await freePortBase();
  const log = fs.openSync(path.join(dir, 'demo.log'), 'w');
  const child = spawn(binary, ['demo', '--dir', dir, '--port-base', String(portBase)], {
    stdio: ['ignore', 'pipe', log],
  });
  let stdout = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`demo not ready within ${readyTimeoutMs} ms; log in ${dir}/demo.log`));
    }, readyTimeoutMs);
    child.stdout.on('data', (chunk) => {
      stdout += chunk.toString();
      if (/(^|\n)ready/.test(stdout)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`demo exited (${code}) before ready; log in ${dir}/demo.log`));
    });
  });
  // The directory holds the demo's keys and log: kept when a check failed (to debug it),
  // removed when every check passed.
  process.once('exit', () => {
    if (results.length > 0 && results.every((r) => r.ok)) fs.rmSync(dir, { recursive: true, force: true });
  });
  const demo = JSON.parse(fs.readFileSync(path.join(dir, 'demo.json'), 'utf8'));
  const ca = fs.readFileSync(demo.ca_file);
  const agents = [];

  // An undici-based fetch that trusts the demo CA and presents the given client certificate
  // (or none). The returned function has the WHATWG fetch signature the libraries expect.
  // agentOptions go to the undici Agent (e.g. { connections: 4 } to cap connections per origin).
  function mtlsFetch(certFile, keyFile, agentOptions = {}) {
    const connect = { ca };
    if (certFile) {
      connect.cert = fs.readFileSync(certFile);
      connect.key = fs.readFileSync(keyFile);
    }
    const agent = new Agent({ ...agentOptions, connect });
    agents.push(agent);
    const f = (url, init = {}) => undiciFetch(url, { ...init, dispatcher: agent });
    f.agent = agent;
    return f;
  }

  async function stop() {
    for (const a of agents) await a.close().catch(() => {});
    // Already gone (exit code, or killed by a signal such as an ASan abort): no exit event will come.
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? child.signalCode;
    const exited = new Promise((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig)));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }

  return { demo, dir, portBase, mtlsFetch, stop, pid: child.pid, readyLine: stdout.split('\n')[0] };
}

// Minimal HTML helpers for the server-rendered login and consent pages: the interop scripts act
// as the browser, so they read the form the page offers and post back every field it carries
// (hidden CSRF token included), as a browser would without JavaScript.
export function parseForms(html) {
  const forms = [];
  const formRe = /<form\b([^>]*)>([\s\S]*?)<\/form>/gi;
  let m;
  while ((m = formRe.exec(html))) {
    const attrs = attrMap(m[1]);
    const fields = [];
    const inputRe = /<(input|button)\b([^>]*)>/gi;
    let im;
    while ((im = inputRe.exec(m[2]))) {
      const a = attrMap(im[2]);
      if (a.name !== undefined) fields.push({ tag: im[1].toLowerCase(), ...a });
    }
    forms.push({ action: decodeEntities(attrs.action || ''), method: (attrs.method || 'get').toLowerCase(), fields });
  }
  return forms;
}

function attrMap(s) {
  const out = {};
  const re = /([a-zA-Z_:-]+)(?:\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+)))?/g;
  let m;
  while ((m = re.exec(s))) out[m[1].toLowerCase()] = decodeEntities(m[3] ?? m[4] ?? m[5] ?? '');
  return out;
}

function decodeEntities(s) {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

// Collects the Set-Cookie values of a response into a cookie jar (name -> value).
export function storeCookies(jar, response) {
  const list = typeof response.headers.getSetCookie === 'function' ? response.headers.getSetCookie() : [];
  for (const c of list) {
    const [pair] = c.split(';');
    const i = pair.indexOf('=');
    if (i > 0) jar.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
  }
}

export function cookieHeader(jar) {
  return [...jar.entries()].map(([k, v]) => `${k}=${v}`).join('; ');
}

// Drives the customer's side of /authorize as a browser would: GET the authorization URL, submit
// the login form with the demo user's credentials, then press the consent page's submit button
// named `decision` (value `approve` unless told otherwise). Resolves to the final redirect Location,
// or, for response_mode form_post.jwt, to the auto-submit form's target and fields.
export async function browserAuthorize(browserFetch, authorizationUrl, user, { decision = 'approve' } = {}) {
  const jar = new Map();
  let url = new URL(authorizationUrl);
  let res = await browserFetch(url, { redirect: 'manual' });
  storeCookies(jar, res);
  for (let step = 0; step < 6; ++step) {
    if (res.status === 302 || res.status === 303) {
      const location = res.headers.get('location');
      const next = new URL(location, url);
      if (next.origin !== url.origin) return { location: next, jar };
      url = next;
      res = await browserFetch(url, { redirect: 'manual', headers: { cookie: cookieHeader(jar) } });
      storeCookies(jar, res);
      continue;
    }
    const body = await res.text();
    if (res.status !== 200) throw new Error(`authorize step ${step}: HTTP ${res.status}: ${body.slice(0, 300)}`);
    const forms = parseForms(body);
    if (forms.length === 0) throw new Error(`authorize step ${step}: page has no form: ${body.slice(0, 300)}`);
    const form = forms[0];
    const action0 = new URL(form.action || url.pathname, url);
    if (action0.origin !== url.origin) {
      const fields = Object.fromEntries(form.fields.filter((f) => f.tag === 'input').map((f) => [f.name, f.value ?? '']));
      return { formPost: { action: action0, fields }, jar };
    }
    const params = new URLSearchParams();
    let isLogin = false;
    for (const f of form.fields) {
      if (f.type === 'password') isLogin = true;
    }
    for (const f of form.fields) {
      if (f.tag === 'button' || f.type === 'submit') continue;
      if (isLogin && f.name === 'username') params.set(f.name, user.username);
      else if (isLogin && f.type === 'password') params.set(f.name, user.password);
      else params.set(f.name, f.value ?? '');
    }
    if (!isLogin) {
      const buttons = form.fields.filter((f) => f.tag === 'button' || f.type === 'submit');
      const chosen = buttons.find((b) => b.value === decision) || buttons[0];
      if (chosen && chosen.name) params.set(chosen.name, chosen.value ?? '');
    }
    const action = new URL(form.action || url.pathname, url);
    res = await browserFetch(action, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(jar) },
      body: params.toString(),
    });
    storeCookies(jar, res);
    url = action;
  }
  throw new Error('authorize did not finish within 6 steps');
}

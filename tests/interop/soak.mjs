// Soak: mixed traffic through the authorization server and the gateway of one `fapigate demo`
// at a steady rate, with a share of bad tokens and bad certificates, for a bounded time.
//   node soak.mjs /path/to/fapigate [--seconds N] [--rate R] [--max-growth-mib M]
//                 [--max-late-percent P]
// Every answer is checked against what it must be: a good request that is refused or a bad one
// that is let in is a wrong answer, and one wrong answer fails the run. Afterwards the demo's
// resident memory may not have grown past the bound since the warm-up, and its open file
// descriptors, once every client connection is closed, are back to the warm-up count (no leak).
// Loopback only; the demo is started and stopped here.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { binaryArgument, check, record, startDemo, summary } from './lib/harness.mjs';

const SCRIPT = 'soak.mjs';
const binary = binaryArgument(SCRIPT);
function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : fallback;
}
const seconds = option('seconds', 60);
const rate = option('rate', 100);                 // requests started per second
const maxGrowthMiB = option('max-growth-mib', 64);
const maxLatePercent = option('max-late-percent', 1);  // requests not sent because 64 were in flight
const maxInFlight = 64;
const warmupSeconds = Math.max(5, Math.min(60, Math.round(seconds / 10)));

// ---- the process under test ----------------------------------------------------------------------

function residentKiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]);
}
function openFds(pid) {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- traffic --------------------------------------------------------------------------------------

const demoRun = await startDemo(binary);
const { demo } = demoRun;
const issuer = demo.issuer.replace(/\/$/, '');
let discovery;
const stats = { started: 0, ok: 0, wrong: 0, late: 0, byKind: {} };
const wrongSamples = [];

function tally(kind, good, detail) {
  const k = (stats.byKind[kind] ??= { n: 0, wrong: 0 });
  k.n += 1;
  if (good) {
    stats.ok += 1;
  } else {
    stats.wrong += 1;
    k.wrong += 1;
    if (wrongSamples.length < 20) wrongSamples.push(`${kind}: ${detail}`);
  }
}

// A certificate and key from a CA the demo does not trust, with the partner's subject.
function untrustedCertificate(dir) {
  const key = path.join(dir, 'untrusted.key');
  const cert = path.join(dir, 'untrusted.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=partner-client/O=fapigate'],
  { stdio: 'ignore' });
  return { cert, key };
}

let clients;
function connectClients() {
  clients = {
    // A partner's keep-alive connections, as a TPP's HTTP client pool holds them.
    partner: demoRun.mtlsFetch(demo.partner.cert_file, demo.partner.key_file, { connections: 4 }),
    other: demoRun.mtlsFetch(demo.other_partner.cert_file, demo.other_partner.key_file, { connections: 2 }),
  };
}
async function closeClients() {
  await Promise.all(Object.values(clients).map((f) => f.agent.close().catch(() => {})));
}

const goodTokens = [];  // recent partner tokens, newest last
async function issueToken(fetchAs, clientId) {
  const r = await fetchAs(discovery.mtls_endpoint_aliases?.token_endpoint ?? discovery.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId,
                                scope: `${demo.scopes.read} ${demo.scopes.write}` }).toString(),
  });
  return { status: r.status, body: await r.json().catch(() => ({})) };
}
function tampered(token) {
  // Flip one character of the signature: the same header and claims, a signature that fails.
  const i = token.length - 5;
  return token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
}
function challenge(r) {
  return r.headers.get('www-authenticate') ?? '';
}
const accountsUrl = () => `${demo.gateway_url}/accounts`;
const paymentsUrl = () => `${demo.gateway_url}/domestic-payments`;
function latestToken() {
  return goodTokens[goodTokens.length - 1];
}

// Each kind: its share of the traffic and what it does; resolves to [good?, detail].
const kinds = [
  ['token', 15, async () => {
    const r = await issueToken(clients.partner, demo.partner.client_id);
    if (r.status === 200 && typeof r.body.access_token === 'string') {
      goodTokens.push(r.body.access_token);
      if (goodTokens.length > 32) goodTokens.shift();
      return [true];
    }
    return [false, `status ${r.status} ${JSON.stringify(r.body)}`];
  }],
  ['token_wrong_certificate', 4, async () => {
    // The other partner's certificate claiming the partner's client_id.
    const r = await issueToken(clients.other, demo.partner.client_id);
    return [r.status === 401 && r.body.error === 'invalid_client', `status ${r.status} ${JSON.stringify(r.body)}`];
  }],
  ['api_read', 40, async () => {
    const r = await clients.partner(accountsUrl(), { headers: { authorization: `Bearer ${latestToken()}` } });
    await r.arrayBuffer();
    return [r.status === 200, `status ${r.status} ${challenge(r)}`];
  }],
  ['api_payment', 8, async () => {
    const r = await clients.partner(paymentsUrl(), {
      method: 'POST',
      headers: { authorization: `Bearer ${latestToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ amount: '1.00', currency: 'GBP' }),
    });
    await r.arrayBuffer();
    return [r.status === 200, `status ${r.status} ${challenge(r)}`];
  }],
  ['api_tampered_token', 8, async () => {
    const r = await clients.partner(accountsUrl(), { headers: { authorization: `Bearer ${tampered(latestToken())}` } });
    await r.arrayBuffer();
    return [r.status === 401 && /error="invalid_token"/.test(challenge(r)), `status ${r.status} ${challenge(r)}`];
  }],
  ['api_token_of_another_certificate', 8, async () => {
    // RFC 8705 §3: the partner's token presented with the other partner's certificate.
    const r = await clients.other(accountsUrl(), { headers: { authorization: `Bearer ${latestToken()}` } });
    await r.arrayBuffer();
    return [r.status === 401 && /error="invalid_token"/.test(challenge(r)), `status ${r.status} ${challenge(r)}`];
  }],
  ['api_no_token', 4, async () => {
    const r = await clients.partner(accountsUrl());
    await r.arrayBuffer();
    return [r.status === 401 && /^Bearer/.test(challenge(r)), `status ${r.status} ${challenge(r)}`];
  }],
  ['introspection', 5, async () => {
    const r = await clients.partner(discovery.mtls_endpoint_aliases?.introspection_endpoint ?? discovery.introspection_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: demo.partner.client_id, token: latestToken() }).toString(),
    });
    const body = await r.json().catch(() => ({}));
    return [r.status === 200 && body.active === true && body.cnf?.['x5t#S256'] !== undefined,
            `status ${r.status} ${JSON.stringify(body)}`];
  }],
  ['untrusted_certificate', 2, async () => {
    // A client certificate from a CA the demo does not trust: refused in the handshake.
    const f = demoRun.mtlsFetch(untrusted.cert, untrusted.key);
    try {
      const r = await f(accountsUrl(), { headers: { authorization: `Bearer ${latestToken()}` } });
      await r.arrayBuffer();
      return [false, `answered ${r.status} instead of failing the handshake`];
    } catch (e) {
      return [true];
    } finally {
      await f.agent.close().catch(() => {});
    }
  }],
];
const totalWeight = kinds.reduce((s, [, w]) => s + w, 0);
function pickKind() {
  let x = Math.random() * totalWeight;
  for (const k of kinds) {
    x -= k[1];
    if (x < 0) return k;
  }
  return kinds[0];
}

let untrusted;
let inFlight = 0;
// Resident memory every 30 s of the measured phase: growth that levels off is caches filling to
// their bounds; growth that keeps climbing is a leak.
const rssSeries = [];
async function runFor(durationMs, { sampleRss = false } = {}) {
  const start = Date.now();
  let nextSample = start;
  const interval = 1000 / rate;
  let next = start;
  const pending = new Set();
  while (Date.now() - start < durationMs) {
    const now = Date.now();
    if (sampleRss && now >= nextSample) {
      rssSeries.push(Math.round(residentKiB(demoRun.pid) / 1024));
      nextSample += 30000;
    }
    if (now < next) {
      await sleep(Math.min(next - now, 20));
      continue;
    }
    next += interval;
    if (inFlight >= maxInFlight) {
      stats.late += 1;  // the server fell behind the rate; counted, not sent
      continue;
    }
    const [name, , fn] = pickKind();
    inFlight += 1;
    stats.started += 1;
    const p = fn().then(([good, detail]) => tally(name, good, detail),
                        (e) => tally(name, false, `request failed: ${e.cause?.code ?? e.message}`))
      .finally(() => { inFlight -= 1; pending.delete(p); });
    pending.add(p);
  }
  await Promise.all(pending);
}

async function fdsWhenIdle(pid) {
  // Closed client connections take a moment to be reaped by the server: wait until the count
  // stops falling (at most 10 s).
  let last = openFds(pid);
  for (let i = 0; i < 20; ++i) {
    await sleep(500);
    const n = openFds(pid);
    if (n >= last && i >= 2) return n;
    last = Math.min(last, n);
  }
  return last;
}

let exitCode = 1;
try {
  untrusted = untrustedCertificate(demoRun.dir);
  connectClients();
  discovery = await (await clients.partner(`${issuer}/.well-known/openid-configuration`)).json();
  const first = await issueToken(clients.partner, demo.partner.client_id);
  if (first.status !== 200) throw new Error(`first token: ${first.status} ${JSON.stringify(first.body)}`);
  goodTokens.push(first.body.access_token);

  await runFor(warmupSeconds * 1000);
  await closeClients();
  const fdsBefore = await fdsWhenIdle(demoRun.pid);
  const rssBefore = residentKiB(demoRun.pid);
  const warmupRequests = stats.started;
  connectClients();

  const t0 = Date.now();
  await runFor((seconds - warmupSeconds) * 1000, { sampleRss: true });
  const elapsed = (Date.now() - t0) / 1000;
  const rssAfter = residentKiB(demoRun.pid);
  await closeClients();
  const fdsAfter = await fdsWhenIdle(demoRun.pid);

  const measured = stats.started - warmupRequests;
  console.log(`soak: ${stats.started} requests in ${seconds} s (${measured} after a ${warmupSeconds} s warm-up, ` +
              `${(measured / elapsed).toFixed(1)}/s), ${stats.wrong} wrong answers, ${stats.late} not sent (behind rate)`);
  for (const [k, v] of Object.entries(stats.byKind)) console.log(`  ${k}: ${v.n} requests, ${v.wrong} wrong`);
  console.log(`soak: RSS ${(rssBefore / 1024).toFixed(1)} MiB after warm-up -> ${(rssAfter / 1024).toFixed(1)} MiB at the end; ` +
              `open fds ${fdsBefore} -> ${fdsAfter} (client connections closed)`);
  console.log(`soak: RSS every 30 s (MiB): ${rssSeries.join(' ')} ${(rssAfter / 1024).toFixed(0)}`);
  for (const s of wrongSamples) console.log(`  wrong: ${s}`);

  record('zero wrong answers', stats.wrong === 0, `${stats.wrong} of ${stats.started}`);
  record('every kind of traffic ran', kinds.every(([k]) => (stats.byKind[k]?.n ?? 0) > 0),
         kinds.filter(([k]) => !(stats.byKind[k]?.n > 0)).map(([k]) => k).join(' ') || 'all');
  record('the rate was held', stats.late <= (stats.started * maxLatePercent) / 100,
         `${stats.late} not sent of ${stats.started + stats.late}`);
  record(`memory growth within ${maxGrowthMiB} MiB`, rssAfter - rssBefore <= maxGrowthMiB * 1024,
         `${((rssAfter - rssBefore) / 1024).toFixed(1)} MiB`);
  record('no file descriptor leak', fdsAfter <= fdsBefore + 16, `${fdsBefore} -> ${fdsAfter}`);
  await check('the demo still answers after the soak', async () => {
    connectClients();
    const r = await issueToken(clients.partner, demo.partner.client_id);
    if (r.status !== 200) throw new Error(`token: ${r.status}`);
    await closeClients();
  });
  exitCode = summary('soak');
} catch (e) {
  record('soak ran', false, e.stack ?? String(e));
  exitCode = summary('soak');
} finally {
  const code = await demoRun.stop();
  if (code !== 0 && code !== null) {
    record('the demo stopped cleanly', false, `exit ${code}`);
    exitCode = 1;
  }
}
process.exit(exitCode);

// MCP round trips with the official SDK client, like with like (issue 18):
//
//   node bench_mcp.mjs BOSUN_MCP_CONFIG C_FLOOR PEER_LOG [CALLS]
//
// Servers, each one stdio connection held for the whole run:
//   bosun               through the mcp.json bosund wrote for a run
//   server-everything   the reference server (SDK, Node)
//   sdk-peer            peer_write_server.mjs: an SDK server whose
//                       report_status stores what bosun's does, the way
//                       bosun's store does (PEER_LOG)
//   node-floor          floor_server.mjs: a few lines of Node, no SDK
//   c-floor             C_FLOOR (mcp_floor.c): jansson, no loop, no store
// Series (a server and one kind of request):
//   no store write   ping on each server (bosun records every tools/call
//                    as a tool_call event, so no bosun tool is without a
//                    write: ping is its request that writes nothing), and
//                    echo on the others
//   writes           report_status on bosun and on sdk-peer
// Every series is warmed up by the same rule: blocks of WARM_BLOCK calls
// until a block's p50 is within WARM_TOL of the block before (at least 2,
// at most WARM_MAX blocks).  Then CALLS (20,000) calls a series, in ROUNDS
// rounds of CALLS/ROUNDS, the order rotating every round so that a noisy
// spell of a shared machine falls on all.  p50, p90, p99 (nearest rank)
// and max of each; verdicts on the exact ratios of the p50s; "result:"
// lines for bench_runs.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';

const here = dirname(fileURLToPath(import.meta.url));
const [cfgFile, cFloor, peerLog, callsArg] = process.argv.slice(2);
if (!cfgFile || !cFloor || !peerLog) {
  console.error('usage: node bench_mcp.mjs BOSUN_MCP_CONFIG C_FLOOR PEER_LOG [CALLS]');
  process.exit(64);
}
const CALLS = Number(callsArg || 20000);
const ROUNDS = 10;
const WARM_BLOCK = 1000, WARM_TOL = 0.05, WARM_MAX = 20;
if (!Number.isInteger(CALLS) || CALLS < ROUNDS || CALLS > 1000000) {
  console.error(`bench_mcp: CALLS must be an integer in ${ROUNDS}..1000000, not ${callsArg}`);
  process.exit(64);
}
const bosun = JSON.parse(readFileSync(cfgFile, 'utf8')).mcpServers.bosun;

const servers = {
  bosun: { command: bosun.command, args: bosun.args, env: bosun.env },
  'server-everything': { command: process.execPath,
    args: [join(here, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js'), 'stdio'] },
  'sdk-peer': { command: process.execPath, args: [join(here, 'peer_write_server.mjs'), peerLog] },
  'node-floor': { command: process.execPath, args: [join(here, 'floor_server.mjs')] },
  'c-floor': { command: cFloor, args: [] },
};
const echo = { name: 'echo', arguments: { message: 'bench' } };
const status = { name: 'report_status', arguments: { state: 'working', message: 'bench' } };
const series = [
  { label: 'bosun ping', server: 'bosun' },
  { label: 'server-everything ping', server: 'server-everything' },
  { label: 'node-floor ping', server: 'node-floor' },
  { label: 'c-floor ping', server: 'c-floor' },
  { label: 'server-everything echo', server: 'server-everything', call: echo },
  { label: 'sdk-peer echo', server: 'sdk-peer', call: echo },
  { label: 'node-floor echo', server: 'node-floor', call: echo },
  { label: 'c-floor echo', server: 'c-floor', call: echo },
  { label: 'bosun report_status', server: 'bosun', call: status, writes: true },
  { label: 'sdk-peer report_status', server: 'sdk-peer', call: status, writes: true },
];

async function connect(s) {
  const client = new Client({ name: 'bosun-bench', version: '1.0.0' });
  await client.connect(new StdioClientTransport({
    command: s.command, args: s.args, env: { ...getDefaultEnvironment(), ...(s.env || {}) }, stderr: 'inherit',
  }));
  await client.listTools(); // as a real client does; the SDK then checks structured results
  return client;
}

// One timed request, in microseconds; a tool error ends the benchmark.
async function once(sr) {
  const t0 = process.hrtime.bigint();
  if (sr.call) {
    const r = await sr.client.callTool(sr.call);
    const us = Number(process.hrtime.bigint() - t0) / 1000;
    if (r.isError) throw new Error(`${sr.label}: ${JSON.stringify(r)}`);
    sr.made++;
    return us;
  }
  await sr.client.ping();
  sr.made++;
  return Number(process.hrtime.bigint() - t0) / 1000;
}

// pct: nearest rank of a sorted array.
const pct = (t, q) => t[Math.max(0, Math.ceil(q * t.length) - 1)];
const sorted = (a) => Float64Array.from(a).sort();

async function warm(sr) {
  const p50s = [];
  for (let b = 0; b < WARM_MAX; b++) {
    const t = [];
    for (let i = 0; i < WARM_BLOCK; i++) t.push(await once(sr));
    p50s.push(pct(sorted(t), 0.5));
    const n = p50s.length;
    if (n >= 2 && Math.abs(p50s[n - 1] - p50s[n - 2]) <= WARM_TOL * p50s[n - 2])
      return { calls: n * WARM_BLOCK, p50s, stable: true };
  }
  return { calls: WARM_MAX * WARM_BLOCK, p50s, stable: false };
}

const clients = {};
for (const [name, s] of Object.entries(servers)) clients[name] = await connect(s);
for (const sr of series) { sr.client = clients[sr.server]; sr.made = 0; sr.samples = []; }

console.log(`  warm-up: blocks of ${WARM_BLOCK} calls until a block's p50 is within ${WARM_TOL * 100} % of the one before (at most ${WARM_MAX})`);
for (const sr of series) {
  sr.warm = await warm(sr);
  console.log(`    ${sr.label.padEnd(24)} ${String(sr.warm.calls).padStart(6)} calls, block p50s ${sr.warm.p50s.map((x) => x.toFixed(1)).join(' ')} us${sr.warm.stable ? '' : ' -- NOT STABLE at the cap'}`);
}
const per = Math.floor(CALLS / ROUNDS);
for (let round = 0; round < ROUNDS; round++) {
  for (let k = 0; k < series.length; k++) {
    const sr = series[(k + round) % series.length];
    for (let i = 0; i < per; i++) sr.samples.push(await once(sr));
  }
}
for (const c of Object.values(clients)) await c.close();

const fmt = (us) => `${us.toFixed(1)} us`.padStart(10);
console.log(`  measured: ${per * ROUNDS} calls a series after its warm-up, ${ROUNDS} rounds taking turns${per * ROUNDS < 20000 ? ' (FEWER than the 20,000 issue 18 asks for)' : ''}`);
const stat = {};
for (const sr of series) {
  const t = sorted(sr.samples);
  const s = { p50: pct(t, 0.5), p90: pct(t, 0.9), p99: pct(t, 0.99), max: t[t.length - 1] };
  stat[sr.label] = s;
  console.log(`    ${sr.label.padEnd(24)} p50 ${fmt(s.p50)}  p90 ${fmt(s.p90)}  p99 ${fmt(s.p99)}  max ${fmt(s.max)}${sr.writes ? '  (writes)' : ''}`);
}
const key = (label) => label.replace(/[^A-Za-z0-9]+/g, '_');
for (const sr of series)
  for (const q of ['p50', 'p90', 'p99'])
    console.log(`result: mcp_${key(sr.label)}_${q} ${stat[sr.label][q].toFixed(3)} us`);

// The verdicts: exact ratios of p50s, printed to 3 places.
const ratio = (a, b, q = 'p50') => stat[a][q] / stat[b][q];
const verdicts = [
  ['no store write: bosun ping / server-everything ping', 'mcp_nowrite_bosun_over_everything', 'bosun ping', 'server-everything ping', 0.75],
  ['writes: bosun report_status / sdk-peer report_status', 'mcp_write_bosun_over_peer', 'bosun report_status', 'sdk-peer report_status', 0.75],
  ['floor: bosun ping / c-floor ping', 'mcp_bosun_over_c_floor', 'bosun ping', 'c-floor ping', 1.0],
];
console.log('  verdicts (p50s; targets: issue 18):');
for (const [text, k, a, b, target] of verdicts) {
  const r = ratio(a, b);
  console.log(`    ${text}: ${r.toFixed(3)} (p90 ${ratio(a, b, 'p90').toFixed(3)}, p99 ${ratio(a, b, 'p99').toFixed(3)}), target <= ${target}: ${r <= target ? 'PASS' : 'FAIL'}`);
  console.log(`result: ${k} ${r} <= ${target}`);
}
console.log('  for comparison, no target:');
for (const [a, b] of [['bosun report_status', 'server-everything echo'], ['bosun ping', 'node-floor ping'],
  ['node-floor ping', 'c-floor ping'], ['bosun report_status', 'c-floor echo'], ['sdk-peer report_status', 'sdk-peer echo']])
  console.log(`    ${a} / ${b}: p50 ${ratio(a, b).toFixed(3)}, p90 ${ratio(a, b, 'p90').toFixed(3)}, p99 ${ratio(a, b, 'p99').toFixed(3)}`);

// The peer must have stored what it was asked to: two records a call.
const peerCalls = series.find((sr) => sr.label === 'sdk-peer report_status').made;
const rows = readFileSync(peerLog, 'utf8').split('\n').filter(Boolean).length;
console.log(`  sdk-peer stored ${rows} records for ${peerCalls} report_status calls (2 a call expected)`);
if (rows !== 2 * peerCalls) {
  console.error('bench_mcp: the peer did not store every call');
  process.exit(1);
}

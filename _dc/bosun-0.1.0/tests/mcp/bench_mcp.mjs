// Round-trip latency of a trivial tools/call with the official MCP SDK
// client: bosun (through `bosunctl mcp`, which hands the client's pipes to
// the daemon), the reference
// server-everything's echo, and a minimal stdio server (the client's floor).
//
//   node bench_mcp.mjs BOSUN_MCP_CONFIG [CALLS] [WARMUP]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';

const here = dirname(fileURLToPath(import.meta.url));
const [cfgFile, callsArg, warmArg] = process.argv.slice(2);
const CALLS = Number(callsArg || 5000);
const WARMUP = Number(warmArg || 100);
const bosun = JSON.parse(readFileSync(cfgFile, 'utf8')).mcpServers.bosun;

const parties = [
  { name: 'bosun', command: bosun.command, args: bosun.args, env: bosun.env,
    call: { name: 'report_status', arguments: { state: 'working', message: 'bench' } } },
  { name: 'server-everything', command: process.execPath,
    args: [join(here, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js'), 'stdio'],
    call: { name: 'echo', arguments: { message: 'bench' } } },
  { name: 'floor', command: process.execPath, args: [join(here, 'floor_server.mjs')],
    call: { name: 'echo', arguments: { message: 'bench' } } },
];

async function connect(p) {
  const client = new Client({ name: 'bosun-bench', version: '1.0.0' });
  await client.connect(new StdioClientTransport({
    command: p.command, args: p.args, env: { ...getDefaultEnvironment(), ...(p.env || {}) }, stderr: 'ignore',
  }));
  return client;
}

// All three servers run at once and take turns, ROUNDS rounds of CALLS /
// ROUNDS calls each, so that a noisy spell of the machine falls on all of
// them rather than on whichever was being measured.
const ROUNDS = 10;
const clients = [];
for (const p of parties) {
  const client = await connect(p);
  for (let i = 0; i < WARMUP; i++) await client.callTool(p.call);
  clients.push(client);
}
const samples = parties.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  for (let k = 0; k < parties.length; k++) {
    const j = (k + round) % parties.length;
    const p = parties[j];
    for (let i = 0; i < CALLS / ROUNDS; i++) {
      const t0 = process.hrtime.bigint();
      const r = await clients[j].callTool(p.call);
      samples[j].push(Number(process.hrtime.bigint() - t0) / 1000);
      if (r.isError) throw new Error(`${p.name}: ${JSON.stringify(r)}`);
    }
  }
}
for (const client of clients) await client.close();
const results = {};
parties.forEach((p, j) => {
  const t = Float64Array.from(samples[j]).sort();
  results[p.name] = { median: t[Math.floor(t.length / 2)], p99: t[Math.floor(t.length * 0.99)] };
});
const fmt = (us) => `${us.toFixed(0)} us`;
for (const [name, r] of Object.entries(results))
  console.log(`  ${name.padEnd(18)} median ${fmt(r.median).padStart(8)}   p99 ${fmt(r.p99).padStart(8)}`);
const b = results.bosun, e = results['server-everything'], f = results.floor;
const verdict = (ok) => (ok ? 'PASS' : 'FAIL');
console.log(`  bosun/server-everything median ${(b.median / e.median).toFixed(2)}x (target <= 0.75x: ${verdict(b.median <= 0.75 * e.median)})`);
console.log(`  bosun/floor median ${(b.median / f.median).toFixed(2)}x (target <= 1.3x: ${verdict(b.median <= 1.3 * f.median)})`);
console.log(`  p99: bosun/server-everything ${(b.p99 / e.p99).toFixed(2)}x, bosun/floor ${(b.p99 / f.p99).toFixed(2)}x`);

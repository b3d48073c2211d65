// Approval round trip (issue 14, benchmark c): the approve tool, as Claude
// Code calls it at a permission prompt, decided by a rule of the policy,
// through `bosunctl mcp` with the official SDK client; beside it the
// trivial report_status on the same session, the MCP path without the
// policy.  The three kinds of call take turns, ROUNDS rounds.
//
//   node bench_approve.mjs BOSUN_MCP_CONFIG [CALLS] [WARMUP]
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';

const [cfgFile, callsArg, warmArg] = process.argv.slice(2);
const CALLS = Number(callsArg || 5000);
const WARMUP = Number(warmArg || 100);
const bosun = JSON.parse(readFileSync(cfgFile, 'utf8')).mcpServers.bosun;

const kinds = [
  { name: 'approve, allowed by a rule',
    call: { name: 'approve', arguments: { tool_name: 'Bash', input: { command: 'git status --short' }, tool_use_id: 'toolu_b1' } },
    expect: 'allow' },
  { name: 'approve, denied by a rule',
    call: { name: 'approve', arguments: { tool_name: 'Bash', input: { command: 'rm -rf /tmp/x' }, tool_use_id: 'toolu_b2' } },
    expect: 'deny' },
  { name: 'report_status (no policy)',
    call: { name: 'report_status', arguments: { state: 'working', message: 'bench' } } },
];

const client = new Client({ name: 'bosun-bench-approve', version: '1.0.0' });
await client.connect(new StdioClientTransport({
  command: bosun.command, args: bosun.args, env: { ...getDefaultEnvironment(), ...(bosun.env || {}) }, stderr: 'ignore',
}));
async function once(k) {
  const r = await client.callTool(k.call);
  if (r.isError) throw new Error(`${k.name}: ${JSON.stringify(r)}`);
  if (k.expect) {
    const a = JSON.parse(r.content[0].text);
    if (a.behavior !== k.expect) throw new Error(`${k.name}: ${r.content[0].text}`);
  }
}
for (const k of kinds) for (let i = 0; i < WARMUP; i++) await once(k);
const ROUNDS = 10;
const samples = kinds.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  for (let j = 0; j < kinds.length; j++) {
    const k = kinds[(j + round) % kinds.length];
    const s = samples[(j + round) % kinds.length];
    for (let i = 0; i < CALLS / ROUNDS; i++) {
      const t0 = process.hrtime.bigint();
      await once(k);
      s.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
  }
}
await client.close();
kinds.forEach((k, j) => {
  const t = Float64Array.from(samples[j]).sort();
  const p50 = t[Math.floor(t.length / 2)], p99 = t[Math.floor(t.length * 0.99)];
  console.log(`  ${k.name.padEnd(28)} p50 ${p50.toFixed(0).padStart(6)} us   p99 ${p99.toFixed(0).padStart(6)} us   (${t.length} calls)`);
});

// `bosunctl mcp` both ways, with the official SDK client: its stdin and
// stdout handed over to bosund (the default when they are pipes or
// sockets, as the SDK makes them) or relayed line by line (--relay).
// add_artifact's "path" is read by bosunctl in both.
//
//   node stdio_test.mjs MCP_CONFIG MODE TEXT_FILE BINARY_FILE
//   MODE: handover | relay
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ok, is, done } from './tap.mjs';

const [cfg, mode, textFile, binaryFile] = process.argv.slice(2);
const server = JSON.parse(readFileSync(cfg, 'utf8')).mcpServers.bosun;
const client = new Client({ name: `bosun-${mode}`, version: '1.0.0' });
await client.connect(new StdioClientTransport({
  command: server.command,
  args: mode === 'relay' ? [...server.args, '--relay'] : server.args,
  env: { ...getDefaultEnvironment(), ...server.env },
  stderr: 'pipe',
}));
const text = (r) => (r.content || []).map((c) => c.text || '').join('');
const call = (name, args) => client.callTool({ name, arguments: args });

let r = await call('report_status', { state: 'working', message: `via ${mode}` });
ok(!r.isError && r.structuredContent?.message === `via ${mode}`, `${mode}: report_status`, r);
r = await call('add_artifact', { name: `${mode}.txt`, path: textFile });
ok(!r.isError && r.structuredContent?.version === 1, `${mode}: add_artifact from a text file`, r);
r = await call('add_artifact', { name: `${mode}.bin`, path: binaryFile });
ok(!r.isError && r.structuredContent?.version === 1, `${mode}: add_artifact from a binary file`, r);
r = await call('add_artifact', { name: `${mode}-missing.txt`, path: '/nonexistent/bosun-test' });
ok(r.isError === true && /cannot read \/nonexistent\/bosun-test: No such file/.test(text(r)),
  `${mode}: a missing file: isError naming the path and the reason`, r);
r = await call('add_artifact', { name: `${mode}-dir.txt`, path: '/' });
ok(r.isError === true && /not a regular file/.test(text(r)), `${mode}: a directory: isError`, r);
// Calls sent together, a path among them: every one is answered, by id.
const rs = await Promise.all([
  call('add_artifact', { name: `${mode}-burst.txt`, path: textFile }),
  call('report_status', { state: 'working', message: 'burst 1' }),
  call('report_status', { state: 'working', message: 'burst 2' }),
]);
ok(rs.every((x) => !x.isError) && rs[1].structuredContent.message === 'burst 1' &&
  rs[2].structuredContent.message === 'burst 2', `${mode}: concurrent calls around a path all answered`, rs);
is(JSON.stringify(await client.ping()), '{}', `${mode}: the session goes on`);
await client.close();
done();

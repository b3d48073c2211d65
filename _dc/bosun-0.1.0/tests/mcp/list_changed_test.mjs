// notifications/tools/list_changed: the test script narrows the mcp
// plugin's `tools:` and reloads bosund while this client stays connected;
// the client must be told, and then see the smaller tool set.
//
//   node list_changed_test.mjs MCP_CONFIG READY_FILE RELOADED_FILE
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { plan, ok, is, done } from './tap.mjs';

const [cfg, readyFile, reloadedFile] = process.argv.slice(2);
const server = JSON.parse(readFileSync(cfg, 'utf8')).mcpServers.bosun;
plan(4);
const client = new Client({ name: 'list-changed', version: '1.0.0' });
let changed = 0;
client.setNotificationHandler(ToolListChangedNotificationSchema, () => { changed++; });
await client.connect(new StdioClientTransport({
  command: server.command, args: server.args, env: { ...getDefaultEnvironment(), ...server.env },
}));
ok(client.getServerCapabilities()?.tools?.listChanged === true, 'the server declares tools.listChanged');
is((await client.listTools()).tools.length, 8, 'eight tools before the reload');
writeFileSync(readyFile, 'ready\n');
const deadline = Date.now() + 20000;
while (!existsSync(reloadedFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
while (changed === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
ok(changed > 0, 'notifications/tools/list_changed arrives after the reload');
const names = (await client.listTools()).tools.map((t) => t.name).sort().join(',');
is(names, 'get_task,report_status', 'the new tool set is listed');
await client.close();
done();

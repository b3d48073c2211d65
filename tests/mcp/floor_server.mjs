// The client's own floor for the MCP benchmark: a stdio MCP server in a few
// lines of Node, without any SDK, that answers every request at once.
// An optional argument names a JSON file holding the tools/list answer's
// `tools` array (the supervision benchmark replays other servers' tools).
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const tools = process.argv[2] ? JSON.parse(readFileSync(process.argv[2], 'utf8')) : [{ name: 'echo', inputSchema: { type: 'object' } }];

const send = (m) => process.stdout.write(JSON.stringify(m) + '\n');
createInterface({ input: process.stdin }).on('line', (line) => {
  const m = JSON.parse(line);
  if (m.id === undefined) return;
  if (m.method === 'initialize')
    send({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'floor', version: '1' } } });
  else if (m.method === 'ping')
    send({ jsonrpc: '2.0', id: m.id, result: {} });
  else if (m.method === 'tools/list')
    send({ jsonrpc: '2.0', id: m.id, result: { tools } });
  else
    send({ jsonrpc: '2.0', id: m.id, result: { content: [{ type: 'text', text: 'ok' }] } });
});

// A minimal MCP server over streamable HTTP (JSON responses, no SSE) on
// 127.0.0.1: the floor for an MCP server the CLI reaches without a child.
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
const [portFile] = process.argv.slice(2);
const srv = createServer((req, res) => {
  if (req.method !== 'POST') { res.writeHead(405).end(); return; }
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    const m = JSON.parse(body);
    if (m.id === undefined) { res.writeHead(202).end(); return; }
    let result;
    if (m.method === 'initialize')
      result = { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'floor', version: '1' } };
    else if (m.method === 'tools/list') result = { tools: [{ name: 'echo', inputSchema: { type: 'object' } }] };
    else result = { content: [{ type: 'text', text: 'ok' }] };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: m.id, result }));
  });
});
srv.listen(0, '127.0.0.1', () => writeFileSync(portFile, String(srv.address().port)));

// An agent for the blocking request_input test, run by bosund as an exec
// agent.  First run: asks a blocking question through bosun's MCP server
// (configured by BOSUN_MCP_CONFIG) and exits.  Resumed run: prints what it
// was resumed with, reports done, and exits.
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';

const server = JSON.parse(readFileSync(process.env.BOSUN_MCP_CONFIG, 'utf8')).mcpServers.bosun;
const client = new Client({ name: 'asker', version: '1.0.0' });
await client.connect(new StdioClientTransport({
  command: server.command, args: server.args, env: { ...getDefaultEnvironment(), ...server.env },
}));
if (process.env.BOSUN_RESUME === '1') {
  const file = readFileSync(process.env.BOSUN_INPUT_ANSWER_FILE, 'utf8');
  console.log(`resumed answer=${process.env.BOSUN_INPUT_ANSWER} request=${process.env.BOSUN_INPUT_REQUEST_ID} file=${file}`);
  await client.callTool({ name: 'report_status', arguments: { state: 'done', message: `got ${file}` } });
} else {
  const r = await client.callTool({ name: 'request_input', arguments: { question: 'Deploy to production?', choices: ['yes', 'no'], blocking: true } });
  console.log(`asked request=${r.structuredContent?.request_id} status=${r.structuredContent?.status}`);
}
await client.close();

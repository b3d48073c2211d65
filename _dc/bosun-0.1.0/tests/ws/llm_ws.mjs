// /ws client for the llm chat test (tests/integration/llm_chat.sh):
//
//   node llm_ws.mjs URL TOKEN PATTERN
//
// Subscribes to PATTERN (live), writes {"subscribed": true} to the file
// $LLM_WS_READY once the server says so, then prints the first message
// that arrives as {"subject", "data"} and exits 0; {"timeout": true}
// after $WS_DEADLINE seconds (default 60).
import WebSocket from 'ws';
import { writeFileSync } from 'node:fs';

const [url, token, pattern] = process.argv.slice(2);
const deadline = 1000 * Number(process.env.WS_DEADLINE || 60);
const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` } });
const finish = (o) => {
  process.stdout.write(JSON.stringify(o) + '\n');
  process.exit(0);
};
setTimeout(() => finish({ timeout: true }), deadline);
ws.on('message', (raw) => {
  const f = JSON.parse(raw.toString());
  if (f.op === 'ready') ws.send(JSON.stringify({ op: 'sub', sid: 'c', subject: pattern }));
  else if (f.op === 'subscribed') writeFileSync(process.env.LLM_WS_READY, '{"subscribed":true}\n');
  else if (f.op === 'msg') finish({ subject: f.subject, data: f.data });
  else if (f.op === 'error') finish({ error: f.error });
});
ws.on('error', (e) => finish({ error: String(e) }));

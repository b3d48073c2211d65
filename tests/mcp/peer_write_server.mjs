// The MCP benchmark's peer for bosun's report_status (bench_mcp.sh): a
// server on the official SDK, as server-everything is, whose report_status
// tool stores what bosun's does and the way bosun's store does it.
//
//   node peer_write_server.mjs LOG_FILE
//
// bosun answers a report_status call, then publishes two events, the
// status and the call's tool_call record, which its sqlite store commits
// in batches (commit_delay 10 ms) to a WAL database with synchronous
// NORMAL: a commit is a write() of the batch, no fsync; the WAL checkpoint
// (every 1,000 pages, 4 MiB) is where data is synced.  This tool does the
// same: it answers, queues the same two records (the same fields, the
// JSON bosun stores as data, with a sequence number and time), writes the
// queue in one write() at most 10 ms after its first record, and
// fdatasync()s the file each time 4 MiB more were written.  An append to a
// file is less work than an SQLite insert with indexes, so the peer is
// favoured, not bosun.  LOG_FILE is truncated at start.  echo, as
// server-everything's, writes nothing.
import { openSync, writeSync, fdatasyncSync, closeSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const COMMIT_DELAY_MS = 10;
const SYNC_BYTES = 4 * 1024 * 1024;
const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node peer_write_server.mjs LOG_FILE\n');
  process.exit(64);
}
const fd = openSync(file, 'w', 0o600);
const run = randomUUID(), task = randomUUID(), agent = 'peer';
let seq = 0, queue = [], timer = null, unsynced = 0;

function commit() {
  timer = null;
  if (queue.length === 0) return;
  const buf = Buffer.from(queue.join(''));
  queue = [];
  writeSync(fd, buf);
  unsynced += buf.length;
  if (unsynced >= SYNC_BYTES) {
    fdatasyncSync(fd);
    unsynced = 0;
  }
}

function record(kind, data) {
  const row = { seq: ++seq, time: Date.now() / 1000, subject: `evt.run.${agent}.${run}.${kind}`, run,
    data: { ...data, run, task, agent } };
  queue.push(JSON.stringify(row) + '\n');
  if (!timer) timer = setTimeout(commit, COMMIT_DELAY_MS);
}

const server = new McpServer({ name: 'bosun-bench-peer', version: '1.0.0' });
server.registerTool('echo', {
  title: 'Echo Tool', description: 'Echoes back the input string',
  inputSchema: { message: z.string() },
}, async ({ message }) => ({ content: [{ type: 'text', text: `Echo: ${message}` }] }));

server.registerTool('report_status', {
  title: 'Report your status', description: 'Tell the humans watching what you are doing.',
  inputSchema: { state: z.string().min(1).max(64), message: z.string().max(4096).optional() },
  outputSchema: { state: z.string(), message: z.string() },
}, async ({ state, message = '' }, extra) => {
  const t0 = process.hrtime.bigint();
  const status = { state, message };
  // After the reply is built, as bosun publishes after its response.
  setImmediate(() => {
    record('status', status);
    record('tool_call', { tool: 'report_status', arguments: { state, message }, outcome: 'ok',
      is_error: false, duration_ms: Math.round(Number(process.hrtime.bigint() - t0) / 1e6),
      request_id: extra.requestId });
  });
  return { content: [{ type: 'text', text: `Status reported: ${state}` }], structuredContent: status };
});

const flushAndExit = () => {
  if (timer) clearTimeout(timer);
  commit();
  closeSync(fd);
  process.exit(0);
};
// At the end of the input, calls still in flight get 100 ms to record.
process.stdin.on('end', () => setTimeout(flushAndExit, 100));
process.on('SIGTERM', flushAndExit);
process.on('SIGINT', flushAndExit);
await server.connect(new StdioServerTransport());

// The peer of bosun-llm in bench_llm.sh: the AI SDK (ai + @ai-sdk/openai,
// the stack of the browser coding agent bosun-llm replaces) running the
// same task against the same fake model API: generateText with the six
// tools (bash, read_file, write_file, edit_file, list_files, fetch) and
// stopWhen: stepCountIs(20), over OpenAI Chat Completions.  The tools do
// their work for real in WORKSPACE, as bosun-llm's do (bash spawns a
// shell), without bosun's checks.
//
// usage: node peer.mjs BASE_URL WORKSPACE
// Prints one JSON line: {steps, tool_calls, wall_ms, finish}.
import { generateText, tool, stepCountIs } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { z } from 'zod';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';

const [baseURL, workspace] = process.argv.slice(2);
const inside = (p) => path.resolve(workspace, p);

const tools = {
  bash: tool({
    description: 'Run a shell command in the workspace',
    inputSchema: z.object({ command: z.string(), timeout: z.number().optional() }),
    execute: ({ command, timeout }) => new Promise((resolve) => {
      execFile('/bin/sh', ['-c', command], { cwd: workspace, timeout: (timeout || 30) * 1000,
                                              maxBuffer: 64 * 1024 },
               (err, stdout, stderr) => resolve({ exit_code: err ? (err.code ?? 1) : 0, stdout, stderr }));
    }),
  }),
  read_file: tool({
    description: 'Read a file of the workspace',
    inputSchema: z.object({ path: z.string(), offset: z.number().optional(), limit: z.number().optional() }),
    execute: async ({ path: p }) => fs.readFile(inside(p), 'utf8'),
  }),
  write_file: tool({
    description: 'Write a file of the workspace',
    inputSchema: z.object({ path: z.string(), content: z.string() }),
    execute: async ({ path: p, content }) => { await fs.writeFile(inside(p), content); return 'ok'; },
  }),
  edit_file: tool({
    description: 'Replace text in a file of the workspace',
    inputSchema: z.object({ path: z.string(), search: z.string(), replace: z.string(),
                            count: z.number().optional() }),
    execute: async ({ path: p, search, replace }) => {
      const text = await fs.readFile(inside(p), 'utf8');
      if (!text.includes(search)) return 'error: no match';
      await fs.writeFile(inside(p), text.replace(search, replace));
      return 'ok';
    },
  }),
  list_files: tool({
    description: 'List files of the workspace',
    inputSchema: z.object({ path: z.string().optional(), glob: z.string().optional() }),
    execute: async ({ path: p }) => (await fs.readdir(inside(p || '.'))).join('\n'),
  }),
  fetch: tool({
    description: 'Fetch a URL',
    inputSchema: z.object({ url: z.string(), method: z.string().optional() }),
    execute: async ({ url, method }) => {
      const r = await fetch(url, { method: method || 'GET' });
      return { status: r.status, body: (await r.text()).slice(0, 1 << 20) };
    },
  }),
};

const openai = createOpenAI({ baseURL, apiKey: 'sk-bench-peer-key' });
const start = performance.now();
const result = await generateText({
  model: openai.chat('fake-model'),
  system: 'You are a coding agent.',
  prompt: 'Do the scripted task.',
  tools,
  stopWhen: stepCountIs(20),
  maxRetries: 0,
});
const wall = performance.now() - start;
const calls = result.steps.reduce((n, s) => n + s.toolCalls.length, 0);
console.log(JSON.stringify({ steps: result.steps.length, tool_calls: calls, wall_ms: wall,
                             finish: result.finishReason }));

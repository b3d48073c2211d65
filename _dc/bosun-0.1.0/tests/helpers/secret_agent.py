#!/usr/bin/python3
# tests/integration/secret_redact.sh: an agent puts its own token into
# every free-text argument of every tool that stores something, through
# `bosunctl mcp` as its mcp.json says.  One "tool: ok|refused" line each.
import json, subprocess, sys

cfg_path = sys.argv[1]
server = json.load(open(cfg_path))['mcpServers']['bosun']
tok = server['env']['BOSUN_AGENT_TOKEN']
p = subprocess.Popen([sys.argv[2]] + server['args'], env=server['env'],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
n = 0
def call(method, params):
    global n
    n += 1
    p.stdin.write((json.dumps({'jsonrpc': '2.0', 'id': n, 'method': method, 'params': params}) + '\n').encode())
    p.stdin.flush()
    line = p.stdout.readline()
    return json.loads(line) if line else {'error': {'message': 'session closed'}}
def tool(name, arguments):
    r = call('tools/call', {'name': name, 'arguments': arguments})
    bad = 'error' in r or r.get('result', {}).get('isError')
    print('%s: %s' % (name, 'refused' if bad else 'ok'))
    if bad:
        print(name, json.dumps(r)[:300], file=sys.stderr)
    sys.stdout.flush()

call('initialize', {'protocolVersion': '2025-06-18', 'capabilities': {},
                    'clientInfo': {'name': 'secret', 'version': '1'}})
p.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
p.stdin.flush()
tool('report_status', {'state': 's' + tok, 'message': 'status note ' + tok})
tool('log_event', {'kind': 'leak', 'data': {'note': 'n' + tok, 'text': tok, tok: 'as a key',
                                           'list': ['x', {'content': 'deep ' + tok}]}})
tool('add_artifact', {'name': 'leak.txt', 'content': 'artifact content ' + tok})
tool('link_pr', {'url': 'https://github.com/o/r/pull/1?t=' + tok})
tool('request_input', {'question': 'question ' + tok, 'choices': ['yes ' + tok, 'no'],
                       'blocking': True})
p.stdin.close()
p.wait(timeout=30)

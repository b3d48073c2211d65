#!/usr/bin/python3
# Run by an exec agent in tests/integration/agent_socket.sh: with what an
# agent is given (BOSUN_SOCKET, its token), tries every escalation over its
# socket, then speaks MCP with its own token.  One "name: result" line each.
import json, os, socket, sys

def conn(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s, s.makefile('rb')

def call(s, f, req):
    s.sendall((json.dumps(req) + '\n').encode())
    return json.loads(f.readline())

def outcome(r):
    return 'ok' if r.get('ok') else r['error']['code']

other, admin = sys.argv[1], sys.argv[2]
sock = os.environ['BOSUN_SOCKET']
print('socket:', 'admin' if sock == admin else os.path.basename(sock))
try:
    conn(admin)
    print('admin socket: reachable')
except OSError as e:
    print('admin socket:', 'refused' if isinstance(e, PermissionError) else type(e).__name__)
s, f = conn(sock)
probes = [
    ('forged state', {'op': 'pub', 'subject': 'evt.run.idle.%s.state' % other, 'data': {'state': 'FATAL'}}),
    ('stop other', {'op': 'request', 'subject': 'cmd.proc.stop', 'data': {'run': other}}),
    ('sub cmd', {'op': 'sub', 'pattern': 'cmd.>'}),
    ('sub inbox', {'op': 'sub', 'pattern': '_INBOX.>'}),
    ('sub all', {'op': 'sub', 'pattern': '>'}),
    ('status', {'op': 'status'}),
    ('reload', {'op': 'reload'}),
    ('bad token', {'op': 'mcp', 'token': 'bat_' + 'A' * 43}),
]
for i, (name, req) in enumerate(probes):
    req['id'] = i
    print('%s: %s' % (name, outcome(call(s, f, req))))
s.close()
# Its own MCP session, relayed over the agent socket.
s, f = conn(sock)
r = call(s, f, {'id': 1, 'op': 'mcp', 'token': os.environ['BOSUN_AGENT_TOKEN'],
                'run': os.environ['BOSUN_RUN_ID']})
print('mcp open:', outcome(r))
init = call(s, f, {'jsonrpc': '2.0', 'id': 1, 'method': 'initialize', 'params': {
    'protocolVersion': '2025-06-18', 'capabilities': {}, 'clientInfo': {'name': 'probe', 'version': '1'}}})
print('mcp initialize:', 'ok' if 'result' in init else 'error')
s.sendall(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
r = call(s, f, {'jsonrpc': '2.0', 'id': 2, 'method': 'tools/call', 'params': {
    'name': 'report_status', 'arguments': {'state': 'probed', 'message': 'as ' + str(os.getuid())}}})
print('mcp report_status:', 'error' if r.get('result', {}).get('isError') or 'error' in r else 'ok')
sys.stdout.flush()

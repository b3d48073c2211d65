#!/usr/bin/python3
# tests/integration/token_death.sh: an MCP session opened with a run's
# token, through `bosunctl mcp` (handed-over stdio) or `bosunctl mcp
# --relay`; the run is stopped; then every tool is called on the still-open
# session.  One "tool: ok|refused" line each.
import json, subprocess, sys, time

bosunctl, mode, cfg_path, admin_sock, run = sys.argv[1:6]
server = json.load(open(cfg_path))['mcpServers']['bosun']
args = [bosunctl] + server['args'] + (['--relay'] if mode == 'relay' else [])
p = subprocess.Popen(args, env=server['env'], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
n = 0
def call(method, params):
    global n
    n += 1
    try:
        p.stdin.write((json.dumps({'jsonrpc': '2.0', 'id': n, 'method': method, 'params': params}) + '\n').encode())
        p.stdin.flush()
    except BrokenPipeError:
        return {'error': {'message': 'session closed'}}
    line = p.stdout.readline()
    return json.loads(line) if line else {'error': {'message': 'session closed'}}
def tool(name, arguments):
    r = call('tools/call', {'name': name, 'arguments': arguments})
    bad = 'error' in r or r.get('result', {}).get('isError')
    print('%s: %s' % (name, 'refused' if bad else 'ok'))
    if bad:
        print(name, json.dumps(r)[:300], file=sys.stderr)
    sys.stdout.flush()

init = call('initialize', {'protocolVersion': '2025-06-18', 'capabilities': {},
                           'clientInfo': {'name': 'td', 'version': '1'}})
p.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
p.stdin.flush()
tool('get_task', {})  # works while the run lives
subprocess.run([bosunctl, '-s', admin_sock, 'stop', run], stdout=subprocess.DEVNULL, check=True)
for _ in range(200):
    ps = subprocess.run([bosunctl, '-s', admin_sock, 'ps', '--json'], capture_output=True, text=True).stdout
    if any(r.get('run') == run and r.get('state') == 'STOPPED' for r in json.loads(ps)):
        break
    time.sleep(0.05)
# The daemon ends the session itself: bosunctl mcp sees its end of the
# stream without being asked (bounded wait).
ended = False
for _ in range(100):
    if p.poll() is not None:
        ended = True
        break
    time.sleep(0.05)
print('session ended by itself: %s' % ('yes' if ended else 'no'))
sys.stdout.flush()
tool('get_task', {})
tool('report_status', {'state': 'after-stop'})
tool('log_event', {'kind': 'after-stop'})
tool('add_artifact', {'name': 'after.txt', 'content': 'x'})
tool('link_pr', {'url': 'https://github.com/o/r/pull/1'})
tool('request_input', {'question': 'after stop?', 'blocking': True})
tool('check_input', {'request_id': '01ARZ3NDEKTSV4RRFFQ69G5FAV'})
try:
    p.stdin.close()
except BrokenPipeError:
    pass
p.wait(timeout=30)

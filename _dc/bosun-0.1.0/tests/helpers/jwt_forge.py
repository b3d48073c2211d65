#!/usr/bin/python3
"""Makes the JWTs an attacker would try against bosun's sessions.

jwt_forge.py KEYFILE KIND [SUB]: prints one token.  KIND:
  good       HS256 under the daemon's key, valid claims (the control: it
             must be accepted, so that the refusals below are about what
             differs)
  expired    the same, expired an hour ago
  otherkey   valid claims, signed with another key
  none       alg "none", no signature
  rs256      alg "RS256", signed with HMAC-SHA256 under the daemon's key
             (the key a confused verifier would take as the RSA public key)
  tampered   a good token whose payload is replaced (role viewer -> admin,
             another sub) keeping the original signature
  noaud      valid signature, no aud claim
  nojti      valid signature, no jti claim
  short      like good, expiring in $FORGE_TTL seconds (default 3)
  viewer     like good, for SUB (default user:someone) with role viewer
             (the session a GitHub login with that role gets)

$FORGE_JTI, when set, is the jti (a known entry of the deny-list).
"""
import base64, hashlib, hmac, json, os, sys, time

def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b'=').decode()

def sign(header, claims, key):
    h = b64(json.dumps(header, separators=(',', ':')).encode())
    p = b64(json.dumps(claims, separators=(',', ':')).encode())
    sig = hmac.new(key, (h + '.' + p).encode(), hashlib.sha256).digest()
    return h + '.' + p + '.' + b64(sig)

key = open(sys.argv[1], 'rb').read()
kind = sys.argv[2]
sub = sys.argv[3] if len(sys.argv) > 3 else 'admin:bootstrap'
now = int(time.time())
claims = {'iss': 'bosun:test-machine', 'aud': 'bosun-http', 'sub': sub, 'role': 'admin',
          'jti': os.environ.get('FORGE_JTI') or b64(os.urandom(16)), 'iat': now, 'exp': now + 600}
hs = {'alg': 'HS256', 'typ': 'JWT'}
if kind == 'good':
    print(sign(hs, claims, key))
elif kind == 'viewer':
    claims.update(role='viewer', sub=sub if len(sys.argv) > 3 else 'user:someone')
    print(sign(hs, claims, key))
elif kind == 'short':
    claims.update(exp=now + int(os.environ.get('FORGE_TTL', '3')))
    print(sign(hs, claims, key))
elif kind == 'expired':
    claims.update(iat=now - 7200, exp=now - 3600)
    print(sign(hs, claims, key))
elif kind == 'otherkey':
    print(sign(hs, claims, os.urandom(32)))
elif kind == 'none':
    h = b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())
    print(h + '.' + b64(json.dumps(claims).encode()) + '.')
elif kind == 'rs256':
    print(sign({'alg': 'RS256', 'typ': 'JWT'}, claims, key))
elif kind == 'tampered':
    viewer = dict(claims, role='viewer', sub='user:someone')
    good = sign(hs, viewer, key).split('.')
    good[1] = b64(json.dumps(claims, separators=(',', ':')).encode())
    print('.'.join(good))
elif kind == 'noaud':
    del claims['aud']
    print(sign(hs, claims, key))
elif kind == 'nojti':
    del claims['jti']
    print(sign(hs, claims, key))
else:
    sys.exit('unknown kind ' + kind)

#!/usr/bin/env python3
"""Write seed corpora for the fuzz targets (test/fuzz/corpus/<name>/).

Usage: test/fuzz/make-seeds.py CAPTURE_DIR [OUT_DIR]

CAPTURE_DIR holds the requests the Apache::Test suite sent (one file per
request: "METHOD PATH\\n" then the body), captured from t/80..t/84 and t/88
(the real Okta and Entra bodies of t/83-okta.t and t/84-entra.t included) by
a temporary hook in ScimTest::scim_req; see test/fuzz/README.md. Besides
those, the filters and bodies written as C strings in the unit tests
(test/unit/test_filter.c, test_schema.c) and a few hand-made inputs for the
token, key set and mail targets are written. Names are the SHA-1 of the
content, as libFuzzer names its finds, so re-running adds nothing twice.
"""
import glob
import hashlib
import json
import os
import re
import sys
import urllib.parse

here = os.path.dirname(os.path.abspath(__file__))
cap = sys.argv[1]
out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, 'corpus')
SEP = b'\n--\n'


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    if len(data) > 65536:   # the limit tests' huge bodies: not seeds
        return
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), 'wb') as f:
        f.write(data)


def is_group(path):
    return path.startswith('/Groups')


for fn in sorted(glob.glob(os.path.join(cap, '*.req'))):
    raw = open(fn, 'rb').read()
    line, _, body = raw.partition(b'\n')
    method, _, target = line.decode('utf-8', 'replace').partition(' ')
    path, _, query = target.partition('?')
    sel = b'\x01' if is_group(path) else b'\x00'
    if body:
        put('json', b'\x00' + body)
        if method in ('POST', 'PUT') and path.count('/') <= 2 and '.search' not in path \
                and path.startswith(('/Users', '/Groups')):
            put('resource', sel + body)
            put('resource', bytes([sel[0] | 2]) + body)
        if method == 'PATCH':
            put('patch', sel + body)
            put('patch', bytes([sel[0] | 2]) + body)
        if '.search' in path:
            try:
                s = json.loads(body)
            except ValueError:
                s = {}
            if isinstance(s, dict):
                if isinstance(s.get('filter'), str):
                    put('filter', sel + s['filter'].encode())
                a = s.get('attributes')
                if isinstance(a, list):
                    a = ','.join(x for x in a if isinstance(x, str))
                if isinstance(a, str):
                    put('attrs', sel + a.encode())
    params = urllib.parse.parse_qsl(query, keep_blank_values=True, encoding='utf-8',
                                    errors='surrogateescape')
    attrs, excl = b'', b''
    for k, v in params:
        v = v.encode('utf-8', 'surrogateescape')
        if k == 'filter':
            put('filter', sel + v)
        elif k == 'sortBy':
            put('filter', sel + v)
            put('filter', bytes([sel[0] | 2]) + v)
        elif k == 'attributes':
            attrs = v
        elif k == 'excludedAttributes':
            excl = v
    if attrs or excl:
        put('attrs', sel + attrs + SEP + excl)


def c_strings(path, pattern):
    """C string literals (adjacent ones joined) of the calls matching pattern."""
    src = open(path, encoding='utf-8').read()
    res = []
    for m in re.finditer(pattern + r'\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)', src):
        lit = ''.join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)))
        try:
            b = bytes(lit, 'utf-8').decode('unicode_escape').encode('latin-1')
        except (UnicodeDecodeError, UnicodeEncodeError):
            continue
        res.append(b)
    return res


unit = os.path.join(here, '..', 'unit')
for s in c_strings(os.path.join(unit, 'test_filter.c'), r'\b(?:ck_shape|parse|parse_err|match|sql_of)'):
    put('filter', b'\x00' + s)
for s in c_strings(os.path.join(unit, 'test_schema.c'), r'\bJ'):
    if s.startswith(b'{'):
        put('resource', b'\x00' + s)
        put('json', b'\x00' + s)

# Tokens and key sets (fuzz_jwt: the key "k1" signs "header\nclaims").
hdr = '{"alg":"HS256","typ":"scim-prov+jwt","kid":"k1"}'
claims = ('{"iss":"https://scim.example.test","aud":"urn:scim-provision:tenant:acme",'
          '"tid":"acme","sub":"2819c223-7f76-453a-919d-413861904646","idp":"okta",'
          '"jti":"AAAAAAAAAAAAAAAAAAAAAA","iat":1799990000,"nbf":1799990000,"exp":1800090000}')
put('jwt', hdr + '\n' + claims)
put('jwt', hdr.replace('k1', 'k2') + '\n' + claims.replace('"okta"', '"entra"'))
put('jwt', '{"keys":[{"kty":"oct","alg":"HS256","kid":"test-2026a","use":"sig",'
           '"key_ops":["sign","verify"],"k":"YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE"}]}')
put('jwt', 'eyJhbGciOiJIUzI1NiIsInR5cCI6InNjaW0tcHJvditqd3QiLCJraWQiOiJrMSJ9.'
           'eyJpc3MiOiJodHRwczovL3NjaW0uZXhhbXBsZS50ZXN0In0.'
           'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')
put('jwt', 'dXNlcjpwYXNzd29yZA==')

# Reminder mail: the fields of fuzz_mail.c, separated by "\n--\n".
def mail(*f):
    put('mail', SEP.join(x.encode() if isinstance(x, str) else x for x in f))


base = ['Acme Corp', 'acme', 'Acme Okta', 'okta', 'okta-provisioning-7kq2fz@acme',
        '0b9f3e1c-aaaa-4bbb-8ccc-0123456789ab', '2026-11-29T07:59:00Z',
        'https://admin.test.example/t/{tenant}/provisioning/', 'alice@acme.example',
        'provisioning@test.example', '7d1e5c2a-3b4f-4a6e-9c0d-112233445566', b'\x07\x00']
mail(*base)
mail(*(['Ünïcödé GmbH 株式会社', 'globex', 'Entra =?UTF-8?B?x?=', 'entra'] + base[4:]))
mail(*(['Evil\r\nBcc: victim@example.com', 'acme\nX: y', 'I\x00dp', 'okta'] + base[4:7]
       + ['https://x/{tenant}{tenant}\r\n'] + base[8:]))
mail(*(['A' * 1200] + base[1:11] + [b'\x01']))
mail(*(base[:8] + ['bob@globex.example', 'noreply@test.example', 'not-a-uuid', b'\xff']))

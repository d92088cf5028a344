#!/usr/bin/env python3
"""Re-verify gcm_esp_draft_mcgrew.txt and rfc3602_esp.txt (needs the `cryptography` package).

Reads only those two files and recomputes every ciphertext/ICV, the packet layout
and the ESP trailer.  Exit status 0 = all vectors verified.
"""
import os, re, sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

HERE = os.path.dirname(os.path.abspath(__file__))


def parse(name):
    vecs, cur = [], None
    for raw in open(os.path.join(HERE, name)):
        line = raw.strip()
        if not line or line.startswith('#'):
            continue
        if line.startswith('['):
            cur = {}
            vecs.append((line[1:-1], cur))
            continue
        k, _, v = line.partition('=')
        v = v.strip()
        assert re.fullmatch(r'(?:[0-9a-f]{2})*', v), (name, line)
        cur[k.strip()] = bytes.fromhex(v)
    return vecs


def inet_cksum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(int.from_bytes(b[i:i + 2], 'big') for i in range(0, len(b), 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


fail, n_ok = [], {}


def check(fname, vname, ok):
    n_ok[fname] = n_ok.get(fname, 0) + 1
    if not ok:
        fail.append(f'{fname} [{vname}]')


for n, f in parse('gcm_esp_draft_mcgrew.txt'):
    gmac = 'GMAC' in n
    nonce = f['salt'] + f['iv']
    trailer = f['payload'] + f['padding'] + f['pad_length'] + f['next_header']
    ok = (nonce == f['nonce'] and len(f['salt']) == 4 and len(f['iv']) == 8 and len(f['seq']) in (4, 8)
          and f['padding'] == bytes(range(1, f['pad_length'][0] + 1)) and len(f['icv']) == 16)
    if gmac:
        ok &= f['plaintext'] == b'' and f['ciphertext'] == b''
        ok &= f['aad'] == f['spi'] + f['seq'] + f['iv'] + trailer
        ok &= AESGCM(f['key']).encrypt(nonce, b'', f['aad']) == f['icv']
        ok &= f['packet'] == f['spi'] + f['seq'][-4:] + f['iv'] + trailer + f['icv']
    else:
        ok &= f['plaintext'] == trailer and f['aad'] == f['spi'] + f['seq']
        ok &= AESGCM(f['key']).encrypt(nonce, f['plaintext'], f['aad']) == f['ciphertext'] + f['icv']
        ok &= f['packet'] == f['spi'] + f['seq'][-4:] + f['iv'] + f['ciphertext'] + f['icv']
    check('gcm_esp_draft_mcgrew.txt', n, ok)

for n, f in parse('rfc3602_esp.txt'):
    e = Cipher(algorithms.AES(f['key']), modes.CBC(f['iv'])).encryptor()
    pt = f['payload'] + f['padding'] + f['pad_length'] + f['next_header']
    ok = pt == f['esp_plaintext'] and len(pt) % 16 == 0
    ok &= f['padding'] == bytes(range(1, f['pad_length'][0] + 1))
    ok &= e.update(pt) + e.finalize() == f['ciphertext']
    ok &= f['esp'] == f['spi'] + f['seq'] + f['iv'] + f['ciphertext']
    if f['next_header'] == b'\x01':        # transport mode: the payload is an ICMP message
        ok &= inet_cksum(f['payload']) == 0
    else:                                  # tunnel mode: the payload is an IPv4 packet carrying ICMP
        ip = f['payload']
        ok &= inet_cksum(ip[:20]) == 0 and int.from_bytes(ip[2:4], 'big') == len(ip) and inet_cksum(ip[20:]) == 0
    if 'ip_header_esp' in f:
        ipo, ipe = f['ip_header_original'], f['ip_header_esp']
        ok &= inet_cksum(ipo) == 0 and int.from_bytes(ipo[2:4], 'big') == 20 + len(f['payload'])
        ok &= inet_cksum(ipe) == 0 and int.from_bytes(ipe[2:4], 'big') == 20 + len(f['esp']) and ipe[9] == 50
    check('rfc3602_esp.txt', n, ok)

for k in sorted(n_ok):
    print(f'{k}: {n_ok[k]} vectors checked')
if fail:
    print('FAILED:', *fail, sep='\n  ')
    sys.exit(1)
print('ALL PASS')

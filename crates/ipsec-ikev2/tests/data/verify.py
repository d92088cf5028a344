#!/usr/bin/env python3
"""Re-verify cavp_ikev2_kdf.txt with Python's hmac/hashlib only.  Exit status 0 = all vectors verified."""
import hashlib, hmac, os, re, sys

HERE = os.path.dirname(os.path.abspath(__file__))
HASH = {'SHA-1': hashlib.sha1, 'SHA-256': hashlib.sha256, 'SHA-384': hashlib.sha384, 'SHA-512': hashlib.sha512}


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


def prf(h, key, data):
    return hmac.new(key, data, h).digest()


def prf_plus(h, key, seed, length):
    out, t, i = b'', b'', 1
    while len(out) < length:
        t = prf(h, key, t + seed + bytes([i]))
        out += t
        i += 1
    return out[:length]


fail, count = [], 0
for name, f in parse('cavp_ikev2_kdf.txt'):
    m = re.fullmatch(r'(SHA-\d+)_gir(\d+)_Ni(\d+)_Nr(\d+)_DKM(\d+)_CHILD(\d+)_COUNT(\d+)', name)
    h = HASH[m.group(1)]
    gir_bits, ni_bits, nr_bits, dkm_bits, child_bits = (int(m.group(i)) for i in range(2, 7))
    ni, nr, gir, gir_new = f['ni'], f['nr'], f['gir'], f['gir_new']
    ok = (len(ni) * 8, len(nr) * 8, len(gir) * 8, len(f['dkm']) * 8, len(f['dkm_child']) * 8) == \
         (ni_bits, nr_bits, gir_bits, dkm_bits, child_bits)
    skeyseed = prf(h, ni + nr, gir)
    dkm = prf_plus(h, skeyseed, ni + nr + f['spi_i'] + f['spi_r'], dkm_bits // 8)
    sk_d = dkm[:h().digest_size]
    ok &= skeyseed == f['skeyseed'] and dkm == f['dkm']
    ok &= prf_plus(h, sk_d, ni + nr, child_bits // 8) == f['dkm_child']
    ok &= prf_plus(h, sk_d, gir_new + ni + nr, child_bits // 8) == f['dkm_child_dh']
    ok &= prf(h, sk_d, gir_new + ni + nr) == f['skeyseed_rekey']
    count += 1
    if not ok:
        fail.append(name)
print(f'cavp_ikev2_kdf.txt: {count} vectors checked')
if fail:
    print('FAILED:', *fail, sep='\n  ')
    sys.exit(1)
print('ALL PASS')

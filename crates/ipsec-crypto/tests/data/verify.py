#!/usr/bin/env python3
"""Re-verify every known-answer vector in this directory's *.txt files.

Needs Python 3.8+ and the `cryptography` package.  It reads only the .txt files
next to it and recomputes each expected value independently (hmac/hashlib,
int pow(), a small affine EC implementation, and `cryptography` for AES/GCM,
ChaCha20-Poly1305 and X25519/X448).  Exit status 0 = all vectors verified.
"""
import hashlib, hmac, os, re, sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x448 import X448PrivateKey, X448PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

HERE = os.path.dirname(os.path.abspath(__file__))


def parse(name):
    """Return [(vector name, {field: bytes})] for one data file."""
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


FAIL = []
COUNT = {}


def check(fname, vname, ok):
    COUNT[fname] = COUNT.get(fname, 0) + 1
    if not ok:
        FAIL.append(f'{fname} [{vname}]')


HASH = {'1': hashlib.sha1, '256': hashlib.sha256, '384': hashlib.sha384, '512': hashlib.sha512}

for n, f in parse('rfc4868_prf.txt'):
    h = HASH[re.match(r'PRF-HMAC-SHA-(\d+)_', n).group(1)]
    check('rfc4868_prf.txt', n, hmac.new(f['key'], f['data'], h).digest() == f['prf'])

for n, f in parse('rfc4868_auth.txt'):
    bits, trunc = re.match(r'HMAC-SHA-(\d+)-(\d+)_', n).groups()
    full = hmac.new(f['key'], f['data'], HASH[bits]).digest()
    check('rfc4868_auth.txt', n, full == f['prf'] and f['icv'] == full[:int(trunc) // 8])


def x25519(k, u):
    return X25519PrivateKey.from_private_bytes(k).exchange(X25519PublicKey.from_public_bytes(u))


def x448(k, u):
    return X448PrivateKey.from_private_bytes(k).exchange(X448PublicKey.from_public_bytes(u))


for fname, fn, base in (('rfc7748_x25519.txt', x25519, b'\x09' + bytes(31)),
                        ('rfc7748_x448.txt', x448, b'\x05' + bytes(55))):
    for n, f in parse(fname):
        if 'scalar' in f:
            ok = fn(f['scalar'], f['u']) == f['output']
        elif 'iterations' in f:
            k, u = f['k'], f['u']
            for _ in range(int.from_bytes(f['iterations'], 'big')):
                k, u = fn(k, u), k
            ok = k == f['result']
        else:
            ok = (fn(f['priv_a'], base) == f['pub_a'] and fn(f['priv_b'], base) == f['pub_b']
                  and fn(f['priv_a'], f['pub_b']) == f['shared'] == fn(f['priv_b'], f['pub_a']))
        check(fname, n, ok)

# RFC 5903: NIST prime curves, a = -3
CURVES = {
    'P-256': (2**256 - 2**224 + 2**192 + 2**96 - 1, ec.SECP256R1()),
    'P-384': (2**384 - 2**128 - 2**96 + 2**32 - 1, ec.SECP384R1()),
    'P-521': (2**521 - 1, ec.SECP521R1()),
}


def ec_add(P, Q, p):
    if P is None:
        return Q
    if Q is None:
        return P
    if P[0] == Q[0]:
        if (P[1] + Q[1]) % p == 0:
            return None
        lam = (3 * P[0] * P[0] - 3) * pow(2 * P[1], -1, p) % p
    else:
        lam = (Q[1] - P[1]) * pow(Q[0] - P[0], -1, p) % p
    x = (lam * lam - P[0] - Q[0]) % p
    return (x, (lam * (P[0] - x) - P[1]) % p)


def ec_mul(k, P, p):
    R = None
    for bit in bin(k)[2:]:
        R = ec_add(R, R, p)
        if bit == '1':
            R = ec_add(R, P, p)
    return R


for n, f in parse('rfc5903_ecp.txt'):
    p, curve = CURVES[n.rsplit('_', 1)[1]]
    I = {k: int.from_bytes(v, 'big') for k, v in f.items()}
    ok = True
    for s in ('i', 'r'):
        pub = ec.derive_private_key(I[s], curve).public_key().public_numbers()
        ok &= (pub.x, pub.y) == (I['g' + s + 'x'], I['g' + s + 'y'])
    ok &= ec_mul(I['i'], (I['grx'], I['gry']), p) == (I['girx'], I['giry'])
    ok &= ec_mul(I['r'], (I['gix'], I['giy']), p) == (I['girx'], I['giry'])
    ok &= f['ke_i'] == f['gix'] + f['giy'] and f['ke_r'] == f['grx'] + f['gry'] and f['shared'] == f['girx']
    ok &= len({len(f[k]) for k in ('i', 'gix', 'giy', 'r', 'grx', 'gry', 'girx', 'giry')}) == 1
    check('rfc5903_ecp.txt', n, ok)


def floor_pi_times_2_pow(bits):
    """floor(2**bits * pi), Machin's formula in integers."""
    prec = bits + 64

    def arctan_inv(x):
        one, s, n, sign, x2 = 1 << prec, 0, 1, 1, x * x
        t = one // x
        while t:
            s += sign * (t // n)
            t //= x2
            n += 2
            sign = -sign
        return s
    return (4 * (4 * arctan_inv(5) - arctan_inv(239))) >> (prec - bits)


def rfc3526_prime(n, k):
    # RFC 3526: p = 2^n - 2^(n-64) - 1 + 2^64 * ( [2^(n-130) pi] + k )
    return 2**n - 2**(n - 64) - 1 + 2**64 * (floor_pi_times_2_pow(n - 130) + k)


MODP = {'GROUP14': (2048, 124476), 'GROUP15': (3072, 1690314)}
for n, f in parse('modp_dh.txt'):
    bits, k = MODP[n.split('_')[1]]
    p, L = rfc3526_prime(bits, k), bits // 8
    xi, xr = int.from_bytes(f['x_i'], 'big'), int.from_bytes(f['x_r'], 'big')
    gi, gr = pow(2, xi, p), pow(2, xr, p)
    ok = (gi.to_bytes(L, 'big') == f['g_xi'] and gr.to_bytes(L, 'big') == f['g_xr']
          and pow(gr, xi, p).to_bytes(L, 'big') == f['shared'] == pow(gi, xr, p).to_bytes(L, 'big'))
    check('modp_dh.txt', n, ok)


def gcm(key, iv, aad, pt):
    e = Cipher(algorithms.AES(key), modes.GCM(iv)).encryptor()
    e.authenticate_additional_data(aad)
    ct = e.update(pt) + e.finalize()
    return ct, e.tag


for fname in ('aes_gcm.txt', 'aes_gcm_non96iv.txt', 'aes_gmac.txt'):
    for n, f in parse(fname):
        ok = gcm(f['key'], f['iv'], f['aad'], f['plaintext']) == (f['ciphertext'], f['tag'])
        if fname == 'aes_gcm.txt':
            ok &= len(f['iv']) == 12
        if fname == 'aes_gmac.txt':
            ok &= f['plaintext'] == b'' and len(f['aad']) > 0
        check(fname, n, ok)

for n, f in parse('chacha20poly1305.txt'):
    out = ChaCha20Poly1305(f['key']).encrypt(f['nonce'], f['plaintext'], f['aad'])
    check('chacha20poly1305.txt', n, out == f['ciphertext'] + f['tag'])

for n, f in parse('rfc3602_aes_cbc.txt'):
    e = Cipher(algorithms.AES(f['key']), modes.CBC(f['iv'])).encryptor()
    check('rfc3602_aes_cbc.txt', n, e.update(f['plaintext']) + e.finalize() == f['ciphertext'])

for fname in sorted(COUNT):
    print(f'{fname}: {COUNT[fname]} vectors checked')
if FAIL:
    print('FAILED:', *FAIL, sep='\n  ')
    sys.exit(1)
print('ALL PASS')

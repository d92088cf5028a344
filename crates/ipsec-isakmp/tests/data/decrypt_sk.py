#!/usr/bin/env python3
"""Decrypt the SK payloads of the charon captures into plaintext inner payload chains.

Writes charon/NAME/NN-...-inner.bin next to each NN-....bin whose last payload is SK:
the decrypted content with padding and Pad Length removed (RFC 7296 §3.14), i.e. the
chain of inner payloads that starts with the SK header's Next Payload type. The keys come
from charon/NAME/keys.txt (what charon logged). Run by hand from this folder; needs the
`cryptography` package. Integrity is verified before anything is written:
- AES-GCM-16 and ChaCha20-Poly1305 (RFC 5282, RFC 7634): key = SK_e minus its 4-byte salt,
  nonce = salt || 8-byte IV, AAD = IKE header .. end of the SK generic header, 16-byte ICV.
- AES-CBC + HMAC-SHA2-256-128 (RFC 3602, RFC 4868): ICV = first 16 bytes of
  HMAC-SHA256(SK_a, message without ICV), IV = 16 bytes.
"""
import hashlib
import hmac
import pathlib
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

HERE = pathlib.Path(__file__).resolve().parent


def keys(folder):
    out = {}
    for line in (folder / "keys.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].startswith("SK_"):
            out[parts[0]] = bytes.fromhex(parts[1])
    return out


def sk_payload(msg):
    """Walk the chain and return (offset of the SK generic header, first inner type)."""
    nxt, off = msg[16], 28
    while nxt != 46:
        if nxt == 0:
            return None
        nxt, length = msg[off], struct.unpack(">H", msg[off + 2 : off + 4])[0]
        off += length
    return off, msg[off]


def decrypt(name, msg, k):
    found = sk_payload(msg)
    if found is None:
        return None
    off, first = found
    initiator = bool(msg[19] & 0x08)
    length = struct.unpack(">H", msg[off + 2 : off + 4])[0]
    body = msg[off + 4 : off + length]
    aad = msg[: off + 4]
    if name.startswith(("aes256gcm16", "chacha20poly1305")):
        sk_e = k["SK_ei" if initiator else "SK_er"]
        key, salt = sk_e[:-4], sk_e[-4:]
        iv, ct = body[:8], body[8:]
        aead = AESGCM(key) if name.startswith("aes") else ChaCha20Poly1305(key)
        plain = aead.decrypt(salt + iv, ct, aad)
    else:
        sk_e, sk_a = (k["SK_ei"], k["SK_ai"]) if initiator else (k["SK_er"], k["SK_ar"])
        icv = body[-16:]
        mac = hmac.new(sk_a, msg[:-16], hashlib.sha256).digest()[:16]
        assert hmac.compare_digest(mac, icv), "ICV mismatch"
        iv, ct = body[:16], body[16:-16]
        dec = Cipher(algorithms.AES(sk_e), modes.CBC(iv)).decryptor()
        plain = dec.update(ct) + dec.finalize()
    pad = plain[-1]
    return first, plain[: len(plain) - 1 - pad]


def main():
    for folder in sorted((HERE / "charon").iterdir()):
        k = keys(folder)
        for path in sorted(folder.glob("[0-9][0-9]-*.bin")):
            if path.stem.endswith("-inner"):
                continue
            result = decrypt(folder.name, path.read_bytes(), k)
            if result is None:
                continue
            first, inner = result
            out = path.with_name(path.stem + "-inner.bin")
            out.write_bytes(inner)
            print(f"{out.relative_to(HERE)}: first inner payload {first}, {len(inner)} bytes")


if __name__ == "__main__":
    main()

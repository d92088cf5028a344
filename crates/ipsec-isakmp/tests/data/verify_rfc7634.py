#!/usr/bin/env python3
"""Re-check the RFC 7634 Appendix A/B hex files (developer tool, run by hand).

Reads only the hex files of this repository:

    crates/ipsec-isakmp/tests/data/rfc7634/*.hex   (Appendix B, IKEv2 example)
    crates/ipsec-esp/tests/data/rfc7634/*.hex      (Appendix A, ESP example)

and checks that they are mutually consistent:

  * ChaCha20-Poly1305 (RFC 8439 AEAD) with key, nonce = salt || IV and the
    AAD, over plaintext.hex, yields ciphertext.hex || tag.hex, and decryption
    verifies the tag;
  * the assembled wire images (message.hex, esp.hex, packet.hex) are exactly
    the concatenation of their parts, and their length fields and IPv4/ICMP
    checksums are right.

Needs the third-party `cryptography` package (pip install cryptography); no
test runs this script.  Exit status 0 when every check passes.
"""

import os
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

HERE = os.path.dirname(os.path.abspath(__file__))
IKE = os.path.join(HERE, "rfc7634")
ESP = os.path.normpath(os.path.join(HERE, "..", "..", "..", "ipsec-esp",
                                    "tests", "data", "rfc7634"))
FAILED = []


def hx(d, name):
    with open(os.path.join(d, name)) as f:
        s = f.read()
    if s != s.strip() or s != s.lower():
        raise ValueError("%s/%s is not bare lowercase hex" % (d, name))
    return bytes.fromhex(s)


def check(label, cond):
    print(("PASS " if cond else "FAIL ") + label)
    if not cond:
        FAILED.append(label)


def csum_ok(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(">%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s == 0xFFFF


def aead(label, d, keymat_name):
    keymat = hx(d, keymat_name)
    key, salt, iv = hx(d, "key.hex"), hx(d, "salt.hex"), hx(d, "iv.hex")
    nonce, aad = hx(d, "nonce.hex"), hx(d, "aad.hex")
    pt, ct, tag = hx(d, "plaintext.hex"), hx(d, "ciphertext.hex"), hx(d, "tag.hex")
    check(label + ": %s == key || salt (32 + 4 bytes)" % keymat_name,
          keymat == key + salt and len(key) == 32 and len(salt) == 4)
    check(label + ": nonce == salt || IV", nonce == salt + iv and len(iv) == 8)
    a = ChaCha20Poly1305(key)
    check(label + ": encrypt(plaintext) == ciphertext || tag",
          a.encrypt(nonce, pt, aad) == ct + tag)
    check(label + ": decrypt(ciphertext || tag) == plaintext",
          a.decrypt(nonce, ct + tag, aad) == pt)
    return aad, iv, pt, ct, tag


def main():
    # Appendix B: IKEv2
    aad, iv, pt, ct, tag = aead("B (IKEv2)", IKE, "sk_e.hex")
    msg = hx(IKE, "message.hex")
    check("B: message == AAD || IV || ciphertext || tag", msg == aad + iv + ct + tag)
    check("B: IKE header Length == len(message)",
          struct.unpack(">I", msg[24:28])[0] == len(msg))
    check("B: SK payload length == len(message) - 28",
          struct.unpack(">H", msg[30:32])[0] == len(msg) - 28)
    check("B: plaintext == inner payloads || Pad Length 0",
          pt == hx(IKE, "inner_payloads.hex") + b"\x00")

    # Appendix A: ESP
    aad, iv, pt, ct, tag = aead("A (ESP)", ESP, "keymat.hex")
    spi, seq = hx(ESP, "spi.hex"), hx(ESP, "seq.hex")
    esp, pkt, src = hx(ESP, "esp.hex"), hx(ESP, "packet.hex"), hx(ESP, "source_packet.hex")
    check("A: AAD == SPI || 32-bit sequence number", aad == spi + seq)
    check("A: esp == SPI || seq || IV || ciphertext || tag",
          esp == spi + seq + iv + ct + tag)
    check("A: packet == outer IPv4 header || esp", pkt[20:] == esp)
    check("A: outer IPv4 checksum, total length, protocol 50",
          csum_ok(pkt[:20]) and struct.unpack(">H", pkt[2:4])[0] == len(pkt)
          and pkt[9] == 50)
    pad_len = pt[-2]
    check("A: plaintext == source packet || padding 1..n || pad length || next header 4",
          pt[:len(src)] == src and pt[-1] == 4
          and pt[len(src):-2] == bytes(range(1, pad_len + 1)))
    check("A: source packet IPv4 and ICMP checksums",
          csum_ok(src[:20]) and csum_ok(src[20:]))
    print("ALL PASS" if not FAILED else "%d CHECK(S) FAILED" % len(FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())

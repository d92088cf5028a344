#!/usr/bin/env python3
"""Regenerate the charon known-answer test data from strongSwan captures.

This script is a *developer tool*, run by hand; no test runs it and no test
reads the capture folder.  It reads a capture folder (by default
``/work/shared/data/charon-captures/``, pass ``--captures DIR`` to point it
elsewhere), i.e. a directory of sub-folders ``NAME/`` that each hold

    pair.pcap                 classic libpcap file (not pcapng)
    keys.txt                  keys logged by charon
    esp_sa                    Wireshark ESP SA table
    ikev2_decryption_table    Wireshark IKEv2 decryption table
    initiator.swanctl.conf    swanctl configuration (holds the PSK)
    responder.swanctl.conf

and writes, for each NAME:

    crates/ipsec-isakmp/tests/data/charon/NAME/
        NN-<exchange>-<request|response>.bin   one IKE message per file,
                                               starting at the IKE header
                                               (the 4-byte non-ESP marker of
                                               UDP port 4500 is removed)
        messages.txt                           one line per IKE message
        keys.txt, *.swanctl.conf               copied verbatim
        tshark.txt                             `tshark -V -O isakmp` of the
                                               IKE frames (with --tshark)
        tshark-decrypted.txt                   the same, decrypted with
                                               ikev2_decryption_table (with
                                               --tshark, when the table has
                                               an entry)
    crates/ipsec-esp/tests/data/charon/NAME/
        NN-esp-SPI.bin                         one ESP packet per file,
                                               starting at the SPI (UDP
                                               header stripped, no marker)
        packets.txt                            one line per ESP packet
        keys.txt, esp_sa                       copied verbatim
        tshark-decrypted.txt                   `tshark -V -O esp,icmp` decrypted
                                               with esp_sa (with --tshark,
                                               when esp_sa has an entry)

NN is the 1-based frame number in pair.pcap, so every file can be traced back
to its frame.  Only the Python 3 standard library is used; the pcap file is
parsed by hand (classic pcap, either byte order, micro- or nanosecond
timestamps; link types Ethernet, raw IP, Linux cooked v1/v2; IPv4 and IPv6
without extension headers).

UDP payload classification (RFC 3948 / RFC 7296 section 2.23):
  * UDP port 500 on either side: the payload is an IKE message, no marker.
  * UDP port 4500 on either side:
      - a single 0xff byte is a NAT-keepalive (reported and skipped);
      - four zero bytes first: the non-ESP marker, an IKE message follows;
      - anything else: an ESP packet (SPI, sequence number, ...).
  * any other port: skipped with a warning (use --ike-port/--natt-port).

Usage (from the repository root, by hand):

    python3 crates/ipsec-isakmp/tests/data/extract_pcap.py --tshark

--tshark needs the `tshark` binary (Debian package `tshark`); it runs it with a
throw-away WIRESHARK_CONFIG_DIR=/tmp/wsconf-NAME so that the user's own
Wireshark settings do not leak in.  Without --tshark the existing tshark*.txt
files are left as they are.
"""

import argparse
import os
import shutil
import struct
import subprocess
import sys

DEFAULT_CAPTURES = "/work/shared/data/charon-captures"
HERE = os.path.dirname(os.path.abspath(__file__))
# crates/ipsec-isakmp/tests/data -> crates/
CRATES = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
ISAKMP_OUT = os.path.join(CRATES, "ipsec-isakmp", "tests", "data", "charon")
ESP_OUT = os.path.join(CRATES, "ipsec-esp", "tests", "data", "charon")

EXCHANGE_NAMES = {
    34: "ike_sa_init",
    35: "ike_auth",
    36: "create_child_sa",
    37: "informational",
    43: "ike_session_resume",
    44: "gsa_auth",
    45: "gsa_registration",
    46: "gsa_rekey",
    48: "ike_intermediate",
    49: "ike_followup_kex",
}

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_RAW_ALT = 12
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276


# --------------------------------------------------------------------------
# pcap parsing
# --------------------------------------------------------------------------

def read_pcap(path):
    """Yield (frame_number, timestamp_string, linktype, frame_bytes)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError("%s: too short for a pcap global header" % path)
    magic = data[:4]
    if magic == b"\xd4\xc3\xb2\xa1":
        endian, nanos = "<", False
    elif magic == b"\xa1\xb2\xc3\xd4":
        endian, nanos = ">", False
    elif magic == b"\x4d\x3c\xb2\xa1":
        endian, nanos = "<", True
    elif magic == b"\xa1\xb2\x3c\x4d":
        endian, nanos = ">", True
    elif magic == b"\x0a\x0d\x0d\x0a":
        raise ValueError("%s: pcapng is not supported; convert with "
                         "`editcap -F pcap`" % path)
    else:
        raise ValueError("%s: not a pcap file (magic %s)" % (path, magic.hex()))
    _vmaj, _vmin, _zone, _sigfigs, _snaplen, linktype = struct.unpack(
        endian + "HHiIII", data[4:24])
    linktype &= 0x0FFFFFFF  # upper bits may carry FCS information
    off = 24
    frame = 0
    while off < len(data):
        if off + 16 > len(data):
            raise ValueError("%s: truncated record header at %d" % (path, off))
        ts_sec, ts_frac, incl_len, orig_len = struct.unpack(
            endian + "IIII", data[off:off + 16])
        off += 16
        if off + incl_len > len(data):
            raise ValueError("%s: truncated record at %d" % (path, off))
        pkt = data[off:off + incl_len]
        off += incl_len
        frame += 1
        if incl_len != orig_len:
            print("warning: %s frame %d captured %d of %d bytes"
                  % (path, frame, incl_len, orig_len), file=sys.stderr)
        ts = "%d.%09d" % (ts_sec, ts_frac) if nanos else "%d.%06d" % (ts_sec, ts_frac)
        yield frame, ts, linktype, pkt


def network_layer(linktype, pkt):
    """Return (ethertype, l3_bytes) or None."""
    if linktype == LINKTYPE_ETHERNET:
        if len(pkt) < 14:
            return None
        etype = struct.unpack(">H", pkt[12:14])[0]
        off = 14
        while etype in (0x8100, 0x88A8):  # VLAN tags
            etype = struct.unpack(">H", pkt[off + 2:off + 4])[0]
            off += 4
        return etype, pkt[off:]
    if linktype in (LINKTYPE_RAW, LINKTYPE_RAW_ALT, LINKTYPE_IPV4, LINKTYPE_IPV6):
        if not pkt:
            return None
        version = pkt[0] >> 4
        return (0x0800 if version == 4 else 0x86DD), pkt
    if linktype == LINKTYPE_LINUX_SLL:
        return struct.unpack(">H", pkt[14:16])[0], pkt[16:]
    if linktype == LINKTYPE_LINUX_SLL2:
        return struct.unpack(">H", pkt[0:2])[0], pkt[20:]
    raise ValueError("unsupported pcap link type %d" % linktype)


def udp_datagram(etype, l3):
    """Return (src_ip, dst_ip, sport, dport, payload) or None if not UDP."""
    if etype == 0x0800:
        if len(l3) < 20 or l3[0] >> 4 != 4:
            return None
        ihl = (l3[0] & 0x0F) * 4
        total_len = struct.unpack(">H", l3[2:4])[0]
        frag = struct.unpack(">H", l3[6:8])[0]
        if frag & 0x3FFF:
            print("warning: IPv4 fragment skipped", file=sys.stderr)
            return None
        if l3[9] != 17:
            return None
        src = ".".join(str(b) for b in l3[12:16])
        dst = ".".join(str(b) for b in l3[16:20])
        l4 = l3[ihl:total_len]
    elif etype == 0x86DD:
        if len(l3) < 40 or l3[0] >> 4 != 6:
            return None
        plen = struct.unpack(">H", l3[4:6])[0]
        if l3[6] != 17:  # extension headers are not followed
            return None
        src = "[" + ":".join(l3[8 + i:10 + i].hex() for i in range(0, 16, 2)) + "]"
        dst = "[" + ":".join(l3[24 + i:26 + i].hex() for i in range(0, 16, 2)) + "]"
        l4 = l3[40:40 + plen]
    else:
        return None
    if len(l4) < 8:
        return None
    sport, dport, ulen, _csum = struct.unpack(">HHHH", l4[:8])
    if ulen < 8 or ulen > len(l4):
        raise ValueError("bad UDP length %d (have %d bytes)" % (ulen, len(l4)))
    return src, dst, sport, dport, l4[8:ulen]


# --------------------------------------------------------------------------
# classification
# --------------------------------------------------------------------------

def ike_header(msg):
    """Decode the fixed IKE header fields used for naming and listings."""
    if len(msg) < 28:
        raise ValueError("IKE message shorter than its header")
    (ispi, rspi, next_payload, version, exch, flags, mid,
     length) = struct.unpack(">8s8sBBBBII", msg[:28])
    if length != len(msg):
        raise ValueError("IKE length field %d != datagram payload %d"
                         % (length, len(msg)))
    return {
        "ispi": ispi.hex(), "rspi": rspi.hex(), "next_payload": next_payload,
        "version": "%d.%d" % (version >> 4, version & 0x0F),
        "exchange": exch, "flags": flags, "message_id": mid, "length": length,
    }


def extract(pcap_path, ike_ports, natt_ports):
    """Return (ike_list, esp_list) of dicts describing the datagrams."""
    ike, esp = [], []
    for frame, ts, linktype, pkt in read_pcap(pcap_path):
        nl = network_layer(linktype, pkt)
        if nl is None:
            continue
        udp = udp_datagram(*nl)
        if udp is None:
            print("note: frame %d is not UDP, skipped" % frame, file=sys.stderr)
            continue
        src, dst, sport, dport, payload = udp
        where = {"frame": frame, "time": ts, "src": "%s:%d" % (src, sport),
                 "dst": "%s:%d" % (dst, dport), "udp_payload_len": len(payload)}
        if sport in natt_ports or dport in natt_ports:
            if payload == b"\xff":
                print("note: frame %d is a NAT-keepalive" % frame, file=sys.stderr)
                continue
            if payload[:4] == b"\x00\x00\x00\x00":
                msg = payload[4:]
                where.update(ike_header(msg), marker=True, data=msg)
                ike.append(where)
            else:
                if len(payload) < 8:
                    raise ValueError("frame %d: ESP shorter than SPI+SN" % frame)
                spi, seq = struct.unpack(">II", payload[:8])
                where.update(spi=spi, seq=seq, data=payload)
                esp.append(where)
        elif sport in ike_ports or dport in ike_ports:
            where.update(ike_header(payload), marker=False, data=payload)
            ike.append(where)
        else:
            print("warning: frame %d UDP %d->%d not on an IKE port, skipped"
                  % (frame, sport, dport), file=sys.stderr)
    return ike, esp


# --------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------

def ike_file_name(m):
    exch = EXCHANGE_NAMES.get(m["exchange"], "exchange%d" % m["exchange"])
    role = "response" if m["flags"] & 0x20 else "request"
    return "%02d-%s-%s.bin" % (m["frame"], exch, role)


def esp_file_name(p):
    return "%02d-esp-%08x.bin" % (p["frame"], p["spi"])


def flag_names(flags):
    names = []
    if flags & 0x08:
        names.append("I")
    if flags & 0x10:
        names.append("V")
    if flags & 0x20:
        names.append("R")
    return "|".join(names) or "-"


def write_bytes(path, data):
    with open(path, "wb") as f:
        f.write(data)


def run_tshark(pcap, out_path, conf_dir, args):
    """Run tshark with a private config dir and save its stdout."""
    env = dict(os.environ, WIRESHARK_CONFIG_DIR=conf_dir)
    cmd = ["tshark", "-r", pcap] + args
    res = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, check=True)
    with open(out_path, "wb") as f:
        f.write(res.stdout)
    print("  wrote %s  (tshark %s)" % (out_path, " ".join(args)))


def table_has_entries(path):
    with open(path) as f:
        return any(line.strip() and not line.startswith("#") for line in f)


def process(name, src_dir, ike_ports, natt_ports, do_tshark):
    pcap = os.path.join(src_dir, "pair.pcap")
    ike, esp = extract(pcap, ike_ports, natt_ports)
    ike_dir = os.path.join(ISAKMP_OUT, name)
    esp_dir = os.path.join(ESP_OUT, name)
    os.makedirs(ike_dir, exist_ok=True)
    os.makedirs(esp_dir, exist_ok=True)

    # Remove stale message files so renumbering never leaves leftovers.
    for d, suffix in ((ike_dir, ".bin"), (esp_dir, ".bin")):
        for fn in os.listdir(d):
            if fn.endswith(suffix):
                os.remove(os.path.join(d, fn))

    lines = ["# IKE messages of %s/pair.pcap (NN in the file name = frame number)" % name,
             "# file | frame | src -> dst | non-ESP marker removed | exchange | "
             "message ID | flags | IKE length | SPIi | SPIr"]
    for m in ike:
        fn = ike_file_name(m)
        write_bytes(os.path.join(ike_dir, fn), m["data"])
        lines.append("%s | %d | %s -> %s | %s | %s (%d) | %d | %s | %d | %s | %s" % (
            fn, m["frame"], m["src"], m["dst"], "yes" if m["marker"] else "no",
            EXCHANGE_NAMES.get(m["exchange"], "?").upper(), m["exchange"],
            m["message_id"], flag_names(m["flags"]), m["length"],
            m["ispi"], m["rspi"]))
    with open(os.path.join(ike_dir, "messages.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")

    lines = ["# ESP packets of %s/pair.pcap (UDP-encapsulated, RFC 3948)" % name,
             "# file | frame | src -> dst | SPI | sequence number | "
             "ESP length (bytes, from SPI to end of ICV)"]
    for p in esp:
        fn = esp_file_name(p)
        write_bytes(os.path.join(esp_dir, fn), p["data"])
        lines.append("%s | %d | %s -> %s | 0x%08x | %d | %d" % (
            fn, p["frame"], p["src"], p["dst"], p["spi"], p["seq"], len(p["data"])))
    with open(os.path.join(esp_dir, "packets.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")

    for fn in ("keys.txt", "initiator.swanctl.conf", "responder.swanctl.conf"):
        shutil.copyfile(os.path.join(src_dir, fn), os.path.join(ike_dir, fn))
    for fn in ("keys.txt", "esp_sa"):
        shutil.copyfile(os.path.join(src_dir, fn), os.path.join(esp_dir, fn))

    print("%s: %d IKE message(s), %d ESP packet(s)" % (name, len(ike), len(esp)))
    for m in ike:
        print("  %-40s frame %2d %s -> %s marker=%s MID=%d" % (
            ike_file_name(m), m["frame"], m["src"], m["dst"], m["marker"],
            m["message_id"]))

    if not do_tshark:
        return
    # Decode-as for any IKE/NAT-T port that is not Wireshark's default.
    decode_as = []
    for port in sorted(ike_ports - {500}):
        decode_as += ["-d", "udp.port==%d,isakmp" % port]
    for port in sorted(natt_ports - {4500}):
        decode_as += ["-d", "udp.port==%d,udpencap" % port]
    ike_frames = " || ".join("frame.number==%d" % m["frame"] for m in ike)
    esp_frames = " || ".join("frame.number==%d" % p["frame"] for p in esp)

    conf = "/tmp/wsconf-%s" % name
    plain_conf = conf + "-plain"
    for d in (conf, plain_conf):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    run_tshark(pcap, os.path.join(ike_dir, "tshark.txt"), plain_conf,
               decode_as + ["-V", "-O", "isakmp", "-Y", ike_frames])

    table = os.path.join(src_dir, "ikev2_decryption_table")
    out = os.path.join(ike_dir, "tshark-decrypted.txt")
    if table_has_entries(table):
        shutil.copyfile(table, os.path.join(conf, "ikev2_decryption_table"))
        run_tshark(pcap, out, conf,
                   decode_as + ["-V", "-O", "isakmp", "-Y", ike_frames])
    else:
        print("  %s: ikev2_decryption_table is empty, no tshark-decrypted.txt" % name)
        if os.path.exists(out):
            os.remove(out)

    sa = os.path.join(src_dir, "esp_sa")
    out = os.path.join(esp_dir, "tshark-decrypted.txt")
    if table_has_entries(sa):
        shutil.copyfile(sa, os.path.join(conf, "esp_sa"))
        run_tshark(pcap, out, conf,
                   decode_as + ["-o", "esp.enable_encryption_decode:TRUE",
                                "-o", "esp.enable_authentication_check:TRUE",
                                "-V", "-O", "esp,icmp", "-Y", esp_frames])
    else:
        print("  %s: esp_sa is empty, no ESP tshark-decrypted.txt" % name)
        if os.path.exists(out):
            os.remove(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--captures", default=DEFAULT_CAPTURES,
                    help="folder of capture sub-folders (default %(default)s)")
    ap.add_argument("--tshark", action="store_true",
                    help="also (re)write tshark.txt / tshark-decrypted.txt")
    ap.add_argument("--ike-port", type=int, action="append", default=[],
                    help="extra UDP port carrying IKE without marker")
    ap.add_argument("--natt-port", type=int, action="append", default=[],
                    help="extra UDP port carrying marker-IKE and ESP-in-UDP")
    ap.add_argument("names", nargs="*",
                    help="capture sub-folder names (default: all)")
    args = ap.parse_args()
    ike_ports = {500} | set(args.ike_port)
    natt_ports = {4500} | set(args.natt_port)
    names = args.names or sorted(
        d for d in os.listdir(args.captures)
        if os.path.isfile(os.path.join(args.captures, d, "pair.pcap")))
    for name in names:
        process(name, os.path.join(args.captures, name), ike_ports, natt_ports,
                args.tshark)


if __name__ == "__main__":
    main()

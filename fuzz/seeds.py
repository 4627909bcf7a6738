#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/<target>/: small real examples for each fuzz target,
in the layout its harness reads (control bytes first; see the comment at the top of each target).

    python3 fuzz/seeds.py

Rewrites the seeds it knows and leaves any other file (a crash input added after a fix) alone.
The HTTP and WebSocket examples are what ab-testserver and the reference backends send
(Tests/Helpers/ab-testserver/main.c, Sources/Backends/HTTPServer.swift); the configs are
config/*.json and variants of the ones Tests/SuiteTests/ConfigTests.swift checks."""

import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")

# RFC 6455's example handshake key and the accept value it asks for (fuzz/ws_handshake.c uses it).
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def write(target, name, data):
    directory = os.path.join(CORPUS, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def frame(opcode, payload, fin=True, mask=None, rsv=0, length_form=None):
    """A WebSocket frame as a server (mask=None) or client (mask=4 bytes) sends it."""
    first = (0x80 if fin else 0) | rsv << 4 | opcode
    n = len(payload)
    form = length_form or (7 if n < 126 else 16 if n <= 0xFFFF else 64)
    masked = 0x80 if mask else 0
    if form == 7:
        header = bytes([first, masked | n])
    elif form == 16:
        header = bytes([first, masked | 126]) + struct.pack(">H", n)
    else:
        header = bytes([first, masked | 127]) + struct.pack(">Q", n)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        header += mask
    return header + payload


def http_seeds():
    ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    chunked = ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n")
    backend = ('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\n'
               'connection: keep-alive\r\n\r\n{"status":"ok"}')
    upgrade = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Accept: {ACCEPT}\r\n\r\n")
    seeds = {
        "ok": (0, 0, 0, ok),
        "status_404": (0, 0, 0, "HTTP/1.1 404 X\r\nContent-Length: 2\r\n\r\nok"),
        "status_503_no_reason": (0, 0, 0, "HTTP/1.1 503\r\nContent-Length: 0\r\n\r\n"),
        "chunked": (0, 0, 0, chunked),
        "chunked_cut": (5, 0, 0, chunked),
        "chunked_extension_trailer": (0, 0, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                               "a;x=y\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n"),
        "connection_close": (0, 0, 0, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"),
        "backend_keep_alive": (0, 0, 0, backend),
        "backend_upgrade_offer": (0, 0, 0, backend.replace("connection: keep-alive", "connection: upgrade, keep-alive")),
        "head": (0, 1, 0, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"),
        "head_then_get": (0, 1, 0, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" + ok),
        "pipelined": (0, 0, 0, ok + backend + chunked + ok),
        "pipelined_cut": (7, 0, 0, ok + backend + chunked + ok),
        "pipelined_stop_second": (0, 0, 2, ok + ok + ok),
        "close_delimited": (0, 0, 0, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the close"),
        "http10_keep_alive": (0, 0, 0, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok"),
        "http10_close": (0, 0, 0, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        "no_content_204": (0, 0, 0, "HTTP/1.1 204 No Content\r\n\r\n" + ok),
        "not_modified_304": (0, 0, 0, "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n" + ok),
        "continue_100": (0, 0, 0, "HTTP/1.1 100 Continue\r\n\r\n" + ok),
        "upgrade_101": (0, 0, 0, upgrade + "\x81\x02hi"),
        "cut_off_body": (0, 0, 0, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part"),
        "garbage": (0, 0, 0, "this is not HTTP\r\n\r\n"),
        "header_split_reads": (1, 0, 0, "HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 3\r\nX-Long: " + "a" * 40 + "\r\n\r\nabc"),
        "lf_only": (0, 0, 0, "HTTP/1.1 200 OK\nContent-Length: 2\n\nok"),
    }
    for name, (cut, head, stop, text) in seeds.items():
        write("http_response", name, bytes([cut, head, stop]) + text.encode("latin-1"))


def ws_frame_seeds():
    def binary_echo(seq, extra=0):
        return struct.pack("<QQQ", seq, 1000, 900) + b"x" * extra

    def text_echo(seq, extra=0):
        return ("%016x%016x%016x" % (seq, 1000, 900)).encode() + b"y" * extra

    mask = b"\x12\x34\x56\x78"
    # control: [cut, bit 0 text | opcode << 1 for the encode round trip, message bytes past the stamp]
    seeds = {
        "binary_echo": ((0, 2 << 1, 0), frame(0x2, binary_echo(1))),
        "binary_echo_twice_cut": ((3, 2 << 1, 0), frame(0x2, binary_echo(1)) + frame(0x2, binary_echo(2))),
        "text_echo": ((0, 1 | 1 << 1, 0), frame(0x1, text_echo(7))),
        "length_16_bit": ((0, 2 << 1, 176), frame(0x2, binary_echo(3, 176))),
        "length_16_bit_cut": ((9, 2 << 1, 176), frame(0x2, binary_echo(3, 176))),
        "length_64_bit_small": ((0, 2 << 1, 0), frame(0x2, binary_echo(4), length_form=64)),
        "length_64_bit_header_only": ((0, 2 << 1, 0), frame(0x2, b"", length_form=64)[:2] + struct.pack(">Q", 70000)),
        "length_64_bit_too_large": ((0, 2 << 1, 0), bytes([0x82, 127]) + struct.pack(">Q", 1 << 40)),
        "ping": ((0, 9 << 1, 0), frame(0x9, b"are you there")),
        "ping_empty_then_echo": ((0, 9 << 1, 0), frame(0x9, b"") + frame(0x2, binary_echo(5))),
        "pong_unsolicited": ((0, 10 << 1, 0), frame(0xA, b"late")),
        "close_1000": ((0, 8 << 1, 0), frame(0x8, struct.pack(">H", 1000) + b"bye")),
        "close_empty": ((0, 8 << 1, 0), frame(0x8, b"")),
        "fragmented_text": ((0, 1 | 0 << 1, 0), frame(0x1, text_echo(8)[:20], fin=False) +
                            frame(0x9, b"mid") + frame(0x0, text_echo(8)[20:])),
        "fragmented_binary_cut": ((2, 0 << 1, 10), frame(0x2, binary_echo(9, 10)[:5], fin=False) +
                                  frame(0x0, binary_echo(9, 10)[5:20], fin=False) + frame(0x0, binary_echo(9, 10)[20:])),
        "masked_by_server": ((0, 2 << 1, 0), frame(0x2, binary_echo(10), mask=mask)),
        "client_frame_16_bit": ((0, 1 << 1, 0), frame(0x1, b"z" * 300, mask=mask)),
        "reserved_bit": ((0, 2 << 1, 0), frame(0x2, binary_echo(11), rsv=4)),
        "unknown_opcode": ((0, 3 << 1, 0), frame(0x3, b"??")),
        "control_too_long": ((0, 9 << 1, 0), frame(0x9, b"p" * 126)),
        "control_fragmented": ((0, 8 << 1, 0), frame(0x8, b"\x03\xe8", fin=False)),
        "continuation_without_start": ((0, 0, 0), frame(0x0, binary_echo(12))),
        "wrong_size_echo": ((0, 2 << 1, 4), frame(0x2, binary_echo(13))),
        "short_read": ((0, 2 << 1, 0), frame(0x2, binary_echo(14))[:10]),
    }
    for name, (control, data) in seeds.items():
        write("ws_frame", name, bytes(control) + data)


def ws_handshake_seeds():
    accepted = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {ACCEPT}\r\n\r\n")
    seeds = {
        "accepted": (0, accepted),
        "accepted_cut": (3, accepted),
        "accepted_lower_case": (0, accepted.lower().replace(ACCEPT.lower(), ACCEPT)),
        "accepted_then_frames": (0, accepted.encode() + frame(0x2, b"\0" * 24) + frame(0x9, b"hi")),
        "accepted_extra_headers": (0, "HTTP/1.1 101 Switching Protocols\r\nServer: nio\r\nupgrade: websocket\r\n"
                                      f"connection: upgrade\r\nsec-websocket-accept:{ACCEPT}\r\n"
                                      "Sec-WebSocket-Protocol: chat\r\n\r\n"),
        "wrong_accept": (0, accepted.replace(ACCEPT, "dGhlIHNhbXBsZSBub25jZQ==")),
        "accept_with_suffix": (0, accepted.replace(ACCEPT, ACCEPT + "x" * 40)),
        "no_accept": (0, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
        "101_without_upgrade_headers": (0, f"HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: {ACCEPT}\r\n\r\n"),
        "refused_403": (0, "HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nforbidden"),
        "refused_chunked": (2, "HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nbad\r\n0\r\n\r\n"),
        "incomplete": (0, accepted[:40]),
        "garbage": (0, "SSH-2.0-OpenSSH_9.2\r\n"),
    }
    for name, (cut, data) in seeds.items():
        write("ws_handshake", name, bytes([cut]) + (data if isinstance(data, bytes) else data.encode()))


def config_seeds():
    import json

    for name in ("default.json", "external.json"):
        with open(os.path.join(ROOT, "config", name), "rb") as f:
            write("config", name, f.read())

    def arch(port, **extra):
        fields = {"base_url": f"http://127.0.0.1:{port}", "websocket_url": f"ws://127.0.0.1:{port}/ws",
                  "connection_pool_size": 4}
        fields.update(extra)
        return fields

    def config(*members):
        return json.dumps(dict(members), ensure_ascii=False)

    seeds = {
        "minimal.json": config(("a", arch(9001)), ("b", arch(9002))),
        "pids.json": config(("a", arch(9001, processes={"pid": [1, 4194304]})), ("b", arch(9002))),
        "ports.json": config(("a", arch(9001)), ("b", arch(9002, processes={"port": [1, 65535]}))),
        "cgroup.json": config(("a", arch(9001)), ("b", arch(9002, processes={"cgroup": "/sys/fs/cgroup/x"}))),
        "command_sh.json": config(("a", arch(9001)), ("b", arch(9002, command=["sh", "-c", "exit 0"]))),
        "command_relative.json": config(("a", arch(9001, command=["./server", "--flag"])), ("b", arch(9002))),
        "thresholds_first.json": config(
            ("thresholds", {"throughput": {"warning": 0, "critical": 0}, "latency": {"warning": 15.5, "critical": 25}}),
            ("b", arch(9001)), ("a", arch(9002, ready_timeout_s=0.5))),
        # Escapes, an IPv6 host, the largest pool, both flags; hand-written so the escapes stay.
        "escapes.json": '{"a": ' + json.dumps(arch(9001)) + ', "b": {"base_url": "http:\\/\\/127.0.0.1:9002\\u002fx?q=1", '
                        '"websocket_url": "ws://[::1]:9003/echo", "connection_pool_size": 2147483647, '
                        '"compression": true, "circuit_breaker": false, "ready_timeout_s": 1e1}}',
        "unicode_names.json": "\ufeff" + config(("mon\u00f6lith \U0001F680", arch(9001)), ("\u00e9", arch(9002))),
        "error_unknown_key.json": config(("a", arch(9001)), ("b", arch(9002, conection_pool=1))),
        "error_both_sources.json": config(("a", arch(9001, command=["sh"], processes={"pid": [1]})), ("b", arch(9002))),
        "error_threshold_direction.json": config(("a", arch(9001)), ("b", arch(9002)),
                                                 ("thresholds", {"memory": {"warning": -1, "critical": 5}})),
        "error_syntax.json": '{\n  "a": {"base_url": "http://x",}\n}',
        "error_one_architecture.json": config(("a", arch(9001))),
    }
    for name, text in seeds.items():
        write("config", name, text.encode("utf-8"))


if __name__ == "__main__":
    http_seeds()
    ws_frame_seeds()
    ws_handshake_seeds()
    config_seeds()

#!/usr/bin/env python3
"""reshape_tensor.py IN.ckpt OUT.ckpt NAME: re-encodes a bism checkpoint
with the 2-D tensor NAME's dimensions swapped (same bytes, a valid
checksum), the kind of file a script that rewrites checkpoints produces.
Format: docs/checkpoints.md."""
import struct
import sys

source, target, wanted = sys.argv[1:4]
data = open(source, "rb").read()
offset = 8


def take(fmt):
    global offset
    values = struct.unpack_from(fmt, data, offset)
    offset += struct.calcsize(fmt)
    return values


def string():
    global offset
    (length,) = take("<Q")
    offset += length
    return data[offset - length:offset]


def pack_string(raw):
    return struct.pack("<Q", len(raw)) + raw


(version,) = take("<I")
(meta_count,) = take("<Q")
out = data[:8] + struct.pack("<I", version) + struct.pack("<Q", meta_count)
for _ in range(meta_count):
    out += pack_string(string()) + pack_string(string())
(tensor_count,) = take("<Q")
out += struct.pack("<Q", tensor_count)
for _ in range(tensor_count):
    name = string()
    (kind,) = take("<B")
    (rank,) = take("<I")
    dims = list(take("<%dq" % rank))
    (size,) = take("<Q")
    payload = data[offset:offset + size]
    offset += size
    if name.decode() == wanted:
        dims = dims[::-1]
    out += pack_string(name) + struct.pack("<BI", kind, rank)
    out += struct.pack("<%dq" % rank, *dims) + struct.pack("<Q", size) + payload
checksum = 0xcbf29ce484222325
for byte in out:
    checksum = ((checksum ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
open(target, "wb").write(out + struct.pack("<Q", checksum))

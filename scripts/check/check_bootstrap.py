#!/usr/bin/env python3
"""Check that a built `bootstrap` is what Lambda arm64 runs: a 64-bit
little-endian ELF executable for AArch64. Prints its size.

    python3 scripts/check/check_bootstrap.py PATH
"""
import os
import struct
import sys

EM_AARCH64 = 183

path = sys.argv[1]
with open(path, "rb") as f:
    header = f.read(20)
magic, elf_class, endianness = header[:4], header[4], header[5]
(machine,) = struct.unpack("<H", header[18:20])
if magic != b"\x7fELF" or elf_class != 2 or endianness != 1 or machine != EM_AARCH64:
    sys.exit(f"{path} is not a 64-bit little-endian AArch64 ELF (machine {machine})")
if not os.access(path, os.X_OK):
    sys.exit(f"{path} is not executable")
size = os.path.getsize(path)
print(f"{path}: AArch64 ELF, {size} bytes ({size / 2**20:.1f} MiB)")

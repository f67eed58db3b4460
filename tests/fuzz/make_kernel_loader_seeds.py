#!/usr/bin/env python3
"""Writes the kernel_loader_fuzz seed corpus: small ELF64 vmlinux-like and bzImage images, good
and hostile, each a few KiB. Run from anywhere: python3 tests/fuzz/make_kernel_loader_seeds.py"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "kernel_loader_fuzz")
KERNEL = 16 << 20  # a real vmlinux's physical start
PT_LOAD, PT_NOTE = 1, 4


def payload(size):
    return bytes(((i * 7) ^ 0x5A) & 0xFF for i in range(size))


def elf(segments, entry=KERNEL, phoff=64, phnum=None, machine=62, etype=2, size=0x1200):
    """segments: (type, offset, filesz, paddr, memsz)."""
    phnum = len(segments) if phnum is None else phnum
    header = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    header += struct.pack("<HHIQQQIHHHHHH", etype, machine, 1, entry, phoff, 0, 0, 64, 56, phnum, 0, 0, 0)
    image = bytearray(size)
    image[0x1000:] = payload(size - 0x1000)
    image[0:64] = header
    for i, (ptype, offset, filesz, paddr, memsz) in enumerate(segments):
        at = 64 + i * 56
        if at + 56 <= size:
            image[at:at + 56] = struct.pack("<IIQQQQQQ", ptype, 7, offset, (0xFFFFFFFF80000000 + paddr) % (1 << 64), paddr,
                                            filesz, memsz, 0x1000)
    return bytes(image)


def bzimage(version=0x020F, setup_sects=1, real_sectors=1, loadflags=0x01, xloadflags=0x03, relocatable=1,
            alignment=0x200000, pref=KERNEL, init_size=0x400000, header_end=0x26C, kernel_size=0x600):
    image = bytearray((real_sectors + 1) * 512 + kernel_size)
    image[(real_sectors + 1) * 512:] = payload(kernel_size)
    image[0x1F1] = setup_sects
    struct.pack_into("<H", image, 0x1FE, 0xAA55)
    struct.pack_into("<BB", image, 0x200, 0xEB, header_end - 0x202)
    struct.pack_into("<IH", image, 0x202, 0x53726448, version)
    image[0x210] = 0xFF  # type_of_loader
    image[0x211] = loadflags
    struct.pack_into("<I", image, 0x22C, 0x7FFFFFFF)  # initrd_addr_max
    struct.pack_into("<IBBH", image, 0x230, alignment, relocatable, 21, xloadflags)
    struct.pack_into("<I", image, 0x238, 2047)  # cmdline_size
    struct.pack_into("<QI", image, 0x258, pref, init_size)
    return bytes(image)


text = (PT_LOAD, 0x1000, 0x100, KERNEL, 0x100)
data_bss = (PT_LOAD, 0x1100, 0x100, KERNEL + 0x1000, 0x3000)
SEEDS = {
    "elf_good": elf([text, (PT_NOTE, 0x1010, 0x10, KERNEL + 0x10, 0x10), data_bss]),
    "elf_phoff_outside": elf([text], phoff=0x11F0),
    "elf_too_many_phdrs": elf([text], phnum=65),
    "elf_paddr_overflow": elf([(PT_LOAD, 0x1000, 0x100, 0xFFFFFFFFFFFFF000, 0x2000)]),
    "elf_beyond_memory": elf([(PT_LOAD, 0x1000, 0x100, 63 << 20, 2 << 20)]),
    "elf_below_1mib": elf([(PT_LOAD, 0x1000, 0x100, 0x7000, 0x1000)], entry=0x7000),
    "elf_filesz_above_memsz": elf([(PT_LOAD, 0x1000, 0x200, KERNEL, 0x100)]),
    "elf_offset_outside": elf([(PT_LOAD, 0x1100, 0x200, KERNEL, 0x200)]),
    "elf_entry_outside": elf([text], entry=KERNEL + 0x800),
    "elf_truncated": elf([text])[:40],
    "bz_relocatable": bzimage(),
    "bz_fixed": bzimage(relocatable=0),
    "bz_setup_sects_zero": bzimage(setup_sects=0, real_sectors=4),
    "bz_old_protocol": bzimage(version=0x0206),
    "bz_no_kernel_64": bzimage(xloadflags=0x02),
    "bz_setup_sects_beyond": bzimage(setup_sects=200),
    "bz_short_header": bzimage(header_end=0x230),
    "bz_huge_init_size": bzimage(init_size=0xFFFFFFFF),
    "bz_bad_alignment": bzimage(alignment=0x300000),
    "bz_truncated_header": bzimage()[:0x20A],
}

os.makedirs(OUT, exist_ok=True)
for name, data in SEEDS.items():
    assert len(data) < 64 * 1024, name
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print(f"wrote {len(SEEDS)} seeds to {OUT}")

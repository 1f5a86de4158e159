#!/usr/bin/env python3
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Summarise DICOM Part 10 files as JSON lines, with the standard library only.

    dicom_summary.py PATH...      files, or directories walked recursively

One line per file: path, size, transfer syntax, SOP Class and SOP Instance UID,
SHA-256 of the pixel data, and SHA-256 of the whole data set. The data set digest
covers every element outside the file meta group (tag and value, not the VR), so it
is equal for the same image stored in Explicit or Implicit VR Little Endian and
ignores what a receiver writes into the meta header. A file that is not DICOM gets
an "error" key instead. Exit status 0 when every file could be read, 1 otherwise.
"""

import hashlib
import json
import os
import struct
import sys

IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2"
LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT"}
UNDEFINED = 0xFFFFFFFF
ITEM = (0xFFFE, 0xE000)
ITEM_END = (0xFFFE, 0xE00D)
SEQUENCE_END = (0xFFFE, 0xE0DD)
PIXEL_DATA = (0x7FE0, 0x0010)
SOP_CLASS_UID = (0x0008, 0x0016)
SOP_INSTANCE_UID = (0x0008, 0x0018)
TRANSFER_SYNTAX_UID = (0x0002, 0x0010)


class NotDicom(Exception):
    pass


class Reader:
    """Walks Little Endian data elements, explicit or implicit VR."""

    def __init__(self, data, explicit):
        self.data = data
        self.explicit = explicit

    def header(self, pos):
        if pos + 8 > len(self.data):
            raise NotDicom("truncated element header at byte %d" % pos)
        group, elem = struct.unpack_from("<HH", self.data, pos)
        tag = (group, elem)
        if group == 0xFFFE or not self.explicit:
            (length,) = struct.unpack_from("<I", self.data, pos + 4)
            return tag, None, length, pos + 8
        vr = self.data[pos + 4 : pos + 6]
        if vr in LONG_VRS:
            (length,) = struct.unpack_from("<I", self.data, pos + 8)
            return tag, vr, length, pos + 12
        (length,) = struct.unpack_from("<H", self.data, pos + 6)
        return tag, vr, length, pos + 8

    def elements(self, pos, end, digest, found):
        """Feed tag and value of each element between pos and end into digest;
        record the values asked for in found. Returns the position after the
        last element (after the delimiter for undefined lengths)."""
        while pos < end:
            tag, vr, length, pos = self.header(pos)
            if tag in (ITEM_END, SEQUENCE_END):
                return pos
            digest.update(struct.pack("<HH", *tag))
            if length == UNDEFINED:
                pos = self.undefined(tag, vr, pos, digest, found)
                continue
            if pos + length > len(self.data):
                raise NotDicom("element %04X,%04X runs past the end" % tag)
            value = self.data[pos : pos + length]
            if vr == b"SQ" or (
                vr is None and tag[0] != 0x7FE0 and self.is_sequence(value)
            ):
                self.items(pos, pos + length, digest, found)
            else:
                digest.update(value)
                if tag in found:
                    found[tag] = value
            pos += length
        return pos

    def undefined(self, tag, vr, pos, digest, found):
        """A sequence or encapsulated pixel data of undefined length."""
        if tag == PIXEL_DATA:
            pixels = hashlib.sha256()
            while True:
                item, _vr, length, pos = self.header(pos)
                if item == SEQUENCE_END:
                    found[PIXEL_DATA] = pixels
                    return pos
                fragment = self.data[pos : pos + length]
                digest.update(fragment)
                pixels.update(fragment)
                pos += length
        return self.items(pos, len(self.data), digest, found)

    def items(self, pos, end, digest, found):
        while pos < end:
            tag, _vr, length, pos = self.header(pos)
            if tag == SEQUENCE_END:
                return pos
            if tag != ITEM:
                raise NotDicom("expected an item, found %04X,%04X" % tag)
            stop = len(self.data) if length == UNDEFINED else pos + length
            pos = self.elements(pos, stop, digest, {})
        return pos

    @staticmethod
    def is_sequence(value):
        return len(value) >= 8 and struct.unpack_from("<HH", value) in (
            ITEM,
            SEQUENCE_END,
        )


def text(value):
    return value.rstrip(b"\0 ").decode("ascii", "replace") if value else ""


def summarise(path):
    with open(path, "rb") as handle:
        data = handle.read()
    if len(data) < 132 or data[128:132] != b"DICM":
        raise NotDicom("no DICM prefix after the 128-byte preamble")

    meta = Reader(data, explicit=True)
    tag, _vr, length, pos = meta.header(132)
    if tag != (0x0002, 0x0000):
        raise NotDicom("the file meta group has no group length")
    (group_length,) = struct.unpack_from("<I", data, pos)
    meta_end = pos + length + group_length
    found = {TRANSFER_SYNTAX_UID: None}
    meta.elements(pos + length, meta_end, hashlib.sha256(), found)
    syntax = text(found[TRANSFER_SYNTAX_UID])
    if syntax not in (IMPLICIT_VR_LITTLE_ENDIAN, "1.2.840.10008.1.2.1") and not (
        syntax.startswith("1.2.840.10008.1.2.4")
        or syntax.startswith("1.2.840.10008.1.2.5")
    ):
        raise NotDicom("transfer syntax %r is not read by this tool" % syntax)

    body = Reader(data, explicit=syntax != IMPLICIT_VR_LITTLE_ENDIAN)
    digest = hashlib.sha256()
    found = {SOP_CLASS_UID: None, SOP_INSTANCE_UID: None, PIXEL_DATA: None}
    body.elements(meta_end, len(data), digest, found)
    pixels = found[PIXEL_DATA]
    if isinstance(pixels, bytes):
        pixels = hashlib.sha256(pixels)
    return {
        "transfer_syntax": syntax,
        "sop_class_uid": text(found[SOP_CLASS_UID]),
        "sop_instance_uid": text(found[SOP_INSTANCE_UID]),
        "pixel_sha256": pixels.hexdigest() if pixels else None,
        "dataset_sha256": digest.hexdigest(),
    }


def walk(paths):
    for path in paths:
        if os.path.isdir(path):
            for directory, subdirs, files in os.walk(path):
                subdirs.sort()
                for name in sorted(files):
                    yield os.path.join(directory, name)
        else:
            yield path


def main(argv=None):
    paths = sys.argv[1:] if argv is None else argv
    if not paths:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    status = 0
    for path in walk(paths):
        line = {"path": path}
        try:
            line["size"] = os.path.getsize(path)
            line.update(summarise(path))
        except (OSError, NotDicom, struct.error) as exc:
            line["error"] = str(exc)
            status = 1
        print(json.dumps(line, sort_keys=True))
    return status


if __name__ == "__main__":
    sys.exit(main())

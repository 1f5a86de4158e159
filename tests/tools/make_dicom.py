#!/usr/bin/env python3
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write synthetic CT images as DICOM Part 10 files, with the standard library only.

    make_dicom.py --out DIR --count N [--rows 512] [--cols 512] [--seed S] [--prefix P]

Every file is a CT Image Storage instance in Explicit VR Little Endian, 16 bits
allocated and 12 stored, unsigned. All files of one call belong to one patient, one
study and one series. UIDs and pixel data derive from the seed, so the same seed and
arguments give byte-identical files; without --seed a random one is drawn and printed
on stderr. The SOP Instance UIDs are printed on stdout, one a line, in file order.

Files are written under a temporary name and renamed into place, so a directory
being watched (an outbox) never sees a half-written image.
"""

import argparse
import hashlib
import os
import random
import struct
import sys

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
# UUID-derived UIDs (ITU-T X.667) need no registered organisation root.
UUID_ROOT = "2.25."
IMPLEMENTATION_CLASS_UID = "2.25.163003452309786513339094398432573069461"
IMPLEMENTATION_VERSION = "DICOMST_MKDCM_1"

# Value representations whose header has a 4-byte length after two reserved bytes.
LONG_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT"}


def uid_from(seed, *parts):
    """A UID under 2.25 from a hash of the seed and the parts: stable, and unique
    for practical purposes."""
    text = "\0".join([str(seed)] + [str(p) for p in parts]).encode()
    number = int.from_bytes(hashlib.sha256(text).digest()[:16], "big")
    return UUID_ROOT + str(number)


def element(group, elem, vr, value):
    """One data element in Explicit VR Little Endian; pads the value to even length."""
    if isinstance(value, str):
        value = value.encode("ascii")
    if len(value) % 2:
        value += b"\0" if vr in ("UI", "OB") else b" "
    tag = struct.pack("<HH", group, elem)
    if vr in LONG_VRS:
        return tag + vr.encode() + b"\0\0" + struct.pack("<I", len(value)) + value
    if len(value) > 0xFFFF:
        raise ValueError("value of (%04X,%04X) too long for VR %s" % (group, elem, vr))
    return tag + vr.encode() + struct.pack("<H", len(value)) + value


def us(value):
    return struct.pack("<H", value)


def file_meta(sop_instance_uid):
    """Group 0002, preceded by its group length as Part 10 requires."""
    body = b"".join(
        [
            element(0x0002, 0x0001, "OB", b"\0\1"),
            element(0x0002, 0x0002, "UI", CT_IMAGE_STORAGE),
            element(0x0002, 0x0003, "UI", sop_instance_uid),
            element(0x0002, 0x0010, "UI", EXPLICIT_VR_LITTLE_ENDIAN),
            element(0x0002, 0x0012, "UI", IMPLEMENTATION_CLASS_UID),
            element(0x0002, 0x0013, "SH", IMPLEMENTATION_VERSION),
        ]
    )
    return element(0x0002, 0x0000, "UL", struct.pack("<I", len(body))) + body


def pixel_data(seed, index, rows, cols):
    """Diagonal stripes whose slope and phase come from the seed, with noise in the
    low byte; 12 bits stored. Built with byte operations, so 512x512 takes
    milliseconds rather than a Python loop per pixel."""
    rng = random.Random("%s/%d" % (seed, index))
    slope = rng.randrange(1, 8)
    phase = rng.randrange(cols)
    ramp = bytearray()
    for col in range(cols):
        ramp += struct.pack("<H", ((col * 4096) // cols) & 0x0F00)
    ramp = bytes(ramp)
    width = 2 * cols
    out = bytearray(width * rows)
    for row in range(rows):
        shift = 2 * ((phase + row * slope) % cols)
        out[row * width : (row + 1) * width] = ramp[shift:] + ramp[:shift]
    out[0::2] = rng.randbytes(rows * cols)
    return bytes(out)


def dataset(seed, index, count, rows, cols, uids):
    """The image's data set, elements in ascending tag order."""
    number = index + 1
    position = "-250\\-250\\%d" % (number * 5)
    return b"".join(
        [
            element(0x0008, 0x0005, "CS", "ISO_IR 100"),
            element(0x0008, 0x0008, "CS", "ORIGINAL\\PRIMARY\\AXIAL"),
            element(0x0008, 0x0016, "UI", CT_IMAGE_STORAGE),
            element(0x0008, 0x0018, "UI", uids["sop"]),
            element(0x0008, 0x0020, "DA", "20250101"),
            element(0x0008, 0x0030, "TM", "120000"),
            element(0x0008, 0x0050, "SH", "ACC%07d" % (hash_int(seed) % 10**7)),
            element(0x0008, 0x0060, "CS", "CT"),
            element(0x0008, 0x0070, "LO", "dicom.secure_transfer tests"),
            element(0x0008, 0x0090, "PN", ""),
            element(0x0008, 0x103E, "LO", "Synthetic series of %d" % count),
            element(0x0010, 0x0010, "PN", "TEST^SYNTHETIC"),
            element(0x0010, 0x0020, "LO", "SYN%s" % str(hash_int(seed))[:8]),
            element(0x0010, 0x0030, "DA", ""),
            element(0x0010, 0x0040, "CS", "O"),
            element(0x0018, 0x0050, "DS", "5"),
            element(0x0018, 0x0060, "DS", "120"),
            element(0x0020, 0x000D, "UI", uids["study"]),
            element(0x0020, 0x000E, "UI", uids["series"]),
            element(0x0020, 0x0010, "SH", "1"),
            element(0x0020, 0x0011, "IS", "1"),
            element(0x0020, 0x0013, "IS", str(number)),
            element(0x0020, 0x0032, "DS", position),
            element(0x0020, 0x0037, "DS", "1\\0\\0\\0\\1\\0"),
            element(0x0020, 0x0052, "UI", uids["frame"]),
            element(0x0020, 0x1041, "DS", str(number * 5)),
            element(0x0028, 0x0002, "US", us(1)),
            element(0x0028, 0x0004, "CS", "MONOCHROME2"),
            element(0x0028, 0x0010, "US", us(rows)),
            element(0x0028, 0x0011, "US", us(cols)),
            element(0x0028, 0x0030, "DS", "0.9765625\\0.9765625"),
            element(0x0028, 0x0100, "US", us(16)),
            element(0x0028, 0x0101, "US", us(12)),
            element(0x0028, 0x0102, "US", us(11)),
            element(0x0028, 0x0103, "US", us(0)),
            element(0x0028, 0x1050, "DS", "40"),
            element(0x0028, 0x1051, "DS", "400"),
            element(0x0028, 0x1052, "DS", "-1024"),
            element(0x0028, 0x1053, "DS", "1"),
            element(0x7FE0, 0x0010, "OW", pixel_data(seed, index, rows, cols)),
        ]
    )


def hash_int(seed):
    return int.from_bytes(hashlib.sha256(str(seed).encode()).digest()[:8], "big")


def write_atomically(path, data):
    directory, name = os.path.split(path)
    tmp = os.path.join(directory, ".%s.tmp" % name)
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Write synthetic CT images as DICOM Part 10 files."
    )
    parser.add_argument("--out", required=True, help="directory to write into")
    parser.add_argument("--count", type=positive, default=1, help="number of images")
    parser.add_argument("--rows", type=positive, default=512)
    parser.add_argument("--cols", type=positive, default=512)
    parser.add_argument("--seed", help="seed for UIDs and pixel data (default: random)")
    parser.add_argument(
        "--prefix", default="img", help="file name prefix (default: img)"
    )
    args = parser.parse_args(argv)
    if args.rows > 0xFFFF or args.cols > 0xFFFF:
        parser.error("--rows and --cols must be at most 65535")
    return args


def main(argv=None):
    args = parse_args(argv)
    seed = args.seed
    if seed is None:
        seed = "%016x" % random.SystemRandom().getrandbits(64)
        print("make_dicom: seed %s" % seed, file=sys.stderr)

    os.makedirs(args.out, exist_ok=True)
    series = {
        "study": uid_from(seed, "study"),
        "series": uid_from(seed, "series"),
        "frame": uid_from(seed, "frame"),
    }
    width = max(4, len(str(args.count)))
    for index in range(args.count):
        uids = dict(series, sop=uid_from(seed, "sop", index))
        data = (
            b"\0" * 128
            + b"DICM"
            + file_meta(uids["sop"])
            + dataset(seed, index, args.count, args.rows, args.cols, uids)
        )
        name = "%s%0*d.dcm" % (args.prefix, width, index + 1)
        write_atomically(os.path.join(args.out, name), data)
        print(uids["sop"])
    return 0


if __name__ == "__main__":
    sys.exit(main())

# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make the repository importable as ansible_collections.dicom.secure_transfer.

ansible-test does this itself; plain pytest from a clone needs a path whose
ansible_collections/dicom/secure_transfer is the repository.
"""

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[4]


def _collection_importable():
    try:
        import ansible_collections.dicom.secure_transfer.plugins.filter  # noqa: F401
    except ImportError:
        return False
    return True


def _make_importable():
    if _collection_importable():
        return
    build = REPO / ".build" / "collections"
    if (build / "ansible_collections" / "dicom" / "secure_transfer").is_dir():
        sys.path.insert(0, str(build))
    else:
        root = Path(tempfile.mkdtemp(prefix="dicom-st-collections-"))
        namespace = root / "ansible_collections" / "dicom"
        namespace.mkdir(parents=True)
        (namespace / "secure_transfer").symlink_to(REPO)
        sys.path.insert(0, str(root))
    for name in [m for m in sys.modules if m.startswith("ansible_collections")]:
        if not hasattr(sys.modules[name], "__file__"):
            del sys.modules[name]


_make_importable()

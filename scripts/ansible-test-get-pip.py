# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Stand-in for the pip bootstrap script that ansible-test downloads.

ansible-test creates its sanity test virtual environments without pip and runs a
get-pip script, fetched from ci-files.testing.ansible.com, to put pip into them. That
host is not reachable from every CI machine, while PyPI is. ansible-test looks for the
script in its cache first (~/.ansible/test/cache/get_pip_<version>.py); the Makefile
copies this file there when the cache holds none.

It takes the arguments ansible-test gives the real script (pip options, the pinned
pip requirement, --no-setuptools, --no-wheel): it puts the pip bundled with Python in
place with ensurepip, then installs the requested packages from PyPI with that pip.
"""

from __future__ import annotations

import subprocess
import sys

SKIPPABLE = {"--no-setuptools": "setuptools", "--no-wheel": "wheel"}


def main():
    args = sys.argv[1:]
    unwanted = [SKIPPABLE[arg] for arg in args if arg in SKIPPABLE]
    install_args = [arg for arg in args if arg not in SKIPPABLE]

    subprocess.run([sys.executable, "-m", "ensurepip", "--default-pip"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install"] + install_args, check=True)

    # ensurepip of Python 3.11 brings setuptools along, which ansible-test did not ask for.
    if unwanted:
        subprocess.run(
            [sys.executable, "-m", "pip", "uninstall", "--yes", "--quiet"] + unwanted,
            check=True,
        )


if __name__ == "__main__":
    main()

# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Safe file handling shared by the collection's modules.

Private to dicom.secure_transfer: no compatibility promise outside the collection.

Every file is written the same way: a temporary file in the target directory, created with
its final mode (so a key is never readable by others, not even for an instant), owner and
group set, content flushed to disk, then an atomic rename over the target.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import grp
import os
import pwd
import tempfile


class FileError(Exception):
    """A file operation failed; the message names the path and what to do."""


def read_bytes(path):
    """Return the content of path, or None when it does not exist.

    Raises FileError when the file exists but cannot be read.
    """
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise FileError("cannot read %s: %s" % (path, exc.strerror or exc))


def resolve_owner(owner, group):
    """Turn owner and group names (or numbers) into uid and gid; -1 leaves one as is."""
    uid = gid = -1
    if owner not in (None, ""):
        try:
            uid = int(owner) if str(owner).isdigit() else pwd.getpwnam(owner).pw_uid
        except KeyError:
            raise FileError("owner '%s' does not exist on this host" % owner)
    if group not in (None, ""):
        try:
            gid = int(group) if str(group).isdigit() else grp.getgrnam(group).gr_gid
        except KeyError:
            raise FileError("group '%s' does not exist on this host" % group)
    return uid, gid


def check_parent_directory(path, option):
    """Fail clearly when the directory that should hold path is missing."""
    parent = os.path.dirname(os.path.abspath(path)) or "/"
    if not os.path.isdir(parent):
        raise FileError(
            "%s: directory %s does not exist; create it first (for example with "
            "ansible.builtin.file state=directory)" % (option, parent)
        )


def attributes_differ(path, mode, uid, gid):
    """True when the existing file at path has another mode, owner or group."""
    try:
        st = os.stat(path)
    except OSError:
        return True
    if mode is not None and (st.st_mode & 0o7777) != mode:
        return True
    if uid != -1 and st.st_uid != uid:
        return True
    if gid != -1 and st.st_gid != gid:
        return True
    return False


def set_attributes(path, mode, uid, gid):
    """Apply mode, owner and group to an existing file."""
    try:
        if uid != -1 or gid != -1:
            os.chown(path, uid, gid)
        if mode is not None:
            os.chmod(path, mode)
    except OSError as exc:
        raise FileError("cannot set owner or mode of %s: %s" % (path, exc.strerror))


def write_atomic(path, content, mode, uid=-1, gid=-1):
    """Write content to path through a temporary file that already has its final mode."""
    directory = os.path.dirname(os.path.abspath(path)) or "/"
    base = os.path.basename(path)
    try:
        # mkstemp creates the file 0600 before any byte is written.
        fd, tmp = tempfile.mkstemp(prefix=".%s." % base, suffix=".tmp", dir=directory)
    except OSError as exc:
        raise FileError("cannot create a file in %s: %s" % (directory, exc.strerror))
    try:
        if uid != -1 or gid != -1:
            os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            fd = None
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(tmp, path)
        tmp = None
        _fsync_directory(directory)
    except OSError as exc:
        raise FileError("cannot write %s: %s" % (path, exc.strerror or exc))
    finally:
        if fd is not None:
            os.close(fd)
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def remove(path):
    """Remove path; True when something was removed."""
    try:
        os.unlink(path)
        return True
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return False
        raise FileError("cannot remove %s: %s" % (path, exc.strerror))


def _fsync_directory(directory):
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


class PlannedFile:
    """One file a module wants in a given state: content, mode, owner and group.

    The module first plans every file, decides what would change, and only then writes,
    so a failure found while planning changes nothing on the host.
    """

    def __init__(self, path, content, mode, uid=-1, gid=-1):
        self.path = path
        self.content = content
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.existing = read_bytes(path)

    @property
    def content_changes(self):
        return self.existing != self.content

    @property
    def attributes_change(self):
        return not self.content_changes and attributes_differ(
            self.path, self.mode, self.uid, self.gid
        )

    @property
    def changed(self):
        return self.content_changes or self.attributes_change

    def apply(self):
        if self.content_changes:
            write_atomic(self.path, self.content, self.mode, self.uid, self.gid)
        elif self.attributes_change:
            set_attributes(self.path, self.mode, self.uid, self.gid)

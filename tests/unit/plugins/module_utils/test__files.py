# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Atomic writes with the final mode from the first byte, and planned files."""

import os
import stat

import pytest

from ansible_collections.dicom.secure_transfer.plugins.module_utils import _files

needs_root = pytest.mark.skipif(
    os.getuid() != 0, reason="chown to another group needs root"
)


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def leftovers(directory, keep):
    return sorted(name for name in os.listdir(str(directory)) if name not in keep)


class ModeAtWrite:
    """Wraps os.fdopen so every write records the mode the file has at that moment."""

    def __init__(self, monkeypatch):
        self.modes = []
        self.fchmod_sizes = []
        real_fdopen = os.fdopen
        real_fchmod = os.fchmod
        recorder = self

        class Handle:
            def __init__(self, handle):
                self._handle = handle

            def write(self, data):
                recorder.modes.append(
                    stat.S_IMODE(os.fstat(self._handle.fileno()).st_mode)
                )
                return self._handle.write(data)

            def __getattr__(self, name):
                return getattr(self._handle, name)

            def __enter__(self):
                self._handle.__enter__()
                return self

            def __exit__(self, *exc):
                return self._handle.__exit__(*exc)

        def fchmod(fd, mode):
            recorder.fchmod_sizes.append(os.fstat(fd).st_size)
            real_fchmod(fd, mode)

        monkeypatch.setattr(
            _files.os, "fdopen", lambda fd, *a: Handle(real_fdopen(fd, *a))
        )
        monkeypatch.setattr(_files.os, "fchmod", fchmod)


class TestWriteAtomic:
    @pytest.mark.parametrize(
        "mode", [0o600, 0o640, 0o400, 0o644], ids=["0600", "0640", "0400", "0644"]
    )
    def test_temp_file_has_the_final_mode_before_content(
        self, tmp_path, monkeypatch, mode
    ):
        recorder = ModeAtWrite(monkeypatch)
        target = tmp_path / "host.key"

        _files.write_atomic(str(target), b"secret", mode)

        assert recorder.fchmod_sizes == [0]
        assert recorder.modes == [mode]
        assert mode_of(target) == mode
        assert target.read_bytes() == b"secret"

    def test_umask_does_not_widen_or_narrow_the_mode(self, tmp_path):
        old = os.umask(0o077)
        try:
            _files.write_atomic(str(tmp_path / "host.crt"), b"cert", 0o644)
        finally:
            os.umask(old)
        assert mode_of(tmp_path / "host.crt") == 0o644

    def test_replaces_by_rename_and_leaves_no_temp_file(self, tmp_path):
        target = tmp_path / "host.key"
        target.write_bytes(b"old")
        inode = os.stat(str(target)).st_ino

        _files.write_atomic(str(target), b"new", 0o600)

        assert target.read_bytes() == b"new"
        assert os.stat(str(target)).st_ino != inode
        assert leftovers(tmp_path, ["host.key"]) == []

    def test_failed_rename_keeps_the_old_file_and_cleans_up(
        self, tmp_path, monkeypatch
    ):
        target = tmp_path / "host.key"
        target.write_bytes(b"old")

        def refuse(src, dst):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(_files.os, "rename", refuse)
        with pytest.raises(
            _files.FileError, match="cannot write .*host.key: No space left"
        ):
            _files.write_atomic(str(target), b"new", 0o600)

        assert target.read_bytes() == b"old"
        assert leftovers(tmp_path, ["host.key"]) == []

    def test_missing_directory(self, tmp_path):
        with pytest.raises(_files.FileError, match="cannot create a file in .*missing"):
            _files.write_atomic(str(tmp_path / "missing" / "host.key"), b"x", 0o600)

    @needs_root
    def test_owner_and_group(self, tmp_path):
        target = tmp_path / "host.key"
        _files.write_atomic(str(target), b"x", 0o640, 0, 1)
        st = os.stat(str(target))
        assert (st.st_uid, st.st_gid, mode_of(target)) == (0, 1, 0o640)


class TestCheckParentDirectory:
    def test_missing_parent_names_the_option(self, tmp_path):
        missing = tmp_path / "no-such-dir"
        with pytest.raises(_files.FileError) as caught:
            _files.check_parent_directory(str(missing / "host.key"), "key_path")
        assert str(caught.value) == (
            "key_path: directory %s does not exist; create it first (for example with "
            "ansible.builtin.file state=directory)" % missing
        )

    def test_parent_that_is_a_file(self, tmp_path):
        (tmp_path / "file").write_bytes(b"")
        with pytest.raises(_files.FileError, match="^cert_path: directory "):
            _files.check_parent_directory(
                str(tmp_path / "file" / "host.crt"), "cert_path"
            )

    def test_existing_parent(self, tmp_path):
        assert (
            _files.check_parent_directory(str(tmp_path / "host.key"), "key_path")
            is None
        )


class TestReadAndRemove:
    def test_read_missing_is_none(self, tmp_path):
        assert _files.read_bytes(str(tmp_path / "missing")) is None

    def test_read_unreadable_raises(self, tmp_path):
        with pytest.raises(_files.FileError, match="^cannot read %s: " % tmp_path):
            _files.read_bytes(str(tmp_path))

    def test_remove(self, tmp_path):
        target = tmp_path / "host.key"
        target.write_bytes(b"x")
        assert _files.remove(str(target)) is True
        assert not target.exists()
        assert _files.remove(str(target)) is False

    def test_remove_a_directory_fails_clearly(self, tmp_path):
        with pytest.raises(_files.FileError, match="^cannot remove "):
            _files.remove(str(tmp_path))


class TestResolveOwner:
    def test_defaults_leave_both_alone(self):
        assert _files.resolve_owner(None, "") == (-1, -1)

    def test_names_and_numbers(self):
        assert _files.resolve_owner("root", "0") == (0, 0)
        assert _files.resolve_owner("0", "root") == (0, 0)

    def test_unknown_owner(self):
        with pytest.raises(
            _files.FileError, match="owner 'no-such-user-x' does not exist"
        ):
            _files.resolve_owner("no-such-user-x", None)

    def test_unknown_group(self):
        with pytest.raises(
            _files.FileError, match="group 'no-such-group-x' does not exist"
        ):
            _files.resolve_owner(None, "no-such-group-x")


class TestPlannedFile:
    def test_new_file(self, tmp_path):
        planned = _files.PlannedFile(str(tmp_path / "a"), b"x", 0o600)
        assert planned.existing is None
        assert (
            planned.content_changes,
            planned.attributes_change,
            planned.changed,
        ) == (
            True,
            False,
            True,
        )
        planned.apply()
        assert (tmp_path / "a").read_bytes() == b"x"
        assert mode_of(tmp_path / "a") == 0o600

    def test_same_content_and_mode(self, tmp_path):
        _files.write_atomic(str(tmp_path / "a"), b"x", 0o644)
        planned = _files.PlannedFile(str(tmp_path / "a"), b"x", 0o644)
        assert not planned.changed

    def test_only_the_mode_differs(self, tmp_path):
        _files.write_atomic(str(tmp_path / "a"), b"x", 0o644)
        inode = os.stat(str(tmp_path / "a")).st_ino
        planned = _files.PlannedFile(str(tmp_path / "a"), b"x", 0o600)
        assert (planned.content_changes, planned.attributes_change) == (False, True)
        assert planned.changed

        planned.apply()
        assert mode_of(tmp_path / "a") == 0o600
        assert os.stat(str(tmp_path / "a")).st_ino == inode

    def test_content_differs(self, tmp_path):
        _files.write_atomic(str(tmp_path / "a"), b"x", 0o644)
        planned = _files.PlannedFile(str(tmp_path / "a"), b"y", 0o600)
        assert (planned.content_changes, planned.attributes_change) == (True, False)
        planned.apply()
        assert (tmp_path / "a").read_bytes() == b"y"
        assert mode_of(tmp_path / "a") == 0o600

    def test_planning_writes_nothing(self, tmp_path):
        _files.write_atomic(str(tmp_path / "a"), b"x", 0o644)
        planned = _files.PlannedFile(str(tmp_path / "a"), b"y", 0o600)
        assert planned.changed
        assert (tmp_path / "a").read_bytes() == b"x"
        assert mode_of(tmp_path / "a") == 0o644
        assert not _files.PlannedFile(str(tmp_path / "b"), b"y", 0o600).existing
        assert not (tmp_path / "b").exists()

    @needs_root
    def test_only_the_group_differs(self, tmp_path):
        _files.write_atomic(str(tmp_path / "a"), b"x", 0o640, 0, 0)
        planned = _files.PlannedFile(str(tmp_path / "a"), b"x", 0o640, -1, 1)
        assert (planned.content_changes, planned.attributes_change) == (False, True)
        planned.apply()
        assert os.stat(str(tmp_path / "a")).st_gid == 1
        assert not _files.PlannedFile(str(tmp_path / "a"), b"x", 0o640, 0, 1).changed


class TestAttributesDiffer:
    def test_missing_file_differs(self, tmp_path):
        assert _files.attributes_differ(str(tmp_path / "missing"), 0o600, -1, -1)

    def test_owner_and_group_compare_only_when_given(self, tmp_path):
        _files.write_atomic(str(tmp_path / "a"), b"x", 0o600)
        st = os.stat(str(tmp_path / "a"))
        assert not _files.attributes_differ(str(tmp_path / "a"), 0o600, -1, -1)
        assert not _files.attributes_differ(
            str(tmp_path / "a"), None, st.st_uid, st.st_gid
        )
        assert _files.attributes_differ(str(tmp_path / "a"), None, st.st_uid + 1, -1)
        assert _files.attributes_differ(str(tmp_path / "a"), None, -1, st.st_gid + 1)
        assert _files.attributes_differ(str(tmp_path / "a"), 0o640, -1, -1)

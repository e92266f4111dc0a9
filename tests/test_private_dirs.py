"""Ownership and mode checks for the places kvredis trusts (its data directory and its
compiled-code cache), and file writes that never follow a planted link."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kvredis.private_dirs import (
    UnsafePath,
    check_entries,
    check_private_socket,
    open_private_dir,
    open_private_file,
    read_private_file,
    shown,
    write_private_file,
)

OTHER_UID = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="changing an owner needs root")


@pytest.fixture
def private(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    path = tmp_path / "private"
    fd = open_private_dir(path, create=True)
    try:
        yield fd, path
    finally:
        os.close(fd)


def test_a_new_directory_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b"
    os.close(open_private_dir(path, create=True))
    assert stat.S_IMODE(path.stat().st_mode) == 0o700


def test_an_existing_directory_nobody_else_can_write_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "shared-readable"
    path.mkdir(mode=0o755)
    os.close(open_private_dir(path, create=False))


@pytest.mark.parametrize("mode", [0o770, 0o702, 0o1777])
def test_a_directory_others_can_write_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "loose"
    path.mkdir()
    path.chmod(mode)
    with pytest.raises(UnsafePath, match=rf"writable by group or others \(mode {mode:04o}\)"):
        open_private_dir(path, create=True)


@needs_root
def test_a_directory_of_another_user_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "theirs"
    path.mkdir(mode=0o700)
    os.chown(path, OTHER_UID, OTHER_UID)
    with pytest.raises(UnsafePath, match=f"belongs to uid {OTHER_UID}"):
        open_private_dir(path, create=True)


def test_a_directory_that_is_a_link_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(UnsafePath, match="is a symbolic link"):
        open_private_dir(tmp_path / "link", create=True)


def test_a_file_where_a_directory_should_be_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(UnsafePath, match="is not a directory"):
        open_private_dir(tmp_path / "file", create=True)


def test_writing_replaces_a_planted_link_and_leaves_its_target_alone(
    private: tuple[int, Path], tmp_path: Path
) -> None:
    fd, path = private
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (path / "conf").symlink_to(victim)
    write_private_file(fd, "conf", b"mine")
    assert victim.read_text() == "precious"
    assert not (path / "conf").is_symlink()
    assert (path / "conf").read_bytes() == b"mine"
    assert stat.S_IMODE((path / "conf").stat().st_mode) == 0o600
    assert sorted(p.name for p in path.iterdir()) == ["conf"], "a temporary file was left"


def test_reading_or_opening_never_follows_a_link(private: tuple[int, Path], tmp_path: Path) -> None:
    fd, path = private
    (tmp_path / "elsewhere").write_text("unix:///tmp/theirs.sock")
    (path / "server.url").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafePath, match=r"server\.url is a symbolic link"):
        read_private_file(fd, "server.url", path)
    with pytest.raises(UnsafePath, match="is a symbolic link"):
        open_private_file(fd, "server.url", os.O_RDWR | os.O_CREAT, path)
    assert read_private_file(fd, "missing", path) is None


def test_a_file_others_can_write_is_refused(private: tuple[int, Path]) -> None:
    fd, path = private
    (path / "server.url").write_text("x")
    (path / "server.url").chmod(0o666)
    with pytest.raises(UnsafePath, match="writable by group or others"):
        read_private_file(fd, "server.url", path)


def test_a_fifo_is_refused_without_hanging(private: tuple[int, Path]) -> None:
    fd, path = private
    os.mkfifo(path / "server.url", 0o600)
    with pytest.raises(UnsafePath, match="is not a regular file"):
        read_private_file(fd, "server.url", path)


def test_entries_are_checked_inside_subdirectories(
    private: tuple[int, Path], tmp_path: Path
) -> None:
    fd, path = private
    (path / "aof").mkdir(mode=0o700)
    (path / "aof" / "base.aof").symlink_to(tmp_path / "victim")
    check_entries(fd, ["absent", "other/"], path)
    with pytest.raises(UnsafePath, match=r"base\.aof is a symbolic link"):
        check_entries(fd, ["aof/"], path)


def test_a_socket_counts_as_private_only_in_a_0700_directory_of_the_user(tmp_path: Path) -> None:
    directory = tmp_path / "sock"
    directory.mkdir(mode=0o700)
    path = directory / "s.sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        check_private_socket(path)
        directory.chmod(0o755)
        with pytest.raises(UnsafePath, match=r"can be entered by others \(mode 0755"):
            check_private_socket(path)
    directory.chmod(0o700)
    path.unlink()
    path.write_text("")
    with pytest.raises(UnsafePath, match="is not a socket of yours"):
        check_private_socket(path)


def test_paths_are_shown_on_one_line() -> None:
    assert shown('a"b\nc d') == 'a"b\\nc d'

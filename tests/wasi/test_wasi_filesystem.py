"""wasi:filesystem alone: the file operations standard libraries use, error codes, and a
sandbox no path, `..` or symlink gets out of."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from kvredis.wasi.filesystem.descriptor import MAX_READ, Descriptor
from kvredis.wasi.filesystem.preopens import Preopen, Preopens
from kvredis.wasi.filesystem.types import (
    DescriptorFlags,
    DescriptorType,
    ErrorCode,
    FilesystemError,
    OpenFlags,
    PathFlags,
    filesystem_error_code,
)
from kvredis.wasi.io.poll import Waker
from kvredis.wasi.io.streams import LastOperationFailed, StreamClosed

NO_FOLLOW = PathFlags(0)
FOLLOW = PathFlags.SYMLINK_FOLLOW
NO_OPEN_FLAGS = OpenFlags(0)
READ = DescriptorFlags.READ
WRITE = DescriptorFlags.WRITE
READ_WRITE = READ | WRITE


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """tmp_path/outside.txt (a secret) and tmp_path/root/, the directory the guest gets."""
    (tmp_path / "outside.txt").write_text("secret")
    (tmp_path / "outside-dir").mkdir()
    (tmp_path / "outside-dir" / "file.txt").write_text("secret too")
    root = tmp_path / "root"
    root.mkdir()
    (root / "file.txt").write_text("hello file")
    (root / "sub").mkdir()
    (root / "sub" / "inner.txt").write_text("inner")
    os.symlink("../file.txt", root / "sub" / "up-link")  # stays inside
    os.symlink("sub/inner.txt", root / "inner-link")
    os.symlink("../outside.txt", root / "out-link")
    os.symlink("../outside-dir", root / "out-dir-link")
    os.symlink(str(tmp_path / "outside.txt"), root / "absolute-link")
    os.symlink("loop-b", root / "loop-a")
    os.symlink("loop-a", root / "loop-b")
    return root


def preopen(root: Path, *, writable: bool = True) -> Descriptor:
    return Descriptor.open_directory(str(root), writable=writable, waker=Waker())


def code(call: object) -> ErrorCode:
    assert callable(call)
    with pytest.raises(FilesystemError) as raised:
        call()
    return raised.value.code


def open_file(
    root: Descriptor,
    path: str,
    flags: DescriptorFlags = READ,
    open_flags: OpenFlags = NO_OPEN_FLAGS,
    path_flags: PathFlags = NO_FOLLOW,
) -> Descriptor:
    return root.open_at(path_flags, path, open_flags, flags)


def read_all(descriptor: Descriptor, offset: int = 0) -> bytes:
    stream, data = descriptor.read_via_stream(offset), b""
    try:
        while True:
            data += stream.blocking_read(MAX_READ)
    except StreamClosed:
        return data
    finally:
        stream.close()


# Preopens.


def test_preopens_hand_out_independent_handles(tree: Path) -> None:
    preopens = Preopens.open([Preopen(str(tree), "/data")], Waker())
    try:
        (first, path), (second, _) = preopens.get_directories()[0], preopens.get_directories()[0]
        assert path == "/data"
        first.close()
        assert second.stat().type is DescriptorType.DIRECTORY
        assert preopens.get_directories()[0][0].get_type() is DescriptorType.DIRECTORY
    finally:
        preopens.close()


def test_a_missing_preopen_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Preopens.open([Preopen(str(tmp_path / "nope"), "/")], Waker())


# Reading and writing.


def test_read_a_file_through_a_stream(tree: Path) -> None:
    file = open_file(preopen(tree), "file.txt")
    assert read_all(file) == b"hello file"
    assert read_all(file, offset=6) == b"file"


def test_a_stream_outlives_its_descriptor(tree: Path) -> None:
    file = open_file(preopen(tree), "file.txt")
    stream = file.read_via_stream(0)
    file.close()
    assert stream.read(5) == b"hello"
    assert code(file.stat) is ErrorCode.BAD_DESCRIPTOR  # not whatever reuses the fd number


def test_write_and_append_streams(tree: Path) -> None:
    root = preopen(tree)
    file = open_file(root, "new.txt", WRITE, OpenFlags.CREATE)
    out = file.write_via_stream(0)
    out.blocking_write_and_flush(b"0123456789")
    out.close()
    out = file.write_via_stream(2)
    out.blocking_write_and_flush(b"ab")
    appender = file.append_via_stream()
    appender.blocking_write_and_flush(b"!")
    assert (tree / "new.txt").read_bytes() == b"01ab456789!"


def test_read_and_write_at_an_offset(tree: Path) -> None:
    file = open_file(preopen(tree), "file.txt", READ_WRITE)
    assert file.write(b"J", 0) == 1
    assert file.read(5, 0) == (b"Jello", False)
    assert file.read(100, 6) == (b"file", True)
    assert file.read(10, 1000) == (b"", True)
    assert code(lambda: file.read(1, 2**64 - 1)) is ErrorCode.INVALID


def test_one_read_is_capped(tree: Path) -> None:
    (tree / "big.bin").write_bytes(bytes(3 * MAX_READ))
    data, end = open_file(preopen(tree), "big.bin").read(2**64 - 1, 0)
    assert (len(data), end) == (MAX_READ, False)


def test_set_size_sync_and_flags(tree: Path) -> None:
    root = preopen(tree)
    file = open_file(root, "file.txt", READ_WRITE)
    file.set_size(5)
    file.sync()
    file.sync_data()
    assert (tree / "file.txt").read_bytes() == b"hello"
    assert file.get_flags() == READ_WRITE
    assert root.get_flags() == READ | DescriptorFlags.MUTATE_DIRECTORY
    reader = open_file(root, "file.txt")
    assert reader.get_flags() == READ
    assert code(lambda: reader.set_size(1)) is ErrorCode.BAD_DESCRIPTOR
    assert code(lambda: reader.write(b"x", 0)) is ErrorCode.BAD_DESCRIPTOR
    assert code(lambda: reader.write_via_stream(0)) is ErrorCode.BAD_DESCRIPTOR


# Opening.


def test_create_exclusive_and_truncate(tree: Path) -> None:
    root = preopen(tree)
    open_file(root, "fresh.txt", WRITE, OpenFlags.CREATE | OpenFlags.EXCLUSIVE)
    again = OpenFlags.CREATE | OpenFlags.EXCLUSIVE
    assert code(lambda: open_file(root, "fresh.txt", WRITE, again)) is ErrorCode.EXIST
    open_file(root, "file.txt", WRITE, OpenFlags.TRUNCATE)
    assert (tree / "file.txt").read_bytes() == b""
    assert code(lambda: open_file(root, "missing.txt")) is ErrorCode.NO_ENTRY


def test_directory_flag_rules(tree: Path) -> None:
    root = preopen(tree)
    sub = open_file(root, "sub", READ, OpenFlags.DIRECTORY)
    assert sub.get_type() is DescriptorType.DIRECTORY
    assert open_file(sub, "inner.txt").read(100, 0) == (b"inner", True)
    assert code(lambda: open_file(root, "file.txt", READ, OpenFlags.DIRECTORY)) is (
        ErrorCode.NOT_DIRECTORY
    )
    assert code(lambda: open_file(root, "d", READ, OpenFlags.DIRECTORY | OpenFlags.CREATE)) is (
        ErrorCode.INVALID
    )
    assert code(lambda: open_file(root, "sub", WRITE)) is ErrorCode.IS_DIRECTORY


def test_sync_flags_are_unsupported(tree: Path) -> None:
    flags = READ | DescriptorFlags.FILE_INTEGRITY_SYNC
    assert code(lambda: open_file(preopen(tree), "file.txt", flags)) is ErrorCode.UNSUPPORTED


def test_opening_a_fifo_does_not_hang_and_reading_it_fails_as_a_stream(tree: Path) -> None:
    os.mkfifo(tree / "fifo")
    started = time.monotonic()
    fifo = open_file(preopen(tree), "fifo")
    assert time.monotonic() - started < 1
    assert fifo.get_type() is DescriptorType.FIFO
    stream = fifo.read_via_stream(0)
    with pytest.raises(LastOperationFailed) as failed:
        stream.read(10)
    assert filesystem_error_code(failed.value.error) is ErrorCode.INVALID_SEEK
    with pytest.raises(StreamClosed):
        stream.read(10)


# Metadata.


def test_stat_and_stat_at(tree: Path) -> None:
    root = preopen(tree)
    file = open_file(root, "file.txt")
    stat = file.stat()
    assert (stat.type, stat.size, stat.link_count) == (DescriptorType.REGULAR_FILE, 10, 1)
    assert stat.data_modification_timestamp is not None
    assert abs(stat.data_modification_timestamp.seconds - time.time()) < 60
    assert root.stat_at(NO_FOLLOW, "sub").type is DescriptorType.DIRECTORY
    assert root.stat_at(NO_FOLLOW, "inner-link").type is DescriptorType.SYMBOLIC_LINK
    followed = root.stat_at(FOLLOW, "inner-link")
    assert (followed.type, followed.size) == (DescriptorType.REGULAR_FILE, 5)
    assert root.readlink_at("inner-link") == "sub/inner.txt"


def test_same_object_and_metadata_hashes(tree: Path) -> None:
    root = preopen(tree)
    first, second = open_file(root, "file.txt"), open_file(root, "sub/up-link", path_flags=FOLLOW)
    assert first.is_same_object(second)
    assert not first.is_same_object(root)
    assert first.metadata_hash() == second.metadata_hash()
    assert first.metadata_hash() == root.metadata_hash_at(NO_FOLLOW, "file.txt")
    before = first.metadata_hash()
    (tree / "file.txt").write_text("changed, and longer")
    assert first.metadata_hash() != before


def test_read_directory_lists_entries_with_their_types(tree: Path) -> None:
    entries = preopen(tree).read_directory()
    listed = {}
    while (entry := entries.read_directory_entry()) is not None:
        listed[entry.name] = entry.type
    assert listed == {
        "file.txt": DescriptorType.REGULAR_FILE,
        "sub": DescriptorType.DIRECTORY,
        "inner-link": DescriptorType.SYMBOLIC_LINK,
        "out-link": DescriptorType.SYMBOLIC_LINK,
        "out-dir-link": DescriptorType.SYMBOLIC_LINK,
        "absolute-link": DescriptorType.SYMBOLIC_LINK,
        "loop-a": DescriptorType.SYMBOLIC_LINK,
        "loop-b": DescriptorType.SYMBOLIC_LINK,
    }
    assert entries.read_directory_entry() is None


def test_a_name_that_is_not_utf8_is_an_illegal_byte_sequence(tree: Path) -> None:
    os.close(os.open(os.path.join(os.fsencode(tree), b"\xff"), os.O_CREAT | os.O_WRONLY))
    sub = open_file(preopen(tree), "sub")
    os.close(os.open(os.path.join(os.fsencode(tree / "sub"), b"\xfe"), os.O_CREAT | os.O_WRONLY))
    entries = sub.read_directory()
    answers: list[str | ErrorCode] = []
    for _ in range(3):
        try:
            entry = entries.read_directory_entry()
        except FilesystemError as error:
            answers.append(error.code)
        else:
            assert entry is not None
            answers.append(entry.name)
    assert sorted(map(str, answers)) == ["illegal-byte-sequence", "inner.txt", "up-link"]


# Changing the tree.


def test_make_rename_and_remove(tree: Path) -> None:
    root = preopen(tree)
    root.create_directory_at("made")
    assert code(lambda: root.create_directory_at("made")) is ErrorCode.EXIST
    sub = open_file(root, "sub")
    root.rename_at("file.txt", sub, "moved.txt")
    assert (tree / "sub" / "moved.txt").read_text() == "hello file"
    assert code(lambda: root.remove_directory_at("sub")) is ErrorCode.NOT_EMPTY
    assert code(lambda: root.unlink_file_at("sub")) is ErrorCode.IS_DIRECTORY
    sub.unlink_file_at("moved.txt")
    root.remove_directory_at("made")
    root.unlink_file_at("out-link")  # removes the link, not what it points at
    assert not (tree / "made").exists()
    assert not (tree / "sub" / "moved.txt").exists()
    assert (tree.parent / "outside.txt").read_text() == "secret"


def test_a_read_only_preopen_refuses_every_change(tree: Path) -> None:
    root = preopen(tree, writable=False)
    assert root.get_flags() == READ
    refusals = [
        lambda: open_file(root, "file.txt", WRITE),
        lambda: open_file(root, "new.txt", READ, OpenFlags.CREATE),
        lambda: open_file(root, "file.txt", READ, OpenFlags.TRUNCATE),
        lambda: open_file(root, "sub", READ | DescriptorFlags.MUTATE_DIRECTORY),
        lambda: root.create_directory_at("made"),
        lambda: root.remove_directory_at("sub"),
        lambda: root.unlink_file_at("file.txt"),
        lambda: root.rename_at("file.txt", root, "other.txt"),
        lambda: open_file(root, "sub").create_directory_at("deeper"),
    ]
    for refusal in refusals:
        assert code(refusal) is ErrorCode.NOT_PERMITTED
    assert read_all(open_file(root, "file.txt")) == b"hello file"
    assert sorted(p.name for p in tree.iterdir()) == sorted(
        ["file.txt", "sub", "inner-link", "out-link", "out-dir-link", "absolute-link"]
        + ["loop-a", "loop-b"]
    )


def test_operations_on_the_wrong_kind_of_descriptor(tree: Path) -> None:
    root = preopen(tree)
    file = open_file(root, "file.txt")
    assert code(lambda: root.read_via_stream(0)) is ErrorCode.IS_DIRECTORY
    assert code(lambda: root.read(1, 0)) is ErrorCode.IS_DIRECTORY
    assert code(lambda: root.write_via_stream(0)) is ErrorCode.BAD_DESCRIPTOR
    assert code(lambda: file.open_at(NO_FOLLOW, "x", NO_OPEN_FLAGS, READ)) is (
        ErrorCode.NOT_DIRECTORY
    )
    assert code(file.read_directory) is ErrorCode.NOT_DIRECTORY
    assert code(lambda: file.create_directory_at("x")) is ErrorCode.NOT_DIRECTORY


def test_what_kvredis_does_not_offer_is_unsupported(tree: Path) -> None:
    root = preopen(tree)
    file = open_file(root, "file.txt", READ_WRITE)
    unsupported = [
        lambda: file.advise(0, 10, "sequential"),
        lambda: file.set_times("now", "now"),
        lambda: root.set_times_at(NO_FOLLOW, "file.txt", "now", "now"),
        lambda: root.link_at(NO_FOLLOW, "file.txt", root, "hard-link"),
        lambda: root.symlink_at("file.txt", "soft-link"),
    ]
    for call in unsupported:
        assert code(call) is ErrorCode.UNSUPPORTED


def test_bad_paths(tree: Path) -> None:
    root = preopen(tree)
    assert code(lambda: open_file(root, "")) is ErrorCode.NO_ENTRY
    assert code(lambda: open_file(root, "file\0.txt")) is ErrorCode.INVALID
    assert code(lambda: open_file(root, "loop-a", path_flags=FOLLOW)) is ErrorCode.LOOP
    assert code(lambda: open_file(root, "inner-link")) is ErrorCode.LOOP  # O_NOFOLLOW
    assert code(lambda: root.remove_directory_at(".")) is ErrorCode.INVALID


# The sandbox.


def test_paths_inside_resolve_through_dots_and_links(tree: Path) -> None:
    root = preopen(tree)
    assert read_all(open_file(root, "sub/../file.txt")) == b"hello file"
    assert read_all(open_file(root, "./sub/./inner.txt")) == b"inner"
    assert read_all(open_file(root, "sub/up-link", path_flags=FOLLOW)) == b"hello file"
    assert read_all(open_file(root, "inner-link", path_flags=FOLLOW)) == b"inner"
    assert open_file(root, "sub/..").is_same_object(root)
    assert open_file(root, ".").is_same_object(root)


@pytest.mark.parametrize(
    "path",
    [
        "..",
        "../outside.txt",
        "/etc/passwd",
        "sub/../../outside.txt",
        "sub/../sub/../../outside.txt",
        "out-link",
        "absolute-link",
        "out-dir-link/file.txt",
        "sub/../out-link",
    ],
)
def test_no_path_reads_outside_the_preopen(tree: Path, path: str) -> None:
    root = preopen(tree)
    assert code(lambda: open_file(root, path, path_flags=FOLLOW)) is ErrorCode.NOT_PERMITTED
    assert code(lambda: root.stat_at(FOLLOW, path)) is ErrorCode.NOT_PERMITTED


@pytest.mark.parametrize("path", ["../escaped.txt", "out-dir-link/escaped.txt", "/tmp/escaped"])
def test_no_path_writes_outside_the_preopen(tree: Path, path: str) -> None:
    root = preopen(tree)
    create = OpenFlags.CREATE
    assert code(lambda: open_file(root, path, WRITE, create, FOLLOW)) is ErrorCode.NOT_PERMITTED
    assert code(lambda: root.create_directory_at(path)) is ErrorCode.NOT_PERMITTED
    assert code(lambda: root.rename_at("file.txt", root, path)) is ErrorCode.NOT_PERMITTED
    assert code(lambda: root.unlink_file_at("../outside.txt")) is ErrorCode.NOT_PERMITTED
    assert code(lambda: root.remove_directory_at("../outside-dir")) is ErrorCode.NOT_PERMITTED
    assert not (tree.parent / "escaped.txt").exists()
    assert not (tree.parent / "outside-dir" / "escaped.txt").exists()
    assert (tree.parent / "outside.txt").read_text() == "secret"
    assert (tree / "file.txt").exists()


def test_a_subdirectory_descriptor_is_a_sandbox_of_its_own(tree: Path) -> None:
    sub = open_file(preopen(tree), "sub")
    assert code(lambda: open_file(sub, "../file.txt")) is ErrorCode.NOT_PERMITTED
    assert code(lambda: open_file(sub, "up-link", path_flags=FOLLOW)) is ErrorCode.NOT_PERMITTED

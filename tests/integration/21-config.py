#!/usr/bin/python3
"""Configuration files: for each program, --print-config read back with
--config gives the same text; a file setting every key (made from
--print-config, which comes from the option tables) to a value other than
its default is read whole; flags override the file; a repeated key
(plugin, plugin-path) is a list in order, which flags replace; every key is a flag in
--help; examples/defaults.zpl is `zchannel run --print-config` and every
example loads; each config error (unknown key, bad value, unknown section,
syntax, unreadable file) stops start-up with exit 2 and one line naming the
file, the line and the reason."""

import os
import re
import tempfile

import harness as h

TOP = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
EXAMPLES = os.path.join(TOP, "examples")

PROGRAMS = {
    "zchannel-broker": [h.BROKER],
    "zchannel-source": [h.SOURCE],
    "zchannel-subscriber": [h.SUBSCRIBER],
    "zchannel run": [h.LAUNCHER, "run"],
}

KEY_LINE = re.compile(r'^    ([a-z][a-z0-9-]*) = "(.*)"$')


def other_value(key, value, n):
    """A valid value for key other than value (its default); n makes
    endpoints unique. Fails on a value shape it does not know, so a new kind
    of setting must be taught here."""
    if value == "":
        return "127.0.0.1:%d" % (19000 + n)
    if "://" in value:
        return re.sub(r"[^/]*:\d+$", "127.0.0.1:%d" % (20000 + n), value)
    m = re.match(r"^([0-9.]+|\[[0-9a-f:]+\]):(\d+)$", value)
    if m:
        return "127.0.0.2:%d" % (21000 + n)
    if key == "max-topic-length":
        return str(int(value) - 1)      # the default is the most it may be
    if re.match(r"^\d+$", value):
        return str(int(value) + 1)
    m = re.match(r"^(\d+)([KMG])$", value)
    if m:
        return "%d%s" % (int(m.group(1)) + 3, m.group(2))
    m = re.match(r"^(\d+)(s|ms)$", value)
    if m:
        return "%d%s" % (int(m.group(1)) + 2, m.group(2))
    if value.startswith("/"):
        return value + "-other"         # a directory
    swaps = {"false": "true", "true": "false", "info": "debug", "default": "workerman",
             "memory": "redis", "auto": "1G"}
    h.check(value in swaps, "21-config does not know how to change %s = %r; teach other_value"
            % (key, value))
    return swaps[value]


def write(text, suffix=".zpl"):
    fd, path = tempfile.mkstemp(prefix="zch-config-", suffix=suffix)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def print_config(name, cmd, extra=()):
    rc, out, err = h.run_cmd(cmd + list(extra) + ["--print-config"])
    h.check(rc == 0, "%s %s --print-config: exit %d, stderr %s"
            % (name, " ".join(extra), rc, h.short(err)))
    return out.decode()


def check_round_trip(name, cmd):
    """Returns the number of keys checked."""
    defaults = print_config(name, cmd)
    path = write(defaults)
    again = print_config(name, cmd, ["--config", path])
    h.check(again == defaults, "%s: --print-config read back differs:\n%s\n---\n%s"
            % (name, defaults, again))

    # every key changed: each must come back changed, exactly
    changed, keys, n = [], [], 0
    section = None
    for line in defaults.split("\n"):
        m = KEY_LINE.match(line)
        if m:
            n += 1
            keys.append((section, m.group(1)))
            line = '    %s = "%s"' % (m.group(1), other_value(m.group(1), m.group(2), n))
        elif line and not line.startswith((" ", "#")):
            section = line
        changed.append(line)
    changed = "\n".join(changed)
    h.check(n >= 7, "%s: only %d keys in --print-config" % (name, n))
    path_all = write(changed)
    got = print_config(name, cmd, ["--config", path_all])
    h.check(got == changed, "%s: a file setting every key was not read whole; wrote:\n%s\n"
            "--- printed:\n%s" % (name, changed, got))

    # flags override the file
    flag_key = "egress-hwm" if name in ("zchannel-broker", "zchannel run") else "workers"
    flag_value = "7"
    got = print_config(name, cmd, ["--config", path_all, "--" + flag_key, flag_value])
    h.check('    %s = "%s"' % (flag_key, flag_value) in got,
            "%s: --%s %s did not override the file:\n%s" % (name, flag_key, flag_value, got))

    # every key is a flag in --help (prefixed by role in zchannel run)
    rc, out, err = h.run_cmd(cmd + ["--help"])
    text = out.decode()
    for section, key in keys:
        flag = "--" + key
        if name == "zchannel run" and (section in ("source", "subscriber")
                                       or key.startswith("plugin")):
            flag = "--%s-%s" % (section, key)     # --broker-plugin, --broker-plugin-path too
        h.check(re.search(r"^  %s\b" % re.escape(flag), text, re.M),
                "%s --help does not list %s (key %s/%s):\n%s" % (name, flag, section, key, text))
    for p in (path, path_all):
        os.unlink(p)
    return n


def check_error(name, cmd, text, want, line=None, path=None):
    """Starts cmd with a config file holding text (or path); expects exit 2
    and one stderr line with the file, line and want."""
    made = path is None
    path = path or write(text)
    rc, out, err = h.run_cmd(cmd + ["--config", path], timeout=h.STEP)
    if made:
        os.unlink(path)
    lines = [l for l in err.decode().split("\n") if l.strip()]
    h.check(rc == 2, "%s with a config %s: exit %d, expected 2; stderr %s"
            % (name, want, rc, h.short(err)))
    h.check(len(lines) == 1, "%s: expected one line on stderr, got %r" % (name, lines))
    where = "%s:%d:" % (path, line) if line else path + ":"
    h.check(where in lines[0] and want in lines[0],
            "%s: expected %r and %r in the error, got %r" % (name, where, want, lines[0]))
    h.check(b"" == out, "%s: an error printed on stdout: %r" % (name, out))
    return lines[0]


def check_lists():
    """A repeated key is a list, kept in order; flags replace the file's
    list; a bad item names its line (the second of two)."""
    path = write('source\n    plugin = "a@x.>:k=v"\n    plugin = "b"\n    plugin-path = "/p"\n')
    got = print_config("zchannel-source", [h.SOURCE], ["--config", path])
    want = '    plugin = "a@x.>:k=v"\n    plugin = "b"\n'
    h.check(want in got and '    plugin-path = "/p"\n' in got,
            "a repeated key did not come back as a list in order:\n%s" % got)
    got = print_config("zchannel-source", [h.SOURCE], ["--config", path, "--plugin", "c",
                                                        "--plugin", "d"])
    h.check('    plugin = "c"\n    plugin = "d"\n' in got and '"a@x.>:k=v"' not in got
            and '    plugin-path = "/p"\n' in got,
            "--plugin flags did not replace the file's list:\n%s" % got)
    got = print_config("zchannel run", [h.LAUNCHER, "run"],
                       ["--plugin-path", "/q", "--broker-plugin", "e", "--subscriber-plugin", "f"])
    h.check(got.count('    plugin-path = "/q"\n') == 3 and '    plugin = "e"\n' in got
            and '    plugin = "f"\n' in got, "zchannel run plugin flags:\n%s" % got)
    os.unlink(path)
    check_error("zchannel-source", [h.SOURCE], 'source\n    plugin = "a"\n    plugin = ":b"\n',
                "expected NAME[@PATTERN]", line=3)
    # what --print-config could not write back is refused where it is read
    # (ZPL quotes have no escapes); a long value comes back whole
    check_error("zchannel run", [h.LAUNCHER, "run"],
                'source\n    plugin = "a"\n    plugin = x\'y"z\n',
                "cannot hold both ' and \"", line=3)
    rc, out, err = h.run_cmd([h.SOURCE, "--plugin", "it's a \"quote\"", "--print-config"])
    h.check(rc == 2 and b"--plugin cannot hold both" in err,
            "--plugin with both quotes: exit %d, stderr %r" % (rc, err))
    long_value = "/opt/" + "d" * 900
    path = write('source\n    tls-ca = "%s"\n    auth-file = \'say "hi"\'\n' % long_value)
    first = print_config("zchannel-source", [h.SOURCE], ["--config", path])
    os.unlink(path)
    path = write(first)
    again = print_config("zchannel-source", [h.SOURCE], ["--config", path])
    os.unlink(path)
    h.check(first == again and long_value in again and '\'say "hi"\'' in again,
            "a long value and a quoted one did not come back whole:\n%s\n---\n%s" % (first, again))


ONE_FILE = """run
    log-level = "notice"
broker
    ingress = "tcp://127.0.0.1:%(ingress)d"
    egress = "tcp://127.0.0.1:%(egress)d"
    control = "tcp://127.0.0.1:%(control)d"
    log-level = "warning"
    metrics-listen = "127.0.0.1:1"
source
    listen = "127.0.0.1:%(source)d"
    broker = "tcp://127.0.0.1:%(ingress)d"
    log-level = "error"
subscriber
    listen = "127.0.0.1:%(subscriber)d"
    broker = "tcp://127.0.0.1:%(egress)d"
    control = "tcp://127.0.0.1:%(control)d"
    syslog = "false"
"""


def check_one_file():
    """One file serves the three daemons and zchannel run: each daemon takes
    its section's process settings, run takes run/'s and checks but skips
    the daemons' (their process settings, the front-ends' broker
    endpoints); a bad value there is still an error; run serves from it."""
    ports = {k: h.free_port() for k in ("ingress", "egress", "control", "source", "subscriber")}
    path = write(ONE_FILE % ports)
    try:
        levels = {"zchannel-broker": "warning", "zchannel-source": "error",
                  "zchannel-subscriber": "info", "zchannel run": "notice"}
        for name, cmd in PROGRAMS.items():
            out = print_config(name, cmd, ["--config", path])
            h.check('log-level = "%s"' % levels[name] in out,
                    "%s --config (one file): log-level is not %s:\n%s" % (name, levels[name], out))
        run = h.start(PROGRAMS["zchannel run"] + ["--config", path], name="zchannel-run")
        sub = h.wait_frontend(ports["subscriber"], h.SUBSCRIBER_GREETING, run, name="sub")
        pub = h.wait_frontend(ports["source"], h.SOURCE_GREETING, run, name="pub")
        h.subscribe(sub, "one.>")
        pub.sendline(b"PUB one.file works")
        sub.expect(h.msg_line("one.file", 1, "works"))
        h.check(run.stop() == 0, "zchannel run --config (one file) exits 0")
    finally:
        os.unlink(path)
    check_error("zchannel run", PROGRAMS["zchannel run"], "run\nbroker\n    log-level = \"loud\"\n",
                "log-level wants one of", line=3)


def test():
    check_lists()
    total = 0
    for name, cmd in PROGRAMS.items():
        total += check_round_trip(name, cmd)

    # examples/defaults.zpl is exactly the built-in defaults, and every example loads
    with open(os.path.join(EXAMPLES, "defaults.zpl")) as f:
        shipped = f.read()
    body = print_config("zchannel run", PROGRAMS["zchannel run"]).split("\n", 2)[2]
    h.check(shipped.endswith(body), "examples/defaults.zpl is not `zchannel run --print-config` "
            "(regenerate it)")
    for example in ("defaults.zpl", "workerman.zpl", "production.zpl", "scaling.zpl", "sentinel.zpl"):
        for name, cmd in PROGRAMS.items():
            print_config(name, cmd, ["--config", os.path.join(EXAMPLES, example)])
    check_one_file()

    # each error, for each program, with its line
    samples = []
    for name, cmd in PROGRAMS.items():
        section = "broker" if name in ("zchannel-broker", "zchannel run") else name.split("-")[1]
        samples.append(check_error(name, cmd, "# a comment\n%s\n    bogus-key = 1\n" % section,
                                   "unknown key 'bogus-key'", line=3))
        bad = "egress-hwm" if section == "broker" else "max-line"
        samples.append(check_error(name, cmd, "%s\n    %s = \"lots\"\n" % (section, bad),
                                   "%s wants" % bad, line=2))
        samples.append(check_error(name, cmd, "\n\nnosuchrole\n    x = 1\n",
                                   "unknown section 'nosuchrole'", line=3))
        samples.append(check_error(name, cmd, "%s\n    ok = 1\n  two spaces\n" % section,
                                   "syntax error", line=3))
        samples.append(check_error(name, cmd, None, "cannot read: No such file or directory",
                                   path="/nonexistent/zchannel.zpl"))
        samples.append(check_error(name, cmd, None, "cannot read", path=tempfile.gettempdir()))
    # a flag with a bad value names the flag
    rc, out, err = h.run_cmd([h.SOURCE, "--max-line", "lots"])
    h.check(rc == 2 and b"--max-line wants a size" in err,
            "--max-line lots: exit %d, stderr %r" % (rc, err))
    rc, out, err = h.run_cmd([h.BROKER, "--log-level", "loud"])
    h.check(rc == 2 and b"--log-level wants one of" in err,
            "--log-level loud: exit %d, stderr %r" % (rc, err))
    print("sample errors:\n  " + "\n  ".join(samples[:6]))
    return ("%d keys over 4 programs round-trip and are all read from a file; examples load, "
            "production.zpl in zchannel run too; one file serves the daemons and run; "
            "%d config errors each named file:line" % (total, len(samples)))


if __name__ == "__main__":
    # starts the programs it needs itself: runs once
    h.run("21-config", test, budget=60, deployments=h.ONCE)

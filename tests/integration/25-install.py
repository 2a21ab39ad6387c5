#!/usr/bin/python3
"""Install: `cmake --install` into a temporary prefix puts the programs in
bin/, a systemd unit per role plus one for `zchannel run` (hardened,
ExecStart naming the installed program and config, ExecReload sending
SIGHUP) in lib/systemd/system, the default config in etc/zchannel/, the
example configs in share/doc/zchannel/examples and a man page per program
(gzipped, listing every flag of its --help) in share/man/man1, the plugin
SDK (include/zchannel/plugin.h, zchannel-plugin.pc) and every shipped
plugin in <libdir>/zchannel/plugins; the installed programs start from the
installed config; `systemd-analyze verify` accepts the units (skipped, with
the reason, where it is absent).

The packages: `cpack -G DEB` builds zchannel (programs and plugins,
stripped; units with the CURVE keys' folder as credentials; copyright,
changelog, gzipped man pages), zchannel-dev (header, .pc) and
zchannel-dbgsym (the debug symbols, by build id); dpkg-deb shows their
fields and files, Debian's lintian finds no error or warning in any, and
the runtime package unpacked into a scratch root (dpkg -x) runs: its
broker loads a shipped plugin by name, found beside the installed binary,
on real traffic."""

import gzip
import os
import re
import shutil
import subprocess
import tempfile

import harness as h

BUILD = os.environ.get("ZCH_BUILD_DIR", os.path.join(os.path.dirname(h.BROKER), ".."))
PROGRAMS = ["zchannel", "zchannel-broker", "zchannel-source", "zchannel-subscriber"]
UNITS = ["zchannel-broker", "zchannel-source", "zchannel-subscriber", "zchannel"]
EXAMPLES = ["defaults.zpl", "workerman.zpl", "production.zpl"]
PLUGINS = ["uppercase", "json_wrap", "filter", "redact", "rate_limit", "zstd"]
#  <libdir>/zchannel/plugins/zch_NAME.so, libdir lib/ or lib/<multiarch>/
PLUGIN_SO = r"lib/(?:[^/]+/)?zchannel/plugins/zch_%s\.so"
PC = r"share/pkgconfig/zchannel-plugin\.pc"
HARDENING = ["DynamicUser=yes", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
             "PrivateTmp=yes", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
             "LimitNOFILE=65536", "ExecReload=/bin/kill -HUP $MAINPID"]


def run(cmd, what, env=None, timeout=120):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                       env=env)
    h.check(p.returncode == 0, "%s: exit %d:\n%s" % (what, p.returncode, p.stdout.decode()[-3000:]))
    return p.stdout.decode()


def help_flags(prefix, program):
    cmd = [os.path.join(prefix, "bin", program)] + (["run"] if program == "zchannel" else [])
    out = run(cmd + ["--help"], program + " --help")
    return re.findall(r"^  (--[a-z][a-z0-9-]*)", out, re.M)


def check_packages(debdir):
    """Builds the three packages and checks them; returns a note."""
    run(["cpack", "-G", "DEB", "--config", os.path.join(BUILD, "CPackConfig.cmake"),
         "-B", debdir], "cpack -G DEB")
    made = sorted(f for f in os.listdir(debdir) if re.search(r"\.d?deb$", f))
    names = {re.sub(r"_.*", "", f): os.path.join(debdir, f) for f in made}
    h.check(sorted(names) == ["zchannel", "zchannel-dbgsym", "zchannel-dev"]
            and names["zchannel-dbgsym"].endswith(".ddeb"), "cpack made %r" % made)
    runtime, dev, dbgsym = names["zchannel"], names["zchannel-dev"], names["zchannel-dbgsym"]

    files = run(["dpkg-deb", "-c", runtime], "dpkg-deb -c")
    for f in (["./usr/bin/" + p for p in PROGRAMS]
              + ["./etc/zchannel/zchannel.zpl", "./etc/zchannel/keys/"]
              + ["./usr/lib/systemd/system/%s.service" % u for u in UNITS]
              + ["./usr/share/man/man1/%s.1.gz" % p for p in PROGRAMS]
              + ["./usr/share/doc/zchannel/examples/" + e for e in EXAMPLES]
              + ["./usr/share/doc/zchannel/" + d for d in ("copyright", "changelog.Debian.gz")]):
        h.check(re.search(r"\s%s$" % re.escape(f), files, re.M), "zchannel lacks %s" % f)
    for n in PLUGINS:
        h.check(re.search(r"\s\./usr/%s$" % PLUGIN_SO % n, files, re.M), "zchannel lacks plugin %s" % n)
    h.check(not re.search(r"\s\./usr/(include|share/pkgconfig)/", files, re.M),
            "the SDK is in the runtime package:\n%s" % files)
    dev_files = run(["dpkg-deb", "-c", dev], "dpkg-deb -c")
    for f in (re.escape("./usr/include/zchannel/plugin.h"), r"\./usr/" + PC,
              re.escape("./usr/share/doc/zchannel-dev/copyright")):
        h.check(re.search(r"\s%s$" % f, dev_files, re.M), "zchannel-dev lacks %s" % f)

    fields = {k: run(["dpkg-deb", "-f", runtime, k], "dpkg-deb -f").strip()
              for k in ("Depends", "Maintainer", "Version")}
    for lib in ("libczmq", "libzmq5", "libmicrohttpd", "libmsgpack"):
        h.check(lib in fields["Depends"], "zchannel: Depends lacks %s: %s" % (lib, fields["Depends"]))
    h.check(re.fullmatch(r"[^<>@]+ <[^@<>\s]+@[^@<>\s]+\.[a-z]+>", fields["Maintainer"])
            and "localhost" not in fields["Maintainer"], "Maintainer %r" % fields["Maintainer"])
    h.check(re.fullmatch(r"\d+\.\d+\.\d+-\d+", fields["Version"]), "Version %r" % fields["Version"])
    for package, wants in ((dev, "zchannel (>="), (dbgsym, "zchannel (= %s)" % fields["Version"])):
        depends = run(["dpkg-deb", "-f", package, "Depends"], "dpkg-deb -f")
        h.check(wants in depends, "%s: Depends %r lacks %r" % (package, depends, wants))

    lintian = shutil.which("lintian")
    if lintian:
        p = subprocess.run([lintian, "--tag-display-limit", "0", runtime, dev, dbgsym],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
        tags = [l for l in p.stdout.decode().split("\n") if re.match(r"[EW]: ", l)]
        h.check(not tags, "lintian:\n%s" % "\n".join(tags))
        note = "lintian clean"
    else:
        print("SKIP lintian: not found (Debian package lintian)")
        note = "lintian absent"

    root = tempfile.mkdtemp(prefix="zch-root-")
    try:
        run(["dpkg", "-x", runtime, root], "dpkg -x")
        dbg = run(["dpkg-deb", "-c", dbgsym], "dpkg-deb -c")
        for p in ["usr/bin/" + p for p in PROGRAMS] + ["usr/lib/zchannel/plugins/zch_uppercase.so"]:
            sections = run(["readelf", "-S", "-n", os.path.join(root, p)], "readelf")
            h.check(".debug_info" not in sections and ".symtab" not in sections,
                    "%s is not stripped" % p)
            build_id = re.search(r"Build ID: ([0-9a-f]{2})([0-9a-f]+)", sections)
            h.check(build_id and re.search(r"/usr/lib/debug/\.build-id/%s/%s\.debug$"
                                           % build_id.groups(), dbg, re.M),
                    "zchannel-dbgsym has no debug file for %s" % p)
        topic, meta, payload = h.broker_delivery(
            os.path.join(root, "usr/bin/zchannel-broker"), ["--plugin", "uppercase"],
            b"deb.t", b"from the package", "packaged broker")
        h.check(payload == b"FROM THE PACKAGE" and meta["seq"] == 1,
                "packaged broker with --plugin uppercase delivered %r %r" % (payload, meta))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return "%s; packaged broker loaded uppercase by name" % note


def test():
    prefix = tempfile.mkdtemp(prefix="zch-install-")
    debdir = tempfile.mkdtemp(prefix="zch-deb-")
    notes = []
    try:
        run(["cmake", "--install", BUILD, "--prefix", prefix], "cmake --install")
        want = (["bin/" + p for p in PROGRAMS]
                + ["lib/systemd/system/%s.service" % u for u in UNITS]
                + ["share/man/man1/%s.1.gz" % p for p in PROGRAMS]
                + ["share/doc/zchannel/examples/" + e for e in EXAMPLES]
                + ["etc/zchannel/zchannel.zpl", "share/doc/zchannel/copyright"])
        missing = [f for f in want if not os.path.isfile(os.path.join(prefix, f))]
        h.check(not missing, "install tree lacks %s" % missing)
        with open(os.path.join(prefix, "share/doc/zchannel/copyright")) as f:
            h.check("License: Apache-2.0" in f.read(), "copyright names no Apache-2.0 licence")
        for p in PROGRAMS:
            h.check(os.access(os.path.join(prefix, "bin", p), os.X_OK), "bin/%s not executable" % p)
        # the plugin SDK and the shipped plugins
        tree = [os.path.relpath(os.path.join(d, f), prefix)
                for d, _, fs in os.walk(prefix) for f in fs]
        sdk = ["include/zchannel/plugin.h"] if "include/zchannel/plugin.h" in tree else []
        sdk += [f for f in tree if re.fullmatch(PC, f)]
        sdk += [f for f in tree for n in PLUGINS if re.fullmatch(PLUGIN_SO % n, f)]
        h.check(len(sdk) == 2 + len(PLUGINS), "install tree lacks part of the plugin SDK or a "
                "shipped plugin (%s); has %s" % (", ".join(PLUGINS), sdk))
        want += sdk

        config = os.path.join(prefix, "etc/zchannel/zchannel.zpl")
        for u in UNITS:
            with open(os.path.join(prefix, "lib/systemd/system/%s.service" % u)) as f:
                unit = f.read()
            lacking = [k for k in HARDENING + ["LoadCredential=keys:%s/etc/zchannel/keys" % prefix]
                       if k not in unit.split("\n")]
            h.check(not lacking, "%s.service lacks %s" % (u, lacking))
            m = re.search(r"^ExecStart=(\S+)(.*)$", unit, re.M)
            h.check(m and m.group(1) == os.path.join(prefix, "bin", u.split(".")[0])
                    and "--config %s" % config in m.group(2),
                    "%s.service: ExecStart does not name the installed program and config: %r"
                    % (u, m and m.group(0)))
        # the installed programs accept the installed config
        for p in PROGRAMS:
            cmd = [os.path.join(prefix, "bin", p)] + (["run"] if p == "zchannel" else [])
            run(cmd + ["--config", config, "--print-config"], "%s --config %s" % (p, config))
        # each man page lists every flag of its program
        for p in PROGRAMS:
            with gzip.open(os.path.join(prefix, "share/man/man1/%s.1.gz" % p), "rt") as f:
                page = f.read().replace("\\-", "-")
            absent = [f for f in help_flags(prefix, p) if f not in page]
            h.check(not absent, "man page %s.1 misses %s (run scripts/update-man)" % (p, absent))

        analyze = shutil.which("systemd-analyze")
        if analyze:
            env = dict(os.environ, MANPATH=os.path.join(prefix, "share/man"))
            run([analyze, "verify"] + [os.path.join(prefix, "lib/systemd/system/%s.service" % u)
                                       for u in UNITS], "systemd-analyze verify", env=env)
            notes.append("systemd-analyze verify ok")
        else:
            print("SKIP systemd-analyze verify: systemd-analyze not found (Debian package systemd)")
            notes.append("systemd-analyze absent, verify skipped")

        if shutil.which("cpack") and shutil.which("dpkg-deb"):
            notes.append(check_packages(debdir))
        else:
            print("SKIP cpack -G DEB: cpack or dpkg-deb not found")
    finally:
        shutil.rmtree(prefix, ignore_errors=True)
        shutil.rmtree(debdir, ignore_errors=True)
    return "install tree complete (%d files checked); %s" % (len(want), "; ".join(notes))


if __name__ == "__main__":
    # starts the programs it needs itself: runs once
    h.run("25-install", test, budget=150, deployments=h.ONCE)

"""A test PKI made with the openssl command: a CA, a server certificate for
127.0.0.1 (signed by the CA) and a client certificate, in a folder."""

import os
import shutil
import subprocess
import tempfile

import harness as h


def openssl(*args, cwd):
    p = subprocess.run(["openssl"] + list(args), cwd=cwd, capture_output=True, timeout=30)
    h.check(p.returncode == 0, "openssl %s: %s" % (" ".join(args), p.stderr[-500:]))


def in_pki(run, prefix):
    """Makes the PKI in a fresh folder, returns run(folder), removes it."""
    d = tempfile.mkdtemp(prefix=prefix)
    try:
        make_pki(d)
        return run(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def make_ca(d, name="ca"):
    """A self-signed CA: <name>.pem and <name>.key in d."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", name + ".key", "-out", name + ".pem", "-days", "2", "-subj", "/CN=zch-test-" + name,
            cwd=d)


def make_pki(d):
    """ca.pem, server.pem/.key for 127.0.0.1 and client.pem/.key, in d."""
    make_ca(d)
    for name, cn in (("server", "127.0.0.1"), ("client", "zch-client")):
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn, cwd=d)
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\n" if name == "server" else "extendedKeyUsage=clientAuth\n")
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext", cwd=d)

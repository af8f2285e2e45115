"""DNS-over-HTTPS servers on loopback for the tests: Debian's dnsdist (addDOHLocal) and Unbound
(https-port), both in front of the lab's NSD, with certificates from a test CA made here with
openssl (the proxy trusts it through SSL_CERT_FILE, as every OpenSSL program does). Also the
certificates that must be refused: another name, expired (made with faketime), and the stamp
hash of a certificate (SHA-256 of its TBSCertificate)."""

import hashlib
import os
import subprocess

from lab import Process, free_port, stop_loop, wait_until

HOST = "doh.dcp.test"


def _run(directory, *args, prefix=()):
    subprocess.run(list(prefix) + list(args), check=True, cwd=directory,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_certificates(directory):
    """ca.pem; doh.pem (doh.dcp.test and 127.0.0.1, signed by the CA); other.pem (other.dcp.test);
    expired.pem (doh.dcp.test, valid for one day in 2024); localhost.pem; rogue.pem
    (doh.dcp.test, self-signed); each with its .key."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    _run(directory, "openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem",
         "-days", "3", "-subj", "/CN=dcp DoH test CA")
    for name, san, faked in (("doh", "DNS:%s,IP:127.0.0.1" % HOST, None),
                             ("other", "DNS:other.dcp.test", None),
                             ("expired", "DNS:%s" % HOST, "2024-01-01 00:00:00"),
                             ("localhost", "DNS:localhost", None)):
        _run(directory, "openssl", "req", *ec, "-keyout", name + ".key", "-out", name + ".csr",
             "-subj", "/CN=" + san.split(",")[0][4:])
        with open(os.path.join(directory, name + ".ext"), "w") as f:
            f.write("subjectAltName=%s\n" % san)
        prefix = ("faketime", faked) if faked else ()
        _run(directory, "openssl", "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem",
             "-CAkey", "ca.key", "-CAcreateserial", "-out", name + ".pem", "-days",
             "1" if faked else "3", "-extfile", name + ".ext", prefix=prefix)
    # rogue.pem: doh.dcp.test, self-signed (a certificate no trusted CA vouches for).
    _run(directory, "openssl", "req", "-x509", *ec, "-keyout", "rogue.key", "-out", "rogue.pem",
         "-days", "3", "-subj", "/CN=" + HOST, "-addext", "subjectAltName=DNS:" + HOST)
    return os.path.join(directory, "ca.pem")


def make_chain(directory):
    """A certificate for doh.dcp.test signed by an intermediate CA that the test CA
    (make_certificates' ca.pem) signed: chain.key with chain-sent.pem (leaf and intermediate,
    what servers usually send) and chain-full.pem (the root too); inter.pem, the intermediate."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    with open(os.path.join(directory, "inter.ext"), "w") as f:
        f.write("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
    _run(directory, "openssl", "req", *ec, "-keyout", "inter.key", "-out", "inter.csr",
         "-subj", "/CN=dcp DoH test intermediate CA")
    _run(directory, "openssl", "x509", "-req", "-in", "inter.csr", "-CA", "ca.pem", "-CAkey",
         "ca.key", "-CAcreateserial", "-out", "inter.pem", "-days", "3", "-extfile", "inter.ext")
    with open(os.path.join(directory, "chain.ext"), "w") as f:
        f.write("subjectAltName=DNS:%s,IP:127.0.0.1\n" % HOST)
    _run(directory, "openssl", "req", *ec, "-keyout", "chain.key", "-out", "chain.csr",
         "-subj", "/CN=" + HOST)
    _run(directory, "openssl", "x509", "-req", "-in", "chain.csr", "-CA", "inter.pem", "-CAkey",
         "inter.key", "-CAcreateserial", "-out", "chain.pem", "-days", "3", "-extfile",
         "chain.ext")
    parts = {n: open(os.path.join(directory, n + ".pem")).read() for n in ("chain", "inter", "ca")}
    for name, members in (("chain-sent", ("chain", "inter")), ("chain-full", ("chain", "inter", "ca"))):
        with open(os.path.join(directory, name + ".pem"), "w") as f:
            f.write("".join(parts[m] for m in members))
    return (os.path.join(directory, "chain-sent.pem"), os.path.join(directory, "chain-full.pem"),
            os.path.join(directory, "chain.key"))


def _der_element(data, at):
    """(start of contents, end) of the DER element at `at`."""
    length = data[at + 1]
    start = at + 2
    if length & 0x80:
        n = length & 0x7f
        length = int.from_bytes(data[start:start + n], "big")
        start += n
    return start, start + length


def tbs_hash(pem_path):
    """SHA-256 of the certificate's TBSCertificate (the first element of the outer SEQUENCE):
    what DoH stamps pin, as dnscrypt-proxy 2 computes it."""
    der = subprocess.run(["openssl", "x509", "-in", pem_path, "-outform", "DER"], check=True,
                         capture_output=True).stdout
    inner, _ = _der_element(der, 0)
    _, end = _der_element(der, inner)
    return hashlib.sha256(der[inner:end]).hexdigest()


def start_dnsdist_doh(lab, frontends, idle_timeout=30, backend_port=None, extra=()):
    """One dnsdist with a DoH frontend per (cert, key) in `frontends`, forwarding to the lab's
    NSD (or to `backend_port`); connections idle for `idle_timeout` seconds are closed by
    dnsdist; `extra`: more lines of its configuration. Returns (process, [port per frontend])."""
    ports = [free_port() for _ in frontends]
    plain = free_port()
    lines = ['setSecurityPollSuffix("")', 'setLocal("127.0.0.1:%d")' % plain,
             'newServer({address="127.0.0.1:%d"})' % (backend_port or lab.nsd_port)]
    for port, (cert, key) in zip(ports, frontends):
        lines.append('addDOHLocal("127.0.0.1:%d", "%s", "%s", "/dns-query", {idleTimeout=%d})'
                     % (port, cert, key, idle_timeout))
    lines += list(extra)
    conf = os.path.join(lab.dir, "dnsdist-doh-%d.conf" % ports[0])
    with open(conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    p = Process("dnsdist-doh", ["dnsdist", "--supervised", "--disable-syslog", "-C", conf],
                os.path.join(lab.dir, "dnsdist-doh-%d.log" % ports[0]), lab.dir)
    lab.procs.append(p)
    p.conf = conf
    if backend_port:
        wait_until(lambda: all(listening(x) for x in ports) or not p.alive(), 15,
                   what="dnsdist's DoH ports")
    else:
        lab._wait_answers(plain, "www.dcp.test", p)
    return p, ports


class SilentBackend:
    """A DNS server on 127.0.0.1 (UDP) that answers dnsdist's health checks and nothing else:
    queries sent to it stay unanswered for as long as the test wants."""

    def __init__(self):
        import socket
        import threading
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received = 0
        self.closed = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(65535)
            except OSError:
                return
            if self.closed:
                return  # woken by close()
            if b"\x01a\x0croot-servers\x03net" in data.lower():
                reply = bytearray(data)
                reply[2] |= 0x80
                self.sock.sendto(bytes(reply), peer)
            else:
                self.received += 1

    def close(self):
        self.closed = True
        stop_loop(self.sock, self.thread)


def restart(lab, proc):
    """The same server again (same configuration, same ports) after proc.stop()."""
    p = Process(proc.name, proc.args, proc.log_path, lab.dir)
    lab.procs.append(p)
    return p


def listening(port):
    """Whether something accepts TCP connections on 127.0.0.1:port."""
    import socket
    try:
        with socket.create_connection(("127.0.0.1", port), 0.2):
            return True
    except OSError:
        return False


def start_unbound_doh(lab, cert, key):
    """Unbound serving DoH on its https-port, asking the lab's NSD for everything (it forwards
    the root there: no packet leaves loopback). Returns the process, with .port."""
    port = free_port()
    conf = os.path.join(lab.dir, "unbound-doh-%d.conf" % port)
    with open(conf, "w") as f:
        f.write("""server:
  interface: 127.0.0.1@{port}
  https-port: {port}
  http-endpoint: "/dns-query"
  tls-service-key: "{key}"
  tls-service-pem: "{cert}"
  do-ip6: no
  username: ""
  chroot: ""
  directory: "{d}"
  pidfile: ""
  use-syslog: no
  logfile: ""
  verbosity: 1
  do-not-query-localhost: no
  qname-minimisation: no
  module-config: "iterator"
  target-fetch-policy: "0 0 0 0 0"
  local-zone: "test." nodefault
  domain-insecure: "test."
forward-zone:
  name: "."
  forward-addr: 127.0.0.1@{nsd}
remote-control:
  control-enable: no
""".format(port=port, key=key, cert=cert, d=lab.dir, nsd=lab.nsd_port))
    p = Process("unbound-doh", ["unbound", "-d", "-c", conf],
                os.path.join(lab.dir, "unbound-doh-%d.log" % port), lab.dir)
    p.port = port
    lab.procs.append(p)
    wait_until(lambda: listening(port) or not p.alive(), 15, what="unbound's DoH port")
    if not p.alive():
        raise RuntimeError("unbound exited:\n" + p.log())
    return p


def established(port):
    """TCP connections established to 127.0.0.1:port, as `ss` sees them."""
    out = subprocess.run(["ss", "-Htn", "state", "established", "( dport = :%d )" % port],
                         capture_output=True, text=True, check=True).stdout
    return len([l for l in out.splitlines() if l.strip()])

"""An HTTPS server on loopback for resolver lists, with a certificate from a test CA made here
(openssl), so that the proxy's downloads are verified like real ones (SSL_CERT_FILE names the
CA). Also a minisign key made with Debian's minisign, to sign the lists."""

import functools
import http.server
import os
import ssl
import subprocess
import threading


def make_ca(directory):
    """ca.pem (the test CA), server.pem/server.key (127.0.0.1, signed by it), and
    rogue.pem/rogue.key (127.0.0.1, self-signed: a certificate the CA did not sign)."""
    def run(*args):
        subprocess.run(list(args), check=True, cwd=directory, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run("openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=dcp test CA")
    run("openssl", "req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(directory, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext")
    run("openssl", "req", "-x509", *ec, "-keyout", "rogue.key", "-out", "rogue.pem", "-days", "2",
        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1")
    return os.path.join(directory, "ca.pem")


def make_minisign_key(directory):
    """(public key base64, secret key path), made by the minisign program, unencrypted."""
    subprocess.run(["minisign", "-G", "-W", "-p", "list.pub", "-s", "list.key"], check=True,
                   cwd=directory, stdout=subprocess.DEVNULL)
    with open(os.path.join(directory, "list.pub")) as f:
        return f.read().splitlines()[1], os.path.join(directory, "list.key")


def sign(secret_key, path, legacy=False):
    subprocess.run(["minisign", "-S", "-W", "-s", secret_key, "-m", path] + (["-l"] if legacy else []),
                   check=True, stdout=subprocess.DEVNULL)


class HttpsServer:
    """Serves `directory` over HTTPS on 127.0.0.1 (a port of its own, held from the start)."""

    def __init__(self, directory, certfile, keyfile, port=0):
        handler = functools.partial(_QuietHandler, directory=directory)
        self.httpd = _Server(("127.0.0.1", port), handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(certfile, keyfile)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.requests = []
        self.httpd.requests = self.requests
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name):
        return "https://127.0.0.1:%d/%s" % (self.port, name)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client that hangs up (the size-limit test) is expected


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        self.server.requests.append(self.path)

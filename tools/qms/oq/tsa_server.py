"""An RFC 3161 time-stamping authority on loopback for the OQ: a throwaway CA and TSA
certificate (cryptography) and `openssl ts -reply` answering each request."""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# openssl's TSA section: which key signs, which certificates go with the token.
OPENSSL_TSA = """\
[ tsa ]
default_tsa = oq
[ oq ]
dir = {dir}
serial = $dir/serial
signer_cert = $dir/tsa.pem
certs = $dir/ca.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.19
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


@dataclass(frozen=True)
class Tsa:
    """A running TSA: where to ask, and the CA certificate a handbook pins."""

    url: str
    ca_pem: str


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _issue(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: str,
    issuer_key: ec.EllipticCurvePrivateKey,
) -> x509.CertificateBuilder:
    now = datetime.now(tz=UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=30))
        .not_valid_after(now + timedelta(days=30))
    )


def make_authority(folder: Path, name: str) -> str:
    """A CA, the TSA certificate it issued and openssl's configuration; the CA's PEM."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, tsa_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca_name = f"{name} Root CA"
    ca = (
        _issue(ca_name, ca_key, ca_name, ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    tsa = (
        _issue(name, tsa_key, ca_name, ca_key)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "tsa.pem").write_bytes(tsa.public_bytes(pem))
    (folder / "tsa.key").write_bytes(
        tsa_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (folder / "serial").write_text("01\n")
    (folder / "openssl.cnf").write_text(OPENSSL_TSA.format(dir=folder))
    return ca.public_bytes(pem).decode("ascii")


def _answer(folder: Path, query: bytes) -> bytes:
    """openssl's reply to one time-stamp query; empty if it refused."""
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        (Path(scratch) / "q.tsq").write_bytes(query)
        done = subprocess.run(
            ["openssl", "ts", "-reply", "-config", str(folder / "openssl.cnf"),
             "-queryfile", "q.tsq", "-out", "r.tsr"],
            cwd=scratch, capture_output=True, check=False,
        )  # fmt: skip
        reply = Path(scratch) / "r.tsr"
        return reply.read_bytes() if done.returncode == 0 and reply.is_file() else b""


def _handler(folder: Path) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()  # openssl's serial file takes one request at a time

    class Answer(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                reply = _answer(folder, query)
            if not reply:
                self.send_error(500, "openssl refused the query")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: a request is no news."""

    return Answer


@contextlib.contextmanager
def running_tsa(folder: Path, name: str = "OQ TSA") -> Iterator[Tsa]:
    """A TSA answering on 127.0.0.1 at a free port, with fresh certificates in `folder`."""
    ca_pem = make_authority(folder, name)
    with ThreadingHTTPServer(("127.0.0.1", 0), _handler(folder)) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield Tsa(f"http://127.0.0.1:{server.server_address[1]}/tsr", ca_pem)
        finally:
            server.shutdown()
            thread.join()

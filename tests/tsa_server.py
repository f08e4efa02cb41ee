"""A real RFC 3161 TSA on loopback for tests: a throwaway CA and TSA certificate made with
cryptography, and `openssl ts -reply` answering requests behind http.server."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CONFIG = """\
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = $dir/serial
signer_cert = $dir/tsa.pem
certs = $dir/ca.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


@dataclass(frozen=True)
class LoopbackTsa:
    """A running TSA: its address and the PEM of its CA, as a handbook pins it."""

    url: str
    ca_pem: str
    folder: Path


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[str, ec.EllipticCurvePrivateKey] | None,
    ca: bool,
    valid: tuple[datetime, datetime] | None = None,
) -> x509.Certificate:
    now = datetime.now(tz=UTC)
    start, end = valid or (now - timedelta(days=30), now + timedelta(days=30))
    issuer_name, signing_key = issuer if issuer else (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    return builder.sign(signing_key, hashes.SHA256())


def make_tsa_files(
    folder: Path, name: str = "Test TSA", valid: tuple[datetime, datetime] | None = None
) -> str:
    """A CA and a TSA certificate it issued, with the openssl ts config; the CA's PEM."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    tsa_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate(f"{name} Root CA", ca_key, None, ca=True, valid=valid)
    tsa = _certificate(name, tsa_key, (f"{name} Root CA", ca_key), ca=False, valid=valid)
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "tsa.pem").write_bytes(tsa.public_bytes(pem))
    (folder / "tsa.key").write_bytes(
        tsa_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (folder / "serial").write_text("01\n")
    (folder / "openssl.cnf").write_text(CONFIG.format(dir=folder))
    return ca.public_bytes(pem).decode("ascii")


def _handler(folder: Path) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Reply(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock, tempfile.TemporaryDirectory(dir=folder) as scratch:
                (Path(scratch) / "q.tsq").write_bytes(query)
                done = subprocess.run(
                    ["openssl", "ts", "-reply", "-config", str(folder / "openssl.cnf"),
                     "-queryfile", "q.tsq", "-out", "r.tsr"],
                    cwd=scratch, capture_output=True, check=False,
                )  # fmt: skip
                answer = (Path(scratch) / "r.tsr").read_bytes() if done.returncode == 0 else b""
            if not answer:
                self.send_error(500, done.stderr.decode(errors="replace")[:200])
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            """Answer without logging each request to stderr."""

    return Reply


@contextlib.contextmanager
def running_tsa(folder: Path, name: str = "Test TSA") -> Iterator[LoopbackTsa]:
    """A TSA on 127.0.0.1 (a free port) with fresh certificates in `folder`."""
    ca_pem = make_tsa_files(folder, name)
    with ThreadingHTTPServer(("127.0.0.1", 0), _handler(folder)) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield LoopbackTsa(f"http://127.0.0.1:{server.server_address[1]}/tsr", ca_pem, folder)
        finally:
            server.shutdown()
            thread.join()


# The example handbook's DEMO TSA: its certificates and key are committed beside this file,
# valid 2026 to 2036, and the example's signing policy pins its root (never for real use).
DEMO_FOLDER = Path(__file__).resolve().parent / "fixtures" / "demo-tsa"
DEMO_NAME = "Corvane demo TSA"
DEMO_PORT = 8318


@contextlib.contextmanager
def running_demo_tsa(port: int = DEMO_PORT) -> Iterator[LoopbackTsa | None]:
    """The demo TSA on 127.0.0.1:`port` with the committed certificates; None when the port
    is taken (another demo TSA already answers there, or something else does)."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for name in ("ca.pem", "tsa.pem", "tsa.key"):
            (folder / name).write_bytes((DEMO_FOLDER / name).read_bytes())
        (folder / "serial").write_text(f"{int(time.time()):x}\n")
        (folder / "openssl.cnf").write_text(CONFIG.format(dir=folder))
        try:
            server = ThreadingHTTPServer(("127.0.0.1", port), _handler(folder))
        except OSError:
            yield None
            return
        with server:
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            try:
                url = f"http://127.0.0.1:{port}/tsr"
                yield LoopbackTsa(url, (folder / "ca.pem").read_text(), folder)
            finally:
                server.shutdown()
                thread.join()


def main() -> int:
    """`python -m tests.tsa_server`: serve the demo TSA until interrupted."""
    with running_demo_tsa() as tsa:
        if tsa is None:
            sys.stderr.write(f"port {DEMO_PORT} is taken: is the demo TSA running already?\n")
            return 1
        sys.stderr.write(f"{DEMO_NAME} answering at {tsa.url} (DEMO only); Ctrl-C stops it\n")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())

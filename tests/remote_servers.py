"""A real S3-compatible server for the tests: moto's server mode, in a process of its own.

Import the fixtures into a ``conftest.py`` to use them
(``from tests.remote_servers import moto_server, s3_store_url  # noqa: F401``):

``moto_server`` (session scope)
    ``python -m moto.server`` on a free port of 127.0.0.1, started once per session (about a
    second) and stopped at its end. Its own process, so a test measuring this process's memory
    or counting its threads sees none of the server's.

``s3_store_url`` (function scope)
    ``s3://<new bucket>/team``: a bucket made for the test on that server, with the standard
    AWS variables set (``AWS_ENDPOINT_URL``, fake keys, a region; no profile or config file of
    the machine's) through ``monkeypatch``, exactly as a team's store is reached in real use.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

_START_TIMEOUT = 30.0  # seconds for the server to accept connections


@dataclass(frozen=True)
class MotoServer:
    """A running moto server: its endpoint (``http://127.0.0.1:PORT``) and a boto3 client of
    it (made once: a new client costs a few tenths of a second)."""

    endpoint: str
    client: Any

    def environ(self, home: Path) -> dict[str, str]:
        """The AWS variables that point boto (and so s3fs) at this server, with fake keys;
        the machine's own AWS config and credentials files are replaced by none under
        ``home``."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(home / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
        }

    def create_bucket(self, name: str) -> None:
        """Make an empty bucket."""
        self.client.create_bucket(Bucket=name)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"moto server did not listen on port {port} in {_START_TIMEOUT} s")


def _client(endpoint: str) -> Any:
    import boto3  # moto brings it

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )


@contextlib.contextmanager
def run_moto_server() -> Iterator[MotoServer]:
    """Start moto's server on a free port of 127.0.0.1; stop it when the block ends."""
    port = _free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until_listening(port, process)
        endpoint = f"http://127.0.0.1:{port}"
        yield MotoServer(endpoint, _client(endpoint))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto S3 server for the whole session."""
    with run_moto_server() as server:
        yield server


@pytest.fixture
def s3_store_url(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """``s3://<fresh bucket>/team`` on the session's moto server, its AWS variables set."""
    for name, value in moto_server.environ(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    bucket = f"rdpipe-{uuid.uuid4().hex[:12]}"
    moto_server.create_bucket(bucket)
    return f"s3://{bucket}/team"

"""``rwkv-gpu serve`` in a subprocess on a free loopback port, for the server tests."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time


class ServerProcess:
    """The real server (``python -m rwkv_gpu serve``) with the given options; ``close()`` stops it."""

    def __init__(self, *options: str, api_key: str | None = None, start_timeout_s: float = 120):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.api_key = api_key
        cmd = [sys.executable, "-m", "rwkv_gpu", "serve", "--port", str(self.port), "--log-level", "warning", *options]
        if api_key:
            cmd += ["--api-key", api_key]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + start_timeout_s
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}): {self.proc.stdout.read()}")
            try:
                if self.request("GET", "/health")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.close()
                raise RuntimeError("the server did not answer /health in time")
            time.sleep(0.2)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def connection(self, timeout: float = 60) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def headers(self, key: str | None = "default") -> dict:
        key = self.api_key if key == "default" else key
        return {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {key}"} if key else {})

    def request(self, method: str, path: str, body=None, key: str | None = "default", raw: bytes | None = None):
        """(status, headers, parsed JSON or text) of one request."""
        conn = self.connection()
        try:
            data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
            conn.request(method, path, body=data, headers=self.headers(key))
            r = conn.getresponse()
            text = r.read().decode()
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = text
            return r.status, dict(r.getheaders()), parsed
        finally:
            conn.close()

    def metric(self, name: str) -> dict[str, float]:
        """The samples of one metric in /metrics: {label text: value}."""
        _, _, text = self.request("GET", "/metrics")
        out = {}
        for line in text.splitlines():
            if line.startswith(name):
                key, value = line.rsplit(" ", 1)
                out[key[len(name):]] = float(value)
        return out

    def alive(self) -> bool:
        return self.proc.poll() is None and self.request("GET", "/health")[0] == 200

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

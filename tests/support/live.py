"""Serve an app with uvicorn on a loopback port, in a thread of the test process."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import uvicorn
from fastapi import FastAPI


@dataclass
class LiveServer:
    app: FastAPI
    host: str = "127.0.0.1"
    port: int = 0
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = field(default=None, repr=False)

    def start(self) -> LiveServer:
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            log_config=None,
            access_log=False,
            lifespan="on",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the live server did not start")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)

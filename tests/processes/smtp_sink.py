"""A recording SMTP server for tests whose Celery workers send real e-mail: the edge of the world, run in the test.

It speaks just enough SMTP for smtplib (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeps every message it
accepted (raw bytes, so a test can read each Message-ID and count copies), and can be broken on purpose: stopped (the
port refuses connections, as a mail server that is down), started again on the same port, or told to hang the next
session at one point until the client goes away (a worker killed in the middle of a send) or the test lets it go on.
"""

import asyncio
import contextlib
import threading
from email import message_from_bytes

from tests.processes.stack import free_port

# Where a session can be told to hang: after the message's data arrived but before it is accepted, until the client
# goes away ("data") or until the test calls `resume()` ("accept"); or after it was accepted, when the client says
# QUIT ("quit").
STALL_POINTS = ("data", "accept", "quit")


class SmtpSink:
    def __init__(self) -> None:
        self.port = free_port()
        self.accepted: list[bytes] = []
        self.sessions = 0
        self.stalled = threading.Event()
        self._resumed = threading.Event()
        self._stall_at: str | None = None
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="smtp-sink", daemon=True)
        self._thread.start()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    # ------------------------------------------------------------ control, from the test's thread
    def start(self) -> None:
        assert self._server is None, "the sink is listening already"
        serving = asyncio.start_server(self._session, "127.0.0.1", self.port)
        self._server = asyncio.run_coroutine_threadsafe(serving, self._loop).result(timeout=5)

    def stop(self) -> None:
        """Stop listening and drop every open session: the port refuses connections until `start()`."""
        server, self._server = self._server, None
        if server is not None:
            asyncio.run_coroutine_threadsafe(self._shut(server), self._loop).result(timeout=5)

    def stall_next(self, point: str) -> None:
        assert point in STALL_POINTS, point
        self.stalled.clear()
        self._resumed.clear()
        with self._lock:
            self._stall_at = point

    def resume(self) -> None:
        """Let a session held at "accept" accept its message and go on."""
        self._resumed.set()

    def close(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def message_ids(self) -> list[str]:
        """The Message-ID of every accepted message, one entry per copy."""
        with self._lock:
            accepted = list(self.accepted)
        return ["".join(str(message_from_bytes(raw)["Message-ID"]).split()) for raw in accepted]

    # ------------------------------------------------------------ the server, in the sink's event loop
    async def _shut(self, server: asyncio.Server) -> None:
        server.close()
        for writer in list(self._writers):
            writer.close()
        await server.wait_closed()

    def _take_stall(self, point: str) -> bool:
        with self._lock:
            if self._stall_at != point:
                return False
            self._stall_at = None
            return True

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        with self._lock:
            self.sessions += 1
        try:
            await self._converse(reader, writer)
        except ConnectionError:
            pass  # the client went away: whatever it had not finished is simply not accepted
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 sink ESMTP\r\n")
        await writer.drain()
        hang_at_quit = False
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(b"250-sink\r\n250 8BITMIME\r\n")
            elif verb in {b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"}:
                writer.write(b"250 OK\r\n")
            elif verb == b"DATA":
                writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                await writer.drain()
                message = await self._read_data(reader)
                if self._take_stall("data"):
                    self.stalled.set()
                    await reader.read()  # until the client is gone; the message was never accepted
                    return
                if self._take_stall("accept"):
                    self.stalled.set()
                    while not self._resumed.is_set():
                        await asyncio.sleep(0.02)
                with self._lock:
                    self.accepted.append(message)
                writer.write(b"250 OK queued\r\n")
                hang_at_quit = self._take_stall("quit")
            elif verb == b"QUIT":
                if hang_at_quit:
                    self.stalled.set()
                    await reader.read()  # accepted, but the client never hears the goodbye
                    return
                writer.write(b"221 Bye\r\n")
                await writer.drain()
                return
            else:
                writer.write(b"502 Command not implemented\r\n")
            await writer.drain()

    @staticmethod
    async def _read_data(reader: asyncio.StreamReader) -> bytes:
        lines = []
        while (line := await reader.readline()) not in {b".\r\n", b""}:
            lines.append(line[1:] if line.startswith(b"..") else line)  # undo dot-stuffing
        return b"".join(lines)

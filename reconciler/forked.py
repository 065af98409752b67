"""Work done in a forked child while this process goes on with other work.

The imports use it to parse the next bank file while the current one is stored, and to read
a large master-data file while this process writes the batches read so far: reading needs no
database and is much of an import's cost, so the second core does it. The child inherits its
arguments through the fork (nothing is sent to it) and sends back pickled results: one
(`ForkedCall`) or a stream of them (`ForkedFeed`). It holds no end of the pipe but its own, so
if this process dies its send fails and it ends, instead of lingering with a copy of the
database connection.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import pickle
import signal
import traceback
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _start(target: Callable[..., None], function: Callable[..., Any], args: tuple[Any, ...],
           name: str) -> tuple[Connection, BaseProcess]:
    """A forked child running `target(function, args, reader, writer)`; the pipe's reading
    end stays here (the child closes its copy), the writing end is the child's alone."""
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    process = context.Process(target=target, args=(function, args, reader, writer), name=name,
                              daemon=True)
    process.start()
    writer.close()
    return reader, process


class ForkedCall(Generic[T]):
    """`function(*args)` in a forked child; `result()` collects it, None if the child failed."""

    def __init__(self, function: Callable[..., T], *args: Any, name: str) -> None:
        self._reader, self._process = _start(_run, function, args, name)
        self._done = False

    def result(self) -> T | None:
        """Wait for the child's result; None when it died (killed, out of memory)."""
        if self._done:
            raise RuntimeError("the result was collected already")
        try:
            sent = self._reader.recv_bytes()
        except (EOFError, OSError):
            return None
        finally:
            self._finish()
        found: T = pickle.loads(sent)
        return found

    def stop(self) -> None:
        """The result is no longer wanted: end the child."""
        if not self._done:
            self._process.terminate()
            self._finish()

    def _finish(self) -> None:
        self._reader.close()
        self._process.join()
        self._done = True


def _run(function: Callable[..., Any], args: tuple[Any, ...], reader: Connection,
         writer: Connection) -> None:
    reader.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    # The parent's objects are never freed here: the collector need not walk them (and copy
    # the pages it touches).
    gc.freeze()
    result = function(*args)
    with contextlib.suppress(BrokenPipeError):  # the parent is gone or no longer wants it
        writer.send_bytes(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))


class ForkedFeedError(RuntimeError):
    """The child of a `ForkedFeed` raised; the message is the end of its traceback."""


class ForkedFeed:
    """`produce(send, *args)` in a forked child, which calls `send(message)` as it goes;
    `messages()` yields the messages here, in their order, while the child is still working.

    A child that raises ends the feed with `ForkedFeedError`; one that dies (killed, out of
    memory) simply ends it, so the caller should expect a last message that says "done"."""

    def __init__(self, produce: Callable[..., None], *args: Any, name: str) -> None:
        self._reader, self._process = _start(_feed, produce, args, name)

    def messages(self) -> Iterator[Any]:
        while True:
            try:
                sent = self._reader.recv_bytes()
            except (EOFError, OSError):
                return
            message = pickle.loads(sent)
            if isinstance(message, _Failure):
                raise ForkedFeedError(message.text)
            yield message

    def close(self) -> None:
        """End the child if it is still at work (the rest of its messages is not wanted)."""
        self._reader.close()
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()


class _Failure:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Failure, (self.text,))


def _feed(produce: Callable[..., None], args: tuple[Any, ...], reader: Connection,
          writer: Connection) -> None:
    reader.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    gc.freeze()

    def send(message: object) -> None:
        writer.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    with contextlib.suppress(BrokenPipeError):  # the parent is gone or no longer wants more
        try:
            produce(send, *args)
        except Exception:
            send(_Failure(traceback.format_exc(limit=-3)))

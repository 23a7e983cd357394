"""Many IDLE sessions from one process: asyncio streams, a few hundred
being set up at a time (tests/bench/bench_idle.py, and the in-suite
2,000-session test, tests/protocol/test_idle_scale.py). Standard library
only."""

import asyncio
import re
import resource
import time


def vm_rss(pid):
    """A process's resident size in bytes."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def raise_nofile(need):
    """Raises our RLIMIT_NOFILE (which kairand started from us inherits) to
    `need`; False when the hard limit is lower."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < need:
        return False
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, need), hard))
    return True


class Idler:
    """One session: logged in, a mailbox selected, IDLE running."""

    def __init__(self, reader, writer):
        self.r, self.w = reader, writer
        self.exists = {}            # n -> perf_counter() when "* n EXISTS" arrived
        self.task = None

    async def command(self, tag, text):
        self.w.write(f"{tag} {text}\r\n".encode())
        while True:
            line = await self.r.readline()
            if not line:
                raise RuntimeError(f"connection closed during {text!r}")
            if line.startswith(tag.encode() + b" "):
                if not line.startswith(tag.encode() + b" OK"):
                    raise RuntimeError(f"{text!r}: {line[:200]!r}")
                return

    async def watch(self):
        """Timestamps every EXISTS while idling (the APPEND phase)."""
        pattern = re.compile(rb"^\* (\d+) EXISTS")
        while True:
            line = await self.r.readline()
            if not line:
                return
            m = pattern.match(line)
            if m:
                self.exists[int(m.group(1))] = time.perf_counter()

    def close(self):
        if self.task:
            self.task.cancel()
        self.w.close()


async def open_idler(port, sslctx, login, password, mailbox, sem, retries=5, enable=None):
    async with sem:
        for attempt in range(retries):
            try:
                r, w = await asyncio.open_connection("127.0.0.1", port, ssl=sslctx)
                break
            except OSError:
                if attempt == retries - 1:
                    raise
                await asyncio.sleep(0.2 * (attempt + 1))
        s = Idler(r, w)
        greeting = await r.readline()
        if not greeting.startswith(b"* OK"):
            raise RuntimeError(f"greeting: {greeting!r}")
        await s.command("a", f"LOGIN {login} {password}")
        if enable:
            await s.command("e", f"ENABLE {enable}")
        await s.command("b", f'SELECT "{mailbox}"')
        w.write(b"c IDLE\r\n")
        while True:
            line = await r.readline()
            if not line:
                raise RuntimeError("closed before IDLE began")
            if line.startswith(b"+"):
                return s


async def open_many(n, port, sslctx, mailbox_of, parallel, checkpoints=(), on_checkpoint=None,
                    enable=None):
    """n idlers, session i with mailbox_of(i) = (login, password, mailbox),
    each sending ENABLE `enable` first if given; calls on_checkpoint(k)
    when k (in checkpoints) sessions are idling."""
    sem = asyncio.Semaphore(parallel)
    out = []
    step = max(parallel, 500)
    for start in range(0, n, step):
        batch = [open_idler(port, sslctx, *mailbox_of(i), sem, enable=enable)
                 for i in range(start, min(n, start + step))]
        out += await asyncio.gather(*batch)
        for k in checkpoints:
            if len(out) - len(batch) < k <= len(out) and on_checkpoint:
                on_checkpoint(k)
    return out

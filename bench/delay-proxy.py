#!/usr/bin/env python3
"""A slow, lossy link for one fleet host, as an ssh ProxyCommand (this kernel has no sch_netem for `tc netem`).

Usage: delay-proxy.py DELAY_S LOSS HOST PORT   (stdin/stdout is ssh's side, HOST:PORT the sshd)

Every chunk, each way, is passed on DELAY_S seconds after it arrived (a one-way delay); with probability LOSS a chunk
is held one more second, as TCP's retransmission after a lost segment would hold it, and, order being kept, so is
everything behind it."""
import asyncio, random, sys, time

DELAY, LOSS, HOST, PORT = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], int(sys.argv[4])

async def pump(read, write):
    queue = asyncio.Queue()
    async def reader():
        while True:
            data = await read(65536)
            due = time.monotonic() + DELAY + (1.0 if random.random() < LOSS else 0.0)
            await queue.put((due, data))
            if not data:
                return
    async def writer():
        last = 0.0
        while True:
            due, data = await queue.get()
            last = max(last, due)
            await asyncio.sleep(max(0.0, last - time.monotonic()))
            if not data:
                return await write(b"")
            await write(data)
    await asyncio.gather(reader(), writer())

async def main():
    loop = asyncio.get_running_loop()
    r, w = await asyncio.open_connection(HOST, PORT)
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    out = sys.stdout.buffer
    async def to_stdout(data):
        if data:
            out.write(data); out.flush()
        else:
            out.close()
    async def to_sshd(data):
        if data:
            w.write(data); await w.drain()
        else:
            w.write_eof()
    await asyncio.gather(pump(stdin.read, to_sshd), pump(r.read, to_stdout))

asyncio.run(main())

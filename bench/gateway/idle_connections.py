#!/usr/bin/env python3
"""Opens N mutual-TLS connections to a server on loopback, completes each handshake with a client
certificate, sends one request on each (so the connection is a live keep-alive connection, not
just a handshake), then holds them idle and reports the server's RSS (from /proc/PID/status).

  idle_connections.py --port P --pid SERVER_PID --ca ca.pem --cert c.pem --key c.key \
      --count 10000 [--path /accounts --token T] [--hold 5] [--concurrency 200]

Bounded: at most --count connections, each with a 30 s timeout, then everything is closed."""
import argparse
import asyncio
import resource
import ssl
import sys
import time


def open_files_limit(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                return line.split()[3]
    return "?"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


async def open_one(args, ctx, sem, conns, failures):
    async with sem:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", args.port, ssl=ctx, server_hostname="localhost"), 30)
            req = (f"GET {args.path} HTTP/1.1\r\nHost: localhost\r\n"
                   f"Authorization: Bearer {args.token}\r\n\r\n").encode()
            writer.write(req)
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if length:
                await asyncio.wait_for(reader.readexactly(length), 30)
            conns.append((reader, writer, head.split(b"\r\n")[0]))
        except Exception as e:  # counted, reported
            failures.append(repr(e))


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--path", default="/accounts")
    p.add_argument("--token", default="")
    p.add_argument("--hold", type=float, default=5.0)
    p.add_argument("--concurrency", type=int, default=200, help="handshakes in flight at once")
    args = p.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.count + 1024), hard))

    ctx = ssl.create_default_context(cafile=args.ca)
    ctx.load_cert_chain(args.cert, args.key)
    before = rss_kib(args.pid)
    conns, failures = [], []
    sem = asyncio.Semaphore(args.concurrency)
    t0 = time.time()
    await asyncio.gather(*(open_one(args, ctx, sem, conns, failures) for _ in range(args.count)))
    opened = time.time() - t0
    await asyncio.sleep(args.hold)
    during = rss_kib(args.pid)
    # Connections the server closed meanwhile (its idle timeout, for a slow ramp) hold nothing
    # there: count only the ones still open when RSS was read.
    still_open = sum(1 for r, w, _ in conns if not r.at_eof() and not w.is_closing())
    statuses = {}
    for _, _, status in conns:
        statuses[status.decode()] = statuses.get(status.decode(), 0) + 1
    print(f"connections held: {len(conns)} of {args.count} (failures: {len(failures)}) in {opened:.1f} s; "
          f"server's open-files limit: {open_files_limit(args.pid)}")
    print(f"responses: {statuses}; still open when measured: {still_open}")
    if failures:
        print(f"first failure: {failures[0]}")
    print(f"server RSS before: {before / 1024:.1f} MiB, with connections held idle: {during / 1024:.1f} MiB, "
          f"per open connection: {(during - before) / max(1, still_open):.1f} KiB")
    for _, w, _ in conns:
        w.close()
    return 0 if still_open == args.count else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

"""A Kafka-aware TCP proxy on 127.0.0.1 that adds latency between clients and one broker.

Kafka clients bootstrap, then connect to the address the broker *advertises* in its metadata, so a
plain port forwarder would be bypassed after the first request. This proxy forwards whole Kafka
frames (4-byte size + body) and, in frames from the broker, rewrites the advertised endpoint
`<host>` + int32 `<broker port>` into `<host>` + int32 `<proxy port>`: the same length, so framing
is untouched, and Metadata, FindCoordinator and DescribeCluster answers all point back at the proxy.
No broker configuration changes; the services only need KAFKA_BROKERS=127.0.0.1:<proxy port>.

Latency: every frame, in each direction, is delivered `delay_ms` after it arrived, in order, while
later frames keep flowing (pipelining is preserved: this is latency, not a bandwidth cap). The delay
is a shared value, changed at run time by the process that started the proxy.

    python -m harness.latency_proxy --listen 39092 --upstream 29092 --delay-ms 50
"""
import asyncio
import multiprocessing
import struct
import time

import click

HEADER = struct.Struct(">i")


class LatencyProxy:
    def __init__(self, listen_port: int, upstream_port: int, delay_ms, host: str = "127.0.0.1"):
        self.listen_port, self.upstream_port, self.host = listen_port, upstream_port, host
        self.delay_ms = delay_ms  # a multiprocessing.Value('d') or anything with .value
        self.advertised = host.encode() + HEADER.pack(upstream_port)
        self.rewritten = host.encode() + HEADER.pack(listen_port)

    async def serve(self) -> None:
        server = await asyncio.start_server(self._client, self.host, self.listen_port, backlog=256)
        async with server:
            await server.serve_forever()

    async def _client(self, client_reader, client_writer) -> None:
        try:
            broker_reader, broker_writer = await asyncio.open_connection(self.host, self.upstream_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            self._pipe(client_reader, broker_writer, rewrite=False),
            self._pipe(broker_reader, client_writer, rewrite=True),
            return_exceptions=True,
        )
        for writer in (client_writer, broker_writer):
            writer.close()

    async def _pipe(self, reader, writer, *, rewrite: bool) -> None:
        queue: asyncio.Queue = asyncio.Queue()
        sender = asyncio.create_task(self._send_when_due(queue, writer))
        try:
            while True:
                header = await reader.readexactly(HEADER.size)
                body = await reader.readexactly(HEADER.unpack(header)[0])
                if rewrite and self.advertised in body:
                    body = body.replace(self.advertised, self.rewritten)
                await queue.put((time.monotonic() + self.delay_ms.value / 1000, header + body))
        except (asyncio.IncompleteReadError, OSError):
            pass
        finally:
            await queue.put(None)
            await sender
            writer.close()

    @staticmethod
    async def _send_when_due(queue: asyncio.Queue, writer) -> None:
        while (item := await queue.get()) is not None:
            due, frame = item
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                writer.write(frame)
                await writer.drain()
            except OSError:
                return


def _serve(listen_port: int, upstream_port: int, delay_ms) -> None:
    asyncio.run(LatencyProxy(listen_port, upstream_port, delay_ms).serve())


class ProxyProcess:
    """The proxy in a child process; `delay_ms` can be changed while it runs."""

    def __init__(self, listen_port: int, upstream_port: int, delay_ms: float = 0.0):
        context = multiprocessing.get_context("spawn")
        self._delay = context.Value("d", delay_ms)
        self.listen_port = listen_port
        self.process = context.Process(target=_serve, args=(listen_port, upstream_port, self._delay), daemon=True)

    @property
    def brokers(self) -> str:
        return f"127.0.0.1:{self.listen_port}"

    def start(self) -> "ProxyProcess":
        self.process.start()
        return self

    def set_delay(self, delay_ms: float) -> None:
        self._delay.value = delay_ms

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(timeout=5)


@click.command()
@click.option("--listen", type=int, required=True)
@click.option("--upstream", type=int, required=True)
@click.option("--delay-ms", type=float, default=0.0, show_default=True)
def main(listen: int, upstream: int, delay_ms: float) -> None:
    _serve(listen, upstream, multiprocessing.Value("d", delay_ms))


if __name__ == "__main__":
    main()

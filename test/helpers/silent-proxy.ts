/**
 * A TCP proxy on 127.0.0.1 in front of a server (PostgreSQL, a media bucket) that can make every
 * open connection go silent without closing it — what lost NAT or firewall state, a hung pooler or
 * a paused VM look like to the client — while new connections still work. `silence()` affects the connections open at that
 * moment; connections opened later pass bytes as usual, unless `silenceNew` is set: then they are
 * accepted and silent from the start (a server that hangs), and stay so after it is cleared.
 * `silenceMidAnswer()` silences them halfway through their next answer instead.
 */
import net from "node:net";

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  silent: boolean;
  /** Goes silent right after passing on the next chunk from the server. */
  silentAfterChunk: boolean;
}

export class SilentProxy {
  /** Connections accepted while this is set never pass a byte. */
  silenceNew = false;

  private constructor(
    private readonly server: net.Server,
    private readonly pairs: Set<Pair>,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<SilentProxy> {
    const pairs = new Set<Pair>();
    let proxy: SilentProxy | null = null;
    const server = net.createServer((client) => {
      const upstream = net.connect(target.port, target.host);
      const pair: Pair = { client, upstream, silent: proxy?.silenceNew ?? false, silentAfterChunk: false };
      pairs.add(pair);
      client.on("data", (chunk) => {
        if (!pair.silent) upstream.write(chunk);
      });
      upstream.on("data", (chunk) => {
        if (pair.silent) return;
        client.write(chunk);
        if (pair.silentAfterChunk) pair.silent = true;
      });
      const end = () => {
        pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on("close", end);
      upstream.on("close", end);
      client.on("error", end);
      upstream.on("error", end);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    proxy = new SilentProxy(server, pairs, (server.address() as net.AddressInfo).port);
    return proxy;
  }

  /** Rewrites a PostgreSQL URL to go through the proxy. */
  through(url: string): string {
    const u = new URL(url);
    u.hostname = "127.0.0.1";
    u.port = String(this.port);
    return u.toString();
  }

  /** Every connection open now stops passing bytes either way (and stays open). Returns how many. */
  silence(): number {
    for (const p of this.pairs) p.silent = true;
    return this.pairs.size;
  }

  /**
   * Every connection open now goes silent once it has passed on one more chunk from the server:
   * an answer longer than a chunk is cut in the middle.
   */
  silenceMidAnswer(): number {
    for (const p of this.pairs) p.silentAfterChunk = true;
    return this.pairs.size;
  }

  /** Silenced connections still open (the client has not given up on them). */
  silent(): number {
    return [...this.pairs].filter((p) => p.silent).length;
  }

  /** Connections that pass bytes now. */
  talking(): number {
    return [...this.pairs].filter((p) => !p.silent).length;
  }

  async stop(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// A TCP proxy between an app under test and PostgreSQL, which a fault test can cut and restore, or
// turn into a silent blackhole: the database the rest of the suite uses is never stopped.
import net from 'node:net';
import { portAccepts } from './net.js';

export class TcpProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  /** Client sockets with their upstream, while they forward. */
  private readonly links = new Map<net.Socket, net.Socket>();
  private silent = false;
  private deaf = false;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    const server = net.createServer((client) => {
      if (this.silent) return this.swallow(client);
      const upstream = net.connect(this.targetPort, this.targetHost);
      this.links.set(client, upstream);
      client.on('close', () => this.links.delete(client));
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream);
      if (this.deaf) upstream.on('data', () => undefined);
      else upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and drops every open connection, as a network partition would. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  /**
   * A silent blackhole, as a dead host or a dropped route makes one: connections stay open and new
   * ones are accepted, but nothing goes through either way and nothing is refused or reset. Only
   * timeouts and keepalives on the client's side can tell.
   */
  blackhole(): void {
    this.silent = true;
    for (const [client, upstream] of this.links) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      this.swallow(client);
      upstream.on('data', () => undefined);
    }
    this.links.clear();
  }

  /**
   * Requests still reach the server, but its answers are dropped: a request the server carried out
   * (a produce the broker wrote) is never acknowledged, as when a route fails after the request
   * went through. Connections stay open; only the client's timeouts, or the server closing, end them.
   */
  dropResponses(): void {
    this.deaf = true;
    for (const [client, upstream] of this.links) {
      upstream.unpipe(client);
      upstream.on('data', () => undefined);
    }
  }

  /** New connections go through again; those caught in the blackhole (or deaf) stay so until their client gives up on them. */
  restore(): void {
    this.silent = false;
    this.deaf = false;
  }

  private swallow(client: net.Socket): void {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => client.destroy());
    client.on('data', () => undefined);
  }

  /** True when a TCP connection to the proxy's port is accepted. */
  accepts(): Promise<boolean> {
    return portAccepts(this.port);
  }
}

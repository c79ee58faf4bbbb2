import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';
import { Server as NetServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { PlatformSettings } from '../config/platform.settings';

export type LifecycleState = 'starting' | 'ready' | 'draining';

/**
 * Where the app is in its life, for readiness and for a shutdown that drops nothing: on
 * SIGTERM/SIGINT readiness turns 503 at once while requests are still served, as usual, for
 * SHUTDOWN_DRAIN_MS (a load balancer that watches readiness needs that long to stop sending).
 * Then the server stops accepting connections and answers whatever still comes on an open one
 * with `Connection: close`, so every client leaves after its answer; requests in flight get
 * SHUTDOWN_TIMEOUT_MS to finish before the connections left are cut.
 *
 * A balancer that does not watch readiness (nginx in compose, the replicas test) learns only
 * from connections. What it can retry safely, a POST included, is a connection refused: the
 * request was never sent. What it cannot retry for a POST is a request sent into a connection the
 * service is closing, and that happens whenever the service closes a connection the balancer may
 * use: an idle kept-alive one (the balancer may have just written the next request into it, which
 * closeIdleConnections(), at once or periodically, meets with a reset), or a new one still in the
 * kernel's accept queue when the listener closes (reset too). Measured over eight rolling
 * restarts under load behind nginx: closing idle connections at the drain's start and every
 * 500 ms reset seven requests, two of them POSTs that failed; answering `Connection: close` all
 * through the drain, which has the balancer open a new connection for every request right up to
 * the listener closing, reset three, one a POST. This way none reset in twenty-four. So:
 * - during the drain connections stay alive: the balancer opens hardly any new ones;
 * - the listener closes first: new connections are refused, and retried elsewhere;
 * - each open connection then ends after its next answer, which says `Connection: close`;
 * - an idle one is left to its client, which closes it before the service would (nginx's
 *   upstream `keepalive_timeout` is 4 s, undici's about 4 s, the service's 5 s); the service's
 *   keep-alive timeout and SHUTDOWN_TIMEOUT_MS bound the wait for clients that do not.
 */
@Injectable()
export class Lifecycle
  implements
    OnApplicationBootstrap,
    BeforeApplicationShutdown,
    OnApplicationShutdown
{
  private readonly logger = new Logger(Lifecycle.name);
  private current: LifecycleState = 'starting';
  /** The listener is closed: every answer from now on closes its connection. */
  private closing = false;
  private cutOff?: NodeJS.Timeout;
  /** Responses not yet finished: told to close their connection once the listener closes. */
  private readonly inFlight = new Set<Response>();

  constructor(
    private readonly config: PlatformSettings,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
  ) {}

  get state(): LifecycleState {
    return this.current;
  }

  onApplicationBootstrap(): void {
    this.current = 'ready';
  }

  /**
   * The first half of a shutdown, before `app.close()`: not ready at once, still serving for the
   * drain period; then no new connections, and each open one closed once its client is done with
   * it, or once SHUTDOWN_TIMEOUT_MS is over. Resolves when no connection is left.
   */
  async drain(signal: string): Promise<void> {
    this.current = 'draining';
    const { SHUTDOWN_DRAIN_MS: drainMs, SHUTDOWN_TIMEOUT_MS: timeoutMs } =
      this.config;
    this.logger.log(
      `${signal} received: not ready, draining for ${drainMs} ms`,
    );
    await sleep(drainMs);
    this.logger.log(
      `Drained: refusing new connections, ${timeoutMs} ms for requests in flight`,
    );
    this.closing = true;
    for (const response of this.inFlight) closeAfter(response);
    const server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    this.cutOff = setTimeout(() => {
      if (this.inFlight.size > 0)
        this.logger.warn(
          'Requests still in flight after the shutdown timeout: closing their connections',
        );
      server.closeAllConnections();
    }, timeoutMs);
    // The listener only: http.Server#close would also close every idle kept-alive connection at
    // once, the very reset a balancer cannot retry (see above). Called back once none is left.
    await new Promise<void>((resolve) =>
      NetServer.prototype.close.call(server, () => resolve()),
    );
  }

  beforeApplicationShutdown(): void {
    this.current = 'draining';
  }

  onApplicationShutdown(): void {
    clearTimeout(this.cutOff);
  }

  /**
   * Once the listener is closed, each response closes its connection, so the client reconnects
   * elsewhere; requests already running then are told the same.
   */
  readonly middleware = (
    _request: Request,
    response: Response,
    next: NextFunction,
  ): void => {
    if (this.closing) closeAfter(response);
    this.inFlight.add(response);
    // A response closes once: `on` spares once's wrapper and its removal.
    response.on('close', () => this.inFlight.delete(response));
    next();
  };
}

function closeAfter(response: Response): void {
  if (!response.headersSent) response.setHeader('Connection', 'close');
}

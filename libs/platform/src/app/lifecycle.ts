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
import { setTimeout as sleep } from 'node:timers/promises';
import { PlatformSettings } from '../config/platform.settings';

export type LifecycleState = 'starting' | 'ready' | 'draining';

/**
 * Where the app is in its life, for readiness and for a shutdown that drops nothing:
 * on SIGTERM/SIGINT readiness turns 503 at once while requests are still served for
 * SHUTDOWN_DRAIN_MS (a load balancer needs that long to stop sending), with `Connection: close`
 * so clients leave their kept-alive connections; then the server stops accepting, and requests
 * in flight get SHUTDOWN_TIMEOUT_MS to finish before their connections are cut.
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
  private cutOff?: NodeJS.Timeout;
  /** Responses not yet finished, to tell them to close their connection once draining begins. */
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
   * drain period, then a bound on how long requests in flight may hold the close up.
   */
  async drain(signal: string): Promise<void> {
    this.current = 'draining';
    for (const response of this.inFlight) closeAfter(response);
    const { SHUTDOWN_DRAIN_MS: drainMs, SHUTDOWN_TIMEOUT_MS: timeoutMs } =
      this.config;
    this.logger.log(
      `${signal} received: not ready, draining for ${drainMs} ms`,
    );
    await sleep(drainMs);
    this.logger.log(
      `Drained: refusing new connections, ${timeoutMs} ms for requests in flight`,
    );
    const server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    this.cutOff = setTimeout(() => {
      this.logger.warn(
        'Requests still in flight after the shutdown timeout: closing their connections',
      );
      server.closeAllConnections();
    }, timeoutMs);
  }

  beforeApplicationShutdown(): void {
    this.current = 'draining';
  }

  onApplicationShutdown(): void {
    clearTimeout(this.cutOff);
  }

  /**
   * While draining, each response closes its connection, so the client reconnects elsewhere and
   * no kept-alive connection holds the server's close up; requests already running when the
   * drain starts are told the same.
   */
  readonly middleware = (
    _request: Request,
    response: Response,
    next: NextFunction,
  ): void => {
    if (this.current === 'draining') {
      closeAfter(response);
    } else {
      this.inFlight.add(response);
      response.once('close', () => this.inFlight.delete(response));
    }
    next();
  };
}

function closeAfter(response: Response): void {
  if (!response.headersSent) response.setHeader('Connection', 'close');
}

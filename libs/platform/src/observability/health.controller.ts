import { Public } from '@app/auth';
import { SkipThrottle } from '@nestjs/throttler';
import {
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiSchema,
  ApiTags,
} from '@nestjs/swagger';
import { ApiProblems } from '../api-docs/openapi';
import {
  Controller,
  Get,
  HttpStatus,
  OnApplicationBootstrap,
  Optional,
  ServiceUnavailableException,
} from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
} from '@nestjs/terminus';
import type { HealthCheckResult } from '@nestjs/terminus';
import { ProblemException } from '@app/contracts';
import { Database } from '@app/storage';
import { Lifecycle } from '../app/lifecycle';
import {
  isReadinessIndicators,
  ReadinessCheck,
  type ReadinessIndicators,
} from './readiness';

/** Each check by name: up, degraded (a dependency the service can do without) or down, with what it reports. */
const CHECKS = {
  type: 'object' as const,
  additionalProperties: {
    type: 'object' as const,
    required: ['status'],
    properties: {
      status: { type: 'string', enum: ['up', 'degraded', 'down'] },
    },
    additionalProperties: true,
  },
};

/** What terminus answers: the overall status and each check, by name. */
@ApiSchema({ name: 'Health' })
class HealthDto {
  @ApiProperty({ enum: ['ok', 'degraded', 'error', 'shutting_down'] })
  status: string;

  @ApiProperty({ ...CHECKS, description: 'The checks that are up' })
  info: Record<string, object>;

  @ApiProperty({ ...CHECKS, description: 'The checks that are down' })
  error: Record<string, object>;

  @ApiProperty({ ...CHECKS, description: 'Every check' })
  details: Record<string, object>;
}

/** A 200 with what terminus answers. */
const ApiHealthResponse = (description: string) =>
  ApiOkResponse({ description, type: HealthDto });

@ApiTags('operations')
@SkipThrottle()
// Probes and scrapers carry no tokens; what they show is no one's data.
@Public()
@Controller('health')
export class HealthController implements OnApplicationBootstrap {
  /** What features add to readiness: every provider marked `@ReadinessCheck()`. */
  private extra: ReadinessIndicators[] = [];

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly lifecycle: Lifecycle,
    private readonly discovery: DiscoveryService,
    @Optional() private readonly database?: Database,
  ) {}

  onApplicationBootstrap(): void {
    this.extra = this.discovery
      .getProviders({ metadataKey: ReadinessCheck.KEY })
      .map(({ instance }: { instance: unknown }) => instance)
      .filter(isReadinessIndicators);
  }

  /** The process is up and serving HTTP. Checks nothing else, so it never fails for a dependency. */
  @Get('live')
  @ApiOperation({
    operationId: 'getLiveness',
    summary: 'Liveness: the process serves HTTP',
    description: 'Checks nothing else, so it never fails for a dependency.',
  })
  @ApiHealthResponse('Alive')
  live(): HealthCheckResult {
    return { status: 'ok', info: {}, error: {}, details: {} };
  }

  /**
   * Ready for traffic: 503 while starting or draining, at once, without asking any dependency,
   * so a load balancer learns it within one probe.
   */
  @Get('ready')
  @HealthCheck({ swaggerDocumentation: false })
  @ApiOperation({
    operationId: 'getReadiness',
    summary: 'Readiness: ready for traffic',
    description:
      'Its own database and what the service depends on, each a check; 503 while starting or draining.',
  })
  @ApiHealthResponse('Ready; the body reports each check')
  @ApiProblems({ 503: 'Starting or draining; the checks are under health' })
  async ready(): Promise<HealthCheckResult> {
    const ready = this.lifecycle.state === 'ready';
    try {
      return await this.health.check([
        () => {
          const session = this.indicator.check('lifecycle');
          const { state } = this.lifecycle;
          return ready ? session.up({ state }) : session.down({ state });
        },
        ...(ready && this.database ? [() => this.checkDatabase()] : []),
        ...(ready ? this.extra.flatMap((check) => check.indicators()) : []),
      ]);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const result = error.getResponse() as HealthCheckResult;
      throw new ProblemException(
        HttpStatus.SERVICE_UNAVAILABLE,
        ready
          ? 'Not ready: database unavailable'
          : `Not ready: ${this.lifecycle.state}`,
        { extensions: { health: result } },
      );
    }
  }

  /** The app's own database is what it needs to serve: without it, not ready. */
  private async checkDatabase() {
    const session = this.indicator.check('database');
    const { up, detail } = await this.database!.status();
    return up ? session.up({ detail }) : session.down({ detail });
  }
}

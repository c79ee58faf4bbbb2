import { Injectable } from '@nestjs/common';
import { ReadinessCheck, type ReadinessIndicators } from '@app/platform';
import {
  HealthIndicatorFunction,
  HealthIndicatorService,
} from '@nestjs/terminus';
import { UsersClient } from './users.client';

/**
 * Orders' readiness reports whether the users app answers, as `degraded`, never `down`: taking
 * orders out of a load balancer would not bring users back, and orders still serves what does not
 * need it.
 */
@ReadinessCheck()
@Injectable()
export class UsersReadiness implements ReadinessIndicators {
  constructor(
    private readonly usersClient: UsersClient,
    private readonly indicator: HealthIndicatorService,
  ) {}

  indicators(): HealthIndicatorFunction[] {
    return [
      async () => {
        const session = this.indicator.check('users');
        const probe = {
          ...(await this.usersClient.probe()),
          circuit: this.usersClient.circuitState,
        };
        return probe.reachable ? session.up(probe) : session.degraded(probe);
      },
    ];
  }
}

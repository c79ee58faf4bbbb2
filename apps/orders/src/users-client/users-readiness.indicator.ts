import { HttpStatus, Injectable } from '@nestjs/common';
import { ReadinessCheck, type ReadinessIndicators } from '@app/platform';
import {
  HealthIndicatorFunction,
  HealthIndicatorService,
} from '@nestjs/terminus';
import { isConnectionError, UsersCallPolicy } from './users-call.policy';
import { UsersClientSettings, UsersEndpoint } from './users-client.settings';
import { UsersCall } from './users.call';

/** Readiness probes of the users app wait at most this long, whatever the call timeout. */
const PROBE_TIMEOUT_MS = 1000;

/**
 * Orders' readiness reports whether the users app answers, as `degraded`, never `down`: taking
 * orders out of a load balancer would not bring users back, and orders still serves what does not
 * need it.
 */
@ReadinessCheck()
@Injectable()
export class UsersReadiness implements ReadinessIndicators {
  constructor(
    private readonly call: UsersCall,
    private readonly endpoint: UsersEndpoint,
    private readonly policy: UsersCallPolicy,
    private readonly config: UsersClientSettings,
    private readonly indicator: HealthIndicatorService,
  ) {}

  indicators(): HealthIndicatorFunction[] {
    return [
      async () => {
        const session = this.indicator.check('users');
        const probe = {
          ...(await this.probe()),
          circuit: this.policy.circuitState,
        };
        return probe.reachable ? session.up(probe) : session.degraded(probe);
      },
    ];
  }

  /**
   * Whether the users app answers its liveness route now. Straight to the users app, past the
   * breaker: readiness reports what is, not what the breaker last saw.
   */
  async probe(): Promise<{ reachable: boolean; detail?: string }> {
    const timeoutMs = Math.min(
      PROBE_TIMEOUT_MS,
      this.config.USERS_SERVICE_ATTEMPT_TIMEOUT_MS,
    );
    try {
      const response = await this.call.get(
        this.endpoint.livenessPath,
        AbortSignal.timeout(timeoutMs),
      );
      return response.status === HttpStatus.OK
        ? { reachable: true }
        : { reachable: false, detail: `answered ${response.status}` };
    } catch (error) {
      return {
        reachable: false,
        detail: isConnectionError(error)
          ? 'The users service is unavailable'
          : `The users service did not answer within ${timeoutMs} ms`,
      };
    }
  }
}

import { DiscoveryService } from '@nestjs/core';
import type { HealthIndicatorFunction } from '@nestjs/terminus';

/** What a feature adds to its service's readiness, such as orders' view of the users service. */
export interface ReadinessIndicators {
  indicators(): HealthIndicatorFunction[];
}

/**
 * Marks a provider whose `indicators()` join the service's readiness check: the health controller
 * finds every one at start, wherever its module sits, so no app module has to wire it.
 */
export const ReadinessCheck = DiscoveryService.createDecorator();

export function isReadinessIndicators(
  value: unknown,
): value is ReadinessIndicators {
  return (
    typeof value === 'object' &&
    value !== null &&
    'indicators' in value &&
    typeof value.indicators === 'function'
  );
}

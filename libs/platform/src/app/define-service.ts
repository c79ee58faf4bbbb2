import { Module } from '@nestjs/common';
import type { ServiceConfig } from '../config/service-config';
import { PlatformModule } from './platform.module';
import type { ServiceDefinition } from './service-definition';

/** Every service's root module: what `defineService` composes for a config. */
@Module({})
class ServiceAppModule {}

/**
 * A service from what is its own (name, config, port, migrations, feature modules): the root
 * module, the platform and the features in it, is the same for every service, so written here.
 */
export function defineService<C extends ServiceConfig>(
  parts: Omit<ServiceDefinition<C>, 'module'>,
): ServiceDefinition<C> {
  const service: ServiceDefinition<C> = {
    ...parts,
    module: (config) => ({
      module: ServiceAppModule,
      imports: [PlatformModule.forRoot(service, config), ...parts.features],
    }),
  };
  return service;
}

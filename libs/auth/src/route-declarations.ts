import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { PATH_METADATA } from '@nestjs/common/constants';
import { PUBLIC_ROUTE, REQUIRED_SCOPES } from './scopes.decorator';

/**
 * Refuses to start an app with a route that declares neither `@RequireScopes` nor `@Public()`,
 * auth on or off: a route added without a thought for who may call it fails every test that boots
 * the app, instead of going out open.
 */
@Injectable()
export class RouteDeclarations implements OnApplicationBootstrap {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onApplicationBootstrap(): void {
    const undeclared = this.undeclaredRoutes();
    if (undeclared.length)
      throw new Error(
        `Routes without @RequireScopes(...) or @Public(): ${undeclared.join(', ')}`,
      );
  }

  undeclaredRoutes(): string[] {
    return this.discovery.getControllers().flatMap(({ metatype, instance }) => {
      if (!metatype || !instance) return [];
      const prototype = Object.getPrototypeOf(instance) as object;
      return this.scanner
        .getAllMethodNames(prototype)
        .filter((name) => {
          const handler = (prototype as Record<string, () => unknown>)[name];
          if (Reflect.getMetadata(PATH_METADATA, handler) === undefined)
            return false;
          const targets = [handler, metatype];
          return (
            this.reflector.getAllAndOverride(REQUIRED_SCOPES, targets) ===
              undefined &&
            this.reflector.getAllAndOverride(PUBLIC_ROUTE, targets) ===
              undefined
          );
        })
        .map((name) => `${metatype.name}.${name}`);
    });
  }
}

import type { DynamicModule, Type } from '@nestjs/common';
import type { SettingsClass } from '@app/config';
import type { Migration } from 'kysely/migration';
import type { ServiceConfig } from '../config/service-config';

export const SERVICE = Symbol('SERVICE');

/** The names of a config's variables whose values are numbers: where its port can be. */
type NumberVariable<C> = {
  [K in keyof C]: C[K] extends number ? K : never;
}[keyof C] &
  string;

/**
 * What makes a service one of ours, in one place: what `main.ts` runs, tests boot, and the
 * deployment checks read. Each app exports one from its `app.module.ts`, made by `defineService`.
 */
export interface ServiceDefinition<C extends ServiceConfig = ServiceConfig> {
  /** `users`, `orders`: in logs, metrics, traces, the API docs and the auth realm. */
  name: string;
  /** One paragraph for the API docs. */
  description: string;
  /** The tags its routes are grouped by in the API docs, each with what it holds. */
  apiTags: Record<string, string>;
  /** The app's config class: `ServiceConfig` and what the app adds. */
  config: SettingsClass<C>;
  /** The variable that holds the port the service listens on. */
  port: NumberVariable<C>;
  /** The schema of the service's database, used when DATABASE_URL is set. */
  migrations: Record<string, Migration>;
  /** The service's own modules: its features, each choosing its store with `storeProvider`. */
  features: (Type | DynamicModule)[];
  /** The app's root module for a config: the platform's modules, then `features`. */
  module(config: C): DynamicModule;
}

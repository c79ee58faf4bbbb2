import {
  ROOT,
  services,
  type ServiceEntry,
} from '../../../../scripts/services.cjs';

export { ROOT, services, type ServiceEntry };

/** The services of this repository (nest-cli.json's applications), by name. */
export function serviceNames(): string[] {
  return services().map(({ name }) => name);
}

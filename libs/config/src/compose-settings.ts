/** A class whose properties are environment variables and whose field initializers are defaults. */
export type SettingsClass<T extends object = object> = new () => T;

type Intersection<U> = (U extends unknown ? (part: U) => void : never) extends (
  part: infer I,
) => void
  ? I
  : never;

/** An app's config: every part's variables on one object, each part validated by its own rules. */
export type ComposedSettings<P extends SettingsClass[]> = SettingsClass<
  Intersection<InstanceType<P[number]>> & object
> & { readonly parts: readonly SettingsClass[] };

/**
 * Composes the settings classes of the libs an app uses into one config class, so that each lib
 * owns and validates its variables, and the app reads them all from one object. A composed class
 * may be extended with variables of the app's own, and may be a part again.
 */
export function composeSettings<P extends SettingsClass[]>(
  ...parts: P
): ComposedSettings<P> {
  const flat = parts.flatMap(flatten);
  const owners = new Map<string, string>();
  for (const part of flat)
    for (const key of ownKeys(part)) {
      const owner = owners.get(key);
      if (owner)
        throw new Error(`${key} is declared by both ${owner} and ${part.name}`);
      owners.set(key, part.name);
    }
  class Composed {
    static readonly parts = flat;
    constructor() {
      for (const Part of flat) Object.assign(this, new Part());
    }
  }
  // A class expression cannot declare that its instances hold every part's fields; it does.
  return Composed as unknown as ComposedSettings<P>;
}

/** The parts of a settings class, each with the variables it owns. */
export function partsOf(
  schema: SettingsClass,
): { part: SettingsClass; keys: string[] }[] {
  return flatten(schema).map((part) => ({ part, keys: ownKeys(part) }));
}

function composedParts(schema: SettingsClass): readonly SettingsClass[] {
  return 'parts' in schema && Array.isArray(schema.parts)
    ? (schema.parts as SettingsClass[])
    : [];
}

/** A composed class's parts, and the class itself when it declares variables of its own. */
function flatten(schema: SettingsClass): SettingsClass[] {
  const parts = composedParts(schema);
  return parts.length === 0 || ownKeys(schema).length > 0
    ? [...parts, schema]
    : [...parts];
}

/**
 * The variables a class declares itself, not through its parts. A class that declares one of its
 * parts' variables again (another default) is refused: the part owns it, and loading would take
 * the part's rules and default, not the class's.
 */
function ownKeys(schema: SettingsClass): string[] {
  const instance = new schema();
  const inherited = new Set<string>();
  for (const part of composedParts(schema)) {
    const defaults = new part();
    for (const key of ownKeys(part)) {
      inherited.add(key);
      if (!Object.is(Reflect.get(instance, key), Reflect.get(defaults, key)))
        throw new Error(
          `${key} is declared by both ${part.name} and ${schema.name}`,
        );
    }
  }
  return Object.keys(instance).filter((key) => !inherited.has(key));
}

import { registerDecorator, ValidationArguments } from 'class-validator';

/** The value may not exceed another property's value, e.g. an attempt timeout within its deadline. */
export function NotAbove(property: string) {
  return (target: object, propertyName: string): void => {
    registerDecorator({
      name: 'notAbove',
      target: target.constructor,
      propertyName,
      constraints: [property],
      options: { message: `$property must not be greater than ${property}` },
      validator: {
        validate(value: unknown, args: ValidationArguments): boolean {
          const limit = (args.object as Record<string, unknown>)[property];
          return (
            typeof value !== 'number' ||
            typeof limit !== 'number' ||
            value <= limit
          );
        },
      },
    });
  };
}

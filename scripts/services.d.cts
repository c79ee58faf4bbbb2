// Types of services.cjs, for the TypeScript that reads the one list of services.
export interface ServiceEntry {
  name: string;
  root: string;
  sourceRoot: string;
}
export declare const ROOT: string;
export declare function services(): ServiceEntry[];
export declare function servicesNamed(names: string[]): string[];

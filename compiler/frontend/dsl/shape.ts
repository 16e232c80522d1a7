// What a .ct value may be, as scripts/gen-ct-schema.mjs reads it from the
// stdlib's types (schema.ts holds the ContainerDef's).

export type Shape =
  | { t: 'string' }
  | { t: 'number' }
  | { t: 'boolean' }
  /** string literals, and template literal types as regular expressions */
  | { t: 'enum'; values: string[]; patterns: string[] }
  /** a union too large to copy: its members are a stdlib table's keys (names.ts) */
  | { t: 'names'; of: NamesOf }
  | { t: 'object'; props: Record<string, Prop> }
  | { t: 'list'; of: Shape }
  | { t: 'record'; of: Shape }
  | { t: 'union'; of: Shape[] };

export type NamesOf = 'Capability' | 'Syscall' | 'ErrnoName' | 'RlimitType';

export interface Prop {
  shape: Shape;
  optional: boolean;
  /** the declaration's doc comment */
  doc?: string;
}

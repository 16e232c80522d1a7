import { constants } from 'node:os';

const names = new Map<number, string>();
for (const [name, n] of Object.entries(constants.errno)) if (!names.has(n)) names.set(n, name);

/** EPERM for 1: the name people search for. */
export const errnoName = (n: number): string => names.get(n) ?? `errno ${n}`;
export const errnoNumber = (name: string): number => (constants.errno as Record<string, number>)[name] ?? 0;

/** The errno name of a Node system error, or undefined. */
export const codeOf = (e: unknown): string | undefined => (e as NodeJS.ErrnoException)?.code;

export function hostResidue(stateRoots?: string[]): string[];

// Maps a position in transpiled code back to the source, for errors thrown
// while a module is evaluated. Reads the `mappings` of a v3 source map.

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function decodeVlq(segment: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const ch of segment) {
    const digit = B64.indexOf(ch);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
      continue;
    }
    out.push(value & 1 ? -(value >>> 1) : value >>> 1);
    value = 0;
    shift = 0;
  }
  return out;
}

/** Source line and column (1-based) for a generated line and column (1-based). */
export function originalPosition(mapJson: string, line: number, column: number): { line: number; column: number } | undefined {
  const lines = (JSON.parse(mapJson) as { mappings: string }).mappings.split(';');
  let srcLine = 0;
  let srcCol = 0;
  let best: { line: number; column: number } | undefined;
  for (let l = 0; l < lines.length && l < line; l++) {
    let genCol = 0;
    for (const seg of lines[l].split(',')) {
      if (!seg) continue;
      const [dCol, , dLine, dSrcCol] = decodeVlq(seg);
      genCol += dCol;
      if (dLine === undefined) continue;
      srcLine += dLine;
      srcCol += dSrcCol;
      if (l === line - 1 && genCol <= column - 1) best = { line: srcLine + 1, column: srcCol + 1 };
    }
  }
  return best;
}

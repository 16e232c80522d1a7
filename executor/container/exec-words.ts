// runc's words for a command it cannot run, which orchestrators match on
// (podman exits 127 for not found, 126 for permission denied): the run
// (apply.ts) and exec (exec.ts) both say them.

export function execWords(file: string, errno: string): string | undefined {
  const quoted = JSON.stringify(file);
  if (errno === 'ENOENT')
    return file.includes('/')
      ? `exec: ${quoted}: stat ${file}: no such file or directory`
      : `exec: ${quoted}: executable file not found in $PATH`;
  if (errno === 'EACCES') return `exec: ${quoted}: permission denied`;
  return undefined;
}

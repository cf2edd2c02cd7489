import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** `<recv-q> <send-q> <local addr>:<port> <peer addr>:<port> users:(("node",pid=123,fd=19))` */
const SOCKET = /^\S+\s+\S+\s+\S*:(\d+)\s+\S+\s+users:\(\("[^"]*",pid=(\d+)/;

/**
 * Which process holds each local port of the established TCP sockets (`ss -tnp`): the port
 * a recorded request came from says which worker process sent it.
 */
export async function portOwners(): Promise<Map<number, number>> {
  const { stdout } = await run('ss', ['-Htnp', 'state', 'established']);
  const owners = new Map<number, number>();
  for (const line of stdout.split('\n')) {
    const match = SOCKET.exec(line.trim());
    if (match) owners.set(Number(match[1]), Number(match[2]));
  }
  return owners;
}

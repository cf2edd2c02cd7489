import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { connect, createServer } from 'node:net';

/** A `redis-server` child process of ours (tests, `npm start` without a Redis, fault injection). */
export interface RedisServer {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** SIGTERM and wait for exit (SIGKILL after 5 s). */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit: a crash, for fault tests. */
  kill(): Promise<void>;
  /** Start again on the same port and dir (it replays its AOF). */
  restart(): Promise<void>;
}

export interface RedisServerOptions {
  /** Where the AOF and RDB files live; created if missing. */
  dir: string;
  /** Default: a free port. */
  port?: number;
  /** Default true. */
  appendOnly?: boolean;
  /** Default `everysec`. */
  appendFsync?: 'always' | 'everysec' | 'no';
  /** Path of the binary. Default `redis-server` from PATH. */
  binary?: string;
  /** More redis-server arguments, after ours, so they win (`--replicaof 127.0.0.1 6379`, `--maxmemory-policy allkeys-lru`). Default none. */
  extraArgs?: readonly string[];
}

export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Whether a Redis answers PING at host:port, over a plain socket: ioredis leaves timers
 * behind after a refused connect, which keeps short-lived processes alive.
 */
export function pingRedis(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    // While an AOF loads Redis answers -LOADING; only +PONG means ready.
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

async function waitUntilAnswering(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pingRedis(port))) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode} before answering`);
    if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startRedisServer(options: RedisServerOptions): Promise<RedisServer> {
  const port = options.port ?? (await findFreePort());
  const url = `redis://127.0.0.1:${port}`;
  await mkdir(options.dir, { recursive: true });
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', options.dir, '--save', '',
    '--appendonly', options.appendOnly === false ? 'no' : 'yes', '--appendfsync', options.appendFsync ?? 'everysec',
    '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--loglevel', 'warning',
    ...(options.extraArgs ?? []),
  ];
  let child: ChildProcess;
  const launch = async (): Promise<void> => {
    child = spawn(options.binary ?? 'redis-server', args, { stdio: 'ignore' });
    child.on('error', () => {});
    await waitUntilAnswering(port, child, 20_000);
  };
  const signal = async (name: NodeJS.Signals): Promise<void> => {
    child.kill(name);
    await exited(child);
  };
  // Redis ignores SIGTERM while it writes its first AOF ("Writing initial AOF, can't exit"):
  // give a clean shutdown 5 s, then kill, so stop() always ends.
  const stop = async (): Promise<void> => {
    const escalation = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await signal('SIGTERM').finally(() => clearTimeout(escalation));
  };
  await launch();
  return {
    url,
    port,
    dir: options.dir,
    stop,
    kill: () => signal('SIGKILL'),
    restart: launch,
  };
}

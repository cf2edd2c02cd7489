import type { Redis } from 'ioredis';

/** A Lua script fanout runs as a custom ioredis command: EVALSHA, and EVAL once when Redis lacks it. */
export interface FanoutScript {
  readonly name: string;
  /** Absent when the caller passes the number of keys first (a variable number). */
  readonly numberOfKeys?: number;
  readonly lua: string;
}

/** Defines the script as a command of the connection, once. */
export function defineScript(redis: Redis, { name, numberOfKeys, lua }: FanoutScript): void {
  if (!(name in redis)) redis.defineCommand(name, numberOfKeys === undefined ? { lua } : { numberOfKeys, lua });
}

/** The connection, with the script defined as its command `Command` describes. */
export function withScript<Command>(redis: Redis, script: FanoutScript): Command {
  defineScript(redis, script);
  return redis as unknown as Command;
}

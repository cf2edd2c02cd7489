export { findFreePort, pingRedis, startRedisServer, type RedisServer, type RedisServerOptions } from './redis-server.js';

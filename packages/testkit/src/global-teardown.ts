import './global-setup.js';

export default async function globalTeardown(): Promise<void> {
  await globalThis.fanoutTestRedis?.release();
}

#!/usr/bin/env node
// The `fanout` command: the build of src/main.ts, which `npm ci` makes (the root's prepare script).
try {
  await import('../dist/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('/apps/fanout/dist/main.js')) throw error;
  process.stderr.write('fanout: not built yet: run `npm run build` (npm ci does it)\n');
  process.exitCode = 1;
}

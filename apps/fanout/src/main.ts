#!/usr/bin/env node
import { processIo } from './cli/output.js';
import { runCli } from './cli/run-cli.js';

const code = await runCli(process.argv.slice(2), process.env, processIo);
// A failure ends the process at once: what a start that failed half-way left open (a closing
// connection, a timer) must neither keep it up nor print past its one line. On success,
// `fanout start` runs on until a signal, and every other command is done.
if (code === 0) process.exitCode = code;
else process.exit(code);

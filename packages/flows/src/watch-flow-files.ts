import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { flowFiles } from './load-flows.js';

export interface WatchFlowFilesOptions {
  /** A flow file or folder, as in `FANOUT_FLOWS`. */
  readonly path: string;
  /** Called when what the flow files hold differs from `loaded`, then from what they held at the last call. */
  readonly onChange: () => void;
  /** The fingerprint (flowFilesFingerprint) of the files as they were loaded, taken before loading them: a change made while they loaded is then seen. */
  readonly loaded: string;
  /** How long file events must stop before the files are read, in ms: an editor's save or a ConfigMap swap is several events. Default 250. */
  readonly debounceMs?: number;
  /** How often the files are read whatever the events, in ms. Default 2000. */
  readonly pollMs?: number;
  /** fs.watch could not watch the folder (the poll goes on alone). */
  readonly onWatchError?: (error: Error) => void;
}

export interface FlowFileWatch {
  close(): void;
}

/** What the flow files hold: their names and bytes, or why they cannot be listed (a missing folder is a change too). */
export async function flowFilesFingerprint(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for (const file of await flowFiles(path)) hash.update(`${file}\0`).update(await readFile(file)).update('\0');
  } catch (error) {
    hash.update(`unreadable\0${(error as Error).message}`);
  }
  return hash.digest('hex');
}

/**
 * Calls `onChange` when the flow files change: on fs.watch events of their folder (debounced),
 * and on a poll that reads them every `pollMs` whatever the events. Both compare a fingerprint
 * of the files' bytes with the last one seen, so an event without a change calls nothing.
 *
 * The folder, not the files, is watched: a Kubernetes ConfigMap volume holds symlinks
 * (`flows.yaml → ..data/flows.yaml`, `..data → ..2026_12_01_…`) and is updated by renaming a
 * new `..data` over the old one; a watch on a file would follow the inode it first resolved
 * and see nothing after the first swap. The poll is there because fs.watch misses changes on
 * some mounts (NFS, FUSE, files changed from another host or VM) and can fail to start (out of
 * inotify watches); it costs a read of a few small files.
 */
export function watchFlowFiles({ path, onChange, loaded, debounceMs = 250, pollMs = 2_000, onWatchError }: WatchFlowFilesOptions): FlowFileWatch {
  let closed = false;
  let last = loaded;
  let checking: Promise<void> | undefined;
  let again = false;
  let debounce: NodeJS.Timeout | undefined;

  const check = (): void => {
    if (closed) return;
    if (checking) {
      again = true;
      return;
    }
    checking = flowFilesFingerprint(path)
      .then((fingerprint) => {
        if (closed || fingerprint === last) return;
        last = fingerprint;
        onChange();
      })
      .finally(() => {
        checking = undefined;
        if (again) {
          again = false;
          check();
        }
      });
  };
  const soon = (): void => {
    clearTimeout(debounce);
    debounce = setTimeout(check, debounceMs);
  };

  // A change made while the files loaded is seen at once.
  check();
  const poll = setInterval(check, pollMs);
  poll.unref();
  let watcher: FSWatcher | undefined;
  void stat(path)
    .then((stats) => (stats.isDirectory() ? path : dirname(path)))
    .catch(() => dirname(path))
    .then((folder) => {
      if (closed) return;
      try {
        watcher = watch(folder, { persistent: false }, soon);
        watcher.on('error', (error) => onWatchError?.(error));
      } catch (error) {
        onWatchError?.(error as Error);
      }
    });

  return {
    close() {
      closed = true;
      clearInterval(poll);
      clearTimeout(debounce);
      watcher?.close();
    },
  };
}

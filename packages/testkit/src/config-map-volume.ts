import { mkdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A folder laid out as the kubelet mounts a ConfigMap volume, and updated as it updates one
 * (its AtomicWriter): the files live in a timestamped folder `..<timestamp>`, `..data` is a
 * symlink to it, and each file at the top is a symlink `name → ..data/name`. An update writes a
 * new timestamped folder, points a new symlink `..data_tmp` at it, renames that over `..data`
 * (the one atomic step), then removes the old folder and the symlinks of files no longer there.
 */
export interface ConfigMapVolume {
  /** The folder a process is given (FANOUT_FLOWS). */
  readonly path: string;
  /** Replaces the volume's files by `files` (name → content), as one atomic swap. */
  update(files: Readonly<Record<string, string>>): Promise<void>;
}

export async function createConfigMapVolume(path: string, files: Readonly<Record<string, string>>): Promise<ConfigMapVolume> {
  await mkdir(path, { recursive: true });
  let generation = 0;
  let names: string[] = [];
  const update = async (next: Readonly<Record<string, string>>): Promise<void> => {
    generation += 1;
    const folder = `..2026_12_01_00_00_00.${process.pid}_${generation}`;
    await mkdir(join(path, folder));
    for (const [name, content] of Object.entries(next)) await writeFile(join(path, folder, name), content);
    const previous = generation > 1 ? await readlink(join(path, '..data')) : undefined;
    await symlink(folder, join(path, '..data_tmp'));
    await rename(join(path, '..data_tmp'), join(path, '..data'));
    for (const name of Object.keys(next)) if (!names.includes(name)) await symlink(join('..data', name), join(path, name));
    for (const name of names) if (!(name in next)) await rm(join(path, name));
    names = Object.keys(next);
    if (previous) await rm(join(path, previous), { recursive: true });
  };
  await update(files);
  return { path, update };
}

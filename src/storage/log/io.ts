// Thin promise wrappers over the callback `fs` API on raw fds. Measured (docs/storage.md,
// "I/O path"): the callback API costs less per call than fs/promises FileHandle, and a partition
// keeps only a few fds open, so the FileHandle's automatic closing buys nothing here.
import fs from 'node:fs';

export function openFd(path: string, flags: string): Promise<number> {
  return new Promise((resolve, reject) => fs.open(path, flags, 0o644, (err, fd) => (err ? reject(err) : resolve(fd))));
}

export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.close(fd, (err) => (err ? reject(err) : resolve())));
}

/** Reads exactly `length` bytes at `position` unless the file ends first; returns the bytes read. */
export async function preadFull(fd: number, buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const n = await new Promise<number>((resolve, reject) =>
      fs.read(fd, buf, offset + done, length - done, position + done, (err, bytes) => (err ? reject(err) : resolve(bytes))));
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** One vectored write at `position` (libuv completes partial writes itself). */
export function writevAt(fd: number, bufs: readonly Uint8Array[], position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.writev(fd, bufs as NodeJS.ArrayBufferView[], position, (err, bytes) => (err ? reject(err) : resolve(bytes))));
}

/** The same write on the calling thread (the page-cache copy of one group; see partition.ts). */
export function writevAtSync(fd: number, bufs: readonly Uint8Array[], position: number): number {
  return fs.writevSync(fd, bufs as NodeJS.ArrayBufferView[], position);
}

export function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

export function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
}

export function ftruncate(fd: number, len: number): Promise<void> {
  return new Promise((resolve, reject) => fs.ftruncate(fd, len, (err) => (err ? reject(err) : resolve())));
}

export function fstatSize(fd: number): Promise<number> {
  return new Promise((resolve, reject) => fs.fstat(fd, (err, st) => (err ? reject(err) : resolve(st.size))));
}

/** fsync of a directory, so that entries created, renamed or removed in it are durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fd = await openFd(dir, 'r');
  try {
    await fsyncFd(fd);
  } finally {
    await closeFd(fd);
  }
}

/** Writes `data` to a new file at `path` (failing if it exists) and fsyncs it. */
export async function writeFileDurably(path: string, data: Uint8Array): Promise<void> {
  const fd = await openFd(path, 'wx');
  try {
    await writevAt(fd, [data], 0);
    await fsyncFd(fd);
  } finally {
    await closeFd(fd);
  }
}

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}

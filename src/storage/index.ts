// Storage factory: the broker picks the backend by the `storage` config key (DESIGN §3).
import { LogStorage } from './log/log-storage.js';
import { EvmeshError } from '../errors.js';
import type { LogStorageOptions } from './log/options.js';
import { MemoryStorage, type MemoryStorageOptions } from './memory.js';
import type { Storage } from './types.js';

export type StorageKind = 'log' | 'memory';

export function createStorage(kind: 'log', options: LogStorageOptions): Storage;
export function createStorage(kind: 'memory', options?: MemoryStorageOptions): Storage;
export function createStorage(kind: StorageKind, options?: LogStorageOptions | MemoryStorageOptions): Storage;
export function createStorage(kind: StorageKind, options?: LogStorageOptions | MemoryStorageOptions): Storage {
  switch (kind) {
    case 'log':
      return new LogStorage(options as LogStorageOptions);
    case 'memory':
      return new MemoryStorage(options as MemoryStorageOptions | undefined);
    default:
      throw new EvmeshError('EVM_BAD_CONFIG', `unknown storage kind ${String(kind)}`);
  }
}

export type * from './types.js';
export { TOPIC_NAME } from './types.js';
export { LogStorage } from './log/log-storage.js';
export { LOG_DEFAULTS, type LogStorageOptions } from './log/options.js';
export { MemoryStorage, type MemoryStorageOptions } from './memory.js';

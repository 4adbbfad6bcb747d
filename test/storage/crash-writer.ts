// Child process of log-crash.test.ts: appends batches with fsync 'always' from several concurrent
// appenders and prints `ack <baseOffset> <count> <seed>` once each append has resolved. The
// parent kills it with SIGKILL at a random point. Usage: crash-writer.ts <dataDir> <round>
import { LogStorage } from '../../src/storage/log/log-storage.js';
import { crashValue } from './crash-values.js';

const [dataDir, round] = process.argv.slice(2) as [string, string];
const s = new LogStorage({ dataDir, fsync: 'always', segmentBytes: 32 * 1024, indexIntervalBytes: 512 });
await s.open();
await s.createTopic('crash', 1);
process.stdout.write('ready\n');

async function appender(id: number): Promise<never> {
  for (let seq = 0; ; seq++) {
    const seed = `${round}-${id}-${seq}`;
    const count = 1 + ((seq * 7 + id) % 12);
    const values = Array.from({ length: count }, (_, i) => crashValue(seed, i));
    const r = await s.append('crash', 0, values);
    process.stdout.write(`ack ${r.baseOffset} ${r.count} ${seed}\n`);
  }
}
await Promise.all([0, 1, 2, 3].map(appender));

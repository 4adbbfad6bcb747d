// Deterministic record contents shared by crash-writer.ts and log-crash.test.ts.
export function crashValue(seed: string, i: number): Uint8Array {
  let h = 0;
  for (let k = 0; k < seed.length; k++) h = (h * 31 + seed.charCodeAt(k)) >>> 0;
  return Buffer.from(`${seed}/${i};`.repeat(1 + ((h + i) % 40)));
}

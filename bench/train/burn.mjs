#!/usr/bin/env node
// bench/train's load (LOAD=1): one busy thread, the CPU one other program takes from both sides of
// the measurement. It ends by itself when the process that started it is gone, or after
// BURN_SECONDS (default 1800), so a bench that dies cannot leave it running; run.mjs also stops it.
const parent = Number(process.argv[2]) || process.ppid
const deadline = Date.now() + 1000 * (Number(process.env.BURN_SECONDS) || 1800)
let x = 0
for (;;) {
  // 20 ms of arithmetic, then check whether to stop
  const until = Date.now() + 20
  while (Date.now() < until) for (let i = 0; i < 10_000; i++) x = (x * 1.0000001 + i) % 1e9
  if (Date.now() > deadline) process.exit(0)
  try {
    process.kill(parent, 0)
  } catch {
    process.exit(0)
  }
}

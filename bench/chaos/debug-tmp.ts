import { withChaosRun } from './chaos-run.js';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const settings = { devices: 60, factor: 20, workers: 2, timeoutMs: 200_000 };
const t0 = Date.now();
const row = await withChaosRun('aof-rollback-1s', settings, {}, async (run) => {
  const id = await run.scan();
  run.startWorkers(settings.workers);
  await run.progress(id, 0.4);
  const snapshot = run.snapshotRedis();
  await sleep(1_000);
  await run.restartRedis({ downMs: 200, restoreDir: snapshot });
  process.stderr.write(`restarted at ${Date.now() - t0}\n`);
  for (let i = 0; i < 8; i++) {
    await sleep(2000);
    const c = await run.campaign(id);
    process.stderr.write(`${Date.now() - t0} ${JSON.stringify(c?.counts)} ${c?.state} rec=${c?.reconcile}\n`);
    if (c?.state === 'finished') break;
    if (i === 3) {
      const keys = await run.admin.keys('*');
      for (const k of keys) {
        const t = await run.admin.type(k);
        const v = t === 'zset' ? await run.admin.zrange(k, 0, 5, 'WITHSCORES') : t === 'hash' ? await run.admin.hgetall(k) : t === 'string' ? await run.admin.get(k) : t;
        process.stderr.write(`${k} ${t} ${JSON.stringify(v).slice(0, 300)}\n`);
      }
      const t = await run.admin.time();
      process.stderr.write(`time ${JSON.stringify(t)}\n`);
    }
  }
  for (const w of run.workers) process.stderr.write(w.stderr.map((l) => { try { const o = JSON.parse(l) as {msg: string; time: number; reason?: string}; return `${o.time} ${o.msg} ${o.reason ?? ''}`; } catch { return l; } }).join('\n') + '\n');
  return { campaignId: id };
});
console.log(row);

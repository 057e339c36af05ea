// peer.mjs - make bench's peer: a BullMQ queue and worker doing a lead's work (pop, score, write a result hash, ack).
//
//   node peer.mjs load   <port> <leads-file> <queue>   add one job per line (the lead's JSON), then exit
//   node peer.mjs work   <port> <queue> <concurrency>   process jobs until SIGTERM
//
// The work per job mirrors the least the router does with a lead: parse the
// JSON, score it with a trivial rule, write a result hash (HSET of the
// score, the class and the original lead) and acknowledge the job (BullMQ
// moves it to finished). Completed jobs are removed (removeOnComplete), the
// cheapest setting for the peer. The bench times the work part from the
// worker's start until no job is waiting or active.
import { Queue, Worker } from 'bullmq';
import { readFileSync } from 'node:fs';

const [mode, port, a, b] = process.argv.slice(2);
const connection = { host: '127.0.0.1', port: Number(port), maxRetriesPerRequest: null };

function score(lead) {
  let s = 0;
  const title = String(lead.title ?? '').toLowerCase();
  if (/vp|vice president|director|head|chief|founder/.test(title)) s += 20;
  if (lead.activity?.demo_request) s += 30;
  if ((lead.employees ?? 0) >= 100) s += 15;
  return s;
}

if (mode === 'load') {
  const lines = readFileSync(a, 'utf8').split('\n').filter((l) => l.length > 0);
  const queue = new Queue(b, { connection });
  for (let i = 0; i < lines.length; i += 1000) {
    await queue.addBulk(lines.slice(i, i + 1000).map((lead, k) => ({
      name: 'lead',
      data: { lead },
      opts: { removeOnComplete: true, removeOnFail: true, jobId: `j${i + k}` },
    })));
  }
  await queue.close();
  process.exit(0);
} else if (mode === 'work') {
  const worker = new Worker(a, async (job) => {
    let lead;
    try {
      lead = JSON.parse(job.data.lead);
    } catch {
      lead = {};
    }
    const s = score(lead);
    const client = await worker.client;
    await client.hset(`peer:lead:${job.id}`, 'score', s,
      'class', s >= 30 ? 'mql' : 'nurture', 'lead', job.data.lead,
      'done_at_ms', Date.now());
    return s;
  }, { connection, concurrency: Number(b) || 64, autorun: true });
  const stop = async () => {
    await worker.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  console.error('usage: peer.mjs load|work ...');
  process.exit(2);
}

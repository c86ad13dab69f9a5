/**
 * Written by hand from the run in docs/BENCHMARKS.md and rendered with it: GENERAL after the
 * table, ANALYSIS[bench] under a row whose goal is missed (what limits it, what would lift it).
 * Re-render after editing with `npm run bench -- --render <results.json>`.
 */
export const GENERAL = `## Notes on this run

- **Noise.** The 2 cores were shared with other workers' Playwright and Vitest runs: the 1-minute load average,
  logged every 10 s, was 0.4–10.9 (median 5.2) during this run. The baselines moved with it: rclone copied 1 GiB
  at 174 MiB/s here against 361 MiB/s in the run of 2026-11-29, and \`docker run\` printed its line in 412 ms
  against 173 ms. A run of the same code just before this one (load 3.8–14.0, median 6.5) measured: stage 1 GiB
  1.10× (1.05× with listing and signing), the console's I/O 0.03 %, its peak RSS 186 MiB, stage 10,000 files
  1.72× (1.10×), upload 1.27× and 1.68×, first log line 2.02×. Read the ratios as ±30 %.
- **The data path measured here.** The console no longer carries data bytes. One node agent container per
  console (the console's own image: Node and the bundled apps/server/src/engine/node-agent/agent.ts, host
  network, the node root bind-mounted) does each transfer as one \`docker exec\`. Staging: the console lists the
  prefixes, signs one GET per object and hands the list over the exec's stdin; the agent fetches code and data
  from one pool, 16 at once, straight into the job's work folder (mounted at /home/work in the job's container)
  and reports progress. Outputs: the agent lists /home/work/outputs, the console signs one PUT per file (parts
  above 5 GiB), the agent sends them, 8 at once. The old tar path (staging.ts, output-upload.ts, the engine's
  archive API) is not used.
- **How the parties' CPU was counted.** Every 100 ms the bench read the CPU time of the console, the embedded
  store and dockerd from /proc/<pid>/stat, the agent container's from its cpuacct cgroup and the console's
  rchar/wchar from /proc/<pid>/io, and took the growth between the samples around the job's two events;
  rclone's CPU is its own (user + system, reaped by a wrapping shell). Per object, medians of this run: staging
  10,000 × 4 KiB cost the agent 1.2 ms and the store 1.4 ms of CPU (rclone's copy: rclone 1.3 ms, the store
  1.8 ms); uploading them cost the agent 0.67 ms and the store 1.45 ms (rclone's: 1.28 ms and 3.37 ms). The
  console used 0.03–0.06 cores while data moved.
- **The console's own I/O per object.** The presigned URLs reach the agent over the exec's stdin, about 500
  bytes an object: staging or uploading 10,000 × 4 KiB files moved ~5 MB through the console, 12.5 % of those
  40 MiB, against 0.02–0.04 % for files of 10 MiB and more. The 5 % goal (staging 2 GiB) is met by a wide
  margin; for many tiny files the console's share is per object, not per byte.
- **Listing and signing.** They run before the download event, beside the image check, so the plain staging
  rows leave them out and the rows "listing and signing included" count them. For 10,000 objects the console
  listed and signed for 5.7 s after the image check (its CPU from the job's creation to the download event:
  1.2 s); the embedded store's listing alone
  (\`rclone lsf\`) took 4.1 s, and signing 10,000 URLs alone took 0.5–1.0 s (0.4–0.75 s of CPU) in a one-off
  probe of the console's presign against the same kind of store. rclone starts copying while it still lists;
  the console hands the agent the whole list at once, so here the listing adds to the staging time (1.34×
  without it, 1.05× with it). Handing the agent the plan a listing page at a time would overlap them.`;

export const ANALYSIS: Record<string, string> = {
  'first-log': `**Why it is missed.** The container starts only once code and data are in its work folder, so the
median phases above add up to the total one after another: the submit (57 ms), the image check (24 ms), staging on
the node (246 ms), the start of the container created meanwhile (359 ms, about what the whole \`docker run\` takes:
412 ms here), then the log's way to the reader (the poll, 125 ms). Staging a tiny job is one node agent command: a
bare one (\`docker exec\` of the agent's Node with \`-e 0\`) took a median 109 ms of those 246 ms; the rest is the
agent's own work (making the work folder afresh, two GETs) and its report back. What comes before the start
(~330 ms) is already 0.8× the baseline, so with the start after it this path cannot get under ~1.65× (the
engine-stamp figure above: 1.64×). **What would lift it** (apps/server, not changed here; estimates from the
phases above): start the container while the node stages, with the user's command held until the agent marks the
work folder ready, so staging overlaps the start (57 + 24 + 359 ms + the delivery: ~570 ms, ~1.4×, with the poll
as it is); push log lines to the reader (server-sent events) instead of polling (~20 ms instead of 125: with the
first change ~470 ms, ~1.15×). One long-lived agent process per node taking commands over a connection instead of
one \`docker exec\` each would take ~100 ms off staging, which matters only while staging precedes the start
(~1.8× alone).`,

  'stage-big': `**What limits it (met in this run: 1.43×, and 1.10× in the run before).** The bytes go store →
agent → the work folder on the node's disk; the console is out of the path (0.04 cores, 0.02 % of the bytes over
the window). Over the staging window the agent's container used about 0.5 cores and the embedded store 0.5, as
rclone and the store did during rclone's copy: the limit is the two cores shared with other work, for both. The
agent fetches 16 objects at once (agent.ts, stage's default concurrency) against rclone's 4 transfers; other
concurrencies were not measured.`,

  'stage-small': `**What limits it (met in this run: 1.34× for staging, 1.05× with listing and signing).** CPU per
request: the agent spent 1.2 ms and the store 1.4 ms of CPU per 4 KiB object (rclone 1.3 ms, and the store 1.8 ms
serving it). The row nearest its goal is the one with listing and signing: the console lists the whole prefix and
signs every URL (5.7 s after the image check for 10,000 objects, ~4.1 s of it the store's listing) before the
agent starts, where rclone copies while it lists. **What would lift it:** hand the agent the plan a listing page
at a time (node-data.ts planStaging/stageOnNode and the runner), so staging starts after the first 1,000 objects.`,

  upload: `**What limits it (met in this run: 1.25× for 100 × 10 MiB, 1.46× for 10,000 × 4 KiB; 1.27× and 1.68×
in the run before).** The window holds the agent's scan of the outputs folder, the console signing one PUT per
file, and the agent's uploads, 8 at once. The busiest party is the embedded store writing the objects (1.2 cores
for 100 × 10 MiB, 0.5 for the small files); the agent used 0.24 cores and the console 0.04–0.06.`,

  logs: `**Why it is missed.** Every line is stored and the throughput meets 0.8× of \`docker logs -f\`; the lag goal
is missed, and no reader of this engine meets it at this rate: \`docker logs -f\` itself receives lines a p95 of
~0.9 s after the engine stamped them, because the container prints 200,000 lines in well under a second and the
engine's json-file log and follow stream deliver them over ~1.5–2 s; the backlog, not the console, is the lag.
The console adds its own ingest on top (demultiplexing, one SQLite transaction per 1,000 lines, a 100 ms batch
timer) and the read side is not the limit (the logs API serves ~316,000 lines/s to one poller). **What would
lift it:** for a container printing at full speed, nothing on the reading side can get under the engine's own
backlog; for the console's share, batching by time as well as count (flush every 20–50 ms while lines flow)
and pushing lines to the page (server-sent events) instead of polling would take ~0.1–0.2 s off, so the console
would be within ~0.5 s of \`docker logs -f\`, not within 0.5 s of the stamp. At rates a training job prints
(thousands of lines a second) the lag is at most the 100 ms batch timer plus the poll interval; a line after a
quiet spell is written at once.`,

  swarm: `**What limits it (met: 1.33× in the run of 2026-12-01 21:30Z, 2,375 against 1,785 ms; 1.43× at 21:27Z).**
The console's extra ~600–700 ms, from the median offsets of the two runs: the first service is created 207–266 ms
after the POST (the submit, the scheduler, the image check through the manager at ~55 ms, then one \`stage\`
call per node making the work folders, since a swarm refuses a bind source that does not exist yet, and the
job's overlay), where the baseline's is within ~10 ms of its first call (its network create); the services'
tasks take 1,660–1,950 ms from creation to the last one running against 1,480–1,690 ms for the baseline's (they
carry a bind mount, log options and env, and start while the node agents stage); and the job turns Running
200–390 ms after the last task's running stamp, because SwarmEngine.start reads the task's state once a second
(pollMs 1000). Staging (done at 550–640 ms) is off the critical path. **What would lift it** (apps/server, not
changed here): poll the task every 100–200 ms while a service starts, or follow the manager's task events
(~200–300 ms); make the work folders in the agent's answer to the first staging command instead of a separate
\`stage\` call before the services (~100 ms)`,
};

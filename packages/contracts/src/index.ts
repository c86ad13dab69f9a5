export * from './object-path.js';
export * from './env.js';
export * from './resource-pool.js';
export * from './training-job.js';
export * from './logs.js';
export * from './errors.js';
export * from './health.js';
export * from './timestamp.js';

export * from './types.js';
export * from './volume-query.js';
export * from './cluster.js';

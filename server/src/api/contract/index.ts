export * from './types.js';
export * from './volume-query.js';

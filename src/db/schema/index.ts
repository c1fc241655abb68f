export * from './campaigns.js';
export * from './connections.js';
export * from './members.js';
export * from './outbound.js';
export * from './patreon-users.js';
export * from './posts.js';
export * from './sync-jobs.js';
export * from './webhooks.js';

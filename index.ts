export * from './environment/index';
export * from './core/errors';
export { waitFor, type WaitForOptions } from './core/wait-for';

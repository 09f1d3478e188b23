// The container's process: decided here from config.json (plan.ts), applied by the native
// process executor (native/process.c) from the plan's binary form (native-plan.ts), in a
// single-threaded, non-dumpable process that has joined every namespace of the container.
export { planProcess, type ProcessPlan } from './plan.js';
export { encodeProcessPlan, type ExecutorExtras } from './native-plan.js';

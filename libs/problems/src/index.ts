export { Problem, PROBLEM_CODES, isProblemCode } from './problem.js';
export type { ProblemCode } from './problem.js';

export { AuthModule } from './auth.module.js';
export { AuthGuard, CurrentCaller } from './auth.guard.js';
export { RateLimiter } from './rate-limiter.js';

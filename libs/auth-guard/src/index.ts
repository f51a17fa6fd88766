export { AuthModule } from './auth.module.js';
export { CallerAuthentication, CurrentCaller } from './caller-authentication.js';
export { RateLimiter } from './rate-limiter.js';

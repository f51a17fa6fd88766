import { type MemberSigningKey, mintToken } from '@datarun/auth';

/** A fetch token lives this long: short, since it travels with every material fetch. */
export const MEMBER_TOKEN_LIFETIME_SEC = 120;
/** A cached token is replaced this long before it expires, so none is sent that expires on the way (or on a clock a little ahead). */
export const MEMBER_TOKEN_RENEW_BEFORE_SEC = 30;

/**
 * The connector's call tokens, minted with its member's own key (the token `npm run token` makes:
 * `iss` the member, `sub` `system`, `aud` datarun): what the gateway checks before it serves a
 * material, whose link's recipient must be this member. One token serves every fetch until
 * shortly before it expires, so signing does not sit on the path of each request.
 */
export class MemberTokens {
  private cached: { token: string; renewAtMs: number } | undefined;
  private minting: Promise<string> | undefined;

  constructor(
    private readonly signer: MemberSigningKey,
    private readonly now: () => number = Date.now,
  ) {}

  /** A token with at least MEMBER_TOKEN_RENEW_BEFORE_SEC left. */
  async current(): Promise<string> {
    if (this.cached && this.now() < this.cached.renewAtMs) return this.cached.token;
    // Concurrent fetches share one signing.
    this.minting ??= this.mint().finally(() => (this.minting = undefined));
    return this.minting;
  }

  private async mint(): Promise<string> {
    const issuedAtMs = this.now();
    const token = await mintToken({
      issuer: this.signer.member,
      kid: this.signer.kid,
      privateKey: this.signer.privateKey,
      subject: 'system',
      lifetimeSec: MEMBER_TOKEN_LIFETIME_SEC,
      now: () => issuedAtMs,
    });
    this.cached = { token, renewAtMs: issuedAtMs + (MEMBER_TOKEN_LIFETIME_SEC - MEMBER_TOKEN_RENEW_BEFORE_SEC) * 1000 };
    return token;
  }
}

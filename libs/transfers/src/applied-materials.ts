// The bounds on the documents one request hands a recipient's system: shared by the gateway (its
// upload limit), the connector (what it fetches and forwards) and the sandbox (what its simulated
// systems accept), so none of them can drift from the others.

/** A material's bytes are at most this many: the connector's bound, and the gateway's upload limit (MAX_MATERIAL_BYTES of @datarun/cases is this value). */
export const APPLIED_MATERIAL_MAX_BYTES = 10 * 1024 * 1024;
/**
 * The materials one application carries at most, bytes included: what bounds its body (see
 * APPLICATION_BODY_LIMIT). A request routing more is refused by the connector before anything is
 * fetched; no matter sends a recipient that many documents.
 */
export const APPLIED_MATERIALS_MAX = 10;
/**
 * The largest application body the reference adapter sends: every material at its largest, in
 * base64 (4 characters per 3 bytes), plus room for the rest of the JSON.
 */
export const APPLICATION_BODY_LIMIT = APPLIED_MATERIALS_MAX * 4 * Math.ceil(APPLIED_MATERIAL_MAX_BYTES / 3) + 256 * 1024;

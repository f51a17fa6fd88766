// Federated sources for the egress and platform-identity tests: registered by the city's marriage
// department, granted to the service hall, looked up under a case of one party.
import { readFileSync } from 'node:fs';
import { type City, MATTER, schemaOf } from './exchange.js';

const CLASSIFICATION = JSON.parse(readFileSync('schemas/records/classification.json', 'utf8')) as Record<string, Record<string, string>>;

/** Registers a federated source (a marriage register unless said) at `endpoint`; the answer as it came. */
export async function registerFederated(city: City, id: string, endpoint: string, schema = 'marriage') {
  return city.registry.http
    .post('/v1/sources')
    .set('authorization', await city.departments.marriage.auth())
    .send({ id, title: id, schema: schemaOf(schema), subjectKey: 'idNumber', classification: CLASSIFICATION[schema], mode: 'federated', endpoint });
}

/** A case of the service hall for one party (a married adult of the city); its id and the party's ID number. */
export async function caseOfOneParty(city: City): Promise<{ caseId: string; subject: string }> {
  const party = city.people.find((p) => p.spouseIdNumber)!;
  const res = await city.gateway.http
    .post('/v1/cases')
    .set('authorization', await city.hall.auth('clerk-7'))
    .send({ matter: MATTER, parties: [{ idNumber: party.idNumber, name: party.name, role: 'buyer' }], materials: [] })
    .expect(201);
  return { caseId: res.body.id, subject: party.idNumber };
}

/** The service hall's approved grant of `field` on the source, then its lookup (as clerk-7) of the case's party. */
export async function grantAndLookup(city: City, id: string, field: string, lookup: { caseId: string; subject: string; requestId?: string }) {
  const grant = await city.registry.http
    .post('/v1/grants')
    .set('authorization', await city.hall.auth())
    .send({ source: id, fields: [field], purposes: [MATTER], validUntil: new Date(Date.now() + 86400_000).toISOString(), reason: '一窗受理' })
    .expect(201);
  await city.registry.http
    .post(`/v1/grants/${grant.body.id}/approve`)
    .set('authorization', await city.departments.marriage.auth())
    .send({})
    .expect(200);
  const request = city.gateway.http.post('/v1/lookups').set('authorization', await city.hall.auth('clerk-7'));
  if (lookup.requestId) request.set('x-request-id', lookup.requestId);
  return request.send({ source: id, subject: { idNumber: lookup.subject }, purpose: MATTER, caseId: lookup.caseId });
}

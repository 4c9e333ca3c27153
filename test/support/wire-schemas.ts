/**
 * The contract library's JSON Schemas (libs/ipam-contract SCHEMAS) compiled once, for tests over the real
 * server that check what it publishes and answers against the documented shapes.
 */
import 'reflect-metadata';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { OUTCOME_SCHEMAS, SCHEMAS } from '../../libs/ipam-contract/src/index.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: 'contract', components: { schemas: SCHEMAS } });

/** The schema's complaints about `body` ([] when it matches). */
export function schemaErrors(name: string, body: unknown): string[] {
  const validate = ajv.getSchema(`contract#/components/schemas/${name}`);
  if (!validate) throw new Error(`no schema ${name}`);
  if (validate(body)) return [];
  return (validate.errors ?? []).map((e) => `${name}${e.instancePath} ${e.message ?? ''}`);
}

/** The complaints of the schema of an outcome subject about its body. */
export function outcomeSchemaErrors(subject: string, body: unknown): string[] {
  const name = (OUTCOME_SCHEMAS as Record<string, string>)[subject];
  if (name === undefined) throw new Error(`${subject} is no outcome subject`);
  return schemaErrors(name, body);
}

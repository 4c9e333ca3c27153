/** Types of scripts/asyncapi.mjs, for the test that checks docs/asyncapi.yaml against the contract library. */
export interface ContractTables {
  SCHEMAS: Readonly<Record<string, Record<string, unknown>>>;
  INPUT_SCHEMAS: Readonly<Record<string, string>>;
  OUTCOME_SCHEMAS: Readonly<Record<string, string>>;
  QUERY_SCHEMAS: Readonly<Record<string, { request: string; reply: string }>>;
  INPUT_SUBJECTS: Readonly<Record<string, string>>;
  OUTCOME_SUBJECTS: Readonly<Record<string, string>>;
  QUERY_SUBJECTS: Readonly<Record<string, string>>;
}

export declare const ASYNCAPI_PATH: string;
export declare function asyncApiDocument(contract: ContractTables): Record<string, unknown>;
export declare function asyncApiYaml(contract: ContractTables): string;

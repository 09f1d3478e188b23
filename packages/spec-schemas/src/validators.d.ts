// Declarations for dist/src/validators.js, which scripts/compile-validators.js generates from
// the JSON Schemas with ajv standalone (tsc never sees the generated JavaScript).

export interface ValidationError {
  instancePath: string;
  message?: string;
  keyword: string;
  params: Record<string, unknown>;
}

export type ValidateFn = ((data: unknown) => boolean) & { errors?: ValidationError[] | null };

export declare const validateSpec: ValidateFn;
export declare const validateState: ValidateFn;
export declare const validateFeatures: ValidateFn;
export declare const validateDescriptor: ValidateFn;
export declare const validateIndex: ValidateFn;
export declare const validateManifest: ValidateFn;
export declare const validateImageConfig: ValidateFn;
export declare const validateLayout: ValidateFn;

import { createRequire } from "node:module";
import type { FastifyServerOptions } from "fastify";

type SchemaController = NonNullable<FastifyServerOptions["schemaController"]>;
type Factories = NonNullable<SchemaController["compilersFactory"]>;
/** Both factories' shape: (external schemas, options) -> compiler; the compilers' own types do not matter here. */
type Factory = (...args: never[]) => unknown;

// Fastify's own dependencies, resolved from Fastify's directory as Fastify would (they are not ours).
const fromFastify = createRequire(import.meta.resolve("fastify"));

/**
 * A compiler factory that loads its package the first time a route with a schema is compiled. Fastify builds
 * both (ajv and fast-json-stringify, ~140 modules, ~30 ms and ~1.5 MB of heap at start) in its constructor
 * whether or not a route has a schema; only the sign-in and append routes do, and only when tokens are set.
 */
function lazyFactory(name: string): Factory {
  let factory: Factory | null = null;
  return (...args: never[]) => {
    factory ??= (fromFastify(name) as () => Factory)();
    return factory(...args);
  };
}

/** Fastify's default validator (ajv) and serializer compilers, the same ones, loaded when first needed. */
export function lazySchemaCompilers(): Pick<FastifyServerOptions, "schemaController"> {
  return {
    schemaController: {
      compilersFactory: {
        buildValidator: lazyFactory("@fastify/ajv-compiler") as Factories["buildValidator"],
        buildSerializer: lazyFactory("@fastify/fast-json-stringify-compiler") as Factories["buildSerializer"],
      },
    },
  };
}

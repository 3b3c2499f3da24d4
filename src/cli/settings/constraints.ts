import type { SettingValues } from "./settings-table.js";

/**
 * Rules between settings, checked with them (so `config check` finds them too): each returns its problem or null.
 * A new rule goes here; rules about one setting belong in its kind.
 */
export const CONSTRAINTS: ((v: SettingValues) => string | null)[] = [
  (v) =>
    v.tlsSelfSigned && (v.tlsCert !== undefined || v.tlsKey !== undefined)
      ? "--tls-self-signed cannot be combined with --tls-cert/--tls-key"
      : null,
  (v) =>
    (v.tlsCert === undefined) !== (v.tlsKey === undefined) ? "--tls-cert and --tls-key go together" : null,
  (v) =>
    v.identityHeader !== undefined && v.trustProxies.length === 0
      ? "--identity-header needs --trust-proxy: only a trusted proxy may set it"
      : null,
  (v) =>
    v.redis === undefined && (v.cluster || v.sentinel !== undefined)
      ? `${v.cluster ? "--cluster" : "--sentinel"} needs --redis URL`
      : null,
  (v) => (v.cluster && v.sentinel !== undefined ? "use either --cluster or --sentinel, not both" : null),
  (v) => (v.docker && v.redis !== undefined ? "use either --docker or --redis, not both" : null),
  (v) =>
    v.cmdRestartMaxMs < v.cmdRestartMinMs
      ? "--cmd-restart-max-ms must not be below --cmd-restart-min-ms"
      : null,
];

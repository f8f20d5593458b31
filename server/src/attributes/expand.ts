/**
 * `${POD_NAME}`-style variable expansion in attribute values. Only the braced form of the four
 * pod variables is expanded; any other `${...}` or `$NAME` reference is rejected, so a typo never
 * ends up verbatim in a certificate. A `$` not followed by `{` or a name is kept as is.
 */
import { InvalidArgumentError, quoteValue } from '../common/errors.js';
import type { PodInfo } from './certificate-spec.js';

export const EXPANSION_VARIABLES = ['POD_NAME', 'POD_NAMESPACE', 'POD_UID', 'SERVICE_ACCOUNT_NAME'] as const;
export type ExpansionVariable = (typeof EXPANSION_VARIABLES)[number];

export type ExpansionValues = Readonly<Record<ExpansionVariable, string>>;

export function expansionValues(pod: PodInfo): ExpansionValues {
  return {
    POD_NAME: pod.name,
    POD_NAMESPACE: pod.namespace,
    POD_UID: pod.uid,
    SERVICE_ACCOUNT_NAME: pod.serviceAccount,
  };
}

const KNOWN = `\${${EXPANSION_VARIABLES.join('}, ${')}}`;
const NAME_START = /[A-Za-z_]/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Expands `${VAR}` references in `value`; throws InvalidArgumentError naming `field` and the variable. */
export function expandVariables(field: string, value: string, values: ExpansionValues): string {
  let out = '';
  let i = 0;
  while (i < value.length) {
    const dollar = value.indexOf('$', i);
    if (dollar === -1) {
      out += value.slice(i);
      break;
    }
    out += value.slice(i, dollar);
    const next = value[dollar + 1] ?? '';
    if (next === '{') {
      const close = value.indexOf('}', dollar + 2);
      if (close === -1) {
        throw new InvalidArgumentError(field, `has an unterminated '\${' in ${quoteValue(value)}`);
      }
      const name = value.slice(dollar + 2, close);
      if (!isVariable(name)) {
        throw new InvalidArgumentError(
          field,
          `unknown variable '\${${name}}'; supported variables: ${KNOWN}`,
        );
      }
      out += values[name];
      i = close + 1;
    } else if (NAME_START.test(next)) {
      const name = NAME.exec(value.slice(dollar + 1))?.[0] ?? next;
      const hint = isVariable(name) ? `write '\${${name}}'` : `supported variables: ${KNOWN}`;
      throw new InvalidArgumentError(field, `unsupported variable reference '$${name}'; ${hint}`);
    } else {
      out += '$';
      i = dollar + 1;
    }
  }
  return out;
}

function isVariable(name: string): name is ExpansionVariable {
  return (EXPANSION_VARIABLES as readonly string[]).includes(name);
}

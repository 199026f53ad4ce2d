import { VARIABLES } from '../../shared/config/variables';
import { FUNCTION_NAMES, listFunctionEnvironmentVariables } from './s-yaml';

/**
 * Variables that s.yaml must not pass: FC sets FC_* itself (the prefix is reserved), FC hands the role's
 * credentials in the context, and FC_ENDPOINT is for tests and local runs only.
 */
const NOT_DEPLOYED = /^(FC_|ALIBABA_CLOUD_)/;

describe('s.yaml and the config loader', () => {
  const deployed = listFunctionEnvironmentVariables();

  it.each(FUNCTION_NAMES)('passes the %s function exactly the variables its loader documents', (fn) => {
    const documented = VARIABLES.filter((spec) => spec.usedBy.includes(fn) && !NOT_DEPLOYED.test(spec.name))
      .map((spec) => spec.name)
      .sort();
    expect(deployed[fn]).toEqual(documented);
  });
});

import { badInputCases } from '../../../support/bad-input';
import { cases } from './env.cases';

describe('eda-harness env (bad input)', () => badInputCases(cases));

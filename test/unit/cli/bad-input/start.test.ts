import { badInputCases } from '../../../support/bad-input';
import { cases } from './start.cases';

describe('eda-harness start (bad input)', () => badInputCases(cases));

import { badInputCases } from '../../../support/bad-input';
import { cases } from './docs.cases';

describe('eda-harness docs (bad input)', () => badInputCases(cases));

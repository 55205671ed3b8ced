import { badInputCases } from '../../../support/bad-input';
import { cases } from './main.cases';

describe('eda-harness (bad input)', () => badInputCases(cases));

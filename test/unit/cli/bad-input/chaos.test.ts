import { badInputCases } from '../../../support/bad-input';
import { cases } from './chaos.cases';

describe('eda-harness chaos (bad input)', () => badInputCases(cases));

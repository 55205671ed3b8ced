import { badInputCases } from '../../../support/bad-input';
import { cases } from './contracts.cases';

describe('eda-harness contracts (bad input)', () => badInputCases(cases));

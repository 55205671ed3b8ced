import { badInputCases } from '../../../support/bad-input';
import { cases } from './dashboards.cases';

describe('eda-harness dashboards (bad input)', () => badInputCases(cases));
